"""ParseTeasers: kind, title, kicker, deck, body and truncation of a story draft."""

from __future__ import annotations

from dataclasses import replace

import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import offline_test_pipeline
from transforms import line_cues, parse_teasers
from transforms.deck_split import DeckSplitter, split_deck
from transforms.parse_teasers import ParseConfig, ParseTeasers, parse_draft, parse_fields, resplit_teaser
from transforms.records import TEASER, Dump, Line, Rejected, Story, StoryDraft
from transforms.split_stories import drafts_from_split, split_text
from transforms.truncation import MIN_WORDS_FOR_UNPUNCTUATED_CUT, is_truncated

SEED_TEASER = (
    "BACKLASH: The National Party quit its decades-long partnership with the Liberal Party after their "
    "election loss to center-left Labor, which won a historic third term Australia’s National Party has "
    "split from its conservative coalition partner of more than 60 years, the Liberal Party, citing policy "
    "differences over renewable energy and after a resounding loss at a national election this month. "
    "“Its time to have a break,” Nationals leader David Littleproud told reporters yesterday. The split "
    "shows the pressure on Australia’s conservative parties"
)


def drafts(text: str) -> list[StoryDraft]:
    dump = Dump("mem://p.txt", 0, text)
    return [d for d in drafts_from_split(dump, split_text(text)) if isinstance(d, StoryDraft)]


def test_kicker_teaser_fields() -> None:
    (draft,) = drafts(SEED_TEASER)
    story = parse_draft(draft)
    assert isinstance(story, Story)
    assert story.kind == "teaser" and story.kicker == "BACKLASH" and story.truncated
    assert story.deck == (
        "The National Party quit its decades-long partnership with the Liberal Party after their "
        "election loss to center-left Labor, which won a historic third term"
    )
    assert story.text.startswith("Australia’s National Party has split")
    assert story.title is None


def test_kicker_teasers_whose_labels_are_not_ascii_capitals() -> None:
    """Kickers in capitals with accents, currency signs or question marks open teasers too (before,
    only A-Z, digits and a few signs did: such a teaser ran on inside the story above it)."""
    text = (
        "The Bank of England held interest rates at 5.25% on Thursday, as policymakers weighed signs "
        "that inflation is easing against a labour market that remains tight.\n\n"
        "Governor Andrew Bailey said it was too early to talk about cutting rates, although markets "
        "expect the first reduction by the summer.\n\n"
        "DÉJÀ VU: Rate-setters split again over the pace of cuts The Monetary Policy Committee voted by "
        "six to three to keep borrowing costs on hold, with the three dissenters arguing that\n\n"
        "£1BN BLOW: Chancellor faces hole in budget as tax receipts fall short The Treasury collected far "
        "less in stamp duty and capital gains tax than forecast in the first half of the"
    )
    article, first, second = (parse_draft(d) for d in drafts(text))
    assert article.kind == "article" and not article.truncated and "DÉJÀ" not in article.text
    assert (first.kind, first.kicker, first.truncated) == ("teaser", "DÉJÀ VU", True)
    assert first.deck == "Rate-setters split again over the pace of cuts"
    assert first.text.startswith("The Monetary Policy Committee voted")
    assert (second.kicker, second.deck) == (
        "£1BN BLOW",
        "Chancellor faces hole in budget as tax receipts fall short",
    )


def test_parse_uses_the_deck_split_it_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    (draft,) = drafts(SEED_TEASER)
    splitter = DeckSplitter()
    assert (
        parse_draft(draft, ParseConfig(), splitter)
        == parse_draft(draft)
        == parse_draft(draft, split=splitter)
    )
    no_deck = parse_fields(draft, lambda text: (None, " ".join(text.split())))
    assert no_deck.deck is None and no_deck.paragraphs[0].startswith("The National Party quit")
    # the default is looked up when called: tools/eval_segmentation.py swaps split_deck out
    monkeypatch.setattr(parse_teasers, "split_deck", lambda text: (None, " ".join(text.split())))
    assert parse_fields(draft) == no_deck


def test_article_with_title_and_byline() -> None:
    text = (
        "Sanctions deal for Korean talks\nBy Jane Smith, BBC News\n"
        "North Korea wants sanctions eased before it returns to the talks, officials said.\n"
        "Seoul and Tokyo have urged a return to the disarmament talks without conditions."
    )
    (draft,) = drafts(text)
    story = parse_draft(draft)
    assert story.kind == "article" and story.title == "Sanctions deal for Korean talks"
    assert story.text == (
        "North Korea wants sanctions eased before it returns to the talks, officials said.\n\n"
        "Seoul and Tokyo have urged a return to the disarmament talks without conditions."
    )
    assert not story.truncated and story.start == 0 and story.end == len(text)


def test_lone_truncated_line_is_a_teaser() -> None:
    text = (
        "A documentary whose main subject was killed in an airstrike weeks before it premiered at Cannes "
        "stunned viewers into silence at the festival on Thursday as the lights came"
    )
    story = parse_draft(drafts(text)[0])
    assert story.kind == "teaser" and story.truncated and story.kicker is None and story.deck is None


def test_too_short_story_is_rejected_with_its_text() -> None:
    draft = StoryDraft("mem://p.txt", 0, 0, 5, (Line(0, 5, "paragraph"),), "Hello", "start")
    item = parse_draft(draft, ParseConfig(min_chars=20))
    assert isinstance(item, Rejected)
    assert (item.stage, item.reason, item.text) == ("parse", "too-short", "Hello")


def test_deck_split_falls_back_to_none_when_unsure() -> None:
    deck, lede = split_deck("this is all lower case text without any capital letters to mark a seam at all")
    assert deck is None and lede.startswith("this is all")


def test_deck_split_does_not_cut_inside_a_name() -> None:
    deck, lede = split_deck(
        "Marcos said his administration was acting on voters’ demands, but an academic said the move was "
        "emotionally motivated after a poor midterm showing Philippine President Ferdinand Marcos Jr "
        "yesterday sought the resignation of all his Cabinet secretaries, in a move seen as an attempt"
    )
    assert deck is not None and deck.endswith("after a poor midterm showing")
    assert lede.startswith("Philippine President Ferdinand Marcos Jr yesterday")


@pytest.mark.parametrize(
    ("line", "deck", "lede"),
    [
        (  # the lede introduces someone by title and full name: the whole titled name is the lede's
            "SHAKE-UP: Critics said the reshuffle was a desperate gamble after a weak by-election showing "
            "German Chancellor Olaf Scholz yesterday replaced three of his ministers in a bid to revive it",
            "Critics said the reshuffle was a desperate gamble after a weak by-election showing",
            "German Chancellor Olaf Scholz yesterday replaced",
        ),
        (  # no title in the run: the deck keeps its place name
            "TRUCE: Ceasefire holds after talks in Gaza Israeli troops withdrew from the northern town "
            "overnight, officials said, as aid convoys began moving again",
            "Ceasefire holds after talks in Gaza",
            "Israeli troops withdrew",
        ),
    ],
)
def test_kicker_teaser_deck_around_a_run_of_capitals(line: str, deck: str, lede: str) -> None:
    (draft,) = drafts(line)
    story = parse_draft(draft)
    assert isinstance(story, Story) and story.kind == "teaser"
    assert story.deck == deck and story.text.startswith(lede)


def _is_truncated_by_text(last_paragraph: str) -> bool:
    """is_truncated as the text rules read it (it splits the paragraph once instead)."""
    text = " ".join(last_paragraph.split())
    if not text:
        return False
    if text[-1] in ",;:–—-" or text.endswith(("“", "‘")) and len(text) > 1 and text[-2] == " ":
        return True
    if line_cues.ends_sentence_simple(text):
        return False
    if line_cues.dangling_function_word(text):
        return True
    if text.startswith(tuple("-–—•*·")):
        return False
    return line_cues.word_count(text) >= MIN_WORDS_FOR_UNPUNCTUATED_CUT


@given(
    st.lists(
        st.sampled_from(["the", "Of", "and,", "cost", "“We", "appeal.", "said”", "-", "•", "…", "...", "on:"])
        | st.sampled_from(["“", "\n", " \t"])
        | st.text(max_size=4),
        max_size=9,
    ).map(" ".join)
)
def test_is_truncated_reads_the_words_as_the_text_rules_do(paragraph: str) -> None:
    assert is_truncated(paragraph) == _is_truncated_by_text(paragraph)


def test_truncation_rules() -> None:
    assert is_truncated("The company said it would appeal against the ruling and")
    assert is_truncated("Austria finished with 436 points, ahead of Israel on 357 and Estonia on")
    assert not is_truncated("The company said it would appeal.")
    assert not is_truncated("“We will appeal,” he said.”")
    assert not is_truncated("K Clark")  # a short table row, not a cut sentence
    assert is_truncated("He said the plan would cost millions,")
    # an article ending in a bulleted list: its last item has no full stop, yet nothing is cut
    assert not is_truncated(
        "- Special award - Alan Bennett for his outstanding contribution to British theatre"
    )
    assert is_truncated(
        "- Pubs that do not serve food to be exempt from the"
    )  # a dangling word still is a cut


def test_parse_teasers_stage_counts_and_rejects() -> None:
    short = StoryDraft("mem://p.txt", 0, 0, 3, (Line(0, 3, "paragraph"),), "Hi.", "start")
    (teaser,) = drafts(SEED_TEASER)
    with offline_test_pipeline() as p:
        stories, rejected = p | beam.Create([teaser, short]) | ParseTeasers(ParseConfig(min_chars=10))
        assert_that(
            stories | beam.Map(lambda s: (s.kind, s.kicker, s.truncated)),
            equal_to([("teaser", "BACKLASH", True)]),
            label="stories",
        )
        assert_that(rejected | beam.Map(lambda r: r.reason), equal_to(["too-short"]), label="rejected")


def test_resplit_teaser_moves_the_seam_to_where_it_is_told_the_lede_starts() -> None:
    lede = "Australia’s National Party has split from its coalition partner of more than 60 years"
    story = Story(
        id="t", uri="u", record=0, start=0, end=10, text=f"after the loss {lede}\n\nA second line.",
        kind=TEASER, title=None, kicker="BACKLASH", deck="The party quit the coalition", truncated=True,
    )  # fmt: skip
    at_lede = resplit_teaser(story, lambda rest: rest.index("Australia"))
    assert at_lede.deck == "The party quit the coalition after the loss"
    assert at_lede.text == f"{lede}\n\nA second line."
    assert (at_lede.kind, at_lede.kicker, at_lede.truncated, at_lede.end) == (TEASER, "BACKLASH", True, 10)
    # no deck when the lede starts right after the kicker
    assert resplit_teaser(story, lambda rest: 0).deck is None
    assert resplit_teaser(story, lambda rest: 0).text.startswith("The party quit")
    # told nothing, or a one-word deck, or no kicker: unchanged
    assert resplit_teaser(story, lambda rest: None) is story
    assert resplit_teaser(story, lambda rest: rest.index("party")) is story
    plain = replace(story, kicker=None, deck=None)
    assert resplit_teaser(plain, lambda rest: 3) is plain
