"""Deduplicate: cluster exact copies, near copies and contained copies of one story.

The steps of `Deduplicate`, in order:

1. `ComputeSignatures`: one `StorySketch` per story: the hash of its normalised text, a
   datasketch MinHash signature of its word shingles, and a consistent sample of its
   shingle hashes (for containment).
2. `GroupExactCopies`: stories with the same normalised text are linked to the smallest id
   of their group ("exact"); only that leader goes on to the similarity search.
3. `GroupBands` (MinHash LSH band keys -> story ids, GroupByKey) and `GroupShingleSamples`
   (sampled shingle hash -> story ids, GroupByKey) give candidate pairs; `VerifyPairs`
   joins both sketches to each pair by id and keeps the pair when the estimated Jaccard is
   >= threshold ("near") or the smaller story is contained in the larger ("contained").
   Containment counts only when the smaller story starts near the larger one's start (a
   teaser is its article's lede; a trimmed copy keeps the opening), so an article inside a
   run-together story (two archive articles the splitter did not separate) does not merge
   two clusters; and a contained story keeps only its best container.
4. `ConnectClusters`: connected components over the verified edges (global union-find).
5. `ChooseRepresentatives`: the kept story of each cluster by a total order
   (`representative_key`); every story gets `cluster` and `duplicate_of` through a keyed
   join by id.

Everything that decides something is a pure function of this module; the Beam classes only
route records. Nothing depends on element order or on Python's salted `hash()`, so any
runner and any number of workers give the same output.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

import apache_beam as beam
import numpy as np

from transforms import counters
from transforms.records import ARTICLE, Story

EXACT = "exact"
NEAR = "near"
CONTAINED = "contained"
REASONS = (EXACT, NEAR, CONTAINED)


@dataclass(frozen=True)
class DedupConfig:
    """Knobs of `Deduplicate`; defaults measured with benchmarks/dedup_quality.py."""

    threshold: float = 0.8  # Jaccard threshold for near-duplicates
    num_perm: int = 128
    shingle_size: int = 5  # word n-grams over lowercased \w+ tokens
    containment_threshold: float = 0.8
    seed: int = 1
    max_bucket_size: int = 200  # LSH bucket/posting size beyond which a bucket is not expanded into all pairs
    # Containment sample: keep the shingles whose 64-bit hash % sample_modulus == 0 ...
    sample_modulus: int = 4
    # ... plus always the first `anchor_shingles` shingles (teasers share their article's opening).
    anchor_shingles: int = 2
    # The contained side needs at least this many shingles (about 24 words) and sampled shingles
    # (and >= containment_threshold of them in the container): a boilerplate sentence shared by
    # two stories, or a stray line, is never "contained".
    min_contained_shingles: int = 20
    min_contained_samples: int = 3
    # A contained story must start near its container's start: one of its first head_shingles
    # shingles is among the container's first head_shingles (0: no such rule). 32 shingles
    # (~36 words) tolerates a title/deck/byline glued in front, not a whole lede before it.
    head_shingles: int = 32


# ------------------------------------------------------------------ text rules

# Curly/angle quotes and primes -> ' or ", every dash and minus -> -
_SINGLE_QUOTES = "\u2018\u2019\u201a\u201b\u2032"
_DOUBLE_QUOTES = "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb"
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
_QUOTES = str.maketrans(
    _SINGLE_QUOTES + _DOUBLE_QUOTES + _DASHES,
    "'" * len(_SINGLE_QUOTES) + '"' * len(_DOUBLE_QUOTES) + "-" * len(_DASHES),
)
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w+")


def normalise_for_hash(text: str) -> str:
    """Text as compared for exact duplicates: NFKC, lowercase, plain quotes/dashes, single spaces."""
    text = unicodedata.normalize("NFKC", text).lower().translate(_QUOTES)
    return _SPACE.sub(" ", text).strip()


def text_hash(text: str) -> str:
    """Hex sha1 of the normalised text: equal for exact duplicates."""
    return hashlib.sha1(normalise_for_hash(text).encode("utf-8")).hexdigest()


def shingle_list(text: str, n: int) -> list[str]:
    """Word n-grams of the lowercased `\\w+` tokens in text order (repeats kept).

    A text with fewer than n words is one shingle (its words); a text without words has none.
    """
    words = _WORD.findall(text.lower())
    if not words:
        return []
    if len(words) < n:
        return [" ".join(words)]
    return [" ".join(words[i : i + n]) for i in range(len(words) - n + 1)]


def shingles(text: str, n: int) -> set[str]:
    """The set of word n-grams of the lowercased `\\w+` tokens (see `shingle_list`)."""
    return set(shingle_list(text, n))


def shingle_hashes(shingle: str) -> tuple[int, int]:
    """(32-bit, 64-bit) hashes of a shingle from one sha1.

    The 32-bit value is exactly datasketch's `sha1_hash32` (what `MinHash.update` would use);
    the 64-bit value (other digest bytes) drives the containment sample.
    """
    digest = hashlib.sha1(shingle.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "little"), int.from_bytes(digest[8:16], "little")


def containment_sample(ordered_hashes64: Sequence[int], modulus: int, anchors: int) -> tuple[int, ...]:
    """Consistent sample of a story's shingle hashes, in text order without repeats: the first
    `anchors` distinct shingles, then every hash % modulus == 0.

    The same shingle is sampled in every story (consistent sampling), so the share of a
    story's sample found in another story's sample estimates its containment. The anchors
    make short texts usable; a teaser and its article share their opening shingles.
    """
    kept: dict[int, None] = {}
    for h in ordered_hashes64:
        if h not in kept and (len(kept) < anchors or h % modulus == 0):
            kept[h] = None
    return tuple(kept)


def containment(small: Sequence[int], large: Sequence[int]) -> float:
    """Share of the sample `small` found in the sample `large` (0.0 for an empty sample):
    the estimate of |S & A| / |S| from two consistent samples."""
    if not small:
        return 0.0
    large_set = set(large)
    return sum(1 for h in small if h in large_set) / len(small)


# ------------------------------------------------------------------ MinHash and LSH


def lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows) from datasketch's own optimiser (equal false positive/negative weights)."""
    from datasketch.lsh import _optimal_param

    return _optimal_param(threshold, num_perm, 0.5, 0.5)


def minhash_template(num_perm: int, seed: int):
    """An empty datasketch MinHash fed with precomputed 32-bit shingle hashes.

    Same seed -> same permutations on every worker; the hash values equal those of
    `MinHash(num_perm, seed)` updated with the shingles' UTF-8 bytes (tested).
    """
    from datasketch import MinHash

    return MinHash(num_perm=num_perm, seed=seed, hashfunc=int)


def minhash_signature(hashes32: Iterable[int], template) -> bytes:
    """MinHash hash values of a set of 32-bit shingle hashes, as big-endian uint32 bytes."""
    m = template.copy()
    values = list(hashes32)
    if values:
        m.update_batch(values)
    return m.hashvalues.astype(">u4").tobytes()


def estimated_jaccard(sig_a: bytes, sig_b: bytes) -> float:
    """Share of equal MinHash values: datasketch's Jaccard estimate."""
    a = np.frombuffer(sig_a, dtype=">u4")
    b = np.frombuffer(sig_b, dtype=">u4")
    if len(a) != len(b) or not len(a):
        raise ValueError("signatures of different or zero length")
    return float(np.count_nonzero(a == b)) / len(a)


def band_keys(signature: bytes, bands: int, rows: int) -> list[bytes]:
    """One LSH key per band: 2-byte band index + that band's hash values (bytes)."""
    width = 4  # bytes per uint32 hash value
    if bands * rows * width > len(signature):
        raise ValueError("signature too short for bands x rows")
    return [i.to_bytes(2, "big") + signature[i * rows * width : (i + 1) * rows * width] for i in range(bands)]


def bucket_pairs(ids: Iterable[str], max_bucket_size: int) -> tuple[list[tuple[str, str]], bool]:
    """Candidate pairs (smaller id first) of one LSH bucket or shingle posting; and whether oversized.

    Up to max_bucket_size distinct ids: every pair. Above it, every member is paired with the
    bucket's smallest id only (a star, n-1 pairs instead of n^2/2): a huge bucket is nearly
    always many copies of one text (one verified star links them all) or a boilerplate
    shingle (whose pairs would fail verification anyway).
    """
    members = sorted(set(ids))
    if len(members) <= max_bucket_size:
        return [(a, b) for i, a in enumerate(members) for b in members[i + 1 :]], False
    head = members[0]
    return [(head, b) for b in members[1:]], True


def pair_key(a: str, b: str) -> str:
    """A str key for an unordered pair (ids are hex, so a tab never occurs in them)."""
    return f"{a}\t{b}" if a < b else f"{b}\t{a}"


def split_pair_key(key: str) -> tuple[str, str]:
    a, b = key.split("\t")
    return a, b


# ------------------------------------------------------------------ sketches and edges


@dataclass(frozen=True)
class StorySketch:
    """What dedup needs of a story, without its text."""

    id: str
    rank: tuple[int, int, str]  # representative_key of the story
    text_hash: str
    num_shingles: int
    signature: bytes  # MinHash values, big-endian uint32
    sample: tuple[int, ...]  # containment sample of 64-bit shingle hashes, in text order
    opening: int = 0  # 64-bit hash of the first shingle (0: no words)
    head: tuple[int, ...] = ()  # 64-bit hashes of the first head_shingles shingles, no repeats


class Edge(NamedTuple):
    """A verified link. For "contained", `a` is the contained story and `b` its container;
    otherwise a < b."""

    a: str
    b: str
    reason: str
    similarity: float


class ContainerChoice(NamedTuple):
    """A "contained" edge with what ranks its container among the contained story's others."""

    edge: Edge
    same_opening: bool  # the container starts with the contained story's first shingle
    container_shingles: int


def representative_key(story: Story) -> tuple[int, int, str]:
    """Total order for the kept copy (smallest first): untruncated article, article, teaser;
    then longest text; then smallest id."""
    if story.kind == ARTICLE:
        tier = 1 if story.truncated else 0
    else:
        tier = 2
    return (tier, -len(story.text), story.id)


def compute_sketch(story: Story, config: DedupConfig, template) -> StorySketch:
    """The sketch of one story (template: `minhash_template(config.num_perm, config.seed)`)."""
    ordered = shingle_list(story.text, config.shingle_size)
    hashes: dict[str, tuple[int, int]] = {}
    for s in ordered:
        if s not in hashes:
            hashes[s] = shingle_hashes(s)
    ordered64 = [hashes[s][1] for s in ordered]
    return StorySketch(
        id=story.id,
        rank=representative_key(story),
        text_hash=text_hash(story.text),
        num_shingles=len(hashes),
        signature=minhash_signature((h32 for h32, _ in hashes.values()), template),
        sample=containment_sample(ordered64, config.sample_modulus, config.anchor_shingles),
        opening=ordered64[0] if ordered64 else 0,
        head=tuple(dict.fromkeys(ordered64[: config.head_shingles])),
    )


def band_postings(sketch: StorySketch, bands: int, rows: int) -> list[tuple[bytes, str]]:
    """(band key, id) rows of a story for near-duplicate candidates; none for a wordless text
    (its empty signature would collide with every other wordless text)."""
    if not sketch.num_shingles:
        return []
    return [(key, sketch.id) for key in band_keys(sketch.signature, bands, rows)]


def sample_postings(sketch: StorySketch) -> list[tuple[int, str]]:
    """(sampled shingle hash, id) rows of a story for containment candidates."""
    return [(h, sketch.id) for h in sketch.sample]


def aligned_openings(small: StorySketch, large: StorySketch) -> bool:
    """Whether the two stories start at about the same text: their heads share a shingle."""
    return not set(small.head).isdisjoint(large.head)


def classify_pair(x: StorySketch, y: StorySketch, config: DedupConfig) -> Edge | None:
    """The verified relation of two stories, or None: exact, else near (estimated Jaccard),
    else contained (the story with fewer shingles inside the other, from the samples, when
    it is long enough and starts near the other's start)."""
    if x.id == y.id:
        return None
    lo, hi = (x, y) if x.id < y.id else (y, x)
    if x.text_hash == y.text_hash:
        return Edge(lo.id, hi.id, EXACT, 1.0)
    if x.num_shingles == 0 or y.num_shingles == 0:
        return None
    jaccard = estimated_jaccard(x.signature, y.signature)
    if jaccard >= config.threshold:
        return Edge(lo.id, hi.id, NEAR, jaccard)
    small, large = sorted((x, y), key=lambda s: (s.num_shingles, s.id))
    if small.num_shingles < config.min_contained_shingles or len(small.sample) < config.min_contained_samples:
        return None
    if config.head_shingles and not aligned_openings(small, large):
        return None
    score = containment(small.sample, large.sample)
    if score >= config.containment_threshold:
        return Edge(small.id, large.id, CONTAINED, score)
    return None


def container_choice(edge: Edge, contained: StorySketch, container: StorySketch) -> ContainerChoice:
    return ContainerChoice(edge, contained.opening == container.opening, container.num_shingles)


def best_container(choices: Iterable[ContainerChoice]) -> Edge:
    """Of the "contained" edges of one contained story, the one kept.

    One container per story: a short text found inside several unrelated stories (a shared
    paragraph, two teasers a splitter ran together) must not glue them into one cluster.
    Preferred: a container that opens like the story (a lede is the start of its article;
    a run-together story holds the second teaser in its middle), then the highest
    containment, then the largest container, then the smallest id.
    """
    best = min(
        choices,
        key=lambda c: (not c.same_opening, -c.edge.similarity, -c.container_shingles, c.edge.b),
    )
    return best.edge


# ------------------------------------------------------------------ clusters


def _find(parent: dict[str, str], node: str) -> str:
    root = node
    while parent[root] != root:
        root = parent[root]
    while parent[node] != root:  # path compression
        parent[node], node = root, parent[node]
    return root


def union(parent: dict[str, str], a: str, b: str) -> None:
    """Union of a's and b's sets; the root is always the smallest id (order-independent)."""
    parent.setdefault(a, a)
    parent.setdefault(b, b)
    ra, rb = _find(parent, a), _find(parent, b)
    if ra != rb:
        if rb < ra:
            ra, rb = rb, ra
        parent[rb] = ra


def connected_components(edges: Iterable[tuple[str, str]]) -> dict[str, str]:
    """id -> root (smallest id of its component), for every id that occurs in an edge.

    Union-find over the whole edge list, run in one place (`ConnectClusters` is a
    CombineGlobally of it). Chosen over bounded-round label propagation because it is exact
    for any chain length, needs no round limit and is one step; it holds only ids that have a
    duplicate, not texts or signatures. Propagation is the way out if that ever outgrows
    one worker.
    """
    parent: dict[str, str] = {}
    for a, b in edges:
        union(parent, a, b)
    return {node: _find(parent, node) for node in parent}


def cluster_id(representative_id: str) -> str:
    """Stable cluster id derived from the kept story's id."""
    return "c-" + hashlib.sha1(representative_id.encode("utf-8")).hexdigest()[:24]


@dataclass(frozen=True)
class Decision:
    """Dedup fields for one story."""

    id: str
    cluster: str
    duplicate_of: str | None = None
    reason: str | None = None
    similarity: float | None = None


def choose_representatives(members: Iterable[StorySketch], config: DedupConfig) -> list[Decision]:
    """Decisions for one cluster: the smallest `rank` is kept, the others point to it.

    A dropped story's reason/similarity is its verified relation to the kept story; when it
    joined only through another member (a teaser of an edited copy, say), the best relation
    to a member up to max_bucket_size members in rank order (exact > near > contained, then
    score). Each member is sketched once, so this is linear for copies of one text.
    """
    ordered = sorted({m.id: m for m in members}.values(), key=lambda m: m.rank)
    rep = ordered[0]
    cid = cluster_id(rep.id)
    decisions = [Decision(rep.id, cid)]
    order = {EXACT: 0, NEAR: 1, CONTAINED: 2}
    for member in ordered[1:]:
        edge = classify_pair(member, rep, config)
        if edge is None:
            found = [
                e
                for other in ordered[1 : config.max_bucket_size + 1]
                if other.id != member.id
                for e in [classify_pair(member, other, config)]
                if e is not None
            ]
            if found:
                edge = min(found, key=lambda e: (order[e.reason], -e.similarity, e.a, e.b))
        if edge is None:  # linked only through members beyond the scan limit
            score = estimated_jaccard(member.signature, rep.signature) if member.num_shingles else 0.0
            edge = Edge(member.id, rep.id, NEAR, score)
        decisions.append(Decision(member.id, cid, rep.id, edge.reason, edge.similarity))
    return decisions


def apply_decision(story: Story, decision: Decision) -> Story:
    """The story with its dedup fields set (a new record; the input is never mutated)."""
    return replace(
        story,
        cluster=decision.cluster,
        duplicate_of=decision.duplicate_of,
        dedup_reason=decision.reason,
        similarity=decision.similarity,
    )


def singleton_decision(story_id: str) -> Decision:
    return Decision(story_id, cluster_id(story_id))


# ------------------------------------------------------------------ Beam: DoFns


class _SketchFn(beam.DoFn):
    def __init__(self, config: DedupConfig):
        self._config = config

    def setup(self):
        self._template = minhash_template(self._config.num_perm, self._config.seed)

    def process(self, story: Story):
        yield compute_sketch(story, self._config, self._template)


class _ExactGroupFn(beam.DoFn):
    """(text_hash, sketches) -> the leader (smallest id) on main, exact edges to it tagged."""

    EDGES = "edges"

    def process(self, element):
        _, sketches = element
        group = sorted(sketches, key=lambda s: s.id)
        leader = group[0]
        yield leader
        for other in group[1:]:
            if other.id != leader.id:
                yield beam.pvalue.TaggedOutput(self.EDGES, Edge(leader.id, other.id, EXACT, 1.0))


class _BucketPairsFn(beam.DoFn):
    """(bucket key, ids) -> candidate pair keys, counting oversized buckets."""

    def __init__(self, max_bucket_size: int):
        self._max = max_bucket_size
        self._oversized = counters.counter(counters.OVERSIZED_BUCKETS)

    def process(self, element):
        _, ids = element
        pairs, oversized = bucket_pairs(ids, self._max)
        if oversized:
            self._oversized.inc()
        for a, b in pairs:
            yield pair_key(a, b)


class _HalfJoinFn(beam.DoFn):
    """(a, {sketch: [sk_a], pair: [b...]}) -> (b, sk_a) for every candidate b."""

    def process(self, element):
        _, joined = element
        sketches = list(joined["sketch"])
        if not sketches:
            return
        sketch = sketches[0]
        for b in sorted(set(joined["pair"])):
            yield b, sketch


class _VerifyFn(beam.DoFn):
    """(b, {sketch: [sk_b], half: [sk_a...]}) -> verified edges; "contained" ones tagged."""

    CONTAINED = "contained"

    def __init__(self, config: DedupConfig):
        self._config = config
        self._candidates = counters.counter(counters.CANDIDATE_PAIRS)
        self._verified = counters.counter(counters.VERIFIED_PAIRS)

    def process(self, element):
        _, joined = element
        sketches = list(joined["sketch"])
        if not sketches:
            return
        sketch_b = sketches[0]
        for sketch_a in sorted(joined["half"], key=lambda s: s.id):
            self._candidates.inc()
            edge = classify_pair(sketch_a, sketch_b, self._config)
            if edge is None:
                continue
            self._verified.inc()
            if edge.reason == CONTAINED:
                contained, container = (sketch_a, sketch_b) if edge.a == sketch_a.id else (sketch_b, sketch_a)
                choice = container_choice(edge, contained, container)
                yield beam.pvalue.TaggedOutput(self.CONTAINED, (edge.a, choice))
            else:
                yield edge


class _BestContainerFn(beam.DoFn):
    def __init__(self):
        self._pruned = counters.counter(counters.PRUNED_CONTAINMENT_EDGES)

    def process(self, element):
        _, choices = element
        choices = list(choices)
        if len(choices) > 1:
            self._pruned.inc(len(choices) - 1)
        yield best_container(choices)


class UnionFindFn(beam.CombineFn):
    """CombineGlobally of (a, b) id pairs into {id: root}; root = smallest id of the component."""

    def create_accumulator(self) -> dict[str, str]:
        return {}

    def add_input(self, parent: dict[str, str], edge: tuple[str, str]) -> dict[str, str]:
        union(parent, edge[0], edge[1])
        return parent

    def merge_accumulators(self, accumulators: Iterable[dict[str, str]]) -> dict[str, str]:
        accumulators = iter(accumulators)
        merged = next(accumulators, None)
        if merged is None:
            return {}
        for other in accumulators:
            for node, parent in other.items():
                union(merged, node, parent)
        return merged

    def extract_output(self, parent: dict[str, str]) -> dict[str, str]:
        return {node: _find(parent, node) for node in parent}


class _AssignRootFn(beam.DoFn):
    """(id, {sketch, root}) -> (id, Decision) for singletons; (root, sketch) tagged for cluster members."""

    MEMBERS = "members"

    def __init__(self):
        self._kept = counters.counter(counters.KEPT)
        self._sizes = counters.distribution(counters.CLUSTER_SIZE)

    def process(self, element):
        story_id, joined = element
        sketches = list(joined["sketch"])
        roots = sorted(set(joined["root"]))
        if not sketches:
            return
        if not roots:
            self._kept.inc()
            self._sizes.update(1)
            yield story_id, singleton_decision(story_id)
            return
        yield beam.pvalue.TaggedOutput(self.MEMBERS, (roots[0], sketches[0]))


class _ChooseFn(beam.DoFn):
    def __init__(self, config: DedupConfig):
        self._config = config
        self._kept = counters.counter(counters.KEPT)
        self._dropped = counters.counter(counters.DROPPED)
        self._by_reason = {
            EXACT: counters.counter(counters.EXACT_DUPLICATES),
            NEAR: counters.counter(counters.NEAR_DUPLICATES),
            CONTAINED: counters.counter(counters.CONTAINED_DUPLICATES),
        }
        self._sizes = counters.distribution(counters.CLUSTER_SIZE)

    def process(self, element):
        _, members = element
        decisions = choose_representatives(members, self._config)
        self._sizes.update(len(decisions))
        for d in decisions:
            if d.duplicate_of is None:
                self._kept.inc()
            else:
                self._dropped.inc()
                self._by_reason[d.reason].inc()
            yield d.id, d


class _ApplyFn(beam.DoFn):
    """(id, {story: [...], decision: [d]}) -> stories with their dedup fields."""

    def process(self, element):
        _, joined = element
        decisions = list(joined["decision"])
        for story in joined["story"]:
            if not decisions:  # cannot happen: every sketch gets a decision
                raise ValueError(f"no dedup decision for story {story.id}")
            yield apply_decision(story, decisions[0])


# ------------------------------------------------------------------ Beam: composite steps


class ComputeSignatures(beam.PTransform):
    """PCollection[Story] -> PCollection[StorySketch]."""

    def __init__(self, config: DedupConfig):
        super().__init__()
        self._config = config

    def expand(self, stories):
        return stories | "Sketch" >> beam.ParDo(_SketchFn(self._config))


class GroupExactCopies(beam.PTransform):
    """Sketches -> {"leaders": one sketch per normalised text, "edges": exact edges}."""

    def expand(self, sketches):
        result = (
            sketches
            | "KeyByTextHash" >> beam.Map(lambda s: (s.text_hash, s))
            | "GroupByTextHash" >> beam.GroupByKey()
            | "PickLeader" >> beam.ParDo(_ExactGroupFn()).with_outputs(_ExactGroupFn.EDGES, main="leaders")
        )
        return {"leaders": result.leaders, "edges": result[_ExactGroupFn.EDGES]}


class GroupBands(beam.PTransform):
    """Leader sketches -> candidate pair keys from MinHash LSH bands (near duplicates)."""

    def __init__(self, config: DedupConfig, bands: int, rows: int):
        super().__init__()
        self._config, self._bands, self._rows = config, bands, rows

    def expand(self, sketches):
        bands, rows = self._bands, self._rows
        return (
            sketches
            | "BandKeys" >> beam.FlatMap(band_postings, bands, rows)
            | "GroupByBand" >> beam.GroupByKey()
            | "BandPairs" >> beam.ParDo(_BucketPairsFn(self._config.max_bucket_size))
        )


class GroupShingleSamples(beam.PTransform):
    """Leader sketches -> candidate pair keys sharing >= min_contained_samples sampled shingles."""

    def __init__(self, config: DedupConfig):
        super().__init__()
        self._config = config

    def expand(self, sketches):
        min_shared = self._config.min_contained_samples
        return (
            sketches
            | "Postings" >> beam.FlatMap(sample_postings)
            | "GroupByShingle" >> beam.GroupByKey()
            | "PostingPairs" >> beam.ParDo(_BucketPairsFn(self._config.max_bucket_size))
            | "CountShared" >> beam.combiners.Count.PerElement()
            | "EnoughShared" >> beam.Filter(lambda kv: kv[1] >= min_shared)
            | "PairKeys" >> beam.Keys()
        )


class VerifyPairs(beam.PTransform):
    """(candidate pair keys, leader sketches) -> verified edges (one best container per
    contained story). Sketches are joined to pairs by id, never by position."""

    def __init__(self, config: DedupConfig):
        super().__init__()
        self._config = config

    def expand(self, inputs):
        pairs, sketches = inputs
        by_id = sketches | "KeyById" >> beam.Map(lambda s: (s.id, s))
        halves = (
            {"sketch": by_id, "pair": pairs | "ByFirst" >> beam.Map(split_pair_key)}
            | "JoinFirst" >> beam.CoGroupByKey()
            | "CarryFirst" >> beam.ParDo(_HalfJoinFn())
        )
        verified = (
            {"sketch": by_id, "half": halves}
            | "JoinSecond" >> beam.CoGroupByKey()
            | "Verify" >> beam.ParDo(_VerifyFn(self._config)).with_outputs(_VerifyFn.CONTAINED, main="edges")
        )
        contained = (
            verified[_VerifyFn.CONTAINED]
            | "GroupByContained" >> beam.GroupByKey()
            | "BestContainer" >> beam.ParDo(_BestContainerFn())
        )
        return (verified.edges, contained) | "AllVerified" >> beam.Flatten()


class ConnectClusters(beam.PTransform):
    """Edges -> (id, root) for every story with a duplicate (global union-find)."""

    def expand(self, edges):
        return (
            edges
            | "EdgeIds" >> beam.Map(lambda e: (e.a, e.b))
            | "UnionFind" >> beam.CombineGlobally(UnionFindFn())
            | "Roots" >> beam.FlatMap(lambda roots: sorted(roots.items()))
        )


class ChooseRepresentatives(beam.PTransform):
    """(stories, sketches, roots) -> stories with cluster/duplicate_of, joined back by id."""

    def __init__(self, config: DedupConfig):
        super().__init__()
        self._config = config

    def expand(self, inputs):
        stories, sketches, roots = inputs
        assigned = (
            {"sketch": sketches | "SketchById" >> beam.Map(lambda s: (s.id, s)), "root": roots}
            | "JoinRoots" >> beam.CoGroupByKey()
            | "AssignRoot"
            >> beam.ParDo(_AssignRootFn()).with_outputs(_AssignRootFn.MEMBERS, main="singletons")
        )
        clustered = (
            assigned[_AssignRootFn.MEMBERS]
            | "GroupByCluster" >> beam.GroupByKey()
            | "Choose" >> beam.ParDo(_ChooseFn(self._config))
        )
        decisions = (assigned.singletons, clustered) | "AllDecisions" >> beam.Flatten()
        return (
            {"story": stories | "StoryById" >> beam.Map(lambda s: (s.id, s)), "decision": decisions}
            | "JoinDecisions" >> beam.CoGroupByKey()
            | "Apply" >> beam.ParDo(_ApplyFn())
        )


class Deduplicate(beam.PTransform):
    """PCollection[Story] -> the same stories with cluster, duplicate_of, dedup_reason, similarity."""

    def __init__(self, config: DedupConfig = DedupConfig()):
        super().__init__()
        self._config = config
        self._bands, self._rows = lsh_params(config.threshold, config.num_perm)

    def expand(self, stories):
        config = self._config
        sketches = stories | "ComputeSignatures" >> ComputeSignatures(config)
        exact = sketches | "GroupExactCopies" >> GroupExactCopies()
        leaders = exact["leaders"]
        near_pairs = leaders | "GroupBands" >> GroupBands(config, self._bands, self._rows)
        contained_pairs = leaders | "GroupShingleSamples" >> GroupShingleSamples(config)
        candidates = (
            (near_pairs, contained_pairs)
            | "AllCandidates" >> beam.Flatten()
            | "DistinctPairs" >> beam.Distinct()
        )
        verified = (candidates, leaders) | "VerifyPairs" >> VerifyPairs(config)
        edges = (exact["edges"], verified) | "AllEdges" >> beam.Flatten()
        roots = edges | "ConnectClusters" >> ConnectClusters()
        return (stories, sketches, roots) | "ChooseRepresentatives" >> ChooseRepresentatives(config)
