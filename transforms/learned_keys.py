"""What the corpus-learning stages share (FindRepeatedLines, FindStoryOpenings,
FindStoryContinuations): each dump votes for keys with a small value (where it saw the key),
the votes of a key are counted as distinct values up to a cap, and the keys that pass become one
frozenset side input of SplitStories. Only keys and 64-bit values are shuffled, never texts.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable, Iterable

import apache_beam as beam
from apache_beam.transforms.window import GlobalWindow
from apache_beam.utils.windowed_value import WindowedValue

from transforms import counters


def value_id(text: str) -> int:
    """A 64-bit id of a vote's value (a page's first words, the text above a headline): what the
    combiner keeps and compares, smaller than the text."""
    return int.from_bytes(hashlib.sha1(text.encode("utf-8")).digest()[:8], "little")


class DistinctCountFn(beam.CombineFn):
    """How many distinct values a key's votes carry, counted up to `cap`: only "at least cap"
    matters, and the cap bounds memory however often a key recurs. The accumulator is a tuple of
    at most `cap` values (the count is the same in any order and through merges)."""

    def __init__(self, cap: int):
        self._cap = cap

    def create_accumulator(self) -> tuple:
        return ()

    def add_input(self, acc: tuple, value) -> tuple:
        return acc if len(acc) >= self._cap or value in acc else (*acc, value)

    def merge_accumulators(self, accumulators) -> tuple:
        out: tuple = ()
        for acc in accumulators:
            for value in acc:
                out = self.add_input(out, value)
        return out

    def extract_output(self, acc: tuple) -> int:
        return len(acc)


# Partial counts leave a vote bundle in this many parts (by a hash of the key), each one element:
# the counting then runs in parallel, and no element is shuffled per vote.
COUNT_PARTS = 16
# A bundle sends its partial counts on once it holds this many keys (bounds a worker's memory).
MAX_BUNDLE_KEYS = 200_000


def count_part(key: str, parts: int) -> int:
    """Which part of the partial counts a key goes to: the same in every process."""
    return zlib.crc32(key.encode("utf-8")) % parts


def fold_votes(
    accumulators: dict[str, object], votes: Iterable[tuple[str, object]], counting: beam.CombineFn
) -> None:
    """Add (key, vote) pairs to their keys' accumulators (new keys start from an empty one)."""
    add, create = counting.add_input, counting.create_accumulator
    for key, vote in votes:
        acc = accumulators.get(key)
        accumulators[key] = add(create() if acc is None else acc, vote)


class LearnKeys(beam.PTransform):
    """PCollection[Dump] -> PCollection[str]: the keys the dumps vote for that pass.

    `votes_of(dump)` gives (key, vote) pairs, `counting` folds a key's votes into its stats and
    `learned(stats)` says whether the key is learned; each pass is counted in `counter_name`.
    Disabled, it learns nothing. The corpus-learning stages are this with their own rules.

    Votes are many (about 13 a dump) and most keys are voted for once in the whole corpus, so
    a CombinePerKey of one element per vote spent more in the runner's per-element work than
    the votes cost to find. Each bundle folds its votes into one accumulator per key itself
    (`PartialCountsFn`) and sends them on in COUNT_PARTS dicts; `MergeCountsFn` merges a part's
    dicts (the combiner's merge: the counts are the same in any order) and keeps what passes.
    """

    def __init__(
        self,
        votes_of: Callable[[object], Iterable[tuple[str, object]]],
        counting: beam.CombineFn,
        learned: Callable[[object], bool],
        counter_name: str,
        enabled: bool = True,
    ):
        super().__init__()
        self._votes_of, self._counting, self._learned = votes_of, counting, learned
        self._counter_name, self._enabled = counter_name, enabled

    def learn(self, dumps: Iterable) -> frozenset[str]:
        """The same rule in a plain loop, one accumulator per key (no Beam: benchmarks/throughput.py
        times the text stages with it)."""
        if not self._enabled:
            return frozenset()
        accumulators: dict[str, object] = {}
        for dump in dumps:
            fold_votes(accumulators, self._votes_of(dump), self._counting)
        extract = self._counting.extract_output
        return frozenset(k for k, acc in accumulators.items() if self._learned(extract(acc)))

    def expand(self, dumps):
        if not self._enabled:
            return dumps | "None" >> beam.FlatMap(lambda _: ())
        return (
            dumps
            | "Votes" >> beam.ParDo(PartialCountsFn(self._votes_of, self._counting))
            | "ByPart" >> beam.GroupByKey()
            | "Learned" >> beam.ParDo(MergeCountsFn(self._counting, self._learned, self._counter_name))
        )


class PartialCountsFn(beam.DoFn):
    """Dumps -> (part, {key: accumulator}) of the votes of a bundle (count_part of each key),
    sent when the bundle ends or holds MAX_BUNDLE_KEYS keys. A failed bundle's counts are thrown
    away with it: the retry sends its own."""

    def __init__(self, votes_of: Callable[[object], Iterable[tuple[str, object]]], counting: beam.CombineFn):
        self._votes_of, self._counting = votes_of, counting

    def start_bundle(self):
        self._accumulators: dict[str, object] = {}

    def process(self, dump):
        fold_votes(self._accumulators, self._votes_of(dump), self._counting)
        if len(self._accumulators) >= MAX_BUNDLE_KEYS:
            yield from self._parts()

    def finish_bundle(self):
        for part in self._parts():
            yield WindowedValue(part, GlobalWindow().max_timestamp(), [GlobalWindow()])

    def _parts(self) -> list[tuple[int, dict[str, object]]]:
        parts: dict[int, dict[str, object]] = {}
        for key, acc in self._accumulators.items():
            parts.setdefault(count_part(key, COUNT_PARTS), {})[key] = acc
        self._accumulators = {}
        return sorted(parts.items())


class MergeCountsFn(beam.DoFn):
    """(part, [{key: accumulator}]) -> each key of the part whose merged stats pass `learned`,
    counted in the named counter (what a corpus-learning stage learned)."""

    def __init__(self, counting: beam.CombineFn, learned: Callable[[object], bool], counter_name: str):
        self._counting, self._learned, self._counter_name = counting, learned, counter_name

    def setup(self):
        self._counter = counters.counter(self._counter_name)

    def process(self, element):
        _, partials = element
        merged: dict[str, list] = {}
        for partial in partials:
            for key, acc in partial.items():
                merged.setdefault(key, []).append(acc)
        counting = self._counting
        for key in sorted(merged):
            accs = merged[key]
            acc = accs[0] if len(accs) == 1 else counting.merge_accumulators(accs)
            if self._learned(counting.extract_output(acc)):
                self._counter.inc()
                yield key
