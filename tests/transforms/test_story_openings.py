"""Story openings learned from the corpus: a paragraph under a headline on other pages opens a
story wherever it stands."""

from __future__ import annotations

import apache_beam as beam
from apache_beam.testing.util import assert_that, equal_to

from tests.conftest import offline_test_pipeline
from transforms.learned_keys import value_id
from transforms.records import Dump
from transforms.split_stories import CUE_OPENING, ROLE_TITLE, split_text
from transforms.story_openings import (
    FindStoryOpenings,
    OpeningConfig,
    cued_openings,
    dump_opening_votes,
    is_learned_opening,
    opening_key,
)

HEADLINE = "Harbour strike ends after ten days"
LEDE = "Dock workers at the port of Felixstowe voted on Monday to end a strike that had lasted ten days."
SECOND = "The union said the new pay offer met most of its demands and work would resume on Tuesday."
ARTICLE_ABOVE = (
    "The council approved the new library budget after a long debate on Thursday evening.\n"
    "Councillors said the money would keep all branches open for at least another year and that"
)


def test_opening_key_reads_the_first_words_whatever_the_quotes_and_spaces() -> None:
    assert opening_key(
        "Paula’s  race was “the toughest” of her career, she said on Sunday night."
    ) == opening_key('Paula\'s race was "the toughest" of her career, she said on Sunday night.')
    assert opening_key(LEDE) == "dock workers at the port of felixstowe voted on monday"
    assert opening_key("Too short to be an opening.") is None


def test_openings_are_ledes_under_a_headline_or_at_the_top() -> None:
    text = "\n".join(
        [
            LEDE,
            "Strike news",
            "More strike coverage",
            HEADLINE,
            "By A Reporter",
            SECOND,
            "Sport",
            "Short line.",
        ]
    )
    # the top paragraph (nothing above), and the paragraph under HEADLINE past its byline, with
    # the first words of the line above the headline; not "Short line." (no lede)
    assert list(cued_openings(text)) == [
        (opening_key(LEDE), None),
        (opening_key(SECOND), "more strike coverage"),
    ]


def test_a_paragraph_under_another_paragraph_is_no_opening() -> None:
    assert list(cued_openings(f"{ARTICLE_ABOVE}\n{LEDE}")) == [
        (opening_key(ARTICLE_ABOVE.splitlines()[0]), None)
    ]


def test_a_dump_votes_once_per_opening_and_the_top_is_a_context_of_its_own() -> None:
    dump = Dump("mem://a.txt", 3, f"{LEDE}\n{HEADLINE}\n{LEDE}")
    assert list(dump_opening_votes(dump)) == [(opening_key(LEDE), value_id("top of mem://a.txt\n3"))]


def test_learned_needs_different_texts_above() -> None:
    config = OpeningConfig(min_dumps=2)
    assert is_learned_opening(2, config)
    assert not is_learned_opening(1, config)  # however many dumps: a subheading has one text above


def test_find_story_openings_stage() -> None:
    """A lede under its headline on two pages with different stories above is learned; so is the
    lede of an article that opens three pages (the top of a page is new every time), but not the
    paragraph under its subheading (the same text stands above the subheading each time)."""
    subheaded = "\n".join(
        [
            "Ministers met union leaders again on Friday to discuss the dispute over pensions.",
            "What happens next",
            "Talks are due to resume next week with a mediator appointed by both sides.",
        ]
    )
    dumps = [
        Dump("mem://1.txt", 0, f"{ARTICLE_ABOVE}\n{HEADLINE}\n{LEDE}\n{SECOND}"),
        Dump("mem://2.txt", 0, f"Menu\n{HEADLINE}\n{LEDE}"),
    ]
    dumps += [Dump(f"mem://copy{i}.txt", 0, f"Page {i} menu\n{subheaded}") for i in range(3)]
    with offline_test_pipeline() as p:
        keys = p | beam.Create(dumps) | FindStoryOpenings(OpeningConfig(min_dumps=2))
        assert_that(keys, equal_to([opening_key(LEDE), opening_key(subheaded.splitlines()[0])]))


def _stories(text: str, openings: frozenset[str]) -> list[tuple[str, list[str]]]:
    result = split_text(text, openings=openings)
    return [
        (cue, [f"{result.lines[i].role}:{result.lines[i].text[:12]}" for i in story])
        for story, cue in zip(result.stories, result.cues, strict=True)
    ]


def test_a_learned_opening_run_on_after_an_article_opens_a_story() -> None:
    """The scraper dropped the headline and the full stop: the article above stops on a content
    word and the topic model may read on; the corpus knows the lede."""
    text = f"{ARTICLE_ABOVE.replace(' and that', '.')}\n{LEDE}\n{SECOND}"
    learned = frozenset({opening_key(LEDE)})
    assert "paragraph:Dock workers" not in [lines[0] for _, lines in _stories(text, frozenset())]
    assert _stories(text, learned)[-1] == (CUE_OPENING, ["paragraph:Dock workers", "paragraph:The union sa"])


def test_a_learned_opening_under_its_headline_and_standfirst_is_not_cut_again() -> None:
    text = f"{HEADLINE}\nWorkers accept a new offer on pay and hours\n{LEDE}\n{SECOND}"
    learned = frozenset({opening_key(LEDE)})
    stories = _stories(text, learned)
    assert len(stories) == 1
    assert stories[0][1][0] == f"{ROLE_TITLE}:Harbour stri"


def test_the_story_opens_at_the_headline_lines_above_a_learned_opening() -> None:
    """Headline and standfirst after a list of plain names (no shape to leave, so find_titles
    keeps them list items): the story opens at them, not at the lede, and the headline becomes
    its title; the list's last item shares no word with the lede and stays where it was."""
    text = "\n".join(
        [
            "The shortlist for the award was announced at a dinner in London on Sunday evening.",
            "Arsenal",
            "Chelsea",
            "Leeds United",
            "Felixstowe dockers back at work",
            "Port workers accept the offer after a ten day strike",
            LEDE,
            SECOND,
        ]
    )
    learned = frozenset({opening_key(LEDE)})
    stories = _stories(text, learned)
    assert stories[-1] == (
        CUE_OPENING,
        [
            f"{ROLE_TITLE}:Felixstowe d",
            "paragraph:Port workers",
            "paragraph:Dock workers",
            "paragraph:The union sa",
        ],
    )
    assert stories[-2][1][-1] == "paragraph:Leeds United"
    # without the corpus's evidence the headline stays a list item, the lede a paragraph under it
    assert len(_stories(text, frozenset())) == 1


def test_a_cut_off_paragraph_above_a_learned_opening_is_no_headline() -> None:
    """A long line that stops mid-sentence over a known lede is the end of the story above (it
    shares no word with the lede), not a headline."""
    stories = _stories(f"{ARTICLE_ABOVE} more\n{LEDE}\n{SECOND}", frozenset({opening_key(LEDE)}))
    assert stories[-1] == (CUE_OPENING, ["paragraph:Dock workers", "paragraph:The union sa"])


def test_without_learned_openings_the_split_is_unchanged() -> None:
    text = f"{ARTICLE_ABOVE} more\n{LEDE}\n{SECOND}"
    assert CUE_OPENING not in [cue for cue, _ in _stories(text, frozenset())]


def test_the_story_opens_below_a_headline_shaped_line_learned_to_follow_the_line_above() -> None:
    """A subheading-like line the corpus shows after the paragraph above it stays in that story,
    even when it shares a word with the learned opening under it."""
    from transforms.story_continuations import line_end, line_start, pair_key

    above = "Councillors said the money for the Felixstowe library would keep all branches open next year."
    subheading = "Felixstowe port news"
    text = "\n".join([above, subheading, LEDE, SECOND])
    learned = frozenset({opening_key(LEDE)})
    assert _stories(text, learned)[-1][1][0] == f"{ROLE_TITLE}:Felixstowe p"  # climbed to it
    joined = frozenset({pair_key(line_end(above), line_start(subheading))})
    result = split_text(text, openings=learned, continuations=joined)
    assert [[result.lines[i].text[:12] for i in s] for s in result.stories] == [
        [above[:12], subheading[:12]],
        [LEDE[:12], SECOND[:12]],
    ]
