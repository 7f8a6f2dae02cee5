"""Boilerplate learned from the corpus: short lines that recur across many dumps.

Site chrome ("Sign up for our briefing", a section menu, a sponsor line) repeats on every
page of a site, in ever-different surroundings. A short line is taken as boilerplate when
it appears in at least `min_dumps` dumps, followed by at least `min_contexts` different next
lines and preceded by at least `min_contexts` different texts. Both conditions keep real text
that is copied with its article:
- a headline copied with its article onto other pages is followed by the same first paragraph
  each time (and a repeated teaser is too long to be a candidate at all). "The next line" is
  the next one that is no byline, dateline, credit or built-in boilerplate line, read by its
  first CONTEXT_WORDS words: a copy of an article is often given another byline or dateline,
  an advertisement between headline and lede, or a small edit further on, and on a large crawl
  those made the headlines of much-copied articles pass for site chrome (12,000 generated
  pages: 2,131 headlines set aside as boilerplate);
- the last lines of an article (a results table, a list, a final short line) are followed by
  whatever story the page carries next, or by nothing when a copy was cut there, so their next
  lines differ; but they are preceded by the same paragraphs of the same article. "What
  precedes" is the first words of the two nearest earlier lines that are neither candidates
  (short lines: the table or list itself, a headline, other chrome) nor bylines, datelines or
  credits; two, so that a short chrome line under a long fixed notice still varies with the
  article above the notice. Without them, 12,000 generated pages lost ~470 table and list lines
  of articles to boilerplate, each cutting its article in two. A line with no such earlier line
  (the top of a page: a menu) counts as preceded by something new in every dump.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

from transforms import line_cues
from transforms.records import record_key

MAX_WORDS = 12
MAX_CHARS = 100
CONTEXT_WORDS = 6  # of the next story line: what tells one surrounding from another
MAX_SKIPPED = 3  # non-story lines passed over to find it


@dataclass(frozen=True)
class RepeatConfig:
    min_dumps: int = 5
    min_contexts: int = 5
    enabled: bool = True


def line_key(text: str) -> str:
    """Case- and space-insensitive key of a line (digits kept: "Comments (12)" varies anyway)."""
    norm = " ".join(text.lower().split())
    return hashlib.sha1(norm.encode("utf-8")).hexdigest()[:20]


def is_candidate(text: str) -> bool:
    """Short, not a kicker teaser: the only lines that may be learned as boilerplate."""
    return (
        len(text) <= MAX_CHARS
        and line_cues.word_count(text) <= MAX_WORDS
        and line_cues.match_kicker(text) is None
    )


class LineContext(NamedTuple):
    following: str  # context_key of what follows the line
    preceding: str | None  # key of what precedes it (the two nearest paragraphs); None: nothing


def line_contexts(text: str) -> Iterator[tuple[str, LineContext]]:
    """(key of a candidate line, its LineContext) for each candidate line of a dump."""
    lines = line_cues.stripped_lines(text)
    earlier: tuple[str, ...] = ()  # first words of the two nearest earlier paragraph lines
    preceding = None  # their key, computed when a candidate line asks for it
    for i, line in enumerate(lines):
        if is_candidate(line):
            if preceding is None and earlier:
                preceding = line_key("\n".join(earlier))
            yield line_key(line), LineContext(context_key(lines, i + 1), preceding)
        elif line_cues.boilerplate_kind(line) is None:
            # maxsplit: a paragraph is long, only its first words are read
            earlier = (" ".join(line.split(maxsplit=CONTEXT_WORDS)[:CONTEXT_WORDS]), *earlier[:1])
            preceding = None


def context_key(lines: list[str], start: int) -> str:
    """Key of the first CONTEXT_WORDS words of the first line from `start` on that is no byline,
    dateline, credit or built-in boilerplate (at most MAX_SKIPPED such lines are passed over)."""
    for following in lines[start : start + MAX_SKIPPED + 1]:
        if line_cues.boilerplate_kind(following) is None:
            return line_key(" ".join(following.split()[:CONTEXT_WORDS]))
    return line_key("")


def dump_line_votes(dump) -> Iterator[tuple[str, tuple[str, str, str]]]:
    """(line key, (record_key of the dump, key of the next line, key of what precedes)): a
    dump's votes for its candidate lines.

    One vote per dump and line (its first occurrence): a line repeated inside one page is not
    site chrome. Nothing before the line (the top of the page) votes as a context of its own.
    """
    seen = set()
    dump_key = record_key(dump.uri, dump.record)
    for key, context in line_contexts(dump.text):
        if key not in seen:
            seen.add(key)
            preceding = context.preceding if context.preceding is not None else f"top of {dump_key}"
            yield key, (dump_key, context.following, preceding)


@dataclass(frozen=True)
class LineStats:
    dumps: int
    contexts: int  # different next lines
    preceding: int  # different texts before it


def is_repeated_boilerplate(stats: LineStats, config: RepeatConfig) -> bool:
    return (
        stats.dumps >= config.min_dumps
        and stats.contexts >= config.min_contexts
        and stats.preceding >= config.min_contexts
    )


# ---------------------------------------------------------------- Beam stage

import apache_beam as beam  # noqa: E402  (pure functions above need no Beam)

from transforms import counters  # noqa: E402
from transforms.learned_keys import LearnKeys  # noqa: E402


class CappedDistinctFn(beam.CombineFn):
    """Distinct dumps, next-line contexts and preceding contexts of a line, counted up to `cap`
    each.

    The cap bounds memory however often a line repeats: only "at least cap" matters.
    """

    def __init__(self, cap: int):
        self._cap = cap

    def create_accumulator(self):
        return (frozenset(), frozenset(), frozenset())

    def _add(self, acc, more):
        cap = self._cap
        out = []
        for have, new in zip(acc, more, strict=True):
            if len(have) < cap and not new <= have:
                both = have | new
                have = both if len(both) <= cap else frozenset(sorted(both)[:cap])
            out.append(have)
        return tuple(out)

    def add_input(self, acc, element):
        cap = self._cap
        return tuple(
            have if len(have) >= cap or value in have else have | {value}
            for have, value in zip(acc, element, strict=True)
        )

    def merge_accumulators(self, accumulators):
        out = self.create_accumulator()
        for acc in accumulators:
            out = self._add(out, acc)
        return out

    def extract_output(self, acc):
        return LineStats(*(len(values) for values in acc))


class FindRepeatedLines(LearnKeys):
    """PCollection[Dump] -> PCollection[str]: keys of lines learned as boilerplate.

    Only line keys are shuffled, never texts. SplitStories takes the result as its
    `repeated_keys` (one frozenset side input).
    """

    def __init__(self, config: RepeatConfig = RepeatConfig()):
        super().__init__(
            dump_line_votes,
            CappedDistinctFn(max(config.min_dumps, config.min_contexts)),
            functools.partial(is_repeated_boilerplate, config=config),
            counters.LEARNED_BOILERPLATE,
            config.enabled,
        )
