"""Story continuations learned from the corpus: two lines that follow each other on many
different pages belong to one story.

Pages copy whole articles, paragraph after paragraph; two different stories stand next to each
other on a page by chance. A pair of lines (the end of one, the start of the next) seen one
after the other in at least `min_dumps` dumps, on pages that open with at least `min_dumps`
different lines, is learned as a continuation, and SplitStories opens no story between them,
whatever cue it reads there (a subheading that looks like a headline, a paragraph that lost
its full stop, a readers' comment on another subject), except a kicker label. The second
condition keeps a page crawled twice, or a site that always runs the same strip under an
article, from passing for copies.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from transforms import line_cues
from transforms.learned_keys import value_id
from transforms.story_openings import first_words, last_words

PAIR_WORDS = 6  # of each side of a pair: the end of the first line, the start of the second
PAGE_WORDS = 6  # of a page's first line: what tells one page from another
_WINDOW = 100  # characters read at a line's end or start (six words take about forty)


@dataclass(frozen=True)
class ContinuationConfig:
    min_dumps: int = 3
    enabled: bool = True


def line_end(text: str) -> str:
    """The last PAIR_WORDS words of a line, normalised as story_openings reads words."""
    return " ".join(last_words(text, PAIR_WORDS, _WINDOW))


def line_start(text: str) -> str:
    """The first PAIR_WORDS words of a line, normalised as story_openings reads words."""
    return " ".join(first_words(text, PAIR_WORDS, _WINDOW))


def pair_key(end: str, start: str) -> str:
    """Key of two lines one after the other, from line_end of the first and line_start of the
    second (hashed: the pairs are many, and only the learned ones are kept)."""
    return hashlib.sha1(f"{end}\n{start}".encode()).hexdigest()[:16]


def content_lines(text: str) -> list[str]:
    """A dump's lines as pairs are read: non-blank, stripped, without built-in boilerplate
    (bylines, datelines, advertisements: a copy of an article gets other ones)."""
    return [s for s in line_cues.stripped_lines(text) if line_cues.boilerplate_kind(s) is None]


def dump_pair_votes(dump) -> Iterator[tuple[str, int]]:
    """(pair key, value_id of the first words of the dump's first line): a dump's votes, one per
    pair of consecutive content lines (its first occurrence). min_dumps different first lines
    are also min_dumps dumps."""
    lines = content_lines(dump.text)
    if len(lines) < 2:
        return
    page = value_id(" ".join(first_words(lines[0], PAGE_WORDS, _WINDOW)))
    seen = set()
    previous_end = line_end(lines[0])
    for line in lines[1:]:
        key = pair_key(previous_end, line_start(line))
        if key not in seen:
            seen.add(key)
            yield key, page
        previous_end = line_end(line)


def is_learned_continuation(pages: int, config: ContinuationConfig) -> bool:
    """pages: how many dumps with different first lines show the pair (capped)."""
    return pages >= config.min_dumps


# ---------------------------------------------------------------- Beam stage


from transforms import counters  # noqa: E402
from transforms.learned_keys import DistinctCountFn, LearnKeys  # noqa: E402


class FindStoryContinuations(LearnKeys):
    """PCollection[Dump] -> PCollection[str]: keys (pair_key) of line pairs learned as
    continuations. Only keys are shuffled, never texts. SplitStories takes the result as its
    `continuation_keys` (one frozenset side input)."""

    def __init__(self, config: ContinuationConfig = ContinuationConfig()):
        super().__init__(
            dump_pair_votes,
            DistinctCountFn(config.min_dumps),
            functools.partial(is_learned_continuation, config=config),
            counters.LEARNED_CONTINUATIONS,
            config.enabled,
        )
