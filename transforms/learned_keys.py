"""What the corpus-learning stages share (FindRepeatedLines, FindStoryOpenings,
FindStoryContinuations): each dump votes for keys with a small value (where it saw the key),
the votes of a key are counted as distinct values up to a cap, and the keys that pass become one
frozenset side input of SplitStories. Only keys and 64-bit values are shuffled, never texts.
"""

from __future__ import annotations

import hashlib

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


class LearnedKeysFn(beam.DoFn):
    """(key, stats) -> key, counted in the named counter: what a corpus-learning stage learned."""

    def __init__(self, counter_name: str):
        self._counter_name = counter_name

    def setup(self):
        self._learned = counters.counter(self._counter_name)

    def process(self, element):
        self._learned.inc()
        yield element[0]
