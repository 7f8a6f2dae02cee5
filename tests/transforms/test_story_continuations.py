"""Story continuations learned from the corpus: lines that follow each other on many different
pages stand in one story."""

from __future__ import annotations

import apache_beam as beam
from apache_beam.testing.util import assert_that, equal_to

from tests.conftest import offline_test_pipeline
from transforms.learned_keys import value_id
from transforms.records import Dump
from transforms.repeated_lines import line_key
from transforms.split_stories import CUE_KICKER, ROLE_TITLE, split_text
from transforms.story_continuations import (
    ContinuationConfig,
    FindStoryContinuations,
    dump_pair_votes,
    is_learned_continuation,
    line_end,
    line_start,
    pair_key,
)

# A feature with a subheading (bench set-12000: "The Haka and more!" / "The All Blacks").
FEATURE = [
    "All Black magic: New Zealand rugby",
    "New Zealand have won more Tests than any other side, and the haka is the best known part of it.",
    "The Haka and more!",
    "The All Blacks",
    "Their black kit dates from 1884, and the silver fern on the shirt was first worn on a tour.",
]


def _key(first: str, second: str) -> str:
    return pair_key(line_end(first), line_start(second))


def test_a_pair_is_read_by_its_words_whatever_the_quotes_and_spaces() -> None:
    assert line_end("He said it was “the best  day” of his life.") == "the best day of his life"
    assert line_start("“Talks resume on Monday,” the union said.") == "talks resume on monday the union"
    assert _key("… the best day of his life.", "Talks resume on Monday.") == _key(
        "the best  day of his life", "Talks  resume on Monday"
    )
    assert _key("the best day of his life", "Talks resume on Monday") != _key(
        "the best day of his life", "Talks resume on Tuesday"
    )


def test_a_dump_votes_for_each_pair_of_lines_past_bylines_and_ads() -> None:
    text = "\n".join([FEATURE[0], "By A Reporter", FEATURE[1], "Advertisement", FEATURE[2]])
    votes = list(dump_pair_votes(Dump("mem://a.txt", -1, text)))
    page = value_id("all black magic new zealand rugby")
    assert votes == [(_key(FEATURE[0], FEATURE[1]), page), (_key(FEATURE[1], FEATURE[2]), page)]


def test_learned_needs_pages_that_open_differently() -> None:
    config = ContinuationConfig(min_dumps=3)
    assert is_learned_continuation(3, config)
    assert not is_learned_continuation(2, config)


def test_find_story_continuations_stage() -> None:
    """The feature copied onto three pages that open differently: its pairs are learned. The
    same page crawled three times teaches nothing (its stories are adjacent by layout)."""
    dumps = [Dump(f"mem://{i}.txt", -1, "\n".join([f"Page {i} top story here", *FEATURE])) for i in range(3)]
    crawled = ["Front page", "Markets fall on rate fears after the bank met.", "Snow closes schools"]
    dumps += [Dump(f"mem://crawl{i}.txt", -1, "\n".join(crawled)) for i in range(3)]
    expected = [_key(a, b) for a, b in zip(FEATURE, FEATURE[1:], strict=False)]
    with offline_test_pipeline() as p:
        keys = p | beam.Create(dumps) | FindStoryContinuations(ContinuationConfig(min_dumps=3))
        assert_that(keys, equal_to(expected))


def test_a_learned_pair_keeps_a_subheading_inside_its_story() -> None:
    text = "\n".join(FEATURE)
    learned = frozenset({_key(FEATURE[2], FEATURE[3]), _key(FEATURE[3], FEATURE[4])})
    alone = split_text(text)
    assert len(alone.stories) == 2  # "The All Blacks" passes for the next story's headline
    assert alone.lines[3].role == ROLE_TITLE
    taught = split_text(text, continuations=learned)
    assert len(taught.stories) == 1
    assert taught.lines[3].role != ROLE_TITLE


def test_a_kicker_still_opens_a_story_after_a_learned_pair() -> None:
    kicker = "BACKLASH: Ministers face a revolt over pension reform as unions plan"
    text = "\n".join([*FEATURE, kicker])
    result = split_text(text, continuations=frozenset({_key(FEATURE[4], kicker)}))
    assert result.cues[-1] == CUE_KICKER


def test_a_pair_after_a_line_learned_as_chrome_joins_nothing() -> None:
    """Site chrome learned as boilerplate ("Most read") stands before the same teaser headline
    on many pages: the headline still opens its story."""
    chrome, headline = "Most read on the site", "Harbour strike ends after ten days"
    lede = "Dock workers at the port of Felixstowe voted on Monday to end a strike that had lasted ten days."
    text = "\n".join([*FEATURE, chrome, headline, lede])
    result = split_text(
        text,
        repeated=frozenset({line_key(chrome)}),
        continuations=frozenset({_key(chrome, headline)}),
    )
    assert result.lines[6].role == ROLE_TITLE
    assert result.stories[-1][0] == 6
