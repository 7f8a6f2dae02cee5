"""What a single line of a dump looks like: boilerplate, byline, dateline, credit, kicker, title.

Pure functions over one line of text; the splitter (split_stories) combines them with the
lines around it. Every pattern here is linear-time: no nested quantifiers over the same
characters, so adversarial lines cannot make them backtrack.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

# Closing characters that may follow a sentence's final punctuation.
_CLOSERS = "\"'”’“‘)]»"
_TERMINAL = ".!?"

WORD_RE = re.compile(r"\w+", re.UNICODE)

# ---------------------------------------------------------------- boilerplate

# Interface text that scrapers pick up around articles. Whole-line matches, case-insensitive.
_BOILERPLATE_PHRASES = [
    r"advertisement",
    r"sponsored( content)?",
    r"(story|article) continues below( (this )?advertisement)?",
    r"share( this( article| story| page| post)?)?( (on|via) \w+)?",
    r"share on \w+",
    r"(tweet|email|print|save|comment|like|reply)( this( story| article| page)?)?",
    r"(email|print) this( story| article| page)",
    r"follow us( on \w+)?",
    r"follow @\w+",
    r"subscribe( (to|for) .{1,60})?",
    r"sign up( (to|for) .{1,80})?",
    r"(get|download) (the|our) app",
    r"most (read|popular|viewed|shared|watched)",
    r"(related|more) (stories|articles|topics|content|links|coverage|news)",
    r"more on this (story|topic)",
    r"read more( (on|about) .{1,60})?",
    r"(top|latest|trending|recommended) (stories|news|articles)",
    r"back to (the )?top",
    r"skip to (the )?(main )?(content|navigation)",
    r"listen to this (article|story)",
    r"media playback is (unsupported|not supported) on your device",
    r"report an? (error|issue|typo|correction)",
    r"\d{1,3} min(ute)?s? (read|listen)",
    r"(published|updated|last updated|posted)( (at|on))?:? .{1,40}",
    r"comments?( \(\d+\))?",
    r"\d+ comments?",
    r"(view|show|load) (more )?comments?",
    r"(photo|photograph|image|picture|video|graphic|illustration)s?( credit)?: .{1,60}",
    r"(getty images|reuters|afp|ap|epa|pa media|pa)( photo)?",
    r"all rights reserved\.?",
    r"(copyright|©) .{0,80}",
    r".{0,80}all rights reserved\.?",
    r"click here .{0,60}",
    r"cookies? (policy|settings)",
    r"(privacy|terms)( policy| of (use|service))?",
    r"loading\.{0,3}",
]
_BOILERPLATE_RE = re.compile(r"^(?:" + "|".join(_BOILERPLATE_PHRASES) + r")[.!:]?$", re.IGNORECASE)
# Navigation bars: short items separated by pipes or bullets ("Home | News | Sport").
_NAV_RE = re.compile(r"^[^|•·]{1,30}(?:\s[|•·]\s[^|•·]{1,30}){2,}$")

# "By Jane Smith" (or "BY ..."), "By Jane Smith, BBC News", "By Jane Smith and Tom Hall", "By Jane
# Smith | Health editor", "By Jane Smith for The Times", "Written by Jane Smith", "From Jane Smith
# in Brussels"
_BYLINE_RE = re.compile(
    r"^(?:(?i:by)|(?:Written|Words|Story|Text|Posted) by)\s+[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,3}"
    r"(?:(?:,\s+|\s+and\s+|\s+for\s+|\s+[-|•·]\s+).{1,60})?$"
    r"|^From\s+[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){1,3}\s+in\s+[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,2}$"
)
# "Jane Smith, Business reporter" / "Political correspondent"
_ROLE_LINE_RE = re.compile(
    r"^(?:[A-Z][\w.'’-]*\s+){0,3}[A-Z][\w.'’-]*,?\s+[\w ]{0,30}"
    r"(?:reporter|correspondent|editor|writer|staff writer|contributor)$",
    re.IGNORECASE,
)
# "Jane Smith | Business desk", "Jane Smith - Investigations team": a name of two to four words, a
# separator, a role (more kinds of role than above: without the separator, "England's World Cup
# team" would be one).
_NAME_ROLE_LINE_RE = re.compile(
    r"^[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){1,3}\s*(?:,|\s[|•·–—-])\s+[\w ]{0,30}"
    r"(?:reporter|correspondent|editor|writer|contributor|columnist|commentator|critic|analyst|producer|"
    r"photographer|desk|team|staff)$",
    re.IGNORECASE,
)
# "LONDON (Reuters) -", "NEW YORK, March 3 (AP) —", "São Paulo (dpa) -" as a line of its own: a
# place in capitals, or in words that each start with one, then the agency in brackets, a dash;
# or, with no agency, a place in capitals and a dash ("CAPE TOWN —").
_DATELINE_RE = re.compile(
    r"^(?:[A-Z][A-Z.'’ -]{1,40}|[A-ZÀ-ÖØ-Þ][\w.'’-]*(?: [A-ZÀ-ÖØ-Þ][\w.'’-]*){0,3})"
    r"(?:,\s+[A-Z][a-z]+\.?\s+\d{1,2})?\s+\([A-Za-z][\w .&-]{0,30}\)\s*[-–—]+$"
    r"|^[A-Z][A-Z.'’]*(?: [A-Z][A-Z.'’]*){0,3}(?:,\s+[A-Z][a-z]+\.?\s+\d{1,2})?\s+[-–—]{1,2}$"
)
# "Reporting by X; Editing by Y", "Additional reporting by ...", "(Writing by ...)"
_CREDIT_RE = re.compile(
    r"^\(?(?:additional\s+)?(?:reporting|writing|editing|compiled|research|produced)\s+by\s+.{1,160}$",
    re.IGNORECASE,
)

BOILERPLATE = "boilerplate"
BYLINE = "byline"
DATELINE = "dateline"
CREDIT = "credit"
# Every kind boilerplate_kind gives: the non-story lines known without looking at the corpus.
BUILTIN_KINDS = (BOILERPLATE, BYLINE, DATELINE, CREDIT)


def stripped_lines(text: str) -> list[str]:
    """The non-blank lines of a dump, stripped, as the splitter reads them: maximal runs of
    characters other than "\\r" and "\\n" (see accounting). The corpus-learning stages read
    the same lines: str.splitlines would also cut at U+2028 and U+2029, which stay inside a line
    (ReadDumps turns the other line-breaking controls into "\\n")."""
    return [s for s in (ln.strip() for ln in text.replace("\r", "\n").split("\n")) if s]


MAX_CREDIT_CHARS = 200  # no rule below looks at a longer line
MAX_CACHED_CHARS = 4 * MAX_CREDIT_CHARS  # longer lines are not kept in _short_line_kind's cache


def boilerplate_kind(line: str) -> str | None:
    """The kind of non-story line this is (boilerplate, byline, dateline, credit), or None."""
    # A long paragraph whose only whitespace is single spaces inside it (every other whitespace
    # character is unprintable) is its own normal form, and longer than any rule takes.
    if (
        len(line) > MAX_CREDIT_CHARS
        and line[0] != " "
        and line[-1] != " "
        and "  " not in line
        and line.isprintable()
    ):
        return None
    if len(line) > MAX_CACHED_CHARS:  # a long line with odd spacing: not worth holding
        return _short_line_kind.__wrapped__(line)
    return _short_line_kind(line)


@functools.lru_cache(maxsize=1 << 16)
def _short_line_kind(line: str) -> str | None:
    """boilerplate_kind past its test for long paragraphs. Cached: pages repeat their short
    lines (bylines, chrome, headlines of copied articles), and FindRepeatedLines and the splitter
    both ask of the same lines; a pure function, so the cache never changes a result."""
    text = " ".join(line.split())
    if not text:
        return None
    if _CREDIT_RE.match(text) and (len(text) < 90 or (len(text) <= MAX_CREDIT_CHARS and ";" in text)):
        return CREDIT
    if len(text) > 120:
        return None
    if _DATELINE_RE.match(text):
        return DATELINE
    if _BYLINE_RE.match(text) and not ends_sentence_simple(text):
        return BYLINE
    if len(text) <= 60 and (_ROLE_LINE_RE.match(text) or _NAME_ROLE_LINE_RE.match(text)):
        return BYLINE
    if _BOILERPLATE_RE.match(text) or _NAV_RE.match(text):
        return BOILERPLATE
    return None


# ---------------------------------------------------------------- kickers

# "BACKLASH: ...", "NO EXCUSES: ...", "U-TURN: ...", "DÉJÀ VU: ...", "£1BN BLOW: ...", "WHAT NEXT?: ..."
# — one to five words in capitals, a colon, then the teaser text. The pattern only finds the
# shape (words with no space, colon or ASCII lower-case letter; the first opening with a letter,
# a digit or a currency sign, not a quote, bracket or bullet); match_kicker then asks the label
# for two capitals and no lower-case letter, in any script. Digits and signs are allowed in the
# words, but the label must hold letters.
_KICKER_RE = re.compile(r"^((?:[^\W_a-z]|[£$€¥#])[^\s:a-z]*(?: [^\s:a-z]+){0,4}):[ \t]+(\S.*)$")
MIN_TEASER_WORDS_AFTER_KICKER = 6


@dataclass(frozen=True)
class KickerMatch:
    kicker: str  # the label, without the colon
    rest_offset: int  # offset in the line where the text after the label starts


def match_kicker(line: str) -> KickerMatch | None:
    """A capitalised label at the line start followed by teaser text, else None.

    Not a kicker: a label without letters ("2024: ..."), a single letter ("A: ..."),
    a colon inside a quotation (the line then starts with a quote mark), a short remainder.
    """
    m = _KICKER_RE.match(line)
    if not m:
        return None
    label, rest = m.group(1), m.group(2)
    # two capitals at least (a script without case, such as Chinese, has no kicker labels), and no
    # lower-case letter in any script
    if sum(map(str.isupper, label)) < 2 or any(map(str.islower, label)):
        return None
    if len(rest.split()) < MIN_TEASER_WORDS_AFTER_KICKER:
        return None
    return KickerMatch(kicker=label, rest_offset=m.start(2))


# ---------------------------------------------------------------- sentence ends and titles


def ends_sentence_simple(text: str) -> bool:
    """Whether the text ends with terminal punctuation (closing quotes/brackets allowed after it).

    An ellipsis counts as unfinished. Abbreviation-aware checks live in transforms.sentences;
    this cheap test is what the splitter needs per line.
    """
    t = text.rstrip().rstrip(_CLOSERS)  # one pass (a loop of t[:-1] copies was quadratic)
    if not t:
        return False
    if t.endswith("...") or t.endswith("…"):
        return False
    return t[-1] in _TERMINAL


_FUNCTION_WORDS = frozenset(
    "a an the and or but of to in on at for with from by as into than that which who whose "
    "its his her their our your my is are was were be been has have had will would can could "
    "should may might must not no nor so if between about against during without within through "
    "via amid among toward towards upon onto per".split()
)


# Function words that also end phrasal verbs, so a headline may stop on them ("Blair to face
# trust issue head on", "Markets hold on", "Rebels step in").
_PARTICLES = frozenset("on in by about through".split())


def dangling_function_word(text: str) -> bool:
    """Whether the text stops on a word that cannot end a sentence or a headline ("the", "of")."""
    return ends_on_function_word(text.split())


def ends_on_function_word(words: Sequence[str]) -> bool:
    """dangling_function_word of the text these words were split from."""
    return bool(words) and words[-1].strip(_CLOSERS + ",;:").lower() in _FUNCTION_WORDS


MAX_TITLE_WORDS = 20
MAX_TITLE_CHARS = 160


def looks_like_title(line: str, particle_ok: bool = False) -> bool:
    """Headline shape: short, starts with a capital, digit, currency sign or quote ("£5bn deal
    agreed"), no final full stop or comma.

    Headlines may end in '?' or '!' or a closing quote; they never end in '.', ',', ';', ':'
    or a dangling function word, unless `particle_ok` and that word may close a phrasal verb
    ("... head on": the caller has other evidence, a cut-off lede stops on "on" too).
    """
    text = line.strip()
    if len(text) > MAX_TITLE_CHARS:  # before splitting: most lines are long paragraphs
        return False
    words = text.split()
    if not words or len(words) > MAX_TITLE_WORDS:
        return False
    first = text[0]
    if not (first.isupper() or first.isdigit() or first in "\"'“‘£$€¥"):
        return False
    if not any(c.isalpha() for c in text):
        return False
    core = text.rstrip(_CLOSERS)
    if not core or core[-1] in ".,;:-–—" or core.endswith("…"):
        return False
    if dangling_function_word(text):
        return particle_ok and words[-1].strip(_CLOSERS).lower() in _PARTICLES
    return True


def word_count(text: str) -> int:
    return len(text.split())


# ---------------------------------------------------------------- line shape

_SHAPE_TOKEN_RE = re.compile(r"\w+|[^\w\s]")
_DIGITS_RE = re.compile(r"\d+")


def shape_tokens(text: str) -> frozenset[str]:
    """The tokens a line is built from, as far as its shape goes.

    Words lower-cased with every run of digits as "0" (a ranking's "27" and "3" are the same
    token, a score's "2-1" and "0-0" too), and each punctuation mark on its own. The items of a
    list share some of these (the "v" of fixtures, a leading "-", a rank number, a bracket).
    """
    return frozenset(_DIGITS_RE.sub("0", t.lower()) for t in _SHAPE_TOKEN_RE.findall(text))
