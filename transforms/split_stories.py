"""SplitStories: cut each dump into story drafts and boilerplate lines.

Paragraphs are lines. The splitter first gives every line a role from its own shape
(line_cues), then opens a new story at the explicit cues — a kicker label, a headline
line, a byline or dateline that does not follow a headline, a credit line closing the
previous story, a paragraph the corpus shows opening stories on other pages
(story_openings), a line that stops mid-sentence, a blank line in a page that uses blank
lines only between blocks — and finally looks for topic shifts inside what is left
(topic_shift). Boilerplate lines become records of their own, so no text is lost.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from transforms import line_cues, repeated_lines, story_continuations, story_openings
from transforms.records import Dump, Line, Rejected, StoryDraft, rejected_from_failure
from transforms.topic_shift import (
    DEFAULT_PENALTY,
    FeatureMemo,
    content_terms,
    continues_article,
    scored_boundaries,
)

ROLE_PARAGRAPH = "paragraph"
ROLE_TITLE = "title"
ROLE_KICKER = "kicker"  # a teaser line opening with a KICKER: label
REPEATED = "repeated"  # boilerplate learned from the corpus (repeated_lines)
NON_STORY_ROLES = (*line_cues.BUILTIN_KINDS, REPEATED)
# Boilerplate that neither opens nor closes a story (bylines open one, credits close one).
_PLAIN_BOILERPLATE = (line_cues.BOILERPLATE, REPEATED)
CONTENT_ROLES = (ROLE_PARAGRAPH, ROLE_TITLE, ROLE_KICKER)

CUE_START = "start"
CUE_KICKER = "kicker"
CUE_AFTER_KICKER = "after-kicker"
CUE_TITLE = "title"
CUE_BYLINE = "byline"
CUE_CREDIT = "after-credit"
CUE_TRUNCATION = "after-truncation"
CUE_BLANK = "blank-line"
CUE_TOPIC = "topic-shift"
CUE_OPENING = "known-opening"  # a paragraph that opens stories on other pages (story_openings)

# A line that stops mid-sentence ends a story only when it is long enough to be prose
# (short unpunctuated lines are table rows, scores, captions inside an article).
MIN_TRUNCATED_WORDS = 12
# A headline must be followed by a paragraph at least this long.
MIN_PARAGRAPH_WORDS_AFTER_TITLE = 8
# A block with more paragraphs than this between explicit cues is not a news page (a page holds
# tens); the topic model (about a millisecond per paragraph) is not run on it, which bounds the
# time a hostile dump of 100,000 short lines can take.
MAX_TOPIC_UNITS = 1000
# A line right after a list opens a story only when the list has at least this many items (fewer
# show no shape to leave); the list's shape is read from at most its last MAX items.
MIN_LIST_ITEMS = 3
MAX_LIST_ITEMS_COMPARED = 20
_BREAK_RE = re.compile(r"\r\n|\r|\n")
_LINE_RE = re.compile(r"[^\r\n]+")
_BULLET_START = tuple("-–—•*·")


@dataclass(frozen=True)
class SplitConfig:
    topic_penalty: float = DEFAULT_PENALTY
    use_topic_shift: bool = True


@dataclass(frozen=True)
class TextLine:
    """A non-blank line: offsets without surrounding whitespace, and its role."""

    start: int
    end: int
    text: str
    blank_before: bool
    role: str


@dataclass(frozen=True)
class SplitResult:
    lines: tuple[TextLine, ...]
    # Each story: indices of its lines, first to last (boilerplate inside the span included).
    stories: tuple[tuple[int, ...], ...]
    cues: tuple[str, ...]  # the cue that opened each story
    scores: tuple[float, ...]  # how sure that cue was (1.0 for explicit cues, P(boundary) for topic shifts)
    boilerplate: tuple[int, ...]  # indices of every non-story line


def text_lines(text: str, repeated: frozenset[str] = frozenset()) -> list[TextLine]:
    """Non-blank lines with their stripped offsets; blank_before marks a blank line above.

    `repeated` holds repeated_lines.line_key of lines the corpus showed to be boilerplate.
    """
    out: list[TextLine] = []
    prev_end = 0
    for m in _LINE_RE.finditer(text):
        raw = m.group()
        stripped = raw.strip()
        if not stripped:
            continue
        start = m.start() + (len(raw) - len(raw.lstrip()))
        end = start + len(stripped)
        breaks = len(_BREAK_RE.findall(text, prev_end, m.start())) if out else 0
        out.append(TextLine(start, end, stripped, breaks >= 2, classify_line(stripped, repeated)))
        prev_end = end
    return out


def classify_line(text: str, repeated: frozenset[str] = frozenset()) -> str:
    """The role a line has on its own: a non-story kind, a kicker teaser, or a paragraph."""
    kind = line_cues.boilerplate_kind(text)
    if kind is not None:
        return kind
    if repeated and repeated_lines.is_candidate(text) and repeated_lines.line_key(text) in repeated:
        return REPEATED
    if line_cues.match_kicker(text) is not None:
        return ROLE_KICKER
    return ROLE_PARAGRAPH


def is_truncated_prose(text: str) -> bool:
    """A long line that stops mid-sentence (a teaser lede, or an article cut off).

    Not one: a line ending in a colon (it introduces the list or quote under it), and a
    paragraph whose finished last sentence is followed by a run-in subheading in capitals
    ("... on PS2. THE LEGEND OF ZELDA": the next paragraph is that section of the article).
    """
    return (
        not line_cues.ends_sentence_simple(text)  # first: it settles most lines without a split()
        and line_cues.word_count(text) >= MIN_TRUNCATED_WORDS
        and not text.startswith(_BULLET_START)
        and not text.rstrip().endswith(":")
        and run_in_heading(text) is None
    )


# The end of a sentence inside a line: terminal punctuation, closing quotes/brackets, a space.
_SENTENCE_END_RE = re.compile(r"[.!?][\"'”’)\]]*\s+(?=\S)")
MIN_HEADING_WORDS = 2
MIN_HEADING_LETTERS = 4


def run_in_heading(text: str) -> str | None:
    """The subheading in capitals that ends a paragraph after a finished sentence, else None.

    Scraped articles often glue a section heading to the paragraph above it. A cut-off lede
    stops inside ordinary prose, so its tail after the last sentence end holds lower case.
    """
    ends = list(_SENTENCE_END_RE.finditer(text))
    if not ends:
        return None
    tail = text[ends[-1].end() :].rstrip()
    if any(c.islower() for c in tail) or len(tail.split()) < MIN_HEADING_WORDS:
        return None
    if sum(c.isalpha() for c in tail) < MIN_HEADING_LETTERS:
        return None
    return tail


# Marks no sentence opens with: a line starting with one carries on the line above (scraped
# text loses a linked name: "Hrbaty will now play 2002 champion\n, who outlasted ...").
# (A full stop only before a space or another stop: ".NET 2.0 is out" may open a story.)
_CONTINUING_RE = re.compile(r"[,;:)\]}!?%…]|\.[\s.]")


def stops_visibly(text: str) -> bool:
    """Whether an unfinished paragraph shows that it was cut: it stops on a function word or an
    ellipsis, not on a word a sentence may end with."""
    core = text.rstrip()
    return core.endswith(("…", "...")) or line_cues.dangling_function_word(core)


def continues_sentence(text: str) -> bool:
    """A line that starts in lower case, with a closing apostrophe ("’s route to ...") or with a
    mark no sentence opens with carries on the sentence above: no story starts so."""
    if _CONTINUING_RE.match(text):
        return True
    first = text.lstrip("\"'“‘([’")[:1]
    return first.islower()


def mixed_layout(lines: Sequence[TextLine]) -> bool:
    """Blank lines between some lines but not others: blank lines then separate blocks."""
    gaps = [ln.blank_before for ln in lines[1:]]
    return any(gaps) and not all(gaps)


def find_titles(
    lines: Sequence[TextLine], known: frozenset[int] = frozenset(), joined: frozenset[int] = frozenset()
) -> set[int]:
    """Indices of headline lines: headline-shaped, followed by the story they name (a line with a
    kicker's label too, on stronger evidence: see below).

    A paragraph in `known` (a learned story opening: see story_openings) under a headline-shaped
    line (or under its standfirst) stands for the shared word, and after a list for the
    restatement, unless a headline stands right above the line (then it is that headline's
    standfirst) or the line is a long cut-off paragraph sharing no word with it. A line in
    `joined` (learned to follow the line above it: see story_continuations) is no headline.

    The next content line (bylines and datelines may stand between) must be a real
    paragraph, and the headline must share a content word with the next paragraphs,
    unless a byline/dateline follows it or it opens the record: that keeps score lines,
    venue lines and list items inside an article from passing for headlines. Right after a
    list of short unpunctuated lines it must also leave the list's shape (leaves_list) and
    be restated by the paragraph under it (restates): an article often ends in fixtures or
    results, and the next article's headline follows them.
    """
    titles: set[int] = set()
    content = [i for i, ln in enumerate(lines) if ln.role not in _PLAIN_BOILERPLATE]
    for pos, i in enumerate(content):
        line = lines[i]
        if (
            i in joined
            or line.role not in (ROLE_PARAGRAPH, ROLE_KICKER)
            or not line_cues.looks_like_title(line.text, particle_ok=True)
        ):
            continue
        if pos and lines[content[pos - 1]].role == line_cues.DATELINE:
            continue  # a dateline opens a body ("WASHINGTON (Reuters) -"): what follows is its text
        # A headline ending on "on", "in" ... ("Blair to face trust issue head on") needs a byline
        # or dateline under it and a word in common with its story: a cut-off lede may stop so.
        on_particle = not line_cues.looks_like_title(line.text)
        # Only the next few lines are looked at: no copy of the rest (linear in the line count).
        k = pos + 1
        bylined = False
        while k < len(content) and lines[content[k]].role in (line_cues.BYLINE, line_cues.DATELINE):
            k += 1
            bylined = True
        following = [lines[j] for j in content[k : k + 3]]
        if not following or not _lede_under(line.text, following[0]):
            continue
        # The paragraph under it (or under the standfirst under it) opens stories on other pages,
        # no headline stands right above it (it would be that headline's standfirst), and it is
        # no cut-off paragraph of the story above, unless it shares a word with its story.
        lede_known = (
            (
                content[k] in known
                or (
                    len(following) > 1
                    and content[k + 1] in known
                    and line_cues.looks_like_title(following[0].text)
                    and _lede_under(following[0].text, following[1])
                )
            )
            and not (pos and content[pos - 1] in titles)
            and (not is_truncated_prose(line.text) or _shares_a_term(line, following))
        )
        if on_particle:
            if (bylined or lede_known) and _shares_a_term(line, following):
                titles.add(i)
            continue
        if line.role == ROLE_KICKER:
            # "BREAKING: Wembley firm won't make a profit" over its article is a headline with a
            # label, not a teaser (whose deck runs into a lede on the same line, cut off): it must be
            # headline-shaped, and a byline or dateline must follow it, or its lede restate it, or,
            # at the top of the record, the paragraphs under it share a content word with it.
            if (
                bylined
                or restates(following[0].text, line.text)
                or (pos == 0 and _shares_a_term(line, following))
            ):
                titles.add(i)
            continue
        if bylined or pos == 0:
            titles.add(i)
            continue
        if _list_item(lines[content[pos - 1]]):
            # Inside a list or table of short unpunctuated lines, unless the line leaves the
            # list's shape and the paragraph under it restates it (a headline and its lede), or
            # shares a word with it and opens stories on other pages.
            items = [lines[j].text for j in _list_above(lines, content, pos)]
            if not (
                leaves_list(items, line.text)
                and (
                    restates(following[0].text, line.text) or (lede_known and _shares_a_term(line, following))
                )
            ):
                continue
        if lede_known or _shares_a_term(line, following):
            titles.add(i)
    return titles


def _lede_under(headline: str, line: TextLine) -> bool:
    """Whether `line`, under a headline-shaped line, reads as its lede: a paragraph of at least
    MIN_PARAGRAPH_WORDS_AFTER_TITLE words, longer than the headline."""
    if line.role != ROLE_PARAGRAPH:
        return False
    words = line_cues.word_count(line.text)
    return words >= MIN_PARAGRAPH_WORDS_AFTER_TITLE and words > line_cues.word_count(headline)


def _shares_a_term(line: TextLine, following: Sequence[TextLine]) -> bool:
    """Whether the line shares a content word with the paragraphs among the next lines."""
    head = set(content_terms(line.text))
    body: set[str] = set()
    for nxt in following[:3]:
        if nxt.role == ROLE_PARAGRAPH:
            body.update(content_terms(nxt.text))
    return bool(head & body)


def _list_item(line: TextLine) -> bool:
    """A line that may be an item of a list or table: a paragraph that is no finished sentence
    and no cut-off prose (a score, a fixture, a name, a venue), nor finished prose under a
    run-in subheading ("... on PC. METAL GEAR SOLID")."""
    return (
        line.role == ROLE_PARAGRAPH
        and not line_cues.ends_sentence_simple(line.text)
        and not is_truncated_prose(line.text)
        and run_in_heading(line.text) is None
    )


def _list_above(lines: Sequence[TextLine], content: Sequence[int], pos: int) -> list[int]:
    """The list items right above content[pos], nearest last: at most MAX_LIST_ITEMS_COMPARED
    (a list's last items show its shape; the bound keeps find_titles linear)."""
    k = pos
    while k > 0 and pos - k < MAX_LIST_ITEMS_COMPARED and _list_item(lines[content[k - 1]]):
        k -= 1
    return list(content[k:pos])


def list_markers(items: Sequence[str]) -> frozenset[str]:
    """Shape tokens (line_cues.shape_tokens) that more than half of the items carry."""
    counts = Counter(t for item in items for t in line_cues.shape_tokens(item))
    return frozenset(t for t, n in counts.items() if 2 * n > len(items))


def leaves_list(items: Sequence[str], line: str) -> bool:
    """Whether `line`, right after the list `items`, is no item of it.

    Only a list of a few items has a shape to leave: tokens most items carry (the "v" of
    fixtures, a leading dash, a rank number). A line with none of them, and not a repeat of an
    item (lists repeat lines such as "Winners meet in final match"), has left the list. A list
    with no common token (plain phrases) gives no such evidence: its lines stay items.
    """
    if len(items) < MIN_LIST_ITEMS:
        return False
    markers = list_markers(items)
    if not markers or markers & line_cues.shape_tokens(line):
        return False
    key = " ".join(line.lower().split())
    return all(" ".join(item.lower().split()) != key for item in items)


def restates(lede: str, headline: str) -> bool:
    """Whether the paragraph repeats at least half of the headline's content words, as a lede
    does: the stronger evidence a headline-shaped line after a list must give."""
    head = set(content_terms(headline))
    return bool(head) and 2 * len(head & set(content_terms(lede))) >= len(head)


def explicit_boundaries(
    lines: Sequence[TextLine],
    titles: set[int],
    leaning: set[int] | None = None,
    known: frozenset[int] = frozenset(),
    joined: frozenset[int] = frozenset(),
) -> tuple[list[list[int]], list[str]]:
    """Group lines into blocks at the explicit cues; returns blocks and the cue opening each.

    A paragraph in `known` (a learned story opening) opens a block unless its headline is right
    above it (with only headline-shaped lines between: a standfirst); the block opens at the
    headline-shaped lines right above it that share a word with it (see _head_above), if any.
    A line in `joined` (learned to follow the line above it) opens no block on a learned opening,
    a stop mid-sentence or a blank line.

    With `leaning` (a set to fill), a line after a paragraph that stops mid-sentence on a content
    word ("... figures have shown") opens no block: its index goes there, and the block is cut
    there unless the topic model reads it as the same article's (cut_at_leaning). Scraped
    articles drop full stops (and lose a linked word at a paragraph's end) about as often as a
    page cuts a lede on such a word; a lede cut on "the", "of", "at" or an ellipsis still ends
    its story at once.
    """
    mixed = mixed_layout(lines)
    blocks: list[list[int]] = []
    cues: list[str] = []
    current: list[int] = []
    pending_cue: str | None = CUE_START

    def open_block(i: int, cue: str) -> None:
        nonlocal current
        current = [i]
        blocks.append(current)
        cues.append(cue)

    # id(block) -> (block, lines scanned, content lines seen, first, last). Blocks only grow, so
    # each line is scanned once (a full scan of the block per line was quadratic).
    scanned: dict[int, tuple[list[int], int, int, int, int]] = {}

    def content_of(block: list[int]) -> list[int]:
        """The block's content lines as the callers use them: [first] or [first, last]."""
        entry = scanned.get(id(block))
        done, count, first, last = (0, 0, -1, -1) if entry is None or entry[0] is not block else entry[1:]
        for j in block[done:]:
            if lines[j].role in CONTENT_ROLES:
                count, last = count + 1, j
                first = j if count == 1 else first
        scanned[id(block)] = (block, len(block), count, first, last)
        return [] if count == 0 else [first] if count == 1 else [first, last]

    for i, line in enumerate(lines):
        role = line.role
        if role in _PLAIN_BOILERPLATE:
            if current:
                current.append(i)
            continue
        if role in (line_cues.BYLINE, line_cues.DATELINE):
            body = content_of(current)
            if current and len(body) == 1 and lines[body[0]].role == ROLE_TITLE:
                current.append(i)  # a byline under its headline
            else:
                current = []
                pending_cue = CUE_BYLINE  # a byline opens the next story
            continue
        if role == line_cues.CREDIT:
            if current:
                current.append(i)
            current = []
            pending_cue = CUE_CREDIT
            continue
        if role == ROLE_KICKER:
            open_block(i, CUE_KICKER)
            current = []
            pending_cue = CUE_AFTER_KICKER
            continue
        if i in titles:
            open_block(i, CUE_TITLE)
            pending_cue = None
            continue
        if pending_cue is not None or not current:
            open_block(i, pending_cue or CUE_START)
            pending_cue = None
            continue
        last = lines[content_of(current)[-1]]
        if i in joined:
            current.append(i)
        elif i in known and not _headlines_only(lines, current):
            head = _head_above(lines, current, i, joined)
            moved = current[len(current) - head :]
            del current[len(current) - head :]
            scanned.pop(id(current), None)  # it shrank: scan it again when asked
            open_block((moved or [i])[0], CUE_OPENING)
            if moved:
                current.extend([*moved[1:], i])
        elif (
            last.role == ROLE_PARAGRAPH
            and is_truncated_prose(last.text)
            and not continues_sentence(line.text)
        ):
            if leaning is None or stops_visibly(last.text):
                open_block(i, CUE_TRUNCATION)
            else:
                leaning.add(i)
                current.append(i)
        elif mixed and line.blank_before:
            open_block(i, CUE_BLANK)
        else:
            current.append(i)
    return blocks, cues


def topic_boundaries(
    lines: Sequence[TextLine],
    block: Sequence[int],
    mixed: bool,
    penalty: float,
    memo: FeatureMemo | None = None,
    joined: frozenset[int] = frozenset(),
) -> list[tuple[int, float]]:
    """(position in `block`, probability) where a topic shift opens a new story.

    Never right after a title, never inside a bulleted list, never before a line in `joined`
    (learned to follow the line above it), and in a page that uses blank lines between blocks
    only, never where no blank line stands.
    """
    units = _topic_units(lines, block)
    if len(units) < 2 or len(units) > MAX_TOPIC_UNITS:
        return []
    texts = [" ".join(lines[j].text for j in unit) for unit in units]
    allowed = [True] + [
        not (mixed and not lines[unit[0]].blank_before)
        and not _inside_list(lines, unit[0])
        and not continues_sentence(lines[unit[0]].text)
        and unit[0] not in joined
        for unit in units[1:]
    ]
    cuts = scored_boundaries(texts, allowed=allowed, penalty=penalty, memo=memo)
    position = {j: k for k, j in enumerate(block)}
    return [(position[units[c][0]], p) for c, p in cuts]


def _topic_units(lines: Sequence[TextLine], block: Sequence[int]) -> list[list[int]]:
    """The block's content lines as the topic model reads them: a title joins its first
    paragraph (boundaries can only fall before paragraphs)."""
    units: list[list[int]] = []
    for j in block:
        if lines[j].role not in CONTENT_ROLES:
            continue
        if units and lines[units[-1][-1]].role == ROLE_TITLE:
            units[-1].append(j)
        else:
            units.append([j])
    return units


def cut_at_leaning(
    lines: Sequence[TextLine],
    block: list[int],
    leaning: set[int],
    memo: FeatureMemo | None = None,
    joined: frozenset[int] = frozenset(),
) -> list[list[int]]:
    """The block cut before each line in `leaning` (after a paragraph that stops on a content
    word, see explicit_boundaries) unless the topic model reads that line as the same article's
    (see topic_shift.continues_article) or the corpus shows it after the line above (`joined`)."""
    units = _topic_units(lines, block)
    gaps = [k for k, unit in enumerate(units) if k and unit[0] in leaning and unit[0] not in joined]
    if not gaps:
        return [block]
    if len(units) <= MAX_TOPIC_UNITS:
        texts = [" ".join(lines[j].text for j in unit) for unit in units]
        same = continues_article(texts, gaps, memo)
        gaps = [k for k, joined in zip(gaps, same, strict=True) if not joined]
    starts = {units[k][0] for k in gaps}
    pieces: list[list[int]] = [[]]
    for j in block:
        if j in starts:
            pieces.append([])
        pieces[-1].append(j)
    return pieces


def _title_at_open(lines: list[TextLine], piece: Sequence[int]) -> None:
    """Make the first line of a story that a topic shift or a learned opening opened its title
    when it is headline-shaped and a longer paragraph follows it (the headline of an article
    that shares no word with its lede, or stands after a list, so find_titles could not tell it
    from a line of the story above)."""
    content = [j for j in piece if lines[j].role in CONTENT_ROLES]
    if len(content) < 2:
        return
    first = lines[content[0]]
    if (
        first.role == ROLE_PARAGRAPH
        and line_cues.looks_like_title(first.text)
        and _lede_under(first.text, lines[content[1]])
    ):
        lines[content[0]] = TextLine(first.start, first.end, first.text, first.blank_before, ROLE_TITLE)


MAX_HEAD_LINES = 2  # headline and standfirst


def _head_above(
    lines: Sequence[TextLine], block: Sequence[int], i: int, joined: frozenset[int] = frozenset()
) -> int:
    """How many trailing entries of `block` are the head of the story that line i opens: up to
    MAX_HEAD_LINES headline-shaped paragraphs right above it (with the non-story lines between)
    that share a content word with it, never the block's first content line, and never a line
    in `joined` (learned to follow the line above it: the story does not open there)."""
    lede = set(content_terms(lines[i].text))
    taken = heads = 0
    for pos in range(len(block) - 1, 0, -1):
        line = lines[block[pos]]
        if line.role in NON_STORY_ROLES:
            continue
        if (
            heads == MAX_HEAD_LINES
            or line.role != ROLE_PARAGRAPH
            or not line_cues.looks_like_title(line.text)
            or not lede & set(content_terms(line.text))
            or not any(lines[j].role in CONTENT_ROLES for j in block[:pos])
            or block[pos] in joined
        ):
            break
        heads += 1
        taken = len(block) - pos
    return taken


def _headlines_only(lines: Sequence[TextLine], block: Sequence[int]) -> bool:
    """Whether the block so far is a title and headline-shaped lines under it (its standfirst)."""
    content = [lines[j] for j in block if lines[j].role in CONTENT_ROLES]
    return (
        bool(content)
        and content[0].role == ROLE_TITLE
        and all(line_cues.looks_like_title(ln.text) for ln in content[1:])
    )


def known_openings(lines: Sequence[TextLine], openings: frozenset[str]) -> frozenset[int]:
    """Indices of the paragraphs whose story_openings.opening_key is in `openings`."""
    if not openings:
        return frozenset()
    return frozenset(
        i
        for i, ln in enumerate(lines)
        if ln.role == ROLE_PARAGRAPH and story_openings.opening_key(ln.text) in openings
    )


def joined_lines(lines: Sequence[TextLine], continuations: frozenset[str]) -> frozenset[int]:
    """Indices of the story lines whose pair with the line above (story_continuations.pair_key,
    over lines that are no built-in boilerplate) is in `continuations`, when that line is a
    story line too: a line learned as site chrome ("Most read") before the same teaser on many
    pages joins nothing."""
    if not continuations:
        return frozenset()
    joined = set()
    previous_end: str | None = None
    previous_is_story = False
    for i, ln in enumerate(lines):
        if ln.role in line_cues.BUILTIN_KINDS:  # story_continuations reads a dump without them
            continue
        is_story = ln.role in CONTENT_ROLES
        if previous_end is not None and previous_is_story and is_story:
            key = story_continuations.pair_key(previous_end, story_continuations.line_start(ln.text))
            if key in continuations:
                joined.add(i)
        previous_end, previous_is_story = story_continuations.line_end(ln.text), is_story
    return frozenset(joined)


def _inside_list(lines: Sequence[TextLine], j: int) -> bool:
    return lines[j].text.startswith(_BULLET_START)


def split_text(
    text: str,
    config: SplitConfig = SplitConfig(),
    repeated: frozenset[str] = frozenset(),
    memo: FeatureMemo | None = None,
    openings: frozenset[str] = frozenset(),
    continuations: frozenset[str] = frozenset(),
) -> SplitResult:
    """Split one dump's text into stories (line indices) and boilerplate lines.

    `repeated`: repeated_lines keys of lines learned as boilerplate; `openings`: story_openings
    keys of paragraphs learned as story openings; `continuations`: story_continuations keys of
    line pairs learned to stand in one story. `memo`: the topic model's memo of a DoFn
    instance, kept from dump to dump (the news repeats paragraphs a lot); the result is the
    same without it.
    """
    lines = text_lines(text, repeated)
    known = known_openings(lines, openings)
    joined = joined_lines(lines, continuations)
    titles = find_titles(lines, known, joined)
    lines = [
        TextLine(ln.start, ln.end, ln.text, ln.blank_before, ROLE_TITLE) if i in titles else ln
        for i, ln in enumerate(lines)
    ]
    leaning: set[int] = set()
    blocks, cues = explicit_boundaries(
        lines, titles, leaning if config.use_topic_shift else None, known, joined
    )
    if leaning:
        cut_blocks, cut_cues = [], []
        for block, cue in zip(blocks, cues, strict=True):
            for k, piece in enumerate(cut_at_leaning(lines, block, leaning, memo, joined)):
                cut_blocks.append(piece)
                cut_cues.append(cue if k == 0 else CUE_TRUNCATION)
        blocks, cues = cut_blocks, cut_cues
    mixed = mixed_layout(lines)
    stories: list[tuple[int, ...]] = []
    story_cues: list[str] = []
    story_scores: list[float] = []
    for block, cue in zip(blocks, cues, strict=True):
        if cue == CUE_OPENING:
            _title_at_open(lines, block)
        cuts = (
            topic_boundaries(lines, block, mixed, config.topic_penalty, memo, joined)
            if config.use_topic_shift
            else []
        )
        for c, _ in cuts:
            _title_at_open(lines, block[c:])
        edges = [0, *(c for c, _ in cuts), len(block)]
        scores = [1.0, *(p for _, p in cuts)]
        for k in range(len(edges) - 1):
            lo, hi = edges[k], edges[k + 1]
            # trailing non-story lines belong to no story (they stand between stories); indices
            # move, not slices (slicing once per line was quadratic on long boilerplate runs)
            while hi > lo and lines[block[hi - 1]].role not in CONTENT_ROLES:
                hi -= 1
            while lo < hi and lines[block[lo]].role not in CONTENT_ROLES:
                lo += 1
            part = block[lo:hi]
            if part:
                stories.append(tuple(part))
                story_cues.append(cue if k == 0 else CUE_TOPIC)
                story_scores.append(round(scores[k], 3))
    boilerplate = tuple(i for i, ln in enumerate(lines) if ln.role in NON_STORY_ROLES)
    return SplitResult(tuple(lines), tuple(stories), tuple(story_cues), tuple(story_scores), boilerplate)


def drafts_from_split(dump: Dump, result: SplitResult) -> Iterator[StoryDraft | Rejected]:
    """StoryDraft records for the stories, Rejected(kind="boilerplate") for non-story lines."""
    lines = result.lines
    for story, cue in zip(result.stories, result.cues, strict=True):
        start, end = lines[story[0]].start, lines[story[-1]].end
        yield StoryDraft(
            uri=dump.uri,
            record=dump.record,
            start=start,
            end=end,
            lines=tuple(Line(lines[i].start, lines[i].end, lines[i].role) for i in story),
            text=dump.text[start:end],
            cue=cue,
            metadata_json=dump.metadata_json,
        )
    for i in result.boilerplate:
        ln = lines[i]
        yield Rejected(
            stage="split",
            reason="boilerplate",
            uri=dump.uri,
            record=dump.record,
            start=ln.start,
            end=ln.end,
            text=ln.text,
            detail=ln.role,
            kind="boilerplate",
        )


# ---------------------------------------------------------------- Beam stage

import apache_beam as beam  # noqa: E402  (pure functions above need no Beam)

from transforms import counters  # noqa: E402


class SplitDumpFn(beam.DoFn):
    """Thin DoFn around split_text; boilerplate lines go to the REJECTED output."""

    REJECTED = "rejected"

    def __init__(self, config: SplitConfig):
        self._config = config
        self._stories = counters.counter(counters.DRAFTS)
        self._boilerplate = counters.counter(counters.BOILERPLATE_LINES)
        self._at_learned = counters.counter(counters.OPENED_AT_LEARNED)
        self._memo: FeatureMemo | None = None

    def setup(self):
        from transforms.gc_tuning import tune_for_batch

        tune_for_batch()  # see gc_tuning: this worker collects garbage less often, and not at exit
        self._memo = FeatureMemo()

    def process(
        self,
        dump: Dump,
        repeated_keys: frozenset[str] = frozenset(),
        opening_keys: frozenset[str] = frozenset(),
        continuation_keys: frozenset[str] = frozenset(),
    ):
        if self._memo is None:  # a runner that skipped setup()
            self._memo = FeatureMemo()
        result = split_text(
            dump.text,
            self._config,
            repeated_keys,
            memo=self._memo,
            openings=opening_keys,
            continuations=continuation_keys,
        )
        self._at_learned.inc(result.cues.count(CUE_OPENING))
        for item in drafts_from_split(dump, result):
            if isinstance(item, Rejected):
                self._boilerplate.inc()
                yield beam.pvalue.TaggedOutput(self.REJECTED, item)
            else:
                self._stories.inc()
                yield item


class SplitStories(beam.PTransform):
    """PCollection[Dump] -> (PCollection[StoryDraft], PCollection[Rejected]).

    `repeated_keys`: optional PCollection of repeated_lines keys (FindRepeatedLines), lines
    the corpus showed to be boilerplate; `opening_keys`: optional PCollection of story_openings
    keys (FindStoryOpenings), paragraphs the corpus showed to open stories;
    `continuation_keys`: optional PCollection of story_continuations keys
    (FindStoryContinuations), line pairs the corpus showed to stand in one story.
    """

    def __init__(
        self,
        config: SplitConfig = SplitConfig(),
        repeated_keys=None,
        opening_keys=None,
        continuation_keys=None,
    ):
        super().__init__()
        self._config = config
        self._repeated_keys = repeated_keys
        self._opening_keys = opening_keys
        self._continuation_keys = continuation_keys

    def expand(self, dumps):
        side = {}
        for name, label, keys in (
            ("repeated_keys", "RepeatedSet", self._repeated_keys),
            ("opening_keys", "OpeningSet", self._opening_keys),
            ("continuation_keys", "ContinuationSet", self._continuation_keys),
        ):
            if keys is not None:
                # one frozenset side input: built once, not converted again for every dump
                frozen = keys | label >> beam.combiners.ToSet() | f"Frozen{label}" >> beam.Map(frozenset)
                side[name] = beam.pvalue.AsSingleton(frozen)
        # The rejected output's type is declared so that Beam's exception-handling wrapper, which
        # declares its dead-letter output's, does not warn on every run about an undeclared tag.
        split = beam.ParDo(SplitDumpFn(self._config), **side).with_output_types(
            StoryDraft, **{SplitDumpFn.REJECTED: Rejected}
        )
        results = dumps | "SplitDump" >> split.with_outputs(
            SplitDumpFn.REJECTED, main="drafts"
        ).with_exception_handling(main_tag="drafts", dead_letter_tag="failed")
        failed = results.failed | "Failed" >> beam.MapTuple(
            lambda dump, error: rejected_from_failure("split", dump, error)
        )
        rejected = (results[SplitDumpFn.REJECTED], failed) | "Rejected" >> beam.Flatten()
        return results.drafts, rejected
