"""The counting the corpus-learning stages share."""

from __future__ import annotations

import itertools

import apache_beam as beam
from apache_beam.testing.util import assert_that, equal_to

from tests.conftest import offline_test_pipeline
from transforms import learned_keys
from transforms.learned_keys import (
    COUNT_PARTS,
    DistinctCountFn,
    LearnKeys,
    MergeCountsFn,
    PartialCountsFn,
    count_part,
    value_id,
)


def _count(fn: DistinctCountFn, values) -> tuple:
    acc = fn.create_accumulator()
    for v in values:
        acc = fn.add_input(acc, v)
    return acc


def test_distinct_values_are_counted_up_to_the_cap_in_any_order_and_through_merges() -> None:
    fn = DistinctCountFn(3)
    assert fn.extract_output(_count(fn, [7, 7, 8])) == 2
    assert fn.extract_output(_count(fn, [1, 2, 3, 4, 5])) == 3
    values = [5, 1, 5, 2, 1]
    for order in itertools.permutations(values):
        halves = [_count(fn, order[:2]), _count(fn, order[2:])]
        assert fn.extract_output(fn.merge_accumulators(halves)) == 3
    assert fn.extract_output(fn.merge_accumulators([_count(fn, [1]), _count(fn, [1])])) == 1


def test_value_ids_are_stable_64_bit_numbers() -> None:
    assert value_id("top of mem://a.txt") == value_id("top of mem://a.txt")
    assert value_id("a") != value_id("b")
    assert 0 <= value_id("a") < 2**64


def _bundle(fn: PartialCountsFn, dumps) -> list:
    """One bundle of the vote step: what it sends, unwrapped."""
    fn.start_bundle()
    sent = [out for dump in dumps for out in fn.process(dump) or ()]
    return sent + [wv.value for wv in fn.finish_bundle()]


def test_bundles_send_partial_counts_by_part_and_the_merge_keeps_what_passes(monkeypatch) -> None:
    votes = {"a": [("k1", 1), ("k2", 1)], "b": [("k1", 2), ("k2", 1)], "c": [("k1", 3), ("k3", 9), ("k3", 8)]}
    counting = DistinctCountFn(2)
    partial = PartialCountsFn(votes.get, counting)
    sent = _bundle(partial, ["a", "b"]) + _bundle(partial, ["c"])
    # one element per part and bundle, holding that part's keys with their accumulators
    assert all(part == count_part(key, COUNT_PARTS) for part, counts in sent for key in counts)
    assert len(sent) == len({count_part(k, COUNT_PARTS) for k in ("k1", "k2")}) + len(
        {count_part(k, COUNT_PARTS) for k in ("k1", "k3")}
    )
    merge = MergeCountsFn(counting, lambda n: n >= 2, "test.learned")
    merge.setup()
    by_part: dict[int, list] = {}
    for part, counts in sent:
        by_part.setdefault(part, []).append(counts)
    learned = {key for item in by_part.items() for key in merge.process(item)}
    assert learned == {"k1", "k3"}  # k2: one value twice
    # a bundle holding too many keys sends them on early; the merge learns the same
    monkeypatch.setattr(learned_keys, "MAX_BUNDLE_KEYS", 1)
    early = _bundle(partial, ["a", "b", "c"])
    assert len(early) > len(sent)
    by_part = {}
    for part, counts in early:
        by_part.setdefault(part, []).append(counts)
    assert {key for item in by_part.items() for key in merge.process(item)} == learned


def test_the_plain_loop_learns_what_the_stage_learns() -> None:
    """LearnKeys.learn (the benchmark's loop) applies the stage's rule to the same votes."""
    votes = {"a": [("k1", 1), ("k2", 1)], "b": [("k1", 2), ("k2", 1)], "c": [("k1", 3), ("k3", 9)]}
    stage = LearnKeys(lambda dump: votes[dump], DistinctCountFn(2), lambda n: n >= 2, "test.learned")
    assert stage.learn(["a", "b", "c"]) == {"k1"}
    assert LearnKeys(votes.get, DistinctCountFn(2), bool, "test.learned", enabled=False).learn(["a"]) == set()
    with offline_test_pipeline() as p:
        assert_that(p | beam.Create(["a", "b", "c"]) | stage, equal_to(["k1"]))
