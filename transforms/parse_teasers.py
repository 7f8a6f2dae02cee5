"""ParseTeasers: decide each story's kind, title, kicker, deck, body and truncation.

A teaser line reads `KICKER: <deck> <lede...>`: the deck (a sub-headline) runs straight
into the lede with no punctuation between them, so the split point is chosen from
evidence (deck_split), and left undecided (deck = None) when the evidence is weak,
rather than cutting a sentence in half.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from transforms import line_cues
from transforms.deck_split import MIN_DECK_WORDS, DeckSplitter, split_deck
from transforms.records import ARTICLE, TEASER, Rejected, Story, StoryDraft, rejected_from_failure, story_id
from transforms.split_stories import ROLE_KICKER, ROLE_TITLE
from transforms.truncation import is_truncated

DEFAULT_MIN_CHARS = 20


@dataclass(frozen=True)
class ParseConfig:
    min_chars: int = DEFAULT_MIN_CHARS  # a story whose body is shorter is rejected ("too-short")


@dataclass(frozen=True)
class ParsedFields:
    kind: str
    title: str | None
    kicker: str | None
    deck: str | None
    paragraphs: tuple[str, ...]
    truncated: bool


# (deck, lede) of a teaser's text after its kicker: split_deck, or a DeckSplitter (memoized)
DeckSplit = Callable[[str], tuple[str | None, str]]


def parse_fields(draft: StoryDraft, split: DeckSplit | None = None) -> ParsedFields:
    """The fields of one story draft (pure; see module docstring). `split` defaults to split_deck."""
    content = [ln for ln in draft.lines if ln.role in ("paragraph", ROLE_TITLE, ROLE_KICKER)]
    first = content[0]
    first_text = draft.line_text(first)
    if first.role == ROLE_KICKER:
        match = line_cues.match_kicker(first_text)
        assert match is not None  # the splitter gave it this role
        rest = first_text[match.rest_offset :]
        deck, lede = (split or split_deck)(rest)  # split_deck looked up here: tools replace it
        paragraphs = (lede, *(" ".join(draft.line_text(ln).split()) for ln in content[1:]))
        paragraphs = tuple(p for p in paragraphs if p)
        return ParsedFields(TEASER, None, match.kicker, deck, paragraphs, is_truncated(paragraphs[-1]))
    title = None
    body_lines = content
    if first.role == ROLE_TITLE:
        title = " ".join(first_text.split())
        body_lines = content[1:]
    paragraphs = tuple(draft.line_text(ln).strip() for ln in body_lines)
    if not paragraphs:  # a headline alone: keep it as the text, never lose it
        return ParsedFields(ARTICLE, None, None, None, (title or "",), False)
    truncated = is_truncated(paragraphs[-1])
    # One unpunctuated line with no headline is a teaser's lede that ran off the page.
    kind = TEASER if title is None and len(paragraphs) == 1 and truncated else ARTICLE
    return ParsedFields(kind, title, None, None, paragraphs, truncated)


def parse_draft(
    draft: StoryDraft, config: ParseConfig = ParseConfig(), split: DeckSplit | None = None
) -> Story | Rejected:
    """A Story from a draft, or a Rejected record when the body is too short to be a story."""
    fields = parse_fields(draft, split)
    text = "\n\n".join(fields.paragraphs)
    if len(text.strip()) < config.min_chars:
        return Rejected(
            stage="parse",
            reason="too-short",
            uri=draft.uri,
            record=draft.record,
            start=draft.start,
            end=draft.end,
            text=draft.text,
            detail=f"{len(text.strip())} chars < min_chars {config.min_chars}",
        )
    return Story(
        id=story_id(draft.uri, draft.record, draft.start, draft.end),
        uri=draft.uri,
        record=draft.record,
        start=draft.start,
        end=draft.end,
        text=text,
        kind=fields.kind,
        title=fields.title,
        kicker=fields.kicker,
        deck=fields.deck,
        truncated=fields.truncated,
        metadata_json=draft.metadata_json,
    )


def resplit_teaser(story: Story, lede_start: Callable[[str], int | None]) -> Story:
    """A kicker teaser with its deck and lede re-cut where `lede_start` says the lede begins in
    the text after the kicker (an offset at a word start; 0: no deck), else the story itself.

    Dedup calls it with the opening of the article a teaser was dropped for: the surest evidence
    of the seam there is, when the article is in the corpus. A deck shorter than MIN_DECK_WORDS
    words is not taken. Only the fields change: the span, kind and truncation stay.
    """
    if story.kind != TEASER or story.kicker is None:
        return story
    # The first paragraph of a kicker teaser is its lede (from the kicker line, never empty).
    lede, sep, others = story.text.partition("\n\n")
    rest = f"{story.deck} {lede}" if story.deck else lede
    start = lede_start(rest)
    if start is None:
        return story
    deck = rest[:start].rstrip() or None
    if deck == story.deck or (deck is not None and line_cues.word_count(deck) < MIN_DECK_WORDS):
        return story
    return replace(story, deck=deck, text=rest[start:] + sep + others)


# ---------------------------------------------------------------- Beam stage

import apache_beam as beam  # noqa: E402  (pure functions above need no Beam)

from transforms import counters  # noqa: E402


class ParseDraftFn(beam.DoFn):
    REJECTED = "rejected"

    def __init__(self, config: ParseConfig):
        self._config = config
        self._articles = counters.counter(counters.ARTICLES)
        self._teasers = counters.counter(counters.TEASERS)
        self._truncated = counters.counter(counters.TRUNCATED)
        self._rejected = counters.counter(counters.PARSE_REJECTED)
        self._chars = counters.distribution(counters.STORY_CHARS)

    def setup(self):
        from transforms.gc_tuning import tune_for_batch
        from transforms.sentences import sentence_tokenizer

        tune_for_batch()  # see gc_tuning: this worker collects garbage less often, and not at exit

        sentence_tokenizer()  # load the Punkt parameters once per worker
        # per instance, so its memo never outlives or crosses a worker (see DeckSplitter)
        self._split = DeckSplitter()

    def process(self, draft: StoryDraft):
        item = parse_draft(draft, self._config, self._split)
        if isinstance(item, Rejected):
            self._rejected.inc()
            yield beam.pvalue.TaggedOutput(self.REJECTED, item)
            return
        (self._teasers if item.kind == TEASER else self._articles).inc()
        if item.truncated:
            self._truncated.inc()
        self._chars.update(len(item.text))
        yield item


class ParseTeasers(beam.PTransform):
    """PCollection[StoryDraft] -> (PCollection[Story], PCollection[Rejected])."""

    def __init__(self, config: ParseConfig = ParseConfig()):
        super().__init__()
        self._config = config

    def expand(self, drafts):
        # Output types declared as SplitStories does (no warning from the exception-handling wrapper).
        parse = beam.ParDo(ParseDraftFn(self._config)).with_output_types(
            Story, **{ParseDraftFn.REJECTED: Rejected}
        )
        results = drafts | "ParseDraft" >> parse.with_outputs(
            ParseDraftFn.REJECTED, main="stories"
        ).with_exception_handling(main_tag="stories", dead_letter_tag="failed")
        failed = results.failed | "Failed" >> beam.MapTuple(
            lambda draft, error: rejected_from_failure("parse", draft, error)
        )
        rejected = (results[ParseDraftFn.REJECTED], failed) | "Rejected" >> beam.Flatten()
        return results.stories, rejected
