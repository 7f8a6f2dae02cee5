"""Deduplicate's batch paths (memos by text, candidates of a whole shard, shared counts of a
story with all its candidates) give what the plain per-story / per-pair definitions give."""

from __future__ import annotations

import random
import unicodedata
from collections import defaultdict
from dataclasses import replace

import apache_beam as beam
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.transforms.test_deduplicate import (
    ARTICLE_A,
    BANDS,
    CONFIG,
    CURLY_COPY,
    DATASKETCH,
    ESTIMATE,
    EXACT_COPY,
    FOOTBALL_B,
    MINHASHERS,
    NEAR_COPY,
    PHONES_C,
    ROWS,
    TEASER_A,
    TRIMMED_A,
    make_story,
    sketch,
)
from transforms.deduplicate import (
    _DASHES,
    _DOUBLE_QUOTES,
    _SINGLE_QUOTES,
    ALONE,
    CONTAINED,
    CONTAINED_CHOICES,
    DECISIONS,
    EXACT,
    NEAR,
    PAIRS,
    ContainerChoice,
    Edge,
    _ShardCandidatesFn,
    _sketch_outputs,
    _SketchFn,
    _VerifyFn,
    best_container,
    bucket_pairs,
    compute_sketches,
    connected_components,
    decide_all,
    decision_row,
    normalise_for_hash,
    per_distinct_text,
    resolved_outputs,
    rounds_components,
    shard_candidates,
    shard_rows,
    shared_counts,
    shared_counts_many,
    sketch_as,
    sketch_key,
    text_key_of,
    unpack_sketch,
    unpack_u32,
    verify_pair,
)
from transforms.topic_shift import BoundedMemo

STORIES = [
    ARTICLE_A,
    EXACT_COPY,
    make_story("dumps/page-20.txt", ARTICLE_A.text),  # the very same text on another page
    CURLY_COPY,
    NEAR_COPY,
    TEASER_A,
    make_story("dumps/page-21.txt", TEASER_A.text),
    FOOTBALL_B,
    PHONES_C,
    TRIMMED_A,
    make_story("dumps/page-22.txt", "* * *"),  # no words: no bucket row
    make_story("dumps/page-23.txt", "Only three words."),
]


def test_per_distinct_text_computes_each_text_once_and_its_memo_changes_nothing():
    calls: list[list[str]] = []

    def upper(texts: list[str]) -> list[str]:
        calls.append(list(texts))
        return [t.upper() for t in texts]

    texts = ["a", "b", "a", "c", "b"]
    assert per_distinct_text(texts, upper) == ["A", "B", "A", "C", "B"]
    assert calls == [["a", "b", "c"]]
    memo: BoundedMemo[str] = BoundedMemo(2)  # two characters: two one-letter texts
    assert per_distinct_text(texts, upper, memo) == ["A", "B", "A", "C", "B"]
    assert per_distinct_text(["c", "d", "c"], upper, memo) == ["C", "D", "C"]
    assert calls[1:] == [["a", "b", "c"], ["d"]]  # "c" remembered, "b" then dropped for "d"
    assert len(memo) == 2 and memo.chars == 2
    assert per_distinct_text(["d"], upper, memo) == ["D"] and len(calls) == 3  # nothing to compute
    assert per_distinct_text([], upper, memo) == []


@pytest.mark.parametrize(
    "config",
    [CONFIG, ESTIMATE, DATASKETCH, replace(CONFIG, against=("prev",))],
    ids=["exact", "estimate", "datasketch", "against"],
)
def test_sketch_fn_rows_are_those_of_each_story_sketch(config):
    def plain(output):
        return ("exact", output.value) if isinstance(output, beam.pvalue.TaggedOutput) else output

    batches = [STORIES[:4], STORIES[4:], STORIES[::-1]]  # the last one all from the memo
    sketches = [
        s for batch in batches for s in compute_sketches(batch, config, MINHASHERS[config.minhash_engine])
    ]
    # within a bundle, only a text's first row carries the packed sketch
    sent: set[str] = set()
    expected = []
    for s in sketches:
        for o in map(plain, _sketch_outputs(s, config, BANDS, ROWS)):
            if o[0] != "exact":
                o = o if s.text_hash not in sent else (*o[:3], b"")
                sent.add(s.text_hash)
            expected.append(o)
    assert sum(o[0] != "exact" and not o[3] for o in expected) >= len(STORIES)  # the test is not empty
    fn = _SketchFn(config, BANDS, ROWS)
    fn.setup()
    for memo in (fn._memo, BoundedMemo(0)):  # the second remembers nothing
        fn._memo = memo
        fn.start_bundle()
        assert [plain(o) for batch in batches for o in fn.process(batch)] == expected


@given(
    st.text(
        alphabet=st.sampled_from(list(_SINGLE_QUOTES + _DOUBLE_QUOTES + _DASHES + "aZ \n\u00e9\u2033\ufb01"))
    )
)
def test_normalise_for_hash_replaces_quotes_and_dashes_as_a_translation_table(text):
    table = str.maketrans(
        _SINGLE_QUOTES + _DOUBLE_QUOTES + _DASHES,
        "'" * len(_SINGLE_QUOTES) + '"' * len(_DOUBLE_QUOTES) + "-" * len(_DASHES),
    )
    expected = " ".join(unicodedata.normalize("NFKC", text).lower().translate(table).split())
    assert normalise_for_hash(text) == expected


def reference_candidates(rows, max_bucket_size: int, hubs: int):
    """shard_candidates by its definition: `bucket_pairs` of each bucket's best label per text."""
    buckets: dict[int, dict[str, str]] = defaultdict(dict)
    for label, text, packed, _ in rows:
        for key in np.frombuffer(packed, dtype="<u8").tolist():
            best = buckets[key].get(text)
            buckets[key][text] = label if best is None else min(best, label)
    found: dict[str, set[str]] = defaultdict(set)
    oversized = 0
    for by_text in buckets.values():
        if len(by_text) < 2:
            continue
        pairs, big = bucket_pairs(by_text.values(), max_bucket_size, hubs)
        oversized += big
        for hub, spoke in pairs:
            found[spoke].add(hub)
    return dict(found), oversized


@pytest.mark.parametrize("seed", range(40))
def test_shard_candidates_are_the_bucket_pairs_of_every_bucket(seed):
    rng = random.Random(seed)
    rows = []
    for i in range(rng.randint(0, 40)):
        keys = sorted(rng.sample(range(2**64 - 12, 2**64), rng.randint(0, 4)))  # large keys too
        label = f"{rng.choice('0111')}{rng.randint(0, 2)}{i:03d}"
        rows.append((label, f"t{rng.randint(0, 12)}", np.asarray(keys, dtype="<u8").tobytes(), b""))
    found, oversized = shard_candidates(rows, max_bucket_size=4, hubs=2)
    assert (dict(found), oversized) == reference_candidates(rows, 4, 2)


@pytest.mark.parametrize("config", [CONFIG, ESTIMATE], ids=["exact", "estimate"])
def test_shared_counts_are_the_pairwise_intersections_and_verify_alike(config):
    sketches = [sketch(s, config) for s in STORIES]
    for story in sketches:
        counts = shared_counts(story, sketches, config)
        for other, shared in zip(sketches, counts, strict=True):
            head = set(unpack_u32(story.head).tolist()) & set(unpack_u32(other.head).tolist())
            assert shared.head == len(head)
            if config.verify == "exact" and story.shingle_set:
                both = set(unpack_u32(story.shingle_set).tolist()) & set(
                    unpack_u32(other.shingle_set).tolist()
                )
                assert shared.shingles == len(both)
            else:  # not verified with sets
                assert shared.shingles is None
            assert verify_pair(story, other, config, shared) == verify_pair(story, other, config)
    assert shared_counts(sketches[0], [], config) == []


@pytest.mark.parametrize("config", [CONFIG, ESTIMATE], ids=["exact", "estimate"])
@pytest.mark.parametrize("seed", range(8))
def test_shared_counts_many_are_shared_counts_of_each_story(config, seed):
    rng = random.Random(seed)
    sketches = [sketch(s, config) for s in STORIES]
    # a story without shingles (empty head and set) among them, and stories without candidates
    sketches.append(sketch(replace(STORIES[0], id="empty", text=""), config))
    stories = [rng.choice(sketches) for _ in range(rng.randint(0, 12))]
    others = [rng.sample(sketches, rng.randint(0, len(sketches))) for _ in stories]
    expected = [shared_counts(s, o, config) for s, o in zip(stories, others, strict=True)]
    assert shared_counts_many(stories, others, config) == expected


def test_a_sketch_label_is_read_once_and_follows_its_fields():
    s = sketch(TEASER_A)
    assert s.label == s.label
    moved = replace(s, rank=(0, s.rank[1], s.id), previous=True)
    assert moved.label != s.label and moved.label.startswith("00")


def test_a_copy_s_sketch_is_another_copy_s_with_its_own_id_and_rank():
    copy = make_story("dumps/page-20.txt", ARTICLE_A.text)
    original, expected = sketch(ARTICLE_A), sketch(copy)
    assert original != expected  # same text, another node
    assert sketch_as(original, expected.label) == expected
    assert sketch_as(expected, expected.label) is expected
    assert sketch_key(expected.label, text_key_of(expected.text_hash)) == text_key_of(original.text_hash)
    earlier = replace(original, previous=True, cluster="c-1")
    assert sketch_key(earlier.label, text_key_of(earlier.text_hash)) == earlier.label  # its own
    with pytest.raises(ValueError):  # an earlier run's sketch may lack today's verification arrays
        sketch_as(earlier, expected.label)


# Row counts that make one key shard, and two
ONE_SHARD, TWO_SHARDS = 10, CONFIG.bucket_shard_stories + 1


def _candidate_outputs(rows, total: int = ONE_SHARD, exact=()):
    fn = _ShardCandidatesFn(CONFIG)
    fn.setup()
    outputs = list(fn.process((0, rows), total, exact, {}))
    return [(o.tag, o.value) if isinstance(o, beam.pvalue.TaggedOutput) else ("edge", o) for o in outputs]


def _connected(rows, total: int = ONE_SHARD) -> tuple[list[Edge], dict[str, str]]:
    """The edges a single shard verified (then each contained story's container) and their roots."""
    fn = _ShardCandidatesFn(CONFIG)
    fn.setup()
    shard = fn.verify(rows, total)
    return resolved_outputs(shard.edges, shard.best)


def _near_and_containers(rows) -> tuple[list[Edge], dict[str, Edge]]:
    """A single shard's edges as (near or exact edges, {contained: its container's edge})."""
    connected, _ = _connected(rows)
    return [e for e in connected if e.reason != CONTAINED], {
        e.a: e for e in connected if e.reason == CONTAINED
    }


def _one_shard_rows() -> list[tuple[str, str, bytes, bytes]]:
    """The bucket rows of STORIES and one more near copy, as one shard gets them (with sketches)."""
    stories = STORIES + [make_story("dumps/page-24.txt", NEAR_COPY.text)]
    sketches = compute_sketches(stories, CONFIG, MINHASHERS[CONFIG.minhash_engine])
    return [
        row
        for s in sketches
        for o in _sketch_outputs(s, CONFIG, BANDS, ROWS)
        if not isinstance(o, beam.pvalue.TaggedOutput)
        for _, row in shard_rows(o[0], o[1], np.frombuffer(o[2], dtype="<u8").tolist(), 1, o[3])
    ]


def test_a_shard_verifies_copies_from_one_row_s_sketch_of_their_text():
    rows = _one_shard_rows()
    full = _candidate_outputs(rows)
    # the only shard, holding every edge of the run: it connects them and decides itself
    assert {tag for tag, _ in full} == {DECISIONS, ALONE}
    for keep in (min, max):  # the best-ranked copy's own sketch, or another copy's
        carrier: dict[str, str] = {}
        for label, key, _, _ in rows:
            carrier[key] = keep(carrier.get(key, label), label)
        slim = [(label, key, keys, blob if carrier[key] == label else b"") for label, key, keys, blob in rows]
        assert sum(not blob for *_, blob in slim) >= 3
        assert _candidate_outputs(slim) == full
    # with more shards the pairs name each node's sketch key (the keyed store holds one per text)
    multi = _candidate_outputs([(label, key, keys, b"") for label, key, keys, _ in rows], TWO_SHARDS)
    assert multi and all(tag == PAIRS for tag, _ in multi)
    store = {sketch_key(label, key): blob for label, key, _, blob in rows}
    for (spoke, spoke_key), hubs in (value for _, value in multi):
        assert sketch_as(unpack_sketch(store[spoke_key]), spoke).label == spoke
        assert all(sketch_as(unpack_sketch(store[k]), hub).label == hub for hub, k in hubs)


def _best_containers(outputs) -> dict[str, Edge]:
    choices = defaultdict(list)
    for tag, value in outputs:
        if tag == CONTAINED_CHOICES:
            contained, (edge, *rest) = value
            choices[contained].append(ContainerChoice(Edge(*edge), *rest))
    return {contained: best_container(c) for contained, c in choices.items()}


class _CountingStore(dict):
    """A dict side input that counts the lookups of each key."""

    def __init__(self, *args):
        super().__init__(*args)
        self.lookups: dict[str, int] = defaultdict(int)

    def get(self, key, default=None):
        self.lookups[key] += 1
        return super().get(key, default)


def test_pairs_from_several_shards_verify_as_one_shard_does_each_sketch_looked_up_once():
    rows = _one_shard_rows()
    slim = [(label, key, keys, b"") for label, key, keys, _ in rows]
    pairs = [value for _, value in _candidate_outputs(slim, TWO_SHARDS)]
    store = _CountingStore({sketch_key(label, key): blob for label, key, _, blob in rows if blob})
    fn = _VerifyFn(CONFIG)
    fn.setup()
    outputs = [o for (spoke, hubs) in pairs for o in fn.process((spoke, [hubs]), store)]
    got = [(o.tag, o.value) if isinstance(o, beam.pvalue.TaggedOutput) else ("edge", o) for o in outputs]
    near, containers = _near_and_containers(rows)
    assert [e for tag, e in got if tag == "edge"] == near
    # each contained story ends with the same container (the shard kept only each one's best)
    assert _best_containers(got) == containers
    # a hub of many spokes is unpacked once: one lookup per node, however many pairs it is in
    nodes = {spoke for spoke, _ in pairs} | {hub for _, hubs in pairs for hub in hubs}
    assert sum(store.lookups.values()) == len(nodes) < sum(1 + len(hubs) for _, hubs in pairs)


def test_the_only_shard_gives_each_node_of_its_edges_its_component_s_smallest_label():
    connected, roots = _connected(_one_shard_rows())
    reasons = {e.reason for e in connected}
    assert CONTAINED in reasons and reasons & {NEAR, EXACT}
    assert roots == connected_components((e.a, e.b) for e in connected)
    # what the rounds of ConnectClusters would give those edges
    assert roots == rounds_components([(e.a, e.b) for e in connected], 6)[0]
    assert set(roots.values()) < set(roots)  # some components join several nodes
    assert all(roots[label] == min(n for n in roots if roots[n] == roots[label]) for label in roots)


def test_the_only_shard_decides_every_story_with_a_duplicate_exact_copies_too():
    rows = _one_shard_rows()
    connected, roots = _connected(rows)
    by_text = defaultdict(list)
    for s in compute_sketches(STORIES, CONFIG, MINHASHERS[CONFIG.minhash_engine]):
        by_text[s.text_hash].append(s.label)
    exact = [
        Edge(min(labels), other, EXACT, 1.0) for labels in by_text.values() for other in sorted(labels)[1:]
    ]
    assert len(exact) >= 3
    got = dict(
        value for tag, value in _candidate_outputs(rows, exact=[tuple(e) for e in exact]) if tag == DECISIONS
    )
    decided = decide_all(connected, roots, exact, lambda root: None, CONFIG.threshold)
    assert got == dict(decision_row(*d) for d in decided)
    # every copy is dropped as exact (for the best-ranked copy, or for the story kept over it)
    for edge in exact:
        assert got[edge.b][2] is not None
    assert {row[3] for row in got.values()} >= {EXACT, NEAR, CONTAINED}
    # without the copies, only the nodes of the verified edges are decided
    alone = dict(value for tag, value in _candidate_outputs(rows) if tag == DECISIONS)
    assert set(alone) == set(roots) < set(got)


def test_a_single_shard_missing_a_sketch_leaves_its_edges_to_the_rounds():
    rows = _one_shard_rows()
    near, containers = _near_and_containers(rows)
    found, _ = shard_candidates(rows, CONFIG.max_bucket_size, CONFIG.bucket_hubs)
    hubs = set().union(*found.values())
    key_of = {label: key for label, key, _, _ in rows}
    # a spoke whose text is no hub's: its pairs go to the keyed store, the others are verified
    lacking = max(spoke for spoke in found if all(key_of[h] != key_of[spoke] for h in hubs))
    holed = [(label, k, keys, b"" if k == key_of[lacking] else blob) for label, k, keys, blob in rows]
    got = _candidate_outputs(holed)
    tags = {tag for tag, _ in got}
    assert not tags & {DECISIONS, ALONE}
    assert [value[0][0] for tag, value in got if tag == PAIRS] == [lacking]
    # what it did verify goes on as before: edges and container choices, for the rounds
    assert "edge" in tags and {e for tag, e in got if tag == "edge"} <= set(near)
    assert set(_best_containers(got).values()) <= set(containers.values())


def test_resolved_outputs_are_the_edges_then_each_contained_story_s_best_container():
    near = [Edge("a", "b", NEAR, 0.9), Edge("c", "d", EXACT, 1.0)]
    in_b = ContainerChoice(Edge("e", "b", CONTAINED, 0.95), True, 0, 900)
    in_d = ContainerChoice(Edge("f", "d", CONTAINED, 0.9), True, 0, 800)
    connected, roots = resolved_outputs(near, {"f": in_d, "e": in_b})
    assert connected == [*near, in_b.edge, in_d.edge]
    assert roots == {"a": "a", "b": "a", "e": "a", "c": "c", "d": "c", "f": "c"}
    assert resolved_outputs([], {}) == ([], {})
