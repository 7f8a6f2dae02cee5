"""Sentence splitting on the shipped Punkt parameters (transforms/sentences.py)."""

from __future__ import annotations

import importlib.resources
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

from transforms.sentences import (
    ends_sentence,
    is_sentence_start,
    load_punkt_parameters,
    sentence_spans,
    sentence_tokenizer,
    split_sentences,
)

# ---------------------------------------------------------------- the shipped parameters


def test_parameters_ship_as_small_plain_json_with_the_four_punkt_fields():
    resource = importlib.resources.files("transforms.resources").joinpath("punkt_english.json")
    raw = resource.read_bytes()
    assert len(raw) < 300_000
    doc = json.loads(raw)
    assert {"abbrev_types", "collocations", "sent_starters", "ortho_context"} <= doc.keys()
    assert doc["meta"]["format"] == "storysift-punkt-parameters/1"
    assert doc["abbrev_types"] == sorted(doc["abbrev_types"])
    assert list(doc["ortho_context"]) == sorted(doc["ortho_context"])


def test_parameters_hold_the_hand_added_news_abbreviations():
    params = load_punkt_parameters()
    assert isinstance(params, PunktParameters)
    for abbrev in ["mr", "mrs", "dr", "gen", "sen", "jr", "st", "feb", "sept", "dec", "inc", "ltd", "plc"]:
        assert abbrev in params.abbrev_types
    for abbrev in ["no", "vs", "etc", "u.s", "u.k", "u.n", "e.g", "i.e", "a.m", "p.m"]:
        assert abbrev in params.abbrev_types
    assert "said" not in params.abbrev_types
    # Trained on BBC news: frequent sentence starters and real orthographic counts.
    assert {"the", "however", "he", "meanwhile"} <= params.sent_starters
    assert len(params.ortho_context) > 10_000


def test_parameters_and_tokenizer_are_loaded_once_and_read_only():
    assert load_punkt_parameters() is load_punkt_parameters()
    assert sentence_tokenizer() is sentence_tokenizer()
    assert isinstance(sentence_tokenizer(), PunktSentenceTokenizer)
    params = load_punkt_parameters()
    assert isinstance(params.abbrev_types, frozenset)
    size = len(params.ortho_context)
    assert params.ortho_context["zzqxv-never-seen"] == 0
    assert len(params.ortho_context) == size  # an unknown word is not inserted


# ---------------------------------------------------------------- splitting


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Earlier, spokesman P.J. Crowley said US officials haven’t ruled out future meetings. "
            "The disarmament talks involve the two Koreas.",
            [
                "Earlier, spokesman P.J. Crowley said US officials haven’t ruled out future meetings.",
                "The disarmament talks involve the two Koreas.",
            ],
        ),
        (
            "Philippine President Ferdinand Marcos Jr yesterday sought the resignation of his Cabinet. "
            "The order came after a poor midterm showing.",
            [
                "Philippine President Ferdinand Marcos Jr yesterday sought the resignation of his Cabinet.",
                "The order came after a poor midterm showing.",
            ],
        ),
        (
            "Philippine President Ferdinand Marcos Jr. yesterday sought the resignation of his Cabinet.",
            ["Philippine President Ferdinand Marcos Jr. yesterday sought the resignation of his Cabinet."],
        ),
        (
            "U.S. officials said the talks would resume. They gave no date.",
            ["U.S. officials said the talks would resume.", "They gave no date."],
        ),
        (
            "He suggested a Feb. 23 meeting, the spokesman told reporters. Seoul agreed.",
            ["He suggested a Feb. 23 meeting, the spokesman told reporters.", "Seoul agreed."],
        ),
        (
            "Mr. Smith went to Washington. He stayed a week.",
            ["Mr. Smith went to Washington.", "He stayed a week."],
        ),
        (
            "Pascoe met North Korea’s No. 2 official on Thursday. He left yesterday.",
            ["Pascoe met North Korea’s No. 2 official on Thursday.", "He left yesterday."],
        ),
        (
            "Prof. Lee met Gov. Brown at 10 a.m. on Jan. 5 in St. Louis. They talked.",
            ["Prof. Lee met Gov. Brown at 10 a.m. on Jan. 5 in St. Louis.", "They talked."],
        ),
        (
            "Real Madrid vs. Barcelona ended 2-2. Fans cheered.",
            ["Real Madrid vs. Barcelona ended 2-2.", "Fans cheered."],
        ),
        (
            "The rush of diplomacy raised hopes. Seoul, Tokyo and Washington urged talks. Will they resume? "
            "Nobody knows!",
            [
                "The rush of diplomacy raised hopes.",
                "Seoul, Tokyo and Washington urged talks.",
                "Will they resume?",
                "Nobody knows!",
            ],
        ),
    ],
)
def test_split_sentences(text, expected):
    assert split_sentences(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # An abbreviation still ends a sentence when the next word clearly starts one.
        (
            "They held talks with the U.S. The envoy left on Monday.",
            ["They held talks with the U.S.", "The envoy left on Monday."],
        ),
        (
            "The talks ended at 5 p.m. Officials said they went well.",
            ["The talks ended at 5 p.m.", "Officials said they went well."],
        ),
        # Closing quotes stay with their sentence; two quoted sentences are two sentences.
        (
            "“There are still children to save. It must be done fast,” the exiled Iranian filmmaker added.",
            [
                "“There are still children to save.",
                "It must be done fast,” the exiled Iranian filmmaker added.",
            ],
        ),
        (
            "They shared a “deep exchange of views ... on issues of interest.” The negotiator declined.",
            ["They shared a “deep exchange of views ... on issues of interest.”", "The negotiator declined."],
        ),
        # A quoted question followed by a lower-case speech tag is one sentence.
        ('"Why not?" he asked. Then he left.', ['"Why not?" he asked.', "Then he left."]),
    ],
)
def test_split_sentences_at_abbreviations_and_quotes(text, expected):
    assert split_sentences(text) == expected


def test_sentence_spans_are_offsets_into_the_text():
    text = "  In Beijing, the envoy met Wu Dawei (武大偉).\nKim, the negotiator, left. The talks go on "
    spans = sentence_spans(text)
    assert spans == [(2, 43), (44, 70), (71, 86)]
    assert [text[s:e] for s, e in spans] == [
        "In Beijing, the envoy met Wu Dawei (武大偉).",
        "Kim, the negotiator, left.",
        "The talks go on",
    ]
    assert split_sentences(text) == [text[s:e] for s, e in spans]


def test_empty_text_has_no_sentences():
    assert sentence_spans("") == []
    assert sentence_spans("  \n ") == []


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=list("aB xyz.?!\"”“’'()\n\t…,:;-U.S1"), max_size=120))
def test_spans_are_ordered_trimmed_and_lose_only_whitespace(text):
    position = 0
    for start, end in sentence_spans(text):
        assert position <= start < end <= len(text)
        assert text[position:start].strip() == ""
        assert text[start:end] == text[start:end].strip()
        position = end
    assert text[position:].strip() == ""


# ---------------------------------------------------------------- ends_sentence


@pytest.mark.parametrize(
    "text",
    [
        "The negotiator declined to give further details.",
        "...he said.”",
        "“Its time to have a break,” Nationals leader David Littleproud told reporters yesterday.",
        "“There are still children to save. It must be done fast,” the filmmaker added.  \n",
        "Is that the end?",
        "Thank you, Europe!”",
        "(See the full report.)",
        "called it “madness”.",
        "the disarmament talks ended in 2004.",
        # Decided: abbreviations that normally close a phrase count as a finished sentence.
        "the North Korean envoy will hold talks with the U.S.",
        "The deal was signed at 5 p.m.",
        "It sold the unit to Acme Inc.",
        # The word "no", not the abbreviation of "No. 2".
        "Asked whether he would resign, he said no.",
    ],
)
def test_ends_sentence_true(text):
    assert ends_sentence(text) is True


@pytest.mark.parametrize(
    "text",
    [
        "“It’s",
        "the exiled Iranian filmmaker added. With Israel",
        "Philippine President Ferdinand Marcos Jr",
        "Philippine President Ferdinand Marcos Jr.",
        "the Liberal and National coalition had shared power",
        "24-year-old countertenor JJ, whose",
        "suggesting a meeting on Feb.",
        "talks led by Mr.",
        "Earlier, spokesman P.J.",
        "President John F.",
        "North Korea’s No.",
        "on issues of interest ...",
        "on issues of interest ...”",
        "and then…",
        "signing of a peace treaty,",
        "for example, e.g.",
        "",
        "   ",
    ],
)
def test_ends_sentence_false(text):
    assert ends_sentence(text) is False


# ---------------------------------------------------------------- is_sentence_start


@pytest.mark.parametrize(
    "word", ["The", "A", "However", "He", "It", "They", "But", "Meanwhile", "Earlier", "Officials", "“It’s"]
)
def test_common_sentence_starters_are_sentence_starts(word):
    assert is_sentence_start(word) is True


@pytest.mark.parametrize("word", ["the", "yesterday", "said", "officials", "and", "with", "won", ","])
def test_lower_case_words_are_not_sentence_starts(word):
    assert is_sentence_start(word) is False


@pytest.mark.parametrize(
    "word",
    # Names are capitalised everywhere, so their case says nothing; so do ALL-CAPS words, numbers
    # and words the training never saw.
    ["Philippine", "Washington", "Pyongyang", "Austria’s", "President", "BACKLASH", "2004", "Zyxqwv", ""],
)
def test_no_orthographic_evidence_is_unknown(word):
    assert is_sentence_start(word) is None
