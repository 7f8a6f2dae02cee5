"""Each line cue, with cases where it must fire and where it must not."""

from __future__ import annotations

import time

import pytest

from transforms import line_cues
from transforms.line_cues import BOILERPLATE, BYLINE, CREDIT, DATELINE


@pytest.mark.parametrize(
    "line, kind",
    [
        ("Advertisement", BOILERPLATE),
        ("ADVERTISEMENT", BOILERPLATE),
        ("Share this article", BOILERPLATE),
        ("Share this:", BOILERPLATE),
        ("Share on Facebook", BOILERPLATE),
        ("Follow us on Twitter", BOILERPLATE),
        ("Photo: AFP", BOILERPLATE),
        ("Photo: Jane Smith/EPA", BOILERPLATE),
        ("Comments (179)", BOILERPLATE),
        ("Most read", BOILERPLATE),
        ("Related stories", BOILERPLATE),
        ("4 min read", BOILERPLATE),
        ("Published 9 September 2004", BOILERPLATE),
        ("Last updated at 17:54", BOILERPLATE),
        ("Home | News | Business | Sport | Tech", BOILERPLATE),
        ("Copyright 2004 News Example. All rights reserved.", BOILERPLATE),
        ("Media playback is unsupported on your device", BOILERPLATE),
        ("Tweet", BOILERPLATE),
        ("By Laura Harris, BBC News", BYLINE),
        ("By Andrew Hughes", BYLINE),
        ("By Jane Doe and Tom Hall", BYLINE),
        ("Michael Wright, Entertainment reporter", BYLINE),
        ("LONDON (Reuters) -", DATELINE),
        ("NEW YORK (AP) —", DATELINE),
        ("WASHINGTON, April 1 (Reuters) -", DATELINE),
        ("Lagos (dpa) -", DATELINE),  # the place in title case
        ("São Paulo (Bloomberg) --", DATELINE),
        ("By Ava Nguyen | Health correspondent", BYLINE),
        ("By Liam Jensen for Example News", BYLINE),
        ("Written by Olivia Rossi", BYLINE),
        ("By Olivia Patel, Noah Kim and Leo Rossi", BYLINE),
        ("BY Ethan Campbell", BYLINE),
        ("Posted by Sam Reid", BYLINE),
        ("From Max Ahmed in Buenos Aires", BYLINE),
        ("Felix Reid | Business desk", BYLINE),
        ("Nora Bauer - Investigations team", BYLINE),
        ("CAPE TOWN —", DATELINE),  # no agency
        ("WASHINGTON, Jan. 5 —", DATELINE),
        ("Reporting by Tom Cooper in New York; Editing by Helen Turner", CREDIT),
        ("Additional reporting by Jane Smith", CREDIT),
    ],
)
def test_boilerplate_kinds(line: str, kind: str) -> None:
    assert line_cues.boilerplate_kind(line) == kind


@pytest.mark.parametrize(
    "line",
    [
        "Share prices rose sharply on Monday after the bank said profits had doubled.",
        "By the end of the year the company expects to have hired 400 more staff.",
        "By Thursday, ministers had agreed a deal for the steel plant.",
        "Written by Tom Stoppard, the play opens in London next week.",
        "Apple shares (AAPL) rose 3% -",
        "England's World Cup team",  # a role word, but no name and separator before it
        "From London to Paris in a day",
        "From Monday in Scotland",
        "Cape Town —",  # a place with no agency must be in capitals
        "Photographers lined the street as the minister arrived.",
        "Email traffic to the service doubled in a week, the firm said.",
        "The most read story of the year was about a cat.",
        "Comments made by the minister angered opposition MPs, who called for an apology.",
        "Ad sales boost Time Warner profit",
    ],
)
def test_prose_is_not_boilerplate(line: str) -> None:
    assert line_cues.boilerplate_kind(line) is None


def test_kicker_label_and_offset() -> None:
    line = "NO EXCUSES: Marcos said his administration was acting on voters’ demands"
    m = line_cues.match_kicker(line)
    assert m is not None and m.kicker == "NO EXCUSES"
    assert line[m.rest_offset :].startswith("Marcos said")


@pytest.mark.parametrize(
    "line, label",
    [
        ("DÉJÀ VU: the band reunites for one night only at the old town hall", "DÉJÀ VU"),  # accents
        ("ÜBER ALLES: the car maker's board backs the chief executive after the vote", "ÜBER ALLES"),
        ("£1BN BLOW: the chancellor faces a hole in the budget after the figures", "£1BN BLOW"),
        ("WHAT NEXT?: ministers weigh their options after the vote was lost", "WHAT NEXT?"),
        ("Q&A: what the new rules mean for drivers and how they will be enforced", "Q&A"),
        ("24/7 WATCH: police patrols are stepped up in the city centre after the attack", "24/7 WATCH"),
    ],
)
def test_kicker_labels_beyond_ascii_capitals(line: str, label: str) -> None:
    m = line_cues.match_kicker(line)
    assert m is not None and m.kicker == label
    assert line[m.rest_offset :] == line.split(": ", 1)[1]


@pytest.mark.parametrize(
    "line",
    [
        "Photo: the minister arrives at the summit in Brussels on Monday morning",  # not capitals
        "Ça VA: a label with a lower-case letter outside ASCII is not a kicker either",
        "新华社: 中国 第三 季度 经济 增长 放缓 至 百分之 四点六",  # a script without case, words segmented
        "• UK: 3.2% growth in the third quarter, up from 2.9% in the second quarter",  # a bullet
        "(AP): the agency said the figures would be revised again next month",  # a bracket
        "“WARNING: this product is dangerous,” the label said in large red letters.",  # quote
        "A: the answer is that nobody knows how many voters will turn out this time",  # one letter
        "2024: a year in which markets rose, fell and rose again for investors",  # no letters
        "BACKLASH: too short",  # no teaser text after the label
        "He said: THE END is near for the old stadium, which will close next year.",
    ],
)
def test_kicker_must_not_fire(line: str) -> None:
    assert line_cues.match_kicker(line) is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("He left.", True),
        ("“We won,” he said.”", True),
        ("Is it over?", True),
        ("It was the end of an era...", False),
        ("It was the end of an era…", False),
        ("Austria finished with 436 points, ahead of Israel", False),
        ("", False),
    ],
)
def test_ends_sentence_simple(text: str, expected: bool) -> None:
    assert line_cues.ends_sentence_simple(text) is expected


@pytest.mark.parametrize(
    "line, expected",
    [
        ("Ad sales boost Time Warner profit", True),
        ("Crossrail link 'to get go-ahead'", True),
        ("What now for Kelly Holmes?", True),
        ("Barbarians 19-47 New Zealand", True),
        ("$1m payoff for former Shell boss", True),  # a currency sign first
        ("£5bn deal agreed for rail line", True),
        ("The company said profits rose.", False),  # a sentence
        ("Results from the match between", False),  # dangling function word
        ("the minister said on Monday", False),  # lower-case start
        ("Main points of the plan:", False),
        (" ".join(["word"] * 25), False),  # too many words
        ("Long " + "x" * (line_cues.MAX_TITLE_CHARS - 5), True),  # as long as a title may be
        ("Long " + "x" * (line_cues.MAX_TITLE_CHARS - 4), False),  # a character too long
        ("  Long " + "x" * (line_cues.MAX_TITLE_CHARS - 5) + "  ", True),  # measured stripped
    ],
)
def test_looks_like_title(line: str, expected: bool) -> None:
    assert line_cues.looks_like_title(line) is expected


@pytest.mark.parametrize(
    "line",
    [
        "A" * 50_000 + ":",
        "By " + "A" * 50_000,
        "LONDON " * 10_000 + "(Reuters)",
        "Photo: " + "x" * 50_000,
        "a | " * 20_000,
        "Reporting by " + "x " * 30_000,
    ],
)
def test_cues_are_linear_on_hostile_lines(line: str) -> None:
    started = time.perf_counter()
    line_cues.boilerplate_kind(line)
    line_cues.match_kicker(line)
    line_cues.looks_like_title(line)
    # Generous bound: a backtracking pattern would take minutes, not a second.
    assert time.perf_counter() - started < 2.0


def test_long_lines_are_judged_on_their_normalised_spaces() -> None:
    # A long line is skipped unread only when its spaces are already normal: padded with runs of
    # spaces or tabs, a credit line can still normalise to the 200 characters a credit may take.
    credit = "Reporting by Jane Smith; Editing by " + "Tom Hall and Ann Lee, " * 5 + "London"
    assert len(credit) <= 160 and line_cues.boilerplate_kind(credit) == CREDIT
    for padded in (
        credit.replace(" ", "   "),
        credit.replace(" ", " \t\t"),
        credit.replace(" ", "\u00a0\u00a0 "),
    ):
        assert len(padded) > 200 and line_cues.boilerplate_kind(padded) == CREDIT
    prose = "The council voted on the budget after a long debate about the new library. " * 4
    assert len(prose.strip()) > 200 and line_cues.boilerplate_kind(prose.strip()) is None


def test_shape_tokens() -> None:
    assert line_cues.shape_tokens("Chelsea v Birmingham") == frozenset({"chelsea", "v", "birmingham"})
    # digit runs are one token, punctuation marks are tokens of their own
    assert line_cues.shape_tokens("27 Anna (Israel)") == frozenset({"0", "anna", "(", "israel", ")"})
    assert line_cues.shape_tokens("Leeds 3-12 Hull") == line_cues.shape_tokens("leeds 0-0 hull")
    assert line_cues.shape_tokens("- £9m") == frozenset({"-", "£", "0m"})
    assert line_cues.shape_tokens("") == frozenset()


def test_short_line_kinds_are_cached_but_long_lines_are_not_held() -> None:
    line_cues._short_line_kind.cache_clear()
    assert line_cues.boilerplate_kind("By Jane Smith, BBC News") == BYLINE
    assert line_cues.boilerplate_kind("By Jane Smith, BBC News") == BYLINE  # from the cache
    assert line_cues._short_line_kind.cache_info().hits == 1
    odd = "word  " * 1_000  # long, with double spaces: past the fast path for paragraphs
    assert line_cues.boilerplate_kind(odd) is None
    assert line_cues._short_line_kind.cache_info().currsize == 1


_ODD_BREAKS = "  First line\u2028still the first \r\nsecond\r\rthird\n \t\nfourth  "


def test_stripped_lines_are_the_splitters_lines():
    from transforms.split_stories import text_lines

    lines = line_cues.stripped_lines(_ODD_BREAKS)
    assert lines == ["First line\u2028still the first", "second", "third", "fourth"]
    assert lines == [ln.text for ln in text_lines(_ODD_BREAKS)]


def test_learning_stages_read_the_splitters_lines():
    from transforms import repeated_lines, story_continuations

    # U+2028 stays inside a line for the splitter: the votes must not cut there either
    assert story_continuations.content_lines(_ODD_BREAKS) == line_cues.stripped_lines(_ODD_BREAKS)
    text = "Weather for the week ahead\u2028More news\nA paragraph that stands under it here."
    keys = [key for key, _ in repeated_lines.line_contexts(text)]
    assert repeated_lines.line_key("More news") not in keys


def test_builtin_kinds_are_what_boilerplate_kind_gives():
    samples = ["Advertisement", "By John Smith", "LONDON (Reuters) -", "Additional reporting by Jane Smith"]
    assert {line_cues.boilerplate_kind(s) for s in samples} == set(line_cues.BUILTIN_KINDS)
