"""Properties of split+parse on random dumps built from story pieces: nothing lost, offsets exact,
ids unique. (The dumps come from tests/robustness/strategies.py.)"""

from __future__ import annotations

import re
from collections import Counter

from hypothesis import HealthCheck, given, settings

from tests.robustness.strategies import dumps, split_and_parse
from transforms.accounting import account_text, lost_spans
from transforms.split_stories import CONTENT_ROLES

PROPERTY_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
TOKEN = re.compile(r"\w+")


@PROPERTY_SETTINGS
@given(dumps())
def test_every_character_is_accounted_for(text):
    out = split_and_parse(text)
    account = account_text(text, out.spans())
    assert account.lost == 0, lost_spans(text, out.spans())
    assert account.overlap == 0 and account.out_of_range == 0
    assert account.balanced
    assert account.kept + account.boilerplate + account.rejected + account.whitespace == len(text)


@PROPERTY_SETTINGS
@given(dumps())
def test_offsets_point_at_the_exact_input_text(text):
    out = split_and_parse(text)
    for draft in out.drafts:
        assert draft.text == text[draft.start : draft.end]
        assert draft.start == draft.lines[0].start and draft.end == draft.lines[-1].end
        for line in draft.lines:
            line_text = text[line.start : line.end]
            assert line_text == draft.line_text(line) and line_text == line_text.strip() and line_text
    for r in out.rejected:
        if r.kind == "boilerplate":
            assert r.text == text[r.start : r.end]
        else:
            assert r.text == text[r.start : r.end]  # a too-short story keeps its whole span
    for story in out.stories:
        span = text[story.start : story.end]
        assert span == span.strip()
        for head in (story.title, story.kicker):
            if head:
                assert " ".join(head.split()) in " ".join(span.split())


@PROPERTY_SETTINGS
@given(dumps())
def test_parsed_fields_hold_exactly_the_words_of_the_story_lines(text):
    """Title, kicker, deck and body together hold the words of the span's content lines: the
    parser neither drops nor invents a word (only the kicker's colon and whitespace change)."""
    out = split_and_parse(text)
    drafts = {(d.start, d.end): d for d in out.drafts}
    for story in out.stories:
        draft = drafts[(story.start, story.end)]
        source = Counter(
            w
            for line in draft.lines
            if line.role in CONTENT_ROLES
            for w in TOKEN.findall(draft.line_text(line))
        )
        parsed = Counter(
            w
            for field in (story.title, story.kicker, story.deck, story.text)
            if field
            for w in TOKEN.findall(field)
        )
        assert parsed == source, (draft.text, story)


@PROPERTY_SETTINGS
@given(dumps(), dumps())
def test_ids_are_unique_and_stable(text_a, text_b):
    a, b = split_and_parse(text_a, "a.txt"), split_and_parse(text_b, "b.jsonl", record=3)
    ids = [s.id for s in a.stories + b.stories] + [r.id for r in a.rejected + b.rejected]
    assert len(ids) == len(set(ids))
    again = split_and_parse(text_a, "a.txt")
    assert [s.id for s in again.stories] == [s.id for s in a.stories]
    assert again == a  # deterministic: the same input gives the same records
