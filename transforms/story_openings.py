"""Story openings learned from the corpus: a paragraph that opens a story elsewhere opens one here.

News recurs across pages: an article stands under its headline on one page, as a lede under a
teaser's headline on another, and run on, with no headline and no full stop between, after the
story above it on a third (a scraper that dropped the headline line). The topic model cannot
always see that seam; the corpus can. A paragraph is learned as a story opening when, in at
least `min_dumps` dumps, it stands right under a headline-shaped line (bylines and datelines may
stand between) or opens the dump, with at least `min_dumps` different texts above it.

The second condition keeps a subheading inside an article from passing for a headline: an
article copied onto many pages puts its subheadings over the same paragraph each time, but also
under the same paragraph each time. A headline is preceded by whatever story a page carries
before it (or by nothing: the top of a page counts as new in every dump).

SplitStories then opens a story at a learned opening wherever it stands, unless its headline is
right above it (the headline then opens the story: see split_stories.find_titles).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass

from transforms import line_cues
from transforms.learned_keys import value_id
from transforms.records import record_key

OPENING_WORDS = 10  # of a paragraph: its key; a shorter paragraph is never learned
# A headline's lede is a paragraph of at least this many words, longer than the headline.
MIN_LEDE_WORDS = 8
PRECEDING_WORDS = 6  # of the line above the headline: what tells one page from another
MAX_SKIPPED = 3  # bylines, datelines and built-in boilerplate passed over between headline and lede
# Only the start of a paragraph is read for its key (a paragraph may be thousands of characters).
_KEY_CHARS = 300
_WORD_RE = re.compile(r"\w+")


@dataclass(frozen=True)
class OpeningConfig:
    min_dumps: int = 2
    enabled: bool = True


def normalized_words(text: str) -> list[str]:
    """The words of a text, lower-cased, punctuation and spacing ignored (copies of a paragraph
    differ in quotes, dashes and spaces)."""
    return _WORD_RE.findall(text.lower())


# Characters read first for `count` words (news words average under six characters with their
# space): one word more than asked is enough to know the asked ones are whole.
def _probe_chars(count: int) -> int:
    return 8 * (count + 1)


def first_words(text: str, count: int, window: int) -> list[str]:
    """normalized_words(text[:window])[:count], reading a short prefix first: keys are taken
    for every line of every dump, and the regex costs by the character. When the prefix holds
    more than `count` words, the first `count` are whole and the same as in the window's."""
    probe = _probe_chars(count)
    if probe < window:
        words = normalized_words(text[:probe])
        if len(words) > count:
            return words[:count]
    return normalized_words(text[:window])[:count]


def last_words(text: str, count: int, window: int) -> list[str]:
    """normalized_words(text[-window:])[-count:], reading a short suffix first (as first_words:
    with more than `count` words in it, only its first word may be cut, and it is not taken)."""
    probe = _probe_chars(count)
    if probe < window:
        words = normalized_words(text[-probe:])
        if len(words) > count:
            return words[-count:]
    return normalized_words(text[-window:])[-count:]


def opening_key(text: str) -> str | None:
    """Key of a paragraph as an opening: its first OPENING_WORDS normalized_words; None for a
    shorter paragraph. The words themselves, not a hash: a paragraph's key is looked up for every
    paragraph split, and only the few learned ones are kept."""
    words = first_words(text, OPENING_WORDS, _KEY_CHARS)
    if len(words) < OPENING_WORDS:
        return None
    return " ".join(words)


def _is_lede(text: str, headline_words: int) -> bool:
    """At least MIN_LEDE_WORDS words and more than the headline's (counted no further: a
    paragraph is long)."""
    need = max(MIN_LEDE_WORDS, headline_words + 1)
    return len(text.split(maxsplit=need)) >= need


def _first_words(line: str) -> str:
    return " ".join(line.split(maxsplit=PRECEDING_WORDS)[:PRECEDING_WORDS]).lower()


def cued_openings(text: str) -> Iterator[tuple[str, str | None]]:
    """(opening key, first words of the line above its headline, None at the top of the dump) for
    each paragraph of a dump that opens a story on its own evidence: right under a
    headline-shaped line, or as the dump's first line. (Any line above: the fixture lines over a
    match report's "BBC1, Five Live and this website" are the same on every copy of it.)"""
    lines = line_cues.stripped_lines(text)
    previous: str | None = None  # the nearest earlier line (not boilerplate)
    headline: tuple[int, str | None] | None = None  # (words of the headline, the line above it)
    skipped = 0
    for i, line in enumerate(lines):
        kind = line_cues.boilerplate_kind(line)
        if kind is not None:
            skipped += 1
            if skipped > MAX_SKIPPED:
                headline = None
            continue
        if i == 0 and _is_lede(line, 0):
            key = opening_key(line)
            if key is not None:
                yield key, None
        elif headline is not None and _is_lede(line, headline[0]):
            key = opening_key(line)
            if key is not None:
                yield key, headline[1]
        headline = None
        if line_cues.looks_like_title(line):
            # (a headline is short: counting its words costs little)
            above = None if previous is None else _first_words(previous)
            headline = (line_cues.word_count(line), above)
        skipped = 0
        previous = line


def dump_opening_votes(dump) -> Iterator[tuple[str, int]]:
    """(opening key, value_id of what stands above its headline): a dump's votes, one per opening
    (its first occurrence). The top of the dump votes as a text of its own (its record key).
    One vote per dump: min_dumps different texts above are also min_dumps dumps."""
    seen = set()
    top = f"top of {record_key(dump.uri, dump.record)}"
    for key, preceding in cued_openings(dump.text):
        if key not in seen:
            seen.add(key)
            yield key, value_id(top if preceding is None else preceding)


def is_learned_opening(preceding: int, config: OpeningConfig) -> bool:
    """preceding: how many different texts stand above the paragraph's headline (capped)."""
    return preceding >= config.min_dumps


# ---------------------------------------------------------------- Beam stage


from transforms import counters  # noqa: E402
from transforms.learned_keys import DistinctCountFn, LearnKeys  # noqa: E402


class FindStoryOpenings(LearnKeys):
    """PCollection[Dump] -> PCollection[str]: keys (opening_key) of paragraphs learned as story
    openings. Only keys are shuffled, never texts. SplitStories takes the result as its
    `opening_keys` (one frozenset side input)."""

    def __init__(self, config: OpeningConfig = OpeningConfig()):
        super().__init__(
            dump_opening_votes,
            DistinctCountFn(config.min_dumps),
            functools.partial(is_learned_opening, config=config),
            counters.LEARNED_OPENINGS,
            config.enabled,
        )
