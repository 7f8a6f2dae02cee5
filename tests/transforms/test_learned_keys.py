"""The counting the corpus-learning stages share."""

from __future__ import annotations

import itertools

import apache_beam as beam
from apache_beam.testing.util import assert_that, equal_to

from tests.conftest import offline_test_pipeline
from transforms.learned_keys import DistinctCountFn, LearnedKeysFn, LearnKeys, value_id


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


def test_keys_with_enough_distinct_values_pass_through_the_stage() -> None:
    votes = [("k1", 1), ("k1", 1), ("k1", 2), ("k2", 1), ("k2", 1), ("k3", 3), ("k3", 4), ("k3", 5)]
    with offline_test_pipeline() as p:
        keys = (
            p
            | beam.Create(votes)
            | beam.CombinePerKey(DistinctCountFn(2))
            | beam.Filter(lambda kv: kv[1] >= 2)
            | beam.ParDo(LearnedKeysFn("test.learned"))
        )
        assert_that(keys, equal_to(["k1", "k3"]))


def test_the_plain_loop_learns_what_the_stage_learns() -> None:
    """LearnKeys.learn (the benchmark's loop) applies the stage's rule to the same votes."""
    votes = {"a": [("k1", 1), ("k2", 1)], "b": [("k1", 2), ("k2", 1)], "c": [("k1", 3), ("k3", 9)]}
    stage = LearnKeys(lambda dump: votes[dump], DistinctCountFn(2), lambda n: n >= 2, "test.learned")
    assert stage.learn(["a", "b", "c"]) == {"k1"}
    assert LearnKeys(votes.get, DistinctCountFn(2), bool, "test.learned", enabled=False).learn(["a"]) == set()
    with offline_test_pipeline() as p:
        assert_that(p | beam.Create(["a", "b", "c"]) | stage, equal_to(["k1"]))
