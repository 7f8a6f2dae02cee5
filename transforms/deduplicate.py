"""Deduplicate: cluster exact copies, near copies and contained copies of one story.

The steps of `Deduplicate`, in order (every shuffle carries ids, labels, hashes and keys,
never a story's text):

1. `ComputeSignatures`: a `StorySketch` per story, stories taken in batches: the hash of its
   normalised text, a MinHash signature of its shingle hashes (rensa's RMinHash, or datasketch's
   affine32 with `minhash_engine="datasketch"`), a consistent sample of its shingle hashes
   (containment), the hashes of its first shingles (alignment) and, with `verify="exact"`, the
   set of all its shingle hashes. It leaves as three small pieces: the packed sketch (for
   verification; exact copies share it, so a batch sends it with a text's first copy only),
   its bucket keys, its text hash. With `against`, the kept stories of earlier
   runs join as "previous" sketches read from their `signatures/` folders.
2. `GroupExactCopies`: stories with the same normalised text are linked to the best-ranked
   copy ("exact").
3. `GroupBands`: candidate pairs from shared keys (the MinHash LSH bands, for near copies,
   and a consistent sample of each story's opening shingles, for contained copies, which
   must start where their container starts). Keys are grouped in shards of about
   `bucket_shard_stories` stories; inside a bucket of up to `max_bucket_size` distinct texts
   every pair is a candidate, a larger bucket links each member to its `bucket_hubs`
   best-ranked members only (no quadratic blow-up on boilerplate-like keys).
4. `VerifyPairs`: each candidate pair is checked against the packed sketches, read from a
   keyed side input: near when the Jaccard (exact on the shingle sets, or estimated) is >=
   threshold; contained when the smaller story is inside the larger one, starts where it
   starts and, for a complete article, is at least half of it (Jaccard >= 0.5). A contained
   story keeps only its best container.
5. `ConnectClusters`: connected components in Beam: alternating large-star / small-star
   rounds (Kiveris et al. 2014) unrolled `cc_rounds` times, a convergence check, and a
   union-find over the (counted) edges of the components not yet converged. With a single
   key shard (up to `bucket_shard_stories` stories) that shard found every edge of the run, so
   it connects them itself with the same union-find (`resolved_outputs`) and, given the exact
   copies as a side input, makes step 6's decisions itself too (`decide_all`, from the same
   functions); the rounds and step 6's joins then get no element: their stages cost their
   fixed overhead on any runner, whatever they carry.
6. `ChooseRepresentatives`: the kept story of each cluster is its best member (untruncated
   article first, then the text most pages carry — the largest group of exact copies — then
   longest, then smallest id; an earlier run's story before any of today's: see kept_story);
   the decisions {id -> cluster, duplicate_of, reason, similarity} of the stories that have a
   duplicate (`assign_component` of each component, `reason_edge` of each story) are a side
   input of a ParDo over the stories, so texts never go through a GroupByKey. An exact copy's
   reason is "exact" (its one edge, to its text's best-ranked copy); any other dropped story's
   is its verified relation to the kept story, else its strongest verified one (never an exact
   edge to one of its own copies).

Shingle hashes (everything in a sketch is built from them; `SHINGLE_HASH` names this version):
the words of a text are `re.findall(r"\\w+", text.lower())`; a shingle is n consecutive words
(`shingle_size`), a text of k < n words is one shingle of its k words, a text without words has
none. With fmix64 = MurmurHash3's 64-bit finalizer and all arithmetic mod 2**64:

    word_hash(c_0 .. c_L-1)     = fmix64(sum of ord(c_i) * P**i)          P = 0x9E3779B97F4A7C15
    shingle_hash(w_1 .. w_k)    = fmix64((((k * M + w_1) * M + w_2) ... ) * M + w_k)
                                                                           M = 0xC2B2AE3D27D4EB4F

(w_j = word_hash of the j-th word). Only integer arithmetic on code points: the same values on
every platform, process and Python (no salted `hash()`), pinned by a test. `text_shingle_hashes`
is this definition in plain Python; `shingle_hash_batch` computes it for a whole batch of texts
with numpy, each word hashed once. The rensa engine signs the 64-bit hashes; a sketch stores
their low 32 bits (shingle set, head, sample; the datasketch engine's input): 4 bytes per
distinct shingle, as the old sha1-based values, and two distinct shingles of two stories agree
there with probability 2**-32 (a few hundred shingles per story: ~1e-5 spurious matches per
compared pair, far below what moves a Jaccard or a containment). The high 32 bits choose the
containment sample (`sampled_mask`), independently of the stored value.

Everything that decides something is a pure function of this module; the Beam classes only
route records. Nothing depends on element order or on Python's salted `hash()`, so any
runner and any number of workers give the same output.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import itertools
import json
import math
import re
import struct
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple, TypeVar

import numpy as np

from transforms.records import ARTICLE, Story, canonical_json
from transforms.topic_shift import BoundedMemo

_V = TypeVar("_V")

EXACT = "exact"
NEAR = "near"
CONTAINED = "contained"
REASONS = (EXACT, NEAR, CONTAINED)

VERIFY_MODES = ("estimate", "exact")
MINHASH_ENGINES = ("rensa", "datasketch")
SIDE_INPUTS = ("dict", "multimap")

SIGNATURES = "signatures"  # the folder beside clean/, duplicates/, rejected/
SIGNATURE_GLOB = "part-*.jsonl.gz"


@dataclass(frozen=True)
class DedupConfig:
    """Knobs of `Deduplicate`; defaults measured with benchmarks/dedup_quality.py."""

    threshold: float = 0.8  # Jaccard threshold for near-duplicates
    num_perm: int = 128
    shingle_size: int = 5  # word n-grams over lowercased \w+ tokens
    containment_threshold: float = 0.8
    seed: int = 1
    # "estimate": Jaccard from the MinHash signatures, containment from the shingle samples;
    # "exact": both from the sets of shingle hashes (4 bytes per distinct shingle per story).
    verify: str = "exact"
    # Who computes the MinHash signatures of the shingle hashes: "rensa" (RMinHash, native, the
    # whole batch in one call) or "datasketch" (its affine32 permutations of the stored 32-bit
    # values). Signatures of different engines are not comparable (`signature_params`).
    minhash_engine: str = "rensa"
    # A bucket (stories sharing a key) of up to this many distinct texts gives every pair; a
    # larger one links each member to the bucket's `bucket_hubs` best-ranked members only.
    max_bucket_size: int = 32
    bucket_hubs: int = 3
    # Keys are grouped in ceil(stories / bucket_shard_stories) shards (one group per shard).
    bucket_shard_stories: int = 200_000
    # Containment sample: keep the shingles whose 64-bit hash % sample_modulus == 0 ...
    sample_modulus: int = 4
    # ... plus always the first `anchor_shingles` shingles (teasers share their article's opening).
    anchor_shingles: int = 2
    # The contained side needs at least this many shingles (about 24 words) and sampled shingles
    # (and >= containment_threshold of them in the container): a boilerplate sentence shared by
    # two stories, or a stray line, is never "contained".
    min_contained_shingles: int = 20
    min_contained_samples: int = 3
    # A contained story must start near its container's start: their first head_shingles
    # shingles share one. 32 shingles (~36 words) tolerates a title/deck/byline glued in
    # front, not a whole lede before it. Candidates come from the head shingles whose hash %
    # head_key_modulus == 0 plus the first anchor_shingles.
    head_shingles: int = 32
    head_key_modulus: int = 4
    # A complete (untruncated) article is contained in a longer story only when their Jaccard is
    # at least this (for a copy wholly inside the other: its share of the other's shingles): a
    # trimmed copy keeps most of its article; a story that is mostly other text (two articles
    # run together) is not a fuller copy of it.
    min_article_share: float = 0.5
    # Large-star/small-star rounds before the convergence check (a chain of ~100 copies
    # converges in 6-7; what has not converged is finished by a counted union-find).
    cc_rounds: int = 6
    # Earlier outputs whose signatures/ today's stories are deduplicated against.
    against: tuple[str, ...] = ()
    # How keyed side inputs (decisions, sketches) are read: "dict" materializes them once per
    # worker (fast lookups; for the local runner, which holds everything in memory anyway);
    # "multimap" fetches each key when asked (no worker holds them all; for cluster runners,
    # where every lookup is a state request).
    side_inputs: str = "multimap"
    # Where to write the signatures of the kept stories (None: not written).
    signatures_dir: str | None = None
    signatures_shards: int = 4

    def __post_init__(self):
        if self.verify not in VERIFY_MODES:
            raise ValueError(f"verify must be one of {', '.join(VERIFY_MODES)}, not {self.verify!r}")
        if self.minhash_engine not in MINHASH_ENGINES:
            raise ValueError(
                f"minhash_engine must be one of {', '.join(MINHASH_ENGINES)}, not {self.minhash_engine!r}"
            )
        if self.head_shingles < 1:
            raise ValueError("head_shingles must be >= 1 (contained stories are found by their openings)")
        if self.bucket_hubs < 1 or self.max_bucket_size < 2 or self.bucket_shard_stories < 1:
            raise ValueError("bucket_hubs >= 1, max_bucket_size >= 2 and bucket_shard_stories >= 1")
        if self.cc_rounds < 0:
            raise ValueError(f"cc_rounds must be >= 0, not {self.cc_rounds}")
        if self.side_inputs not in SIDE_INPUTS:
            raise ValueError(f"side_inputs must be one of {', '.join(SIDE_INPUTS)}, not {self.side_inputs!r}")


# ------------------------------------------------------------------ text rules

# Curly/angle quotes and primes -> ' or ", every dash and minus -> -
_SINGLE_QUOTES = "\u2018\u2019\u201a\u201b\u2032"
_DOUBLE_QUOTES = "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb"
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
# (character, plain) pairs: one str.replace each when present (str.translate with a table
# looks up every character of a non-ASCII text in a dict, some 50x slower on news texts)
_PLAIN = tuple(
    (c, plain)
    for chars, plain in ((_SINGLE_QUOTES, "'"), (_DOUBLE_QUOTES, '"'), (_DASHES, "-"))
    for c in chars
)
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w+")


def normalise_for_hash(text: str) -> str:
    """Text as compared for exact duplicates: NFKC, lowercase, plain quotes/dashes, single spaces."""
    text = unicodedata.normalize("NFKC", text).lower()
    for char, plain in _PLAIN:
        if char in text:
            text = text.replace(char, plain)
    # = _SPACE.sub(" ", text).strip(): str.split() and re's \s take the same whitespace characters
    return " ".join(text.split())


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
    # the n shifted word lists zipped (stopping at the shortest, words[n - 1 :]): the same n-grams
    # as joining words[i : i + n] for each i, without a slice per shingle
    return list(map(" ".join, zip(*(words[i:] for i in range(n)), strict=False)))


def shingles(text: str, n: int) -> set[str]:
    """The set of word n-grams of the lowercased `\\w+` tokens (see `shingle_list`)."""
    return set(shingle_list(text, n))


# ------------------------------------------------------------------ shingle hashes

_MASK32 = 0xFFFFFFFF
_MASK64 = 0xFFFFFFFFFFFFFFFF
_WORD_BASE = 0x9E3779B97F4A7C15  # P: odd, so every power of it is a unit mod 2**64
_SHINGLE_BASE = 0xC2B2AE3D27D4EB4F  # M
_FMIX = (0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53)  # MurmurHash3's fmix64 multipliers
# What `signature_params` records: change it whenever a shingle hash value changes.
SHINGLE_HASH = "words-poly-fmix64/1"


def fmix64(h: int) -> int:
    """MurmurHash3's 64-bit finalizer: a bijection of 64-bit values whose every output bit
    depends on every input bit."""
    h ^= h >> 33
    h = (h * _FMIX[0]) & _MASK64
    h ^= h >> 33
    h = (h * _FMIX[1]) & _MASK64
    return h ^ (h >> 33)


def word_hash(word: str) -> int:
    """64-bit hash of one (lowercased) word: fmix64(sum of ord(c_i) * P**i mod 2**64)."""
    acc, power = 0, 1
    for ch in word:
        acc = (acc + ord(ch) * power) & _MASK64
        power = (power * _WORD_BASE) & _MASK64
    return fmix64(acc)


def shingle_hash(word_hashes: Sequence[int]) -> int:
    """64-bit hash of a run of k words from their `word_hash`es, in order:
    fmix64((((k * M + w_1) * M + w_2) ... ) * M + w_k mod 2**64)."""
    acc = len(word_hashes)
    for w in word_hashes:
        acc = (acc * _SHINGLE_BASE + w) & _MASK64
    return fmix64(acc)


def text_shingle_hashes(text: str, n: int) -> list[int]:
    """The 64-bit hashes of `shingle_list(text, n)`, in text order with repeats: the definition,
    one word at a time in plain Python (the pipeline runs `shingle_hash_batch`)."""
    words = [word_hash(w) for w in _WORD.findall(text.lower())]
    if not words:
        return []
    if len(words) < n:
        return [shingle_hash(words)]
    return [shingle_hash(words[i : i + n]) for i in range(len(words) - n + 1)]


def opening_words(text: str, n: int) -> str | None:
    """A text's first n `\\w+` words, lowercased and joined by spaces (its first shingle); None
    for a text of fewer words."""
    words = [m.group().lower() for m in itertools.islice(_WORD.finditer(text), n)]
    return " ".join(words) if len(words) == n else None


def opening_offset(text: str, opening: str, max_words: int) -> int | None:
    """Where in `text` the words of `opening` (see opening_words) begin: the offset of the
    whitespace-separated word they start on, among its first max_words + 1 words; else None."""
    lower = text.lower()
    if len(lower) != len(text):  # a few characters lengthen when lowercased: offsets would move
        return None
    wanted = opening.split()
    first = wanted[0]
    at = lower.find(first)
    while at != -1:
        after = at + len(first)
        whole = not (at and _WORD.match(lower, at - 1)) and not _WORD.match(lower, after)
        if whole and [m.group() for m in itertools.islice(_WORD.finditer(lower, at), len(wanted))] == wanted:
            start = at
            while start and not text[start - 1].isspace():
                start -= 1
            if len(text[:start].split()) > max_words:
                return None
            # the run must open its word ("re-use" does not start at "use")
            if not _WORD.search(text, start, at):
                return start
        at = lower.find(first, at + 1)
    return None


def _word_char_table() -> np.ndarray:
    """Which code points of the Basic Multilingual Plane `\\w` matches (asked of `re` itself)."""
    table = np.zeros(0x10000, dtype=bool)
    for m in _WORD.finditer("".join(map(chr, range(0x10000)))):
        table[m.start() : m.end()] = True
    return table


_BMP_WORD_CHARS = _word_char_table()  # a constant (64 KB), the same in every process


def _fmix64_array(h: np.ndarray) -> np.ndarray:
    """`fmix64` of a uint64 array (numpy's uint64 products wrap mod 2**64)."""
    h = h ^ (h >> np.uint64(33))
    h *= np.uint64(_FMIX[0])
    h ^= h >> np.uint64(33)
    h *= np.uint64(_FMIX[1])
    h ^= h >> np.uint64(33)
    return h


def _powers(base: int, count: int) -> np.ndarray:
    """base**0 .. base**(count - 1) mod 2**64 as uint64."""
    powers = np.full(max(count, 1), base, dtype=np.uint64)
    powers[0] = 1
    return np.cumprod(powers, dtype=np.uint64)


def word_hash_batch(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """`word_hash` of every word of many texts at once: (uint64 hashes of all words, text after
    text; the number of words of each text).

    The words are those of `_WORD.findall(text.lower())`, found with numpy: the lowercased texts
    are joined by NUL (not a word character, so no word spans two texts) and read as UTF-32 code
    points; a word is a maximal run of code points `\\w` matches (a table asked of `re`; the
    rare code points beyond the BMP are asked one by one). Each word's polynomial is one
    `np.add.reduceat` over its characters.
    """
    lowered = [t.lower() for t in texts]
    codes = np.frombuffer("\x00".join(lowered).encode("utf-32-le", "surrogatepass"), dtype="<u4")
    is_word = _BMP_WORD_CHARS[np.minimum(codes, 0xFFFF)]
    astral = np.flatnonzero(codes > 0xFFFF)
    if len(astral):
        is_word[astral] = [_WORD.match(chr(c)) is not None for c in codes[astral].tolist()]
    edges = np.diff(is_word.view(np.int8), prepend=np.int8(0), append=np.int8(0))
    starts = np.flatnonzero(edges == 1)
    lengths = np.flatnonzero(edges == -1) - starts
    # words per text: word starts before each text's end (the NUL after it, or the end)
    text_ends = np.cumsum(np.fromiter(map(len, lowered), dtype=np.int64, count=len(lowered)) + 1) - 1
    counts = np.diff(np.searchsorted(starts, text_ends), prepend=0)
    if not len(starts):
        return np.empty(0, dtype=np.uint64), counts
    chars = codes[is_word].astype(np.uint64)
    first = np.cumsum(lengths) - lengths  # each word's first character in `chars`
    position = np.arange(len(chars)) - np.repeat(first, lengths)  # i of each character in its word
    terms = chars * _powers(_WORD_BASE, int(lengths.max()))[position]
    return _fmix64_array(np.add.reduceat(terms, first)), counts


def shingle_hash_batch(texts: Sequence[str], n: int) -> tuple[np.ndarray, np.ndarray]:
    """`text_shingle_hashes` of many texts at once: (uint64 hashes, offsets): text i's shingle
    hashes, in text order with repeats, are hashes[offsets[i] : offsets[i + 1]].

    Every word is hashed once; the n-word polynomial is evaluated with numpy over all the
    batch's words at once (n multiply-adds per word), and only the windows inside one text
    are kept. A text of fewer than n words (one shingle) is hashed in plain Python.
    """
    words, counts = word_hash_batch(texts)
    full = counts >= n
    per_text = np.where(full, counts - n + 1, (counts > 0).astype(np.int64))
    offsets = np.concatenate(([0], np.cumsum(per_text)))
    out = np.empty(int(offsets[-1]), dtype=np.uint64)
    word_offsets = np.cumsum(counts) - counts
    if full.any():
        windows = len(words) - n + 1
        acc = np.full(windows, n, dtype=np.uint64)
        for j in range(n):
            acc *= np.uint64(_SHINGLE_BASE)
            acc += words[j : j + windows]
        kept = np.where(full, per_text, 0)
        # the window starts of the texts with >= n words, text after text
        window_starts = np.repeat(word_offsets - (np.cumsum(kept) - kept), kept) + np.arange(int(kept.sum()))
        out[np.repeat(full, per_text)] = _fmix64_array(acc[window_starts])
    for i in np.flatnonzero(~full & (counts > 0)).tolist():
        out[offsets[i]] = shingle_hash(words[word_offsets[i] : word_offsets[i] + counts[i]].tolist())
    return out, offsets


def stored_values(hashes: np.ndarray) -> np.ndarray:
    """The 32-bit values a sketch keeps of 64-bit shingle hashes (shingle sets, heads, samples,
    the datasketch engine's input): their low 32 bits."""
    return (hashes & np.uint64(_MASK32)).astype("<u4")


def sampled_mask(hashes: np.ndarray, modulus: int) -> np.ndarray:
    """Which shingles join the containment sample: high 32 bits % modulus == 0 (independent of
    the stored low 32 bits)."""
    return (hashes >> np.uint64(32)) % np.uint64(modulus) == 0


def pack_u32(values: Iterable[int]) -> bytes:
    """Unsigned 32-bit values as little-endian bytes (compact in shuffles and side inputs)."""
    return np.fromiter(values, dtype="<u4").tobytes()


def unpack_u32(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<u4")


def containment_sample(ordered: Sequence[int], modulus: int, anchors: int) -> tuple[int, ...]:
    """Consistent sample of a story's shingles, in text order without repeats, as their stored
    32-bit values: the first `anchors` distinct shingles, then every shingle whose 64-bit hash
    has high 32 bits % modulus == 0. `ordered` holds the 64-bit shingle hashes in text order.

    The same shingle is sampled in every story (consistent sampling), so the share of a
    story's sample found in another story's sample estimates its containment. The anchors
    make short texts usable; a teaser and its article share their opening shingles.
    """
    kept: dict[int, None] = {}
    for h in ordered:
        low = h & _MASK32
        if low not in kept and (len(kept) < anchors or (h >> 32) % modulus == 0):
            kept[low] = None
    return tuple(kept)


def containment_sample_arrays(values: np.ndarray, sampled: np.ndarray, anchors: int) -> tuple[int, ...]:
    """`containment_sample` from arrays: the stored values of a story's shingles in text order
    and which of them are sampled (`sampled_mask`). Once `anchors` values are kept only sampled
    shingles can join, so only those are visited."""
    kept: dict[int, None] = {}
    i = 0
    while i < len(values) and len(kept) < anchors:
        kept.setdefault(int(values[i]), None)
        i += 1
    kept.update(dict.fromkeys(values[i:][sampled[i:]].tolist()))
    return tuple(kept)


def first_distinct(values: np.ndarray, count: int) -> list[int]:
    """The first `count` distinct values, in order (a story's head)."""
    window = max(2 * count, 16)
    kept: dict[int, None] = dict.fromkeys(values[:window].tolist())
    at = window
    while len(kept) < count and at < len(values):  # a text that repeats itself at once
        kept.update(dict.fromkeys(values[at : at + window].tolist()))
        at += window
    return list(kept)[:count]


def sorted_sets(values: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of each text, sorted, for a whole batch in one sort: (values, offsets)
    as for `shingle_hash_batch`. Each value is sorted with its text's index in the high bits."""
    owner = np.repeat(np.arange(len(offsets) - 1, dtype=np.uint64), np.diff(offsets))
    keys = np.sort((owner << np.uint64(32)) | values.astype(np.uint64))
    if len(keys) > 1:
        keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))]
    set_offsets = np.searchsorted(keys >> np.uint64(32), np.arange(len(offsets), dtype=np.uint64))
    return stored_values(keys), set_offsets


def _common(a: np.ndarray, b: np.ndarray) -> int:
    """|A & B| of two arrays, each without repeats (sorted or not): in their merged sort a shared
    value shows as two equal neighbours (fewer numpy calls than np.intersect1d or np.isin, about
    half their time at story sizes)."""
    merged = np.concatenate((a, b))
    merged.sort()
    return int(np.count_nonzero(merged[1:] == merged[:-1]))


def containment(small: Sequence[int] | np.ndarray, large: Sequence[int] | np.ndarray) -> float:
    """Share of the distinct hashes of `small` found in `large` (0.0 for an empty `small`): from
    two consistent samples, an estimate of |S & A| / |S|; from two full shingle sets, its value."""
    small = np.unique(np.asarray(small, dtype=np.uint32))
    if not len(small):
        return 0.0
    return _common(small, np.unique(np.asarray(large, dtype=np.uint32))) / len(small)


def exact_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """|A & B| / |A | B| of two sets of shingle hashes (sorted, without repeats)."""
    if not len(a) and not len(b):
        return 0.0
    both = _common(a, b)
    return both / (len(a) + len(b) - both)


# ------------------------------------------------------------------ MinHash and LSH


# datasketch's answer for the defaults (a test checks it still is): its optimiser integrates
# numerically, and with its import that is about a second of every run's set-up.
_DEFAULT_LSH_PARAMS = {(0.8, 128): (9, 13)}


def lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows) from datasketch's own optimiser (equal false positive/negative weights)."""
    known = _DEFAULT_LSH_PARAMS.get((threshold, num_perm))
    if known is not None:
        return known
    from datasketch.lsh import _optimal_param

    return _optimal_param(threshold, num_perm, 0.5, 0.5)


def minhash_template(num_perm: int, seed: int):
    """An empty datasketch MinHash fed with precomputed 32-bit values (`hashfunc=int`): the
    `--minhash-engine datasketch` signatures are its hash values after updating it with the
    stored (low 32-bit) values of the shingle hashes. Same seed -> same permutations everywhere.
    """
    from datasketch import MinHash

    return MinHash(num_perm=num_perm, seed=seed, hashfunc=int)


def minhash_signature(hashes32: Iterable[int], template) -> bytes:
    """MinHash hash values of a set of 32-bit shingle hashes, as big-endian uint32 bytes.

    For datasketch's default scheme (affine32) the arithmetic of its `update_batch` CPU path is
    done here on one array: the same values without a MinHash copy per story (its copy and
    checks cost more than the permutations). Other schemes go through datasketch itself.
    """
    values = hashes32 if isinstance(hashes32, np.ndarray) else np.array(list(hashes32), dtype=np.int64)
    fmix = _affine32_fmix(template)
    if fmix is None:
        m = template.copy()
        if len(values):
            m.update_batch(values.tolist())
        return m.hashvalues.astype(">u4").tobytes()
    a, b = template.permutations
    hv = fmix(values.astype(np.uint32).reshape(-1, 1), 32)
    mins = template.hashvalues
    for i in range(0, len(hv), _MINHASH_ROWS):  # bounded temporaries for a very long story
        mins = np.minimum(mins, (hv[i : i + _MINHASH_ROWS] * a + b).min(axis=0))
    return mins.astype(">u4").tobytes()


_MINHASH_ROWS = 8192


def _affine32_fmix(template):
    """datasketch's pre-mix for an affine32 CPU template, else None (then datasketch hashes)."""
    if getattr(template, "scheme", None) != "affine32" or getattr(template, "_gpu_mode", None) != "disable":
        return None
    try:
        from datasketch.minhash import _fmix
    except ImportError:
        return None
    return _fmix


def minhash_id(engine: str) -> str:
    """The engine and its algorithm version, as `signature_params` records them: signatures
    made another way are not comparable (`--against` refuses them)."""
    if engine == "rensa":
        from rensa import RMinHash

        return f"rensa-rminhash/{RMinHash.ALGORITHM_VERSION}"
    if engine == "datasketch":
        return "datasketch-affine32"
    raise ValueError(f"minhash_engine must be one of {', '.join(MINHASH_ENGINES)}, not {engine!r}")


class MinHasher:
    """MinHash signatures of many stories' shingle hashes in one call (one per worker: `setup`).

    "rensa": `RMinHash.digest_matrix_from_flat_token_hashes` of the 64-bit shingle hashes, the
    whole batch in one native call (the same values as `RMinHash.digest_matrix_from_token_hash_sets`
    of each story's hashes; tested); "datasketch": `minhash_signature` of each story's stored
    32-bit values (its affine32 permutations). A signature is big-endian uint32 bytes either way
    and depends only on its own story's shingles, never on the batch.
    """

    def __init__(self, engine: str, num_perm: int, seed: int):
        if engine not in MINHASH_ENGINES:
            raise ValueError(f"minhash_engine must be one of {', '.join(MINHASH_ENGINES)}, not {engine!r}")
        self.engine, self.num_perm, self.seed = engine, num_perm, seed
        if engine == "rensa":
            from rensa import RMinHash

            self._digests = RMinHash.digest_matrix_from_flat_token_hashes
            self._row = struct.Struct(f">{num_perm}I")
        else:
            self._template = minhash_template(num_perm, seed)

    def signatures(self, hashes: np.ndarray, offsets: np.ndarray) -> list[bytes]:
        """The signature of each story; story i's shingle hashes are hashes[offsets[i]:offsets[i + 1]]
        (uint64, repeats allowed: a MinHash only sees the set)."""
        if len(offsets) < 2:
            return []
        if self.engine == "rensa":
            matrix = self._digests(hashes, offsets.tolist(), self.num_perm, self.seed)
            return list(itertools.starmap(self._row.pack, matrix.to_rows()))
        values = stored_values(hashes)
        bounds = offsets.tolist()
        return [minhash_signature(values[a:b], self._template) for a, b in itertools.pairwise(bounds)]


def estimated_jaccard(sig_a: bytes, sig_b: bytes) -> float:
    """Share of equal MinHash values: datasketch's Jaccard estimate."""
    a = np.frombuffer(sig_a, dtype=">u4")
    b = np.frombuffer(sig_b, dtype=">u4")
    if len(a) != len(b) or not len(a):
        raise ValueError("signatures of different or zero length")
    return float(np.count_nonzero(a == b)) / len(a)


_BAND_KEY_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)


def band_key_array(signatures: Sequence[bytes], bands: int, rows: int) -> np.ndarray:
    """LSH bucket keys, (len(signatures), bands) uint64: the key of band b of a signature hashes
    b and that band's `rows` hash values (a chain of fmix64 over them), so two signatures share
    a band's key exactly when they agree on the whole band (but for chances of 2**-64, which
    verification would turn away). numpy over a batch: a hash call per band and story cost as
    much as the rest of a sketch's keys."""
    width = bands * rows * 4  # bytes: 4 per uint32 hash value
    if any(len(s) < width for s in signatures):
        raise ValueError("signature too short for bands x rows")
    values = np.frombuffer(b"".join(s[:width] for s in signatures), dtype=">u4").astype(np.uint64)
    values = values.reshape(len(signatures), bands, rows)
    keys = np.tile(_fmix64_array(np.arange(1, bands + 1, dtype=np.uint64)), (len(signatures), 1))
    for r in range(rows):
        keys = _fmix64_array(keys * _BAND_KEY_MULTIPLIER + values[:, :, r])
    return keys


def key64(kind: bytes, data: bytes) -> int:
    """A 64-bit bucket key (kind b"b": an LSH band, b"h": an opening shingle)."""
    return int.from_bytes(hashlib.blake2b(kind + data, digest_size=8).digest(), "little")


# ------------------------------------------------------------------ sketches and labels


@dataclass(frozen=True)
class StorySketch:
    """What dedup needs of a story, without its text (hash arrays packed as bytes)."""

    id: str
    rank: tuple[int, int, str]  # representative_key of the story: (tier, -len(text), id)
    text_hash: str
    num_shingles: int  # distinct stored shingle values (the size of shingle_set)
    signature: bytes  # MinHash values, big-endian uint32
    sample: bytes  # containment sample: stored shingle values in text order (pack_u32)
    head: bytes = b""  # stored values of the first head_shingles distinct shingles, in order
    shingle_set: bytes = b""  # verify="exact": every distinct stored value, sorted (else empty)
    previous: bool = False  # read from an earlier run's signatures/
    cluster: str | None = None  # an earlier run's cluster (previous sketches only)

    @functools.cached_property  # verification asks it of every pair: formatted once per sketch
    def label(self) -> str:
        return node_label(self.rank, self.previous)

    @property
    def tier(self) -> int:
        return self.rank[0]

    @property
    def length(self) -> int:
        return -self.rank[1]


def sketch_key(label: str, text_key: str) -> str:
    """Where verification finds a node's packed sketch: an earlier run's story by its label (the
    sketch that run stored), a today's story by its text key (exact copies share their sketch's
    body, so one copy's row carries it for all, see `_SketchFn`)."""
    return label if label_is_previous(label) else text_key


def sketch_as(sketch: StorySketch, label: str) -> StorySketch:
    """The sketch of the node `label` from a sketch of the same text (another today's copy's, or
    its own): the same body, the label's id and rank."""
    if sketch.label == label:
        return sketch
    if label_is_previous(label) or sketch.previous:
        raise ValueError(f"an earlier run's sketch stands only for itself, not for {label}")
    story_id = label_id(label)
    tier, length = label_tier_length(label)
    return replace(sketch, id=story_id, rank=(tier, -length, story_id))


class Edge(NamedTuple):
    """A verified link between two node labels. For "contained", `a` is the contained story
    and `b` its container; otherwise a < b."""

    a: str
    b: str
    reason: str
    similarity: float


class ContainerChoice(NamedTuple):
    """A "contained" edge with what ranks its container among the contained story's others."""

    edge: Edge
    same_opening: bool  # the container starts with the contained story's first shingle
    container_tier: int
    container_length: int


def representative_key(story: Story) -> tuple[int, int, str]:
    """Rank of a story's node (smallest first): untruncated article, article, teaser; then
    longest text; then smallest id. It orders the graph (a component's root, an exact group's
    leader); which member a component keeps also weighs its exact copies (kept_story)."""
    if story.kind == ARTICLE:
        tier = 1 if story.truncated else 0
    else:
        tier = 2
    return (tier, -len(story.text), story.id)


_LEN_MAX = 0xFFFFFFFF
_LABEL_PREFIX = 10  # "p" + tier + 8 hex digits


def node_label(rank: tuple[int, int, str], previous: bool = False) -> str:
    """A story's node in the duplicate graph: a string whose order is the representative
    order (an earlier run's story first, then `rank`), ending with the id.

    Clusters are keyed and joined on labels, so the smallest label of a cluster is its kept
    story, and a story read again from an earlier run (same id) is a different node.
    """
    tier, neg_len, story_id = rank
    length = min(-neg_len, _LEN_MAX)
    return f"{0 if previous else 1}{tier}{_LEN_MAX - length:08x}{story_id}"


def label_id(label: str) -> str:
    return label[_LABEL_PREFIX:]


def label_is_previous(label: str) -> bool:
    return label[0] == "0"


def label_tier_length(label: str) -> tuple[int, int]:
    return int(label[1]), _LEN_MAX - int(label[2:_LABEL_PREFIX], 16)


def story_label(story: Story) -> str:
    return node_label(representative_key(story))


class TextSketch(NamedTuple):
    """What a story's sketch holds that depends on its text alone (the same for every exact copy
    of the text): `StorySketch`'s fields after id and rank."""

    text_hash: str
    num_shingles: int
    signature: bytes
    sample: bytes
    head: bytes
    shingle_set: bytes


def text_sketches(texts: Sequence[str], config: DedupConfig, minhasher: MinHasher) -> list[TextSketch]:
    """The text parts of the sketches of a batch of texts (minhasher: `MinHasher(config.minhash_engine,
    config.num_perm, config.seed)`). Each depends on its own text only, never on the batch.

    The shingle hashes of the whole batch come from one `shingle_hash_batch`, its signatures from
    one engine call and its sorted shingle sets from one sort; what is left per text is slicing.
    """
    hashes, offsets = shingle_hash_batch(texts, config.shingle_size)
    signatures = minhasher.signatures(hashes, offsets)
    values = stored_values(hashes)
    sampled = sampled_mask(hashes, config.sample_modulus)
    sets, set_offsets = sorted_sets(values, offsets)
    bounds, set_bounds = offsets.tolist(), set_offsets.tolist()
    exact = config.verify == "exact"
    out = []
    for i, text in enumerate(texts):
        a, b = bounds[i], bounds[i + 1]
        shingle_set = sets[set_bounds[i] : set_bounds[i + 1]]
        out.append(
            TextSketch(
                text_hash=text_hash(text),
                num_shingles=len(shingle_set),
                signature=signatures[i],
                sample=pack_u32(containment_sample_arrays(values[a:b], sampled[a:b], config.anchor_shingles)),
                head=pack_u32(first_distinct(values[a:b], config.head_shingles)),
                shingle_set=shingle_set.tobytes() if exact else b"",
            )
        )
    return out


def per_distinct_text(
    texts: Sequence[str], compute: Callable[[list[str]], list[_V]], memo: BoundedMemo[_V] | None = None
) -> list[_V]:
    """compute()'s value for each text, where `compute` maps a batch of texts to their values one
    by one (a pure function of each text): one call for the distinct texts the memo does not
    hold, so a text repeated in the batch or seen before (exact copies: the same teaser on many
    pages) is computed once. The memo (values by text, bounded by characters) never changes a
    value."""
    found: dict[str, _V | None] = {}
    for text in texts:
        if text not in found:
            found[text] = None if memo is None else memo.lookup(text)
    missing = [text for text, value in found.items() if value is None]
    for text, value in zip(missing, compute(missing) if missing else [], strict=True):
        found[text] = value if memo is None else memo.get(text, len(text), lambda value=value: value)
    return [found[text] for text in texts]


def compute_sketches(
    stories: Sequence[Story], config: DedupConfig, minhasher: MinHasher
) -> list[StorySketch]:
    """The sketches of a batch of stories (see `text_sketches`). Each sketch is a function of its
    own story only: any batch gives the same sketch as `compute_sketch` of the story alone
    (tested)."""
    parts = per_distinct_text(
        [s.text for s in stories], lambda texts: text_sketches(texts, config, minhasher)
    )
    return [
        StorySketch(story.id, representative_key(story), *part)
        for story, part in zip(stories, parts, strict=True)
    ]


def compute_sketch(story: Story, config: DedupConfig, minhasher: MinHasher) -> StorySketch:
    """The sketch of one story (see `compute_sketches`)."""
    return compute_sketches([story], config, minhasher)[0]


def candidate_keys(
    sketch: StorySketch | TextSketch,
    bands: int,
    rows: int,
    config: DedupConfig,
    band_keys: Sequence[int] | None = None,
) -> list[int]:
    """The bucket keys of a story: its LSH bands (near copies) and a consistent sample of its
    opening shingles (contained copies start where their container starts). None for a
    wordless text (its empty signature would collide with every other wordless text).
    band_keys: its row of `band_key_array`, when worked out for a batch already."""
    if not sketch.num_shingles:
        return []
    if band_keys is None:
        band_keys = band_key_array([sketch.signature], bands, rows)[0].tolist()
    keys = list(band_keys)
    modulus = config.head_key_modulus
    for i, h in enumerate(unpack_u32(sketch.head).tolist()):
        key, sampled = head_key(h, modulus)
        if sampled or i < config.anchor_shingles:
            keys.append(key)
    return sorted(set(keys))


@functools.lru_cache(maxsize=65536)
def head_key(shingle: int, modulus: int) -> tuple[int, bool]:
    """(bucket key of an opening shingle, whether the consistent sample takes it).

    Cached by shingle value: copies and near copies open with the same shingles, so most
    stories' openings were seen before (92% of the lookups of one worker's half of a 50 MB
    crawl hit), and each miss costs two blake2b calls. A pure function: the cache never
    changes a result.
    """
    data = shingle.to_bytes(4, "little")
    return key64(b"h", data), key64(b"s", data) % modulus == 0


# ------------------------------------------------------------------ buckets -> candidate pairs


def num_shards(stories: int, per_shard: int) -> int:
    """How many key shards for a number of stories (at least one)."""
    return max(1, math.ceil(stories / per_shard))


def shard_rows(
    label: str, text_key: str, keys: Sequence[int], shards: int, packed_sketch: bytes = b""
) -> list[tuple[int, tuple[str, str, bytes, bytes]]]:
    """(shard, (label, text key, packed keys, packed sketch)) rows of one story: its keys split
    by shard. With one shard the row carries the packed sketch (its pairs are verified right
    there); with more, the sketches go to a keyed side input instead (no copy per shard)."""
    if shards == 1:
        return [(0, (label, text_key, np.asarray(keys, dtype="<u8").tobytes(), packed_sketch))]
    by_shard: dict[int, list[int]] = defaultdict(list)
    for k in keys:
        by_shard[k % shards].append(k)
    return [
        (s, (label, text_key, np.asarray(ks, dtype="<u8").tobytes(), b""))
        for s, ks in sorted(by_shard.items())
    ]


def bucket_pairs(
    labels: Iterable[str], max_bucket_size: int, hubs: int
) -> tuple[list[tuple[str, str]], bool]:
    """Candidate pairs (hub: the smaller label, spoke) of one bucket, and whether it was oversized.

    Up to max_bucket_size members: every pair. Above it, every member is paired with the
    bucket's `hubs` best-ranked members only (n*hubs pairs instead of n^2/2): a huge bucket is
    nearly always many versions of one text (linked through the hubs, which are its fullest
    versions) or a boilerplate opening (whose pairs would fail verification anyway). Pairs
    between two earlier-run stories are never candidates. (The definition: `shard_candidates`
    gives the pairs of all buckets at once.)
    """
    members = sorted(set(labels))
    oversized = len(members) > max_bucket_size
    heads = members[:hubs] if oversized else members
    pairs = []
    for i, hub in enumerate(heads):
        for spoke in members[i + 1 :]:
            if not (label_is_previous(hub) and label_is_previous(spoke)):
                pairs.append((hub, spoke))
    return pairs, oversized


def shard_candidates(
    rows: Iterable[tuple[str, str, bytes, bytes]], max_bucket_size: int, hubs: int
) -> tuple[dict[str, set[str]], int]:
    """Candidate hubs per spoke label from one shard's rows (label, text key, packed keys,
    packed sketch), and the number of oversized buckets: the pairs of `bucket_pairs` of every
    bucket (a key's members), where copies with the same text key count once (their
    best-ranked label stands for all).

    All in numpy over the postings (key, text, rank of the label), not per bucket in Python:
    a label's rank is its place in the sorted labels, so the best-ranked members of a bucket
    come first once its postings are sorted by rank.
    """
    labels: list[str] = []
    text_keys: list[str] = []
    chunks: list[np.ndarray] = []
    for label, text_key, packed, _ in rows:
        labels.append(label)
        text_keys.append(text_key)
        chunks.append(np.frombuffer(packed, dtype="<u8"))
    out: dict[str, set[str]] = defaultdict(set)
    keys = np.concatenate(chunks) if chunks else np.empty(0, dtype="<u8")
    if not len(keys):
        return out, 0
    ranked = sorted(set(labels))
    rank_of = {label: i for i, label in enumerate(ranked)}
    text_ids: dict[str, int] = {}
    counts = [len(c) for c in chunks]
    ranks = np.repeat(np.array([rank_of[label] for label in labels], dtype=np.int64), counts)
    text_of_row = [text_ids.setdefault(k, len(text_ids)) for k in text_keys]
    texts = np.repeat(np.array(text_of_row, dtype=np.int64), counts)
    # each text once per bucket, as its best-ranked label
    order = np.lexsort((ranks, texts, keys))
    keys, texts, ranks = keys[order], texts[order], ranks[order]
    first = np.r_[True, (keys[1:] != keys[:-1]) | (texts[1:] != texts[:-1])]
    keys, members = keys[first], ranks[first]
    order = np.lexsort((members, keys))  # members of each bucket in rank order
    keys, members = keys[order], members[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    sizes = np.diff(np.r_[starts, len(keys)])
    oversized = sizes > max_bucket_size
    # hub positions: a bucket's first `hubs` members when oversized, else all; each is paired
    # with every later member of its bucket
    place = np.arange(len(keys)) - np.repeat(starts, sizes)
    hub_at = np.flatnonzero(place < np.repeat(np.where(oversized, hubs, sizes), sizes))
    spokes_of_hub = np.repeat(starts + sizes, sizes)[hub_at] - hub_at - 1
    hub_pos = np.repeat(hub_at, spokes_of_hub)
    nth_spoke = np.arange(len(hub_pos)) - np.repeat(np.cumsum(spokes_of_hub) - spokes_of_hub, spokes_of_hub)
    spoke_pos = hub_pos + 1 + nth_spoke
    hub_rank, spoke_rank = members[hub_pos], members[spoke_pos]
    previous = np.array([label_is_previous(label) for label in ranked])
    keep = ~(previous[hub_rank] & previous[spoke_rank])  # never two earlier-run stories
    pairs = np.sort(spoke_rank[keep] * len(ranked) + hub_rank[keep])  # by spoke, then hub
    pairs = pairs[np.diff(pairs, prepend=-1) != 0]  # without repeats (np.unique hashes first: slower)
    spoke_ranks, hub_ranks = np.divmod(pairs, len(ranked))
    bounds = np.flatnonzero(np.diff(spoke_ranks, prepend=-1, append=-1) != 0).tolist()
    spoke_list, hub_list = spoke_ranks.tolist(), hub_ranks.tolist()
    for a, b in itertools.pairwise(bounds):
        out[ranked[spoke_list[a]]] = {ranked[h] for h in hub_list[a:b]}
    return out, int(np.count_nonzero(oversized))


# ------------------------------------------------------------------ verification


def aligned_openings(small: StorySketch, large: StorySketch) -> bool:
    """Whether the two stories start at about the same text: their heads (distinct values)
    share a shingle."""
    return _common(unpack_u32(small.head), unpack_u32(large.head)) > 0


class Shared(NamedTuple):
    """How many values two sketches share, counted for a story and all its candidates at once
    (`shared_counts`)."""

    shingles: int | None  # of their shingle sets (None: verification without sets)
    head: int  # of their heads


def _found(values: np.ndarray, packed: Sequence[bytes]) -> list[int]:
    """How many values of each packed array (`pack_u32`, without repeats) `values` (sorted, not
    empty) holds: one lookup for all of them."""
    joined = unpack_u32(b"".join(packed))
    hit = values[np.minimum(np.searchsorted(values, joined), len(values) - 1)] == joined
    hits = np.concatenate(([0], np.cumsum(hit)))
    sizes = np.array([len(p) // 4 for p in packed], dtype=np.int64)
    ends = np.cumsum(sizes)
    return (hits[ends] - hits[ends - sizes]).tolist()


def shared_counts(story: StorySketch, others: Sequence[StorySketch], config: DedupConfig) -> list[Shared]:
    """`Shared` of a story with each of others: what `verify_pair` would count pair by pair."""
    head = np.sort(unpack_u32(story.head))
    heads = _found(head, [o.head for o in others]) if len(head) else [0] * len(others)
    values = unpack_u32(story.shingle_set)  # sorted
    if config.verify == "exact" and len(values):
        return list(map(Shared, _found(values, [o.shingle_set for o in others]), heads))
    return [Shared(None, h) for h in heads]


class _DenseSets:
    """The value arrays of some sketches (each without repeats) as dense ids, indices into all
    their distinct values: a story's values are marked in a table of booleans and its
    candidates' values looked up there, one step per value where a sorted search costs log n."""

    def __init__(self, arrays: dict[int, np.ndarray]):
        keys = list(arrays)
        sizes = [len(arrays[k]) for k in keys]
        values = np.concatenate([arrays[k] for k in keys]) if keys else np.empty(0, dtype="<u4")
        distinct, inverse = np.unique(values, return_inverse=True)
        self._table = np.zeros(len(distinct), dtype=bool)
        self._inverse = inverse
        self._span = dict(zip(keys, itertools.pairwise(itertools.accumulate(sizes, initial=0)), strict=True))
        self.size = dict(zip(keys, sizes, strict=True))

    def _ids(self, key: int) -> np.ndarray:
        lo, hi = self._span[key]
        return self._inverse[lo:hi]

    def hits(self, story: int, others: Sequence[int]) -> np.ndarray:
        """For every value of each of `others` in turn, whether the story holds it."""
        mine = self._ids(story)
        if not len(mine):
            return np.zeros(sum(self.size[o] for o in others), dtype=bool)
        self._table[mine] = True
        found = self._table[np.concatenate([self._ids(o) for o in others])]
        self._table[mine] = False
        return found


def _counts_of(dense: _DenseSets, stories: Sequence[int], others: Sequence[Sequence[int]]) -> list[list[int]]:
    """How many values of each of others[g] stories[g] holds, for every g: every lookup first,
    then one sum per run of lookups gives all the counts."""
    hits = [dense.hits(s, o) for s, o in zip(stories, others, strict=True) if o]
    sizes = np.array([dense.size[k] for o in others for k in o], dtype=np.int64)
    if not len(sizes):
        return [[] for _ in others]
    counts = np.zeros(len(sizes), dtype=np.int64)
    filled = sizes > 0  # (reduceat would give an empty run the value after it)
    if filled.any():
        starts = (np.cumsum(sizes) - sizes)[filled]
        counts[filled] = np.add.reduceat(np.concatenate(hits), starts, dtype=np.int64)
    flat = counts.tolist()
    out, at = [], 0
    for o in others:
        out.append(flat[at : at + len(o)])
        at += len(o)
    return out


def shared_counts_many(
    stories: Sequence[StorySketch], others: Sequence[Sequence[StorySketch]], config: DedupConfig
) -> list[list[Shared]]:
    """`shared_counts(stories[g], others[g], config)` for every g, over dense ids of all their
    values (`_DenseSets`): the same counts, with a few numpy calls per story rather than a
    dozen per array (numpy's per-call cost took most of the time: a story's candidates are
    many and small)."""
    # keyed by identity: a hub is the same object for each of its spokes, its arrays read once
    sketches = {id(s): s for s in itertools.chain(stories, itertools.chain.from_iterable(others))}
    story_keys = [id(s) for s in stories]
    other_keys = [[id(h) for h in hubs] for hubs in others]
    head_sets = _DenseSets({k: unpack_u32(s.head) for k, s in sketches.items()})
    heads = _counts_of(head_sets, story_keys, other_keys)
    if config.verify != "exact":
        return [[Shared(None, h) for h in counts] for counts in heads]
    shingle_sets = _DenseSets({k: unpack_u32(s.shingle_set) for k, s in sketches.items()})
    sets = _counts_of(shingle_sets, story_keys, other_keys)
    return [
        list(map(Shared, shingles, counts)) if story.shingle_set else [Shared(None, h) for h in counts]
        for story, shingles, counts in zip(stories, sets, heads, strict=True)
    ]


def _use_sets(x: StorySketch, y: StorySketch, config: DedupConfig) -> bool:
    return config.verify == "exact" and bool(x.shingle_set) and bool(y.shingle_set)


def verify_pair(
    x: StorySketch, y: StorySketch, config: DedupConfig, shared: Shared | None = None
) -> tuple[Edge | None, str | None]:
    """The verified relation of two stories (or None) and, when a containment was refused by
    the complete-article share rule, "share" (shared: their `shared_counts`, when counted).

    exact (same normalised text), else near (Jaccard >= threshold), else contained: the story
    with fewer shingles is long enough, starts near the other's start, has >= the containment
    threshold of its shingles in it, and, when it is a complete article, has a Jaccard of at
    least min_article_share with it (is about half of it or more). Edges join node labels.
    """
    x_label, y_label = x.label, y.label  # a property that formats a string: read once
    if x_label == y_label:
        return None, None
    lo, hi = sorted((x_label, y_label))
    if x.text_hash == y.text_hash:
        return Edge(lo, hi, EXACT, 1.0), None
    if x.num_shingles == 0 or y.num_shingles == 0:
        return None, None
    sets = _use_sets(x, y, config)
    both = 0
    if sets:  # one intersection answers both the Jaccard and the containment
        if shared is None:
            both = _common(unpack_u32(x.shingle_set), unpack_u32(y.shingle_set))
        else:
            both = shared.shingles
        jaccard = both / (len(x.shingle_set) // 4 + len(y.shingle_set) // 4 - both)
    else:
        jaccard = estimated_jaccard(x.signature, y.signature)
    if jaccard >= config.threshold:
        return Edge(lo, hi, NEAR, round(jaccard, 4)), None
    (_, _, small), (_, _, large) = sorted(((x.num_shingles, x_label, x), (y.num_shingles, y_label, y)))
    small_label, large_label = (x_label, y_label) if small is x else (y_label, x_label)
    if small.num_shingles < config.min_contained_shingles:
        return None, None
    if not sets and len(small.sample) // 4 < config.min_contained_samples:
        return None, None
    if not (aligned_openings(small, large) if shared is None else shared.head > 0):
        return None, None
    if sets:
        score = both / (len(small.shingle_set) // 4)
    else:  # samples hold no repeats: no np.unique needed
        sample = unpack_u32(small.sample)
        score = _common(sample, unpack_u32(large.sample)) / max(len(sample), 1)
    if score < config.containment_threshold:
        return None, None
    if small.tier == 0 and jaccard < config.min_article_share:
        return None, "share"
    return Edge(small_label, large_label, CONTAINED, round(score, 4)), None


def classify_pair(x: StorySketch, y: StorySketch, config: DedupConfig) -> Edge | None:
    """The verified relation of two stories, or None (see `verify_pair`)."""
    return verify_pair(x, y, config)[0]


class Verified(NamedTuple):
    """What checking one story against its candidates gave."""

    edges: list[Edge]  # exact and near edges
    contained: list[tuple[str, ContainerChoice]]  # (contained label, choice): one is kept per story
    candidates: int
    refused_share: int  # containments refused by the complete-article share rule


def verify_spoke(
    spoke: StorySketch,
    hubs: Iterable[StorySketch],
    config: DedupConfig,
    counts: Sequence[Shared] | None = None,
) -> Verified:
    """`verify_pair` of a story with each of its candidate hubs (counts: their `shared_counts`,
    when counted already)."""
    out = Verified([], [], 0, 0)
    refused = candidates = 0
    hubs = list(hubs)
    if counts is None:
        counts = shared_counts(spoke, hubs, config)
    for hub, shared in zip(hubs, counts, strict=True):
        candidates += 1
        edge, why = verify_pair(spoke, hub, config, shared)
        refused += why is not None
        if edge is None:
            continue
        if edge.reason == CONTAINED:
            contained, container = (spoke, hub) if edge.a == spoke.label else (hub, spoke)
            out.contained.append((edge.a, container_choice(edge, contained, container)))
        else:
            out.edges.append(edge)
    return out._replace(candidates=candidates, refused_share=refused)


def container_choice(edge: Edge, contained: StorySketch, container: StorySketch) -> ContainerChoice:
    # the first value of each head (packed: its first 4 bytes)
    return ContainerChoice(edge, contained.head[:4] == container.head[:4], container.tier, container.length)


def best_container(choices: Iterable[ContainerChoice]) -> Edge:
    """Of the "contained" edges of one contained story, the one kept.

    One container per story: a short text found inside several unrelated stories (a shared
    paragraph, two teasers a splitter ran together) must not glue them into one cluster.
    Preferred: a container that opens like the story (a lede is the start of its article),
    then the highest containment, then a complete article, then the smallest such container
    (the tightest fit: a story that runs two articles together is the larger one), then the
    smallest label.
    """
    return min(choices, key=container_preference).edge


def container_preference(choice: ContainerChoice) -> tuple:
    """Sort key of a contained story's container choices: the first is kept (`best_container`)."""
    return (
        not choice.same_opening,
        -choice.edge.similarity,
        choice.container_tier,
        choice.container_length,
        choice.edge.b,
    )


def keep_best_choices(
    best: dict[str, ContainerChoice], contained: Iterable[tuple[str, ContainerChoice]]
) -> int:
    """Fold (contained label, choice) pairs into `best`, the choice `best_container` keeps of
    each story's so far; returns how many choices were set aside.

    Keeping the best is associative: choices folded where they are found (all of a shard's) and
    merged again later give what `best_container` gives of all of them at once.
    """
    pruned = 0
    for label, choice in contained:
        held = best.get(label)
        if held is None:
            best[label] = choice
            continue
        pruned += 1
        if container_preference(choice) < container_preference(held):
            best[label] = choice
    return pruned


# ------------------------------------------------------------------ connected components

# Components are computed in Beam by alternating large-star and small-star rounds
# (Kiveris, Lattanzi, Mirrokni, Rastogi, Vassilvitskii: "Connected Components in MapReduce and
# Beyond", SoCC 2014): every node's neighbourhood is rewired to its smallest member, which
# keeps the components and ends with a star around each component's smallest node. Each step
# groups edges by node (never all edges in one place).


def large_star(node: str, neighbours: Iterable[str]) -> list[tuple[str, str]]:
    """Large-star step of a node: every larger neighbour is linked to the smallest of the node
    and its neighbours."""
    ns = set(neighbours)
    m = min(ns | {node})
    return [(v, m) for v in sorted(ns) if v > node]


def small_star(node: str, smaller: Iterable[str]) -> list[tuple[str, str]]:
    """Small-star step of a node given its smaller neighbours: the node and those neighbours
    are linked to the smallest of them."""
    ns = set(smaller) | {node}
    m = min(ns)
    return [(v, m) for v in sorted(ns) if v != m]


def star_parent(node: str, neighbours: Iterable[str]) -> tuple[str, bool]:
    """(provisional root, converged?) of a node after the rounds.

    Converged means every node with a smaller neighbour has exactly one neighbour: then each
    component is a star around its smallest node, and the root of a leaf is its neighbour.
    """
    ns = set(neighbours)
    smaller = [v for v in ns if v < node]
    if not smaller:
        return node, True
    if len(ns) == 1:
        return smaller[0], True
    return node, False


def copy_roots(
    leader: str, copies: Iterable[str], leader_roots: Iterable[str]
) -> list[tuple[str, str, str | None]]:
    """(label, root, leader) of an exact-copy group's members: a copy's root is its leader's
    (the leader's own row, with leader None, only when it has no other edge).

    `leader_roots` holds the leader's root from the connected components of the other edges
    (empty when the leader has no other edge: then it is its own root, given here). A copy
    never has another edge (candidates only ever pair the best-ranked copy of a text) and
    ranks after its leader, so leaving the copies out of the rounds changes no root.
    """
    copies = sorted(set(copies))
    if not copies:  # a node of the other edges only: its root is there already
        return []
    found = list(leader_roots)
    root = found[0] if found else leader
    return ([] if found else [(leader, leader, None)]) + [(copy, root, leader) for copy in copies]


def _find(parent: dict[str, str], node: str) -> str:
    root = node
    while parent[root] != root:
        root = parent[root]
    while parent[node] != root:  # path compression
        parent[node], node = root, parent[node]
    return root


def union(parent: dict[str, str], a: str, b: str) -> None:
    """Union of a's and b's sets; the root is always the smallest node (order-independent)."""
    parent.setdefault(a, a)
    parent.setdefault(b, b)
    ra, rb = _find(parent, a), _find(parent, b)
    if ra != rb:
        if rb < ra:
            ra, rb = rb, ra
        parent[rb] = ra


def connected_components(edges: Iterable[tuple[str, str]]) -> dict[str, str]:
    """node -> root (smallest node of its component), for every node of an edge (union-find).

    The reference the Beam rounds are tested against, and what finishes the components not
    converged after `cc_rounds` (on their remaining edges only).
    """
    parent: dict[str, str] = {}
    for a, b in edges:
        union(parent, a, b)
    return {node: _find(parent, node) for node in parent}


def rounds_components(edges: Iterable[tuple[str, str]], rounds: int) -> tuple[dict[str, str], int]:
    """The Beam algorithm run in memory: node -> root, and how many edges needed the fallback."""
    current = {tuple(sorted(e)) for e in edges if e[0] != e[1]}
    for _ in range(rounds):
        current = set(_star_step(current, large=True))
        current = set(_star_step(current, large=False))
    adjacency: dict[str, set[str]] = defaultdict(set)
    for a, b in current:
        adjacency[a].add(b)
        adjacency[b].add(a)
    provisional, remnant = {}, []
    for node, ns in adjacency.items():
        parent, ok = star_parent(node, ns)
        provisional[node] = parent
        if not ok:
            remnant.extend((node, v) for v in ns)
    fallback = connected_components(remnant)
    return {n: fallback.get(p, p) for n, p in provisional.items()}, len(remnant)


def _star_step(edges: Iterable[tuple[str, str]], large: bool) -> Iterable[tuple[str, str]]:
    groups: dict[str, set[str]] = defaultdict(set)
    for a, b in edges:
        hi, lo = max(a, b), min(a, b)
        groups[hi].add(lo)
        if large:
            groups[lo].add(hi)
    for node, ns in groups.items():
        yield from (large_star(node, ns) if large else small_star(node, ns))


def resolved_outputs(
    edges: Sequence[Edge], best: dict[str, ContainerChoice]
) -> tuple[list[Edge], dict[str, str]]:
    """All the edges of a run that one shard verified alone, and their components.

    The exact and near `edges`, then each contained story's one container (`best`: its best
    choice, as BestContainer would keep it); node -> root (the smallest node of its component,
    what ConnectClusters gives) for every node of them.
    """
    connected = [*edges, *(best[contained].edge for contained in sorted(best))]
    return connected, connected_components((e.a, e.b) for e in connected)


# ------------------------------------------------------------------ decisions


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


class Assignment(NamedTuple):
    """A today's story's place in its cluster: the kept story's label (None: kept) and cluster."""

    representative: str | None
    cluster: str
    against_previous: bool  # dropped as a copy of an earlier run's story
    # today's stories in the component, on one of them (the kept one, if any); 0 on the others
    component_size: int = 0


def fuller(today: str, previous: str, threshold: float) -> bool:
    """Whether today's best story of a cluster is a fuller version of an earlier run's story
    (so it is kept too): a better kind and longer, or the same kind and longer than any
    near copy can be (a Jaccard >= threshold bounds the length ratio by 1/threshold)."""
    t_tier, t_len = label_tier_length(today)
    p_tier, p_len = label_tier_length(previous)
    if t_tier < p_tier:
        return t_len > p_len
    return t_tier == p_tier and t_len * threshold > p_len


def kept_story(today: Sequence[str], leader_of: Mapping[str, str | None]) -> str:
    """The story a component of today's stories keeps: the best tier (untruncated article, then
    article, then teaser), then the text the most pages carry (the largest group of exact copies),
    then the longest, then the smallest label (a total order).

    Longest alone let a story that is two articles run together (a split the splitter missed on
    one page) win over forty correct copies of one of them, and the whole cluster pointed at it.
    `leader_of`: an exact copy's leader (None for the others); a group is counted by its leader.
    """
    copies = Counter(leader_of.get(m) or m for m in today)

    def order(label: str) -> tuple[int, int, int, str]:
        tier, length = label_tier_length(label)
        return (tier, -copies[leader_of.get(label) or label], -length, label)

    return min(today, key=order)


def assign_component(
    root: str,
    members: Iterable[str],
    previous_cluster: str | None,
    threshold: float,
    leader_of: Mapping[str, str | None] | None = None,
) -> list[tuple[str, Assignment]]:
    """(label, assignment) for today's members of one component (root = its smallest label).

    Without earlier-run stories the component keeps kept_story (by `leader_of`, an exact copy's
    leader; without it, the root) and its cluster is named after the root. With them the root is
    the best earlier story: today's members are copies of it (dropped, in its cluster) unless
    today's best member is a fuller version, which is then kept in that cluster; today's
    other fuller versions point to it, the rest (no fuller than the earlier story) to the
    earlier story.
    """
    today = sorted(m for m in set(members) | {root} if not label_is_previous(m))
    if not today:
        return []
    if not label_is_previous(root):
        kept = root if leader_of is None else kept_story(today, leader_of)
        cid, against = cluster_id(label_id(root)), set()
    else:
        cid = previous_cluster or cluster_id(label_id(root))
        kept = today[0] if fuller(today[0], root, threshold) else None
        # today's copies that add nothing to the earlier story point to it
        against = {m for m in today if m != kept and not (kept and fuller(m, root, threshold))}
    out = []
    for m in today:
        if m == kept:
            assignment = Assignment(None, cid, False)
        elif m in against:
            assignment = Assignment(root, cid, True)
        else:
            assignment = Assignment(kept, cid, False)
        if m == (kept or today[0]):
            assignment = assignment._replace(component_size=len(today))
        out.append((m, assignment))
    return out


_REASON_ORDER = {EXACT: 0, NEAR: 1, CONTAINED: 2}


def edge_preference(node: str, edge: Edge) -> tuple:
    """Sort key of a node's edges for its reason: exact > near > contained (as the contained
    side first), then the highest similarity, then the labels."""
    as_container = edge.reason == CONTAINED and edge.b == node
    return (_REASON_ORDER[edge.reason], as_container, -edge.similarity, edge.a, edge.b)


def best_edge(node: str, edges: Iterable[Edge]) -> Edge:
    """The strongest edge of `node` (see `edge_preference`)."""
    return min((e for e in edges if node in (e.a, e.b)), key=lambda e: edge_preference(node, e))


def explaining_edge(node: str, representative: str, edges: Iterable[Edge]) -> Edge | None:
    """The edge that explains a dropped story: its verified relation to the kept story when the
    two were compared, else its strongest relation to another member (a teaser of an edited
    copy, say); None without edges."""
    edges = [e for e in edges if node in (e.a, e.b)]
    if not edges:
        return None
    direct = [e for e in edges if representative in (e.a, e.b)]
    return best_edge(node, direct or edges)


def make_decision(label: str, assignment: Assignment, edge: Edge | None) -> Decision:
    if assignment.representative is None:
        return Decision(label_id(label), assignment.cluster)
    if edge is None:  # cannot happen: every node of a component has an edge
        raise ValueError(f"no verified edge for dropped story {label_id(label)}")
    return Decision(
        label_id(label), assignment.cluster, label_id(assignment.representative), edge.reason, edge.similarity
    )


def apply_decision(story: Story, decision: Decision) -> Story:
    """The story with its dedup fields set (a new record; the input is never mutated)."""
    return replace(
        story,
        cluster=decision.cluster,
        duplicate_of=decision.duplicate_of,
        dedup_reason=decision.reason,
        similarity=decision.similarity,
    )


def article_opening(story: Story, n: int) -> Iterable[tuple[str, str]]:
    """(id, opening_words) of an article (what a teaser dropped for it is re-cut by)."""
    if story.kind == ARTICLE:
        opening = opening_words(story.text, n)
        if opening is not None:
            yield story.id, opening


def singleton_decision(story_id: str) -> Decision:
    return Decision(story_id, cluster_id(story_id))


def decision_row(label: str, assignment: Assignment, edge: Edge | None) -> tuple[str, tuple]:
    """(label, decision as a plain tuple): a few dozen bytes in the side input, not a pickled
    dataclass."""
    d = make_decision(label, assignment, edge)
    return label, (d.id, d.cluster, d.duplicate_of, d.reason, d.similarity, assignment.component_size)


def reason_edge(
    label: str, assignment: Assignment, leader: str | None, edges_of: Callable[[str], Iterable[Edge]]
) -> Edge | None:
    """The edge a decision gives as its reason: an exact copy's to its leader, a dropped story's
    `explaining_edge` among its verified edges (`edges_of(label)`, read only then), none for a
    kept story."""
    if leader is not None:
        return Edge(leader, label, EXACT, 1.0)
    if assignment.representative is None:
        return None
    return explaining_edge(label, assignment.representative, edges_of(label))


def decide_component(
    root: str,
    members: Iterable[tuple[str, str | None]],
    previous_cluster: str | None,
    threshold: float,
    edges_of: Callable[[str], Iterable[Edge]],
) -> list[tuple[str, Assignment, Edge | None]]:
    """(label, assignment, the edge that explains it) of today's members of one component, from
    its (member, leader if an exact copy) pairs: an exact copy is explained by the exact edge to
    its leader, a dropped story by `explaining_edge` of its verified edges (`edges_of`), a kept
    one by none. What ChooseRepresentatives gives, one component at a time."""
    leader_of = dict(members)
    assigned = assign_component(root, leader_of.keys(), previous_cluster, threshold, leader_of)
    return [
        (label, assignment, reason_edge(label, assignment, leader_of.get(label), edges_of))
        for label, assignment in assigned
    ]


def decide_all(
    edges: Sequence[Edge],
    roots: Mapping[str, str],
    exact: Iterable[Edge],
    previous_cluster: Callable[[str], str | None],
    threshold: float,
) -> Iterator[tuple[str, Assignment, Edge | None]]:
    """`decide_component` of every component, when one place holds all the verified `edges`,
    their `roots` (node -> root) and the `exact` edges (leader -> copy): what AddExactCopies and
    ChooseRepresentatives give, without their shuffles (the only shard of a run, see
    _ShardCandidatesFn). previous_cluster: an earlier run's root's cluster."""
    copies_of: dict[str, list[str]] = defaultdict(list)
    for e in exact:
        copies_of[e.a].append(e.b)
    rows = [(label, root, None) for label, root in roots.items()]
    for leader, copies in copies_of.items():
        rows += copy_roots(leader, copies, [roots[leader]] if leader in roots else [])
    members_of: dict[str, list[tuple[str, str | None]]] = defaultdict(list)
    for label, root, leader in rows:
        members_of[root].append((label, leader))
    edges_of: dict[str, list[Edge]] = defaultdict(list)
    for e in edges:
        edges_of[e.a].append(e)
        edges_of[e.b].append(e)
    for root in sorted(members_of):
        cluster = previous_cluster(root) if label_is_previous(root) else None
        yield from decide_component(root, members_of[root], cluster, threshold, edges_of.__getitem__)


# ------------------------------------------------------------------ signatures on disk


def _slim(sketch: StorySketch | TextSketch, config: DedupConfig) -> bool:
    """Whether verification needs neither the signature nor the containment sample: exact
    verification, where the shingle set answers, unless earlier runs' sketches (which may have
    been written without sets, by an estimate run) are compared too."""
    return config.verify == "exact" and bool(sketch.shingle_set) and not config.against


def for_verification(sketch: StorySketch, config: DedupConfig) -> StorySketch:
    """The sketch as the verification side input holds it (see `_slim`)."""
    return replace(sketch, signature=b"", sample=b"") if _slim(sketch, config) else sketch


_PACK_HEADER = struct.Struct("<BBIIHHHIIII")


class PackedBody(NamedTuple):
    """A packed sketch after its id (text hash, cluster, arrays) and their sizes, as the header
    records them: for today's stories it depends on the text only (shared by exact copies)."""

    sizes: tuple[int, ...]
    data: bytes


def pack_body(text_hash: str, cluster: str | None, arrays: Sequence[bytes]) -> PackedBody:
    parts = [text_hash.encode("utf-8"), (cluster or "").encode("utf-8"), *arrays]
    return PackedBody(tuple(map(len, parts)), b"".join(parts))


def pack_with_body(
    story_id: str, rank: tuple[int, int, str], num_shingles: int, body: PackedBody, flags: int = 0
) -> bytes:
    """header + id + body: the layout `unpack_sketch` reads (flags: 1 previous, 2 has a cluster)."""
    id_bytes = story_id.encode("utf-8")
    header = _PACK_HEADER.pack(flags, rank[0], -rank[1], num_shingles, len(id_bytes), *body.sizes)
    return b"".join((header, id_bytes, body.data))


def pack_sketch(sketch: StorySketch) -> bytes:
    """A sketch as one compact bytes value (what the verification side input holds)."""
    arrays = (sketch.signature, sketch.sample, sketch.head, sketch.shingle_set)
    flags = int(sketch.previous) | (2 if sketch.cluster is not None else 0)
    body = pack_body(sketch.text_hash, sketch.cluster, arrays)
    return pack_with_body(sketch.id, sketch.rank, sketch.num_shingles, body, flags)


def unpack_sketch(blob: bytes) -> StorySketch:
    """The sketch `pack_sketch` packed."""
    flags, tier, length, num_shingles, *sizes = _PACK_HEADER.unpack_from(blob)
    parts, at = [], _PACK_HEADER.size
    for size in sizes:
        parts.append(bytes(blob[at : at + size]))
        at += size
    story_id, hashed, cluster = (x.decode("utf-8") for x in parts[:3])
    return StorySketch(
        id=story_id,
        rank=(tier, -length, story_id),
        text_hash=hashed,
        num_shingles=num_shingles,
        signature=parts[3],
        sample=parts[4],
        head=parts[5],
        shingle_set=parts[6],
        previous=bool(flags & 1),
        cluster=cluster if flags & 2 else None,
    )


def signature_params(config: DedupConfig) -> dict:
    """What must match between runs for signatures to be comparable (the shingle hash and the
    MinHash engine with its algorithm version included)."""
    return {
        "shingle_hash": SHINGLE_HASH,
        "minhash": minhash_id(config.minhash_engine),
        "num_perm": config.num_perm,
        "seed": config.seed,
        "shingle_size": config.shingle_size,
        "sample_modulus": config.sample_modulus,
        "anchor_shingles": config.anchor_shingles,
        "head_shingles": config.head_shingles,
    }


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def signature_record(sketch: StorySketch, cluster: str) -> dict:
    """The JSON record of a kept story's sketch in DIR/signatures/ (read back by `against`)."""
    return {
        "id": sketch.id,
        "cluster": cluster,
        "rank": [sketch.tier, sketch.length],
        "text_hash": sketch.text_hash,
        "num_shingles": sketch.num_shingles,
        "minhash": _b64(sketch.signature),
        "sample": _b64(sketch.sample),
        "head": _b64(sketch.head),
        "shingles": _b64(sketch.shingle_set) if sketch.shingle_set else None,
    }


def signature_line(sketch: StorySketch, cluster: str, config: DedupConfig) -> str:
    return canonical_json({**signature_record(sketch, cluster), "params": signature_params(config)})


def sketch_from_signature(line: str, config: DedupConfig) -> StorySketch:
    """An earlier run's kept story as a "previous" sketch; raises ValueError when the
    signature was made with other MinHash/shingle parameters."""
    record = json.loads(line)
    params = record.get("params")
    if params != signature_params(config):
        raise ValueError(
            f"signature of {record.get('id')} was made with {params}, this run uses "
            f"{signature_params(config)}: --against needs the same --num-perm/--shingle-size/"
            "--minhash-engine (and a storysift that hashes shingles the same way)"
        )
    tier, length = record["rank"]
    return StorySketch(
        id=record["id"],
        rank=(int(tier), -int(length), record["id"]),
        text_hash=record["text_hash"],
        num_shingles=int(record["num_shingles"]),
        signature=base64.b64decode(record["minhash"]),
        sample=base64.b64decode(record["sample"]),
        head=base64.b64decode(record["head"]),
        shingle_set=base64.b64decode(record["shingles"]) if record.get("shingles") else b"",
        previous=True,
        cluster=record["cluster"],
    )


def check_against(previous: str, output: str, config: DedupConfig) -> None:
    """Raise ValueError unless `previous` is an earlier storysift output whose signatures this
    run can compare with (the same MinHash and shingle parameters), other than `output`."""
    from apache_beam.io.filesystems import FileSystems

    if previous.rstrip("/") == output.rstrip("/"):
        raise ValueError(f"--against {previous} is the --output itself; give the previous run's output")
    pattern = FileSystems.join(previous, SIGNATURES, SIGNATURE_GLOB)
    try:
        files = sorted(m.path for m in FileSystems.match([pattern])[0].metadata_list)
    except Exception:  # noqa: BLE001 - an unreachable or missing folder is reported the same way
        files = []
    if not files:
        raise ValueError(f"--against {previous}: no {SIGNATURES}/ found (is it a storysift output?)")
    for path in files:
        with FileSystems.open(path) as fh:  # decompressed by its .gz suffix
            line = fh.readline().decode("utf-8")
        if line.strip():
            sketch_from_signature(line, config)
            return


def signature_shard(record_id: str, shards: int) -> int:
    from transforms.write_corpus import shard_of

    return shard_of(record_id, shards)


# ---------------------------------------------------------------------------------------------
# The Beam stage. Everything above is plain Python; Beam is only needed from here on.
# ---------------------------------------------------------------------------------------------

import apache_beam as beam  # noqa: E402
from apache_beam.io.filesystems import FileSystems  # noqa: E402

from transforms import counters  # noqa: E402
from transforms.deck_split import MAX_DECK_WORDS  # noqa: E402
from transforms.parse_teasers import resplit_teaser  # noqa: E402

EXACT_ROWS = "exact"


def text_key_of(text_hash: str) -> str:
    """The short form of a text hash that bucket rows carry (64 bits: rows with the same key are
    exact copies to the candidate step)."""
    return text_hash[:16]


def _outputs(label: str, hashed: str, packed_keys: bytes, packed_sketch: Callable[[], bytes]):
    """What the rest of Deduplicate needs of a sketch: (label, text key, packed bucket keys,
    packed sketch) when it has keys (main output), and its text hash (EXACT_ROWS). No
    PCollection of whole sketches is ever kept."""
    if packed_keys:
        yield label, text_key_of(hashed), packed_keys, packed_sketch()
    yield beam.pvalue.TaggedOutput(EXACT_ROWS, (hashed, label))


def _pack_keys(keys: Sequence[int]) -> bytes:
    return np.asarray(keys, dtype="<u8").tobytes()


def _sketch_outputs(sketch: StorySketch, config: DedupConfig, bands: int, rows: int):
    """`_outputs` of a sketch (an earlier run's)."""
    keys = _pack_keys(candidate_keys(sketch, bands, rows, config))
    return _outputs(
        sketch.label, sketch.text_hash, keys, lambda: pack_sketch(for_verification(sketch, config))
    )


class TextRow(NamedTuple):
    """What a today's story's outputs hold that depends on its text alone (see `text_row`)."""

    text_hash: str
    num_shingles: int
    keys: bytes  # candidate_keys, packed
    body: PackedBody  # of the sketch for verification


def text_row(
    part: TextSketch, config: DedupConfig, bands: int, rows: int, band_keys: Sequence[int] | None = None
) -> TextRow:
    """The `TextRow` of a text from its `TextSketch` (with `_story_outputs`: `_sketch_outputs`;
    band_keys: see candidate_keys)."""
    arrays = (part.signature, part.sample, part.head, part.shingle_set)
    if _slim(part, config):
        arrays = (b"", b"", part.head, part.shingle_set)
    keys = _pack_keys(candidate_keys(part, bands, rows, config, band_keys))
    return TextRow(part.text_hash, part.num_shingles, keys, pack_body(part.text_hash, None, arrays))


def text_rows(parts: Sequence[TextSketch], config: DedupConfig, bands: int, rows: int) -> list[TextRow]:
    """`text_row` of each of a batch's sketches, their band keys worked out for all at once."""
    signed = [i for i, part in enumerate(parts) if part.num_shingles]
    band_keys: list[list[int] | None] = [None] * len(parts)
    found = band_key_array([parts[i].signature for i in signed], bands, rows).tolist()
    for i, row in zip(signed, found, strict=True):
        band_keys[i] = row
    return [text_row(part, config, bands, rows, keys) for part, keys in zip(parts, band_keys, strict=True)]


def _story_outputs(story: Story, row: TextRow, with_sketch: bool = True):
    """`_outputs` of a today's story, from its text's row: the same as `_sketch_outputs` of its
    sketch (without the packed sketch when another copy's row carries it)."""
    rank = representative_key(story)
    return _outputs(
        node_label(rank),
        row.text_hash,
        row.keys,
        lambda: pack_with_body(story.id, rank, row.num_shingles, row.body) if with_sketch else b"",
    )


# Stories are sketched in batches of about this many characters (a larger story alone): the
# hashing and the MinHash run once per batch (numpy, one native call), not once per story.
SKETCH_BATCH_CHARS = 500_000


def _story_chars(story: Story) -> int:
    return len(story.text) + 1


def _kept_chars(kept: tuple[Story, str]) -> int:
    return len(kept[0].text) + 1


def _story_batches(chars=_story_chars) -> beam.PTransform:
    """Elements -> lists of about SKETCH_BATCH_CHARS characters of story text (`chars` of each).
    A fixed target (no timing-based sizing), though no sketch depends on where a batch ends."""
    return beam.BatchElements(
        min_batch_size=SKETCH_BATCH_CHARS,
        max_batch_size=SKETCH_BATCH_CHARS,
        element_size_fn=chars,
        record_metrics=False,
    )


# What a worker remembers of the texts it sketched (`TextRow`s by text, about 3 bytes a
# character with the text: some 25 MB): an exact copy of a text seen recently (the same teaser
# on many pages) is neither hashed nor MinHashed again.
SKETCH_MEMO_CHARS = 8_000_000
# How many texts a bundle remembers having sent the packed sketch of (~100 bytes each); when
# full it forgets them all, and later copies carry their sketch again.
SENT_SKETCHES_MAX = 200_000


class _SketchFn(beam.DoFn):
    """[story] -> each story's bucket row; its exact row tagged.

    Within a bundle, only the first row of a text carries the packed sketch (1 KB; three in
    four stories are exact copies of another): the shard finds it by the text key
    (`sketch_key`). Remembered per bundle, not per worker: a failed bundle's rows are thrown
    away, and its retry sends its own."""

    def __init__(self, config: DedupConfig, bands: int, rows: int):
        self._config, self._bands, self._rows = config, bands, rows

    def setup(self):
        from transforms.gc_tuning import tune_for_batch

        tune_for_batch()  # see gc_tuning: this worker collects garbage less often, and not at exit
        self._minhasher = MinHasher(self._config.minhash_engine, self._config.num_perm, self._config.seed)
        self._memo: BoundedMemo[TextRow] = BoundedMemo(SKETCH_MEMO_CHARS)

    def start_bundle(self):
        self._sent: set[str] = set()

    def process(self, stories: list[Story]):
        text_rows = per_distinct_text([s.text for s in stories], self._text_rows, self._memo)
        for story, row in zip(stories, text_rows, strict=True):
            key = text_key_of(row.text_hash)
            with_sketch = key not in self._sent
            if with_sketch:
                if len(self._sent) >= SENT_SKETCHES_MAX:
                    self._sent.clear()
                self._sent.add(key)
            yield from _story_outputs(story, row, with_sketch)

    def _text_rows(self, texts: list[str]) -> list[TextRow]:
        parts = text_sketches(texts, self._config, self._minhasher)
        return text_rows(parts, self._config, self._bands, self._rows)


class _PreviousOutputsFn(beam.DoFn):
    """an earlier run's sketch -> the same outputs as _SketchFn."""

    def __init__(self, config: DedupConfig, bands: int, rows: int):
        self._config, self._bands, self._rows = config, bands, rows

    def process(self, sketch: StorySketch):
        yield from _sketch_outputs(sketch, self._config, self._bands, self._rows)


class _ReadSignatureFn(beam.DoFn):
    def __init__(self, config: DedupConfig):
        self._config = config
        self._read = counters.counter(counters.PREVIOUS_SIGNATURES)

    def process(self, line: str):
        if line.strip():
            self._read.inc()
            yield sketch_from_signature(line, self._config)


class _ExactGroupFn(beam.DoFn):
    """(text_hash, labels) -> exact edges from the best-ranked copy to the others."""

    def process(self, element):
        _, labels = element
        members = sorted(set(labels))
        leader = members[0]
        for other in members[1:]:
            if not (label_is_previous(leader) and label_is_previous(other)):
                yield Edge(leader, other, EXACT, 1.0)


class _ShardRowsFn(beam.DoFn):
    """bucket row -> (shard, row) rows, the shard count from the row count; with more than one
    shard, (sketch_key, packed sketch) of a row that carries one tagged for the keyed side input."""

    STORE = "store"

    def __init__(self, config: DedupConfig):
        self._config = config

    def process(self, row: tuple[str, str, bytes, bytes], total: int):
        label, text_key, packed_keys, packed_sketch = row
        shards = num_shards(total, self._config.bucket_shard_stories)
        keys = np.frombuffer(packed_keys, dtype="<u8").tolist()
        yield from shard_rows(label, text_key, keys, shards, packed_sketch)
        if shards > 1 and packed_sketch:
            yield beam.pvalue.TaggedOutput(self.STORE, (sketch_key(label, text_key), packed_sketch))


class _VerifyCounters:
    """Counts what verification found; edges out, container choices folded into `best`."""

    def __init__(self):
        self._candidates = counters.counter(counters.CANDIDATE_PAIRS)
        self._verified = counters.counter(counters.VERIFIED_PAIRS)
        self._share = counters.counter(counters.SHARE_REFUSED)
        self._pruned = counters.counter(counters.PRUNED_CONTAINMENT_EDGES)

    def edges(self, verified: Verified, best: dict[str, ContainerChoice]) -> list[Edge]:
        self._candidates.inc(verified.candidates)
        self._verified.inc(len(verified.edges) + len(verified.contained))
        self._share.inc(verified.refused_share)
        self._pruned.inc(keep_best_choices(best, verified.contained))
        return verified.edges

    @staticmethod
    def choices(best: dict[str, ContainerChoice], tag: str):
        """The best choice of each contained story found, tagged (a plain tuple for the shuffle)."""
        for contained in sorted(best):
            choice = best[contained]
            yield beam.pvalue.TaggedOutput(tag, (contained, (tuple(choice.edge), *choice[1:])))


CONTAINED_CHOICES = "contained"
PAIRS = "pairs"
DECISIONS = "decisions"
ALONE = "alone"


class ShardVerified(NamedTuple):
    """What one key shard verified (`_ShardCandidatesFn.verify`)."""

    pairs: list  # ((spoke, its sketch_key), ((hub, its sketch_key), ...)) it lacked a sketch for
    edges: list[Edge]  # exact and near edges it verified
    best: dict[str, ContainerChoice]  # each contained story's best container choice found
    alone: bool  # the run's only shard, verifying every pair itself: it found every edge


class _ShardCandidatesFn(beam.DoFn):
    """(shard, rows) -> candidate pairs, counting oversized buckets. A single shard's rows carry
    the packed sketches (of each text at least once): its pairs are verified here. Then it holds
    every edge of the run, so it also connects them and, with the exact copies (a side input it
    reads only then), decides every story that has a duplicate: each (label, decision row) is
    tagged DECISIONS and one True tagged ALONE (the exact copies then skip AddExactCopies and
    ChooseRepresentatives, whose shuffles get nothing). Otherwise ((spoke, its sketch_key),
    ((hub, its sketch_key), ...)) are tagged PAIRS for `_VerifyFn`. (Edges out and each
    contained story's best container choice tagged, for ConnectClusters, only if a single shard
    ever lacked a sketch.)"""

    def __init__(self, config: DedupConfig):
        self._config = config
        self._oversized = counters.counter(counters.OVERSIZED_BUCKETS)
        self._previous = counters.counter(counters.PREVIOUS_DUPLICATES)

    def setup(self):
        self._counters = _VerifyCounters()

    def process(self, element, total: int, exact, previous_clusters):
        _, rows = element
        shard = self.verify(list(rows), total)
        for spoke, keyed_hubs in shard.pairs:
            yield beam.pvalue.TaggedOutput(PAIRS, (spoke, keyed_hubs))
        if not shard.alone:
            yield from shard.edges
            yield from self._counters.choices(shard.best, CONTAINED_CHOICES)
            return
        connected, roots = resolved_outputs(shard.edges, shard.best)
        yield beam.pvalue.TaggedOutput(ALONE, True)
        exact_edges = (Edge(*e) for e in exact)
        for label, assignment, edge in decide_all(
            connected, roots, exact_edges, functools.partial(_get, previous_clusters), self._config.threshold
        ):
            if assignment.against_previous:
                self._previous.inc()
            yield beam.pvalue.TaggedOutput(DECISIONS, decision_row(label, assignment, edge))

    def verify(self, rows: list[tuple[str, str, bytes, bytes]], total: int) -> ShardVerified:
        """The shard's candidate pairs, verified where it holds both sketches (`ShardVerified`)."""
        found, oversized = shard_candidates(rows, self._config.max_bucket_size, self._config.bucket_hubs)
        self._oversized.inc(oversized)
        key_of = {label: sketch_key(label, text_key) for label, text_key, _, _ in rows}
        # copies of a text may each carry its sketch (one per bundle): any of them will do
        packed = {key_of[label]: blob for label, _, _, blob in rows if blob}
        # a hub is checked against many spokes: each sketch is unpacked once (at most one per row)
        unpacked: dict[str, StorySketch] = {}

        def sketch(label: str) -> StorySketch:
            found = unpacked.get(label)
            if found is None:
                found = unpacked[label] = sketch_as(unpack_sketch(packed[key_of[label]]), label)
            return found

        # The only shard, verifying every pair itself: no other step finds an edge.
        alone = num_shards(total, self._config.bucket_shard_stories) == 1 and all(
            key_of[spoke] in packed for spoke in found
        )
        # A contained story keeps one container (see best_container): a shard holds all the
        # choices of its pairs, so only each story's best so far leaves it (BestContainer merges
        # them across shards), not one element per contained pair.
        best: dict[str, ContainerChoice] = {}
        edges: list[Edge] = []
        pairs: list[tuple[tuple[str, str], tuple[tuple[str, str], ...]]] = []
        spokes: list[StorySketch] = []
        hub_lists: list[list[StorySketch]] = []
        for spoke in sorted(found):
            hubs = sorted(found[spoke])
            if key_of[spoke] not in packed:
                pairs.append(((spoke, key_of[spoke]), tuple((hub, key_of[hub]) for hub in hubs)))
                continue
            spokes.append(sketch(spoke))
            hub_lists.append([sketch(hub) for hub in hubs])
        shared = shared_counts_many(spokes, hub_lists, self._config)
        for spoke_sketch, hubs_sketches, counts in zip(spokes, hub_lists, shared, strict=True):
            verified = verify_spoke(spoke_sketch, hubs_sketches, self._config, counts)
            edges.extend(self._counters.edges(verified, best))
        return ShardVerified(pairs, edges, best, alone)


def _keyed(pcoll, config: DedupConfig):
    """A keyed side input, read as `config.side_inputs` says (see `_get`). A key may repeat only
    with interchangeable values (copies of one text's sketch)."""
    return beam.pvalue.AsDict(pcoll) if config.side_inputs == "dict" else beam.pvalue.AsMultiMap(pcoll)


def _get(side_input, key: str):
    """The value of `key` in a keyed side input (AsDict or AsMultiMap), or None."""
    if isinstance(side_input, dict):
        return side_input.get(key)
    return next(iter(side_input[key]), None)


def _lookup(store, label: str, key: str) -> StorySketch:
    packed = _get(store, key)
    if packed is None:
        raise ValueError(f"no sketch for node {label}")
    return sketch_as(unpack_sketch(packed), label)


# Unpacked sketches a `_VerifyFn` keeps (about 2 KB each with exact verification: ~40 MB).
VERIFY_MEMO_SKETCHES = 20_000


class _VerifyFn(beam.DoFn):
    """((spoke, key), [hub lists]) -> verified edges; the best container choice of each story
    contained in these pairs tagged (sketches: a keyed side input, by sketch_key)."""

    def __init__(self, config: DedupConfig):
        self._config = config

    def setup(self):
        self._counters = _VerifyCounters()
        # A hub is checked against many spokes (and a spoke is another's hub): each node's sketch
        # is looked up and unpacked once per worker while it is among the last VERIFY_MEMO_SKETCHES
        # used, not once per pair. A pure memo: the store is the same for every bundle.
        self._sketches: BoundedMemo[StorySketch] = BoundedMemo(VERIFY_MEMO_SKETCHES)

    def _sketch(self, store, label: str, key: str) -> StorySketch:
        return self._sketches.get(label, 1, lambda: _lookup(store, label, key))

    def process(self, element, store):
        (spoke, spoke_key), hub_lists = element
        hubs = sorted({h for hubs in hub_lists for h in hubs})
        sketches = [self._sketch(store, hub, key) for hub, key in hubs]
        verified = verify_spoke(self._sketch(store, spoke, spoke_key), sketches, self._config)
        best: dict[str, ContainerChoice] = {}
        yield from self._counters.edges(verified, best)
        yield from self._counters.choices(best, CONTAINED_CHOICES)


class _BestContainerFn(beam.DoFn):
    def __init__(self):
        self._pruned = counters.counter(counters.PRUNED_CONTAINMENT_EDGES)

    def process(self, element):
        _, choices = element
        choices = [ContainerChoice(Edge(*c[0]), *c[1:]) for c in choices]
        if len(choices) > 1:
            self._pruned.inc(len(choices) - 1)
        yield best_container(choices)


class _LargeStarFn(beam.DoFn):
    def process(self, element):
        node, neighbours = element
        yield from large_star(node, neighbours)


class _SmallStarFn(beam.DoFn):
    def process(self, element):
        node, smaller = element
        yield from small_star(node, smaller)


class _StarCheckFn(beam.DoFn):
    """(node, neighbours) -> (node, provisional root); edges of unconverged nodes tagged."""

    UNCONVERGED = "unconverged"

    def __init__(self):
        self._fallback = counters.counter(counters.CC_FALLBACK_EDGES)

    def process(self, element):
        node, neighbours = element
        ns = sorted(set(neighbours))
        parent, converged = star_parent(node, ns)
        yield node, parent
        if not converged:
            self._fallback.inc(len(ns))
            for v in ns:
                yield beam.pvalue.TaggedOutput(self.UNCONVERGED, (node, v))


class _UnionFindFn(beam.CombineFn):
    """CombineGlobally of (a, b) edges into {node: root}; root = the smallest node."""

    def create_accumulator(self) -> dict[str, str]:
        return {}

    def add_input(self, parent: dict[str, str], edge: tuple[str, str]) -> dict[str, str]:
        union(parent, edge[0], edge[1])
        return parent

    def merge_accumulators(self, accumulators: Iterable[dict[str, str]]) -> dict[str, str]:
        merged: dict[str, str] = {}
        for other in accumulators:
            for node, parent in other.items():
                union(merged, node, parent)
        return merged

    def extract_output(self, parent: dict[str, str]) -> dict[str, str]:
        return {node: _find(parent, node) for node in parent}


class _AssignFn(beam.DoFn):
    """(root, [(member label, its leader if an exact copy)]) -> (label, assignment) for today's
    members of the component; an exact copy's decision tagged COPIES (its one edge is the
    exact one to its leader: no join with the edges needed)."""

    COPIES = "copies"

    def __init__(self, config: DedupConfig):
        self._config = config
        self._previous = counters.counter(counters.PREVIOUS_DUPLICATES)

    def process(self, element, clusters):
        root, members = element
        leader_of = dict(members)
        previous_cluster = _get(clusters, root) if label_is_previous(root) else None
        assigned = assign_component(
            root, leader_of.keys(), previous_cluster, self._config.threshold, leader_of
        )
        for label, assignment in assigned:
            if assignment.against_previous:
                self._previous.inc()
            leader = leader_of.get(label)
            if leader is None:
                yield label, assignment
            else:
                edge = reason_edge(label, assignment, leader, lambda _: ())
                yield beam.pvalue.TaggedOutput(self.COPIES, decision_row(label, assignment, edge))


class _DecideFn(beam.DoFn):
    """(label, {assignment: [a], edges: [its verified edges]}) -> (label, Decision)."""

    def process(self, element):
        label, joined = element
        assignments = list(joined["assignment"])
        if not assignments:  # an earlier run's story: nothing to decide
            return
        assignment = Assignment(*assignments[0])
        edge = reason_edge(label, assignment, None, lambda _: (Edge(*e) for e in joined["edges"]))
        yield decision_row(label, assignment, edge)


class _ApplyFn(beam.DoFn):
    """story -> the story with its dedup fields (decisions: a keyed side input); with a
    signatures_dir, (story, cluster) of each kept story tagged, for `_SignatureLinesFn`: its
    sketch is recomputed, which costs less than keeping every sketch until the decisions are
    known."""

    SIGNATURES = "signatures"

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
        self._reseamed = counters.counter(counters.RESEAMED_TEASERS)

    def process(self, story: Story, decisions, openings):
        found = _get(decisions, story_label(story))
        if found is not None:
            *fields_, size = found
            decision = Decision(*fields_)
        else:
            decision, size = singleton_decision(story.id), 1
        if size:  # one story per cluster records its size (one step: runners merge it alike)
            self._sizes.update(size)
        if decision.duplicate_of is None:
            self._kept.inc()
            if self._config.signatures_dir is not None:
                yield beam.pvalue.TaggedOutput(self.SIGNATURES, (story, decision.cluster))
        else:
            self._dropped.inc()
            self._by_reason[decision.reason].inc()
            story = self._reseamed_teaser(story, decision.duplicate_of, openings)
        yield apply_decision(story, decision)

    def _reseamed_teaser(self, story: Story, kept_id: str, openings) -> Story:
        """A kicker teaser dropped for an article: its deck re-cut where the article begins."""
        if story.kicker is None:
            return story
        opening = _get(openings, kept_id)
        if opening is None:
            return story
        resplit = resplit_teaser(story, lambda rest: opening_offset(rest, opening, MAX_DECK_WORDS))
        if resplit is not story:
            self._reseamed.inc()
        return resplit


class _SignatureLinesFn(beam.DoFn):
    """[(kept story, cluster)] -> (id, signature line) of each (sketched in one batch)."""

    def __init__(self, config: DedupConfig):
        self._config = config

    def setup(self):
        from transforms.gc_tuning import tune_for_batch

        tune_for_batch()  # see gc_tuning: this worker collects garbage less often, and not at exit
        self._minhasher = MinHasher(self._config.minhash_engine, self._config.num_perm, self._config.seed)

    def process(self, batch: list[tuple[Story, str]]):
        sketches = compute_sketches([story for story, _ in batch], self._config, self._minhasher)
        for sketch, (_, cluster) in zip(sketches, batch, strict=True):
            yield sketch.id, signature_line(sketch, cluster, self._config)


class _WriteSignatureShardFn(beam.DoFn):
    """(shard, [(id, line)]) -> the shard file, lines sorted by id (byte-identical reruns)."""

    def __init__(self, config: DedupConfig):
        self._config = config
        self._written = counters.counter(counters.SIGNATURES_WRITTEN)

    def process(self, element):
        index, values = element
        yield self.write(index, [line for _, line in sorted(set(values))])

    def write(self, index: int, lines: list[str]) -> str:
        from transforms.write_corpus import encode_shard, shard_name, write_file_atomically

        name = shard_name(index, self._config.signatures_shards, "gzip")
        path = write_file_atomically(self._config.signatures_dir, name, encode_shard(lines, "gzip"))
        self._written.inc(len(lines))
        return path


class _WriteEmptySignatureShardsFn(_WriteSignatureShardFn):
    """None -> an empty file for each signature shard no line went to (written: the others' paths)."""

    def process(self, _, written: list[str]):
        from apache_beam.io.filesystems import FileSystems

        from transforms.write_corpus import unwritten_shards

        names = (FileSystems.split(path)[1] for path in written)
        for index in unwritten_shards(names, self._config.signatures_shards, "gzip"):
            yield self.write(index, [])


# ------------------------------------------------------------------ Beam: composite steps


class ComputeSignatures(beam.PTransform):
    """PCollection[Story] (plus earlier runs' sketches) -> {"rows": (label, text key, packed
    bucket keys, packed sketch), "exact": (text hash, label)}."""

    def __init__(self, config: DedupConfig, bands: int, rows: int, previous=None):
        super().__init__()
        self._config, self._bands, self._rows, self._previous = config, bands, rows, previous

    def expand(self, stories):
        args = (self._config, self._bands, self._rows)
        batches = stories | "Batch" >> _story_batches()
        parts = [batches | "Sketch" >> beam.ParDo(_SketchFn(*args)).with_outputs(EXACT_ROWS, main="rows")]
        if self._previous is not None:
            fn = _PreviousOutputsFn(*args)
            parts.append(
                self._previous | "PreviousSketch" >> beam.ParDo(fn).with_outputs(EXACT_ROWS, main="rows")
            )
        if len(parts) == 1:
            return {"rows": parts[0].rows, "exact": parts[0][EXACT_ROWS]}
        return {
            "rows": tuple(part.rows for part in parts) | "AllRows" >> beam.Flatten(),
            "exact": tuple(part[EXACT_ROWS] for part in parts) | "AllExact" >> beam.Flatten(),
        }


class ReadPreviousSignatures(beam.PTransform):
    """Pipeline root -> the sketches of the kept stories of earlier runs (`against`)."""

    def __init__(self, config: DedupConfig):
        super().__init__()
        self._config = config

    def expand(self, pbegin):
        reads = [
            pbegin | f"Read{i}" >> beam.io.ReadFromText(FileSystems.join(path, SIGNATURES, SIGNATURE_GLOB))
            for i, path in enumerate(self._config.against)
        ]
        lines = reads[0] if len(reads) == 1 else tuple(reads) | "AllPrevious" >> beam.Flatten()
        return (
            lines
            | "Parse" >> beam.ParDo(_ReadSignatureFn(self._config))
            # the same story carried forward by several runs counts once
            | "ByLabel" >> beam.Map(lambda s: (s.label, s))
            | "GroupByLabel" >> beam.GroupByKey()
            | "One" >> beam.Map(lambda kv: min(kv[1], key=lambda s: (s.cluster or "", s.text_hash)))
        )


class GroupExactCopies(beam.PTransform):
    """(text hash, label) rows -> exact edges: every copy of a text to its best-ranked copy."""

    def expand(self, rows):
        return rows | "GroupByTextHash" >> beam.GroupByKey() | "ExactEdges" >> beam.ParDo(_ExactGroupFn())


class GroupBands(beam.PTransform):
    """Bucket rows -> candidate pairs from shared LSH bands and openings, grouped in shards of
    about `bucket_shard_stories` stories (one row per story and shard).

    Returns {"decisions", "alone"}: the decision rows of a single shard that verified every pair
    itself, and one True when it did; {"pairs", "store"}: the candidates and packed sketches
    `VerifyPairs` checks when there are more shards (empty with one, and the other way round);
    {"edges", "contained"}: what a single shard verified but could not connect (only if it
    lacked a sketch). `exact` (GroupExactCopies' edges) and `previous_clusters` ((label, cluster)
    of earlier runs' stories) are side inputs of the single shard's decisions.
    """

    def __init__(self, config: DedupConfig, exact, previous_clusters):
        super().__init__()
        self._config = config
        self._exact = exact  # GroupExactCopies' edges, for a single shard
        self._previous_clusters = previous_clusters

    def expand(self, rows):
        total = rows | "CountRows" >> beam.combiners.Count.Globally()
        sharded = rows | "ShardRows" >> beam.ParDo(
            _ShardRowsFn(self._config), beam.pvalue.AsSingleton(total)
        ).with_outputs(_ShardRowsFn.STORE, main="rows")
        found = (
            sharded.rows
            | "GroupByShard" >> beam.GroupByKey()
            | "Candidates"
            >> beam.ParDo(
                _ShardCandidatesFn(self._config),
                beam.pvalue.AsSingleton(total),
                beam.pvalue.AsIter(self._exact),  # read by a single shard only
                _keyed(self._previous_clusters, self._config),
            ).with_outputs(CONTAINED_CHOICES, PAIRS, DECISIONS, ALONE, main="edges")
        )
        return {
            "edges": found.edges,
            "contained": found[CONTAINED_CHOICES],
            "pairs": found[PAIRS],
            "store": sharded[_ShardRowsFn.STORE],
            "decisions": found[DECISIONS],
            "alone": found[ALONE],
        }


class VerifyPairs(beam.PTransform):
    """GroupBands' output -> the verified edges whose components are still to be found (none
    when a single shard decided everything itself); one best container per contained story.

    Pairs from several shards are merged per spoke by one GroupByKey and checked against the
    packed sketches, a keyed side input (`sketch_key` -> sketch): no sketch is shuffled with its
    pairs.
    """

    def __init__(self, config: DedupConfig):
        super().__init__()
        self._config = config

    def expand(self, found):
        verified = (
            found["pairs"]
            | "GroupBySpoke" >> beam.GroupByKey()
            | "Verify"
            >> beam.ParDo(_VerifyFn(self._config), _keyed(found["store"], self._config)).with_outputs(
                CONTAINED_CHOICES, main="edges"
            )
        )
        contained = (
            (found["contained"], verified[CONTAINED_CHOICES])
            | "AllContained" >> beam.Flatten()
            | "GroupByContained" >> beam.GroupByKey()
            | "BestContainer" >> beam.ParDo(_BestContainerFn())
        )
        return (found["edges"], verified.edges, contained) | "AllUnconnected" >> beam.Flatten()


class ConnectClusters(beam.PTransform):
    """Edges -> (label, root label) for every node of an edge; root = the component's smallest.

    `rounds` large-star + small-star rounds, then a check: a node with a smaller neighbour
    and more than one neighbour has not converged; the edges of those nodes go to a union-find
    (counted as CC_FALLBACK_EDGES, normally zero), whose roots override the provisional ones.
    """

    def __init__(self, rounds: int):
        super().__init__()
        self._rounds = rounds

    def expand(self, edges):
        current = edges | "Pairs" >> beam.Map(lambda e: (e[0], e[1]))
        for r in range(self._rounds):
            current = (
                current
                | f"LargeStarKeys{r}" >> beam.FlatMap(lambda e: [(e[0], e[1]), (e[1], e[0])])
                | f"LargeStarGroup{r}" >> beam.GroupByKey()
                | f"LargeStar{r}" >> beam.ParDo(_LargeStarFn())
                | f"SmallStarKeys{r}" >> beam.Map(lambda e: (max(e), min(e)))
                | f"SmallStarGroup{r}" >> beam.GroupByKey()
                | f"SmallStar{r}" >> beam.ParDo(_SmallStarFn())
            )
        checked = (
            current
            | "CheckKeys" >> beam.FlatMap(lambda e: [(e[0], e[1]), (e[1], e[0])])
            | "CheckGroup" >> beam.GroupByKey()
            | "Check" >> beam.ParDo(_StarCheckFn()).with_outputs(_StarCheckFn.UNCONVERGED, main="parents")
        )
        fallback = checked[_StarCheckFn.UNCONVERGED] | "UnionFind" >> beam.CombineGlobally(_UnionFindFn())
        return checked.parents | "Roots" >> beam.Map(
            lambda kv, roots: (kv[0], roots.get(kv[1], kv[1])), beam.pvalue.AsSingleton(fallback)
        )


class AddExactCopies(beam.PTransform):
    """(exact edges, roots of the other edges) -> (label, root, leader) for every node of any
    edge; leader: the best-ranked copy of an exact copy's text, else None."""

    def expand(self, inputs):
        exact, roots = inputs
        copies = (
            {"copies": exact | "ByLeader" >> beam.Map(lambda e: (e[0], e[1])), "root": roots}
            | "JoinLeaders" >> beam.CoGroupByKey()
            | "CopyRoots" >> beam.FlatMap(lambda kv: copy_roots(kv[0], kv[1]["copies"], kv[1]["root"]))
        )
        linked = roots | "NoLeader" >> beam.Map(lambda kv: (kv[0], kv[1], None))
        return (linked, copies) | "AllRoots" >> beam.Flatten()


class ChooseRepresentatives(beam.PTransform):
    """(roots with leaders, verified edges, previous clusters) -> (label, Decision) for today's
    stories with a duplicate. Exact copies are decided with their component; only the others
    are joined with their verified edges (the edge that explains a drop)."""

    def __init__(self, config: DedupConfig):
        super().__init__()
        self._config = config

    def expand(self, inputs):
        roots, edges, previous_clusters = inputs
        assigned = (
            roots
            | "ByRoot" >> beam.Map(lambda row: (row[1], (row[0], row[2])))
            | "GroupByRoot" >> beam.GroupByKey()
            | "Assign"
            >> beam.ParDo(_AssignFn(self._config), _keyed(previous_clusters, self._config)).with_outputs(
                _AssignFn.COPIES, main="assignments"
            )
        )
        assignments = assigned.assignments | "PlainAssignment" >> beam.Map(lambda kv: (kv[0], tuple(kv[1])))
        by_node = edges | "EdgeEnds" >> beam.FlatMap(lambda e: [(e[0], tuple(e)), (e[1], tuple(e))])
        decided = (
            {"assignment": assignments, "edges": by_node}
            | "JoinEdges" >> beam.CoGroupByKey()
            | "Decide" >> beam.ParDo(_DecideFn())
        )
        return (assigned[_AssignFn.COPIES], decided) | "AllDecisions" >> beam.Flatten()


class WriteSignatures(beam.PTransform):
    """(id, signature line) -> DIR/signatures/part-NNNNN-of-NNNNN.jsonl.gz, every shard written."""

    def __init__(self, config: DedupConfig):
        super().__init__()
        self._config = config

    def expand(self, lines):
        n = self._config.signatures_shards
        keyed = lines | "KeyByShard" >> beam.Map(lambda kv: (signature_shard(kv[0], n), kv))
        written = (
            keyed
            | "GroupByShard" >> beam.GroupByKey()
            | "WriteShard" >> beam.ParDo(_WriteSignatureShardFn(self._config))
        )
        # Empty shards are written too (see write_corpus._WriteShards: no Flatten of the lines).
        empty = (
            lines.pipeline
            | "Once" >> beam.Create([None])
            | "EmptyShards"
            >> beam.ParDo(_WriteEmptySignatureShardsFn(self._config), beam.pvalue.AsList(written))
        )
        return (written, empty) | "Written" >> beam.Flatten()


class DedupResult(NamedTuple):
    """What Deduplicate gives; unpacks as `stories, duplicate_clusters = ... | Deduplicate()`."""

    stories: beam.PCollection  # of Story, each with its cluster, duplicate_of, reason, similarity
    # of str: the cluster of each dropped story, known before any story has its fields (the run
    # report samples clusters from it without another pass over the stories)
    duplicate_clusters: beam.PCollection


class Deduplicate(beam.PTransform):
    """PCollection[Story] -> DedupResult: the same stories with cluster, duplicate_of,
    dedup_reason, similarity, and the clusters of the dropped ones.

    With `config.against`, today's stories are also deduplicated against earlier runs' kept
    stories; with `config.signatures_dir`, the kept stories' signatures (and the earlier runs'
    ones, carried forward) are written there for the next run.
    """

    def __init__(self, config: DedupConfig = DedupConfig()):
        super().__init__()
        self._config = config
        self._bands, self._rows = lsh_params(config.threshold, config.num_perm)

    def expand(self, stories) -> DedupResult:
        config = self._config
        if config.against:
            previous = stories.pipeline | "ReadPreviousSignatures" >> ReadPreviousSignatures(config)
        else:
            previous = stories.pipeline | "NoPrevious" >> beam.Create([]).with_output_types(StorySketch)
        signed = stories | "ComputeSignatures" >> ComputeSignatures(
            config, self._bands, self._rows, previous if config.against else None
        )
        exact = signed["exact"] | "GroupExactCopies" >> GroupExactCopies()
        previous_clusters = previous | "PreviousClusters" >> beam.Map(lambda s: (s.label, s.cluster))
        candidates = signed["rows"] | "GroupBands" >> GroupBands(config, exact, previous_clusters)
        verified = candidates | "VerifyPairs" >> VerifyPairs(config)
        # Most edges are exact copies hanging off their best-ranked copy: only the others go
        # through the rounds of ConnectClusters; the copies take their leader's root after, and
        # are explained by that edge alone. A single shard decided every story itself (the
        # rounds and joins then get nothing: each costs a few stages of fixed overhead, whatever
        # it carries), so the exact copies go on only without one.
        rounds = verified | "ConnectClusters" >> ConnectClusters(config.cc_rounds)
        sharded_exact = exact | "ExactIfSharded" >> beam.FlatMap(
            lambda edge, alone: () if alone else (edge,),
            beam.pvalue.AsSingleton(candidates["alone"], default_value=False),
        )
        roots = (sharded_exact, rounds) | "AddExactCopies" >> AddExactCopies()
        chosen = (roots, verified, previous_clusters) | "ChooseRepresentatives" >> (
            ChooseRepresentatives(config)
        )
        decisions = (candidates["decisions"], chosen) | "AllDecisions" >> beam.Flatten()
        # The openings of today's articles: a teaser dropped for one has its deck re-cut there.
        openings = stories | "ArticleOpenings" >> beam.FlatMap(article_opening, config.shingle_size)
        applied = stories | "ApplyDecisions" >> beam.ParDo(
            _ApplyFn(config), _keyed(decisions, config), _keyed(openings, config)
        ).with_outputs(_ApplyFn.SIGNATURES, main="stories")
        if config.signatures_dir is not None:
            carried = previous | "CarryForward" >> beam.Map(
                lambda s: (s.id, signature_line(s, s.cluster, config))
            )
            kept = (
                applied[_ApplyFn.SIGNATURES]
                | "BatchKept" >> _story_batches(_kept_chars)
                | "SignatureLines" >> beam.ParDo(_SignatureLinesFn(config))
            )
            lines = (kept, carried) | "AllSignatures" >> beam.Flatten()
            _ = lines | "WriteSignatures" >> WriteSignatures(config)
        duplicate_clusters = decisions | "DuplicateClusters" >> beam.FlatMap(
            lambda kv: [kv[1][1]] if kv[1][2] is not None else []  # (id, cluster, duplicate_of, ...)
        )
        return DedupResult(applied.stories, duplicate_clusters)
