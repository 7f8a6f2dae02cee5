"""Accounting: the per-dump character balance, the run-level checks, and the Beam stage."""

from __future__ import annotations

import apache_beam as beam
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.testing.util import assert_that, equal_to
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import offline_test_pipeline
from transforms import counters
from transforms.accounting import (
    BOILERPLATE,
    DUPLICATE,
    KEPT,
    REJECTED,
    Account,
    AccountCharacters,
    account_record,
    account_text,
    accounting_report,
    content_lines,
    lost_spans,
    reject_fraction_report,
    run_checks,
    sum_accounts,
)
from transforms.records import Dump, Rejected, Story
from transforms.split_stories import text_lines

TEXT = "  Title here\r\n\r\nBody one.\nAdvertisement\nBody two.  \n\n"
LINES = content_lines(TEXT)


def test_content_lines_are_the_splitters_lines():
    assert [TEXT[s:e] for s, e in LINES] == ["Title here", "Body one.", "Advertisement", "Body two."]
    assert LINES == [(ln.start, ln.end) for ln in text_lines(TEXT)]


@given(st.text(alphabet=st.sampled_from(list("ab \t\r\n\x0c\u00a0\u2028\x1c.")), max_size=60))
def test_content_lines_agree_with_the_splitter_on_any_text(text):
    assert content_lines(text) == [(ln.start, ln.end) for ln in text_lines(text)]


def test_a_story_with_boilerplate_inside_balances():
    story = (LINES[0][0], LINES[3][1], KEPT)
    ad = (LINES[2][0], LINES[2][1], BOILERPLATE)
    account = account_text(TEXT, [story, ad])
    assert account == Account(len(TEXT), kept=34, boilerplate=13, whitespace=6)
    assert account.balanced and account.accounted == len(TEXT) == 53


def test_a_line_no_span_claims_is_lost():
    ad = (LINES[2][0], LINES[2][1], BOILERPLATE)
    account = account_text(TEXT, [ad])
    assert not account.balanced
    assert account.lost == sum(e - s for s, e in (LINES[0], LINES[1], LINES[3]))
    assert lost_spans(TEXT, [ad]) == [LINES[0], LINES[1], LINES[3]]


def test_overlapping_stories_and_spans_beyond_the_text_do_not_balance():
    story = (LINES[0][0], LINES[3][1], KEPT)
    again = (LINES[1][0], LINES[1][1], DUPLICATE)
    assert account_text(TEXT, [story, again]).overlap == LINES[1][1] - LINES[1][0]
    beyond = account_text(TEXT, [(0, len(TEXT) + 7, REJECTED)])
    assert beyond.out_of_range == 7 and not beyond.balanced


def test_each_character_counts_once_in_priority_order():
    # A rejected whole-dump span (a failed element) over boilerplate: boilerplate first.
    account = account_text(TEXT, [(0, len(TEXT), REJECTED), (LINES[2][0], LINES[2][1], BOILERPLATE)])
    assert (account.rejected, account.boilerplate, account.whitespace) == (40, 13, 0)
    assert account.balanced


def test_unknown_categories_are_refused():
    with pytest.raises(ValueError):
        account_record(10, [], [(0, 5, "stories")])


@given(
    st.integers(0, 200),
    st.lists(st.tuples(st.integers(-5, 210), st.integers(-5, 210), st.sampled_from([KEPT, BOILERPLATE]))),
)
def test_the_categories_always_sum_to_the_length(length, spans):
    spans = [(min(a, b), max(a, b), c) for a, b, c in spans]
    lines = [(i, i + 3) for i in range(0, length - 3, 7)]
    account = account_record(length, lines, spans)
    assert account.accounted == length


def _metrics(**extra) -> dict:
    base = {
        counters.INPUT_CHARS: 100,
        counters.DUMPS_READ: 2,
        counters.ACCOUNT_DUMPS: 2,
        counters.ACCOUNT_INPUT_CHARS: 100,
        counters.ACCOUNT_KEPT_CHARS: 80,
        counters.ACCOUNT_BOILERPLATE_CHARS: 15,
        counters.ACCOUNT_WHITESPACE_CHARS: 5,
        counters.INPUT_BYTES: 1000,
        counters.READ_REJECTED_BYTES: 50,
    }
    return {**base, **extra}


def test_run_checks_pass_on_a_balanced_run():
    checks = run_checks(_metrics(), 0.1)
    assert checks.ok and checks.status == "done"
    assert checks.sections["accounting"]["balanced"] is True
    assert checks.sections["bad_input"]["reject_fraction"] == 0.05


def test_run_checks_fail_when_text_is_lost_or_counts_disagree():
    lost = run_checks(_metrics(**{counters.ACCOUNT_LOST_CHARS: 3, counters.ACCOUNT_KEPT_CHARS: 77}), 0.1)
    assert lost.failure == "unbalanced" and any("lost_chars = 3" in p for p in lost.problems)
    fewer = run_checks(_metrics(**{counters.ACCOUNT_DUMPS: 1}), 0.1)
    assert fewer.failure == "unbalanced" and "2 dumps read but 1 accounted for" in fewer.problems[0]


def test_run_checks_fail_on_too_much_bad_input_including_failed_dumps():
    checks = run_checks(_metrics(**{counters.ACCOUNT_FAILED_BYTES: 60}), 0.1)
    assert checks.failure == "bad-input" and checks.status == "failed: too much bad input"
    assert checks.sections["bad_input"]["rejected_bytes"] == 110
    assert run_checks(_metrics(**{counters.ACCOUNT_FAILED_BYTES: 60}), 1.0).ok


def test_no_metrics_means_nothing_checked_not_a_failure():
    assert accounting_report({})["balanced"] is None
    assert not reject_fraction_report({}, 0.1)["exceeded"]
    assert run_checks({}, 0.1).ok


def test_sum_accounts():
    total = sum_accounts([Account(10, kept=8, whitespace=2), Account(5, boilerplate=5)])
    assert total == Account(15, kept=8, boilerplate=5, whitespace=2)


# ---- the Beam stage ----------------------------------------------------------------------------


def _story(uri: str, start: int, end: int, dup: str | None = None) -> Story:
    return Story(
        f"id-{start}", uri, 0, start, end, "body", "article", None, None, None, False, duplicate_of=dup
    )


def test_account_characters_stage():
    a, b = Dump("a.txt", 0, TEXT), Dump("b.txt", 0, "Only line.")
    ad = Rejected(
        "split", "boilerplate", "a.txt", 0, LINES[2][0], LINES[2][1], "Advertisement", kind="boilerplate"
    )
    p = offline_test_pipeline()
    accounts = {
        "dumps": p | "Dumps" >> beam.Create([a, b]),
        "clean": p | "Clean" >> beam.Create([_story("a.txt", LINES[0][0], LINES[3][1])]),
        # b.txt's only line is claimed by nobody: lost, and reported
        "duplicates": p | "Duplicates" >> beam.Create([_story("c.txt", 0, 4, dup="x")]),  # no such dump
        "rejected": p
        | "Rejected" >> beam.Create([ad, Rejected("read", "bad-json", "d.jsonl", 3, None, None, "{x", "")]),
    } | AccountCharacters()
    assert_that(
        accounts | beam.MapTuple(lambda key, acc: (key, acc.balanced, acc.lost)),
        equal_to([("a.txt\n0", True, 0), ("b.txt\n0", False, 10)]),
    )
    result = p.run()
    result.wait_until_finish()
    query = result.metrics().query(MetricsFilter().with_namespace(counters.NAMESPACE))
    got = {c.key.metric.name: c.committed for c in query["counters"]}
    assert got[counters.ACCOUNT_DUMPS] == 2
    assert got[counters.ACCOUNT_INPUT_CHARS] == len(TEXT) + 10
    assert got[counters.ACCOUNT_KEPT_CHARS] == 34
    assert got[counters.ACCOUNT_BOILERPLATE_CHARS] == 13
    assert got[counters.ACCOUNT_LOST_CHARS] == 10
    assert got[counters.ACCOUNT_UNBALANCED_DUMPS] == 1
    assert got[counters.ACCOUNT_ORPHAN_SPANS] == 1
