"""Boilerplate learned from the corpus: lines repeated across dumps in changing contexts."""

from __future__ import annotations

import apache_beam as beam
from apache_beam.testing.util import assert_that, equal_to

from tests.conftest import offline_test_pipeline
from transforms.records import Dump
from transforms.repeated_lines import (
    FindRepeatedLines,
    LineStats,
    RepeatConfig,
    dump_line_votes,
    is_candidate,
    is_repeated_boilerplate,
    line_contexts,
    line_key,
)
from transforms.split_stories import REPEATED, split_text

CHROME = "Download the Example News app"


def test_line_key_ignores_case_and_spacing() -> None:
    assert line_key("Sign up  for Alerts") == line_key("sign up for alerts")
    assert line_key("Sign up for alerts") != line_key("Sign up for news")


def test_only_short_non_kicker_lines_are_candidates() -> None:
    assert is_candidate(CHROME)
    assert not is_candidate("A paragraph " * 20)
    assert not is_candidate("BACKLASH: The party quit the coalition after a resounding loss at the polls")


def test_contexts_are_the_next_lines() -> None:
    assert [(key, c.following) for key, c in line_contexts(f"{CHROME}\nFirst para.\n\n{CHROME}")] == [
        (line_key(CHROME), line_key("First para.")),
        (line_key("First para."), line_key(CHROME)),
        (line_key(CHROME), line_key("")),
    ]


def test_what_precedes_is_the_two_nearest_paragraphs_over_short_lines() -> None:
    lede = "The strike at the harbour ended on Monday after a deal on pay was agreed by all"
    second = "A second paragraph of the story, long enough to be no candidate for boilerplate at all."
    text = f"{CHROME}\n{lede}.\nBy Jane Smith\n{second}\nTop scorers\n1 Smith 12\n"
    preceding = {key: c.preceding for key, c in line_contexts(text)}
    assert preceding[line_key(CHROME)] is None  # the top of the page: nothing before it
    both = line_key("A second paragraph of the story,\nThe strike at the harbour ended")
    # the table's lines see past the table's heading (a short line) to the paragraphs above
    assert preceding[line_key("Top scorers")] == preceding[line_key("1 Smith 12")] == both


def test_the_context_skips_bylines_datelines_and_ads_and_reads_the_first_words() -> None:
    """A copied article often gets another byline or dateline, an advertisement under its headline,
    or an edit late in its lede: the headline's context is still its lede."""
    lede = "The strike at the harbour ended on Monday after a deal on pay was agreed"
    copies = [
        f"Harbour strike ends\nBy Jane Smith, BBC News\n{lede}.",
        f"Harbour strike ends\nLONDON (Reuters) -\nAdvertisement\n{lede} by both sides.",
        f"Harbour strike ends\n{lede.replace('pay', 'wages')}.",
    ]
    contexts = {dict(line_contexts(text))[line_key("Harbour strike ends")].following for text in copies}
    assert contexts == {line_key("The strike at the harbour ended")}


def test_a_dump_votes_once_per_line_with_its_first_context() -> None:
    dump = Dump(uri="page.txt", record=None, text=f"{CHROME}\nFirst para.\n\n{CHROME}")
    top = "top of page.txt\n-1"  # nothing before: a context no other dump shares
    assert list(dump_line_votes(dump)) == [
        (line_key(CHROME), ("page.txt\n-1", line_key("First para."), top)),
        (line_key("First para."), ("page.txt\n-1", line_key(CHROME), top)),
    ]


def test_threshold_needs_both_dumps_and_contexts() -> None:
    config = RepeatConfig(min_dumps=3, min_contexts=3)
    assert is_repeated_boilerplate(LineStats(3, 3, 3), config)
    assert not is_repeated_boilerplate(LineStats(9, 1, 9), config)  # a headline copied with its article
    assert not is_repeated_boilerplate(LineStats(9, 9, 1), config)  # an article's last line, copied
    assert not is_repeated_boilerplate(LineStats(2, 2, 2), config)


def test_split_marks_learned_lines_as_boilerplate() -> None:
    text = f"A first paragraph about the harbour strike that ended today.\n{CHROME}\nMore text here."
    result = split_text(text, repeated=frozenset({line_key(CHROME)}))
    assert [ln.role for ln in result.lines] == ["paragraph", REPEATED, "paragraph"]
    assert 1 in result.boilerplate


def test_find_repeated_lines_stage() -> None:
    dumps = [
        Dump(f"mem://{i}.txt", 0, f"Story number {i} about topic {i}.\n{CHROME}\nNext {i}.") for i in range(4)
    ]
    # A headline copied with the same first paragraph onto four pages, under other bylines: not
    # boilerplate.
    dumps += [
        Dump(f"mem://copy{i}.txt", 0, f"Harbour strike ends\nBy Reporter Number{i}\nThe strike ended.")
        for i in range(4)
    ]
    with offline_test_pipeline() as p:
        keys = p | beam.Create(dumps) | FindRepeatedLines(RepeatConfig(min_dumps=3, min_contexts=3))
        assert_that(keys, equal_to([line_key(CHROME)]))


def test_an_articles_closing_table_copied_onto_pages_is_not_boilerplate() -> None:
    """Copies of an article end on its results table and are followed by other stories, or cut
    there: the table's next lines differ, but the same paragraphs stand above it. Chrome under a
    long fixed notice and a menu at the top of the page are still learned."""
    article = (
        "Rangers won the league again on Sunday after a tense final day at Ibrox.\n"
        "The title is their fiftieth and the manager said it was the sweetest of all.\n"
        "Final table\nRangers 89\nCeltic 87"
    )
    notice = "All content on this site is provided for information only and may change without notice."

    def page(i: int) -> str:
        above = f"Other story {i} opens the page with a first paragraph long enough to be read."
        below = f"Another story {i} follows the notice, with a paragraph of its own."
        after = f"Next story {i} is about something else entirely and runs on for a while." if i % 2 else ""
        return f"Menu | News | Sport\n{above}\n{notice}\nBack to top\n{below}\n{article}\n{after}"

    dumps = [Dump(f"mem://p{i}.txt", 0, page(i)) for i in range(6)]
    with offline_test_pipeline() as p:
        keys = p | beam.Create(dumps) | FindRepeatedLines(RepeatConfig(min_dumps=3, min_contexts=3))
        assert_that(keys, equal_to([line_key("Menu | News | Sport"), line_key("Back to top")]))
