"""What the corpus-learning stages share (FindRepeatedLines, FindStoryOpenings,
FindStoryContinuations): each dump votes for keys with a small value (where it saw the key),
the votes of a key are counted as distinct values up to a cap, and the keys that pass become one
frozenset side input of SplitStories. Only keys and 64-bit values are shuffled, never texts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable

import apache_beam as beam

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


class LearnKeys(beam.PTransform):
    """PCollection[Dump] -> PCollection[str]: the keys the dumps vote for that pass.

    `votes_of(dump)` gives (key, vote) pairs, `counting` folds a key's votes into its stats and
    `learned(stats)` says whether the key is learned; each pass is counted in `counter_name`.
    Disabled, it learns nothing. The corpus-learning stages are this with their own rules.
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
        counting, accumulators = self._counting, {}
        for dump in dumps:
            for key, vote in self._votes_of(dump):
                acc = accumulators.get(key)
                accumulators[key] = counting.add_input(
                    counting.create_accumulator() if acc is None else acc, vote
                )
        return frozenset(k for k, acc in accumulators.items() if self._learned(counting.extract_output(acc)))

    def expand(self, dumps):
        if not self._enabled:
            return dumps | "None" >> beam.FlatMap(lambda _: ())
        learned = self._learned
        return (
            dumps
            | "Votes" >> beam.FlatMap(self._votes_of)
            | "Stats" >> beam.CombinePerKey(self._counting)
            | "Learned" >> beam.Filter(lambda kv: learned(kv[1]))
            | "Keys" >> beam.ParDo(LearnedKeysFn(self._counter_name))
        )


class LearnedKeysFn(beam.DoFn):
    """(key, stats) -> key, counted in the named counter: what a corpus-learning stage learned."""

    def __init__(self, counter_name: str):
        self._counter_name = counter_name

    def setup(self):
        self._learned = counters.counter(self._counter_name)

    def process(self, element):
        self._learned.inc()
        yield element[0]
