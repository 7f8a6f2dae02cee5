"""Sentence splitting with nltk's Punkt, using parameters shipped in the package as plain JSON.

`resources/punkt_english.json` is built by `tools/train_punkt.py` (Punkt trained on BBC news plus
hand-added news abbreviations); nothing is downloaded or unpickled at run time. Everything here is a
pure function over that one cached parameter set, so a DoFn only needs to call `sentence_tokenizer()`
in `setup()` to pay the load cost once per worker.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # nltk is imported on first use (see _punkt_classes): importing it takes seconds
    from nltk.tokenize.punkt import PunktLanguageVars, PunktParameters, PunktSentenceTokenizer

RESOURCE_PACKAGE = "transforms.resources"
RESOURCE_NAME = "punkt_english.json"

# Punkt's orthographic-context bits (nltk.tokenize.punkt._ORTHO_*; also listed in the JSON's meta).
ORTHO_BEG_UC = 1 << 1  # seen capitalised at a sentence start
ORTHO_MID_UC = 1 << 2  # seen capitalised mid-sentence
ORTHO_UNK_UC = 1 << 3  # seen capitalised where the position was unclear
ORTHO_BEG_LC = 1 << 4
ORTHO_MID_LC = 1 << 5
ORTHO_UNK_LC = 1 << 6
ORTHO_UC = ORTHO_BEG_UC | ORTHO_MID_UC | ORTHO_UNK_UC
ORTHO_LC = ORTHO_BEG_LC | ORTHO_MID_LC | ORTHO_UNK_LC

# Abbreviations that usually close the phrase they are in, so a text ending with one ("...talks with
# the U.S.") is taken as a finished sentence. Every other known abbreviation ("Feb.", "Mr.", "No.",
# "vs.", "e.g.", "Jr.") or initial ("P.J.", "J.") at the very end means the sentence goes on.
TERMINAL_ABBREVIATIONS = frozenset(
    {"u.s", "u.k", "u.n", "etc", "inc", "ltd", "co", "corp", "plc", "a.m", "p.m"}
)

# Closing quotes and brackets that may follow a sentence's final . ! ?
CLOSERS = "”\"’')]"
OPENERS = "“\"‘'(["
_PUNCTUATION = frozenset(";:,.!?")  # Punkt: sentences never start with these

_DOTTED_LETTERS = re.compile(r"(?:[^\W\d_]\.){2,}$")  # "P.J.", "U.S.", "e.g."
_INITIAL = re.compile(r"[^\W\d_]$")  # the "P" of "P."
_ELLIPSIS_END = re.compile(r"(?:\.\s?){2,}$|…$")
_LEADING_NON_WORD = re.compile(r"\W+")


def _strip_edge_punct(text: str) -> str:
    r"""Non-word characters off both ends, as `re.sub(r"^\W+|\W+$", "", text)` but linear (that
    pattern's `\W+$` backtracks quadratically on a long run of punctuation inside a word)."""
    m = _LEADING_NON_WORD.match(text)
    start = m.end() if m else 0
    end = len(text)
    while end > start and not (text[end - 1].isalnum() or text[end - 1] == "_"):
        end -= 1
    return text[start:end]


class _Flags(dict):
    """Ortho-context table: unknown words read as 0 without being inserted (unlike a defaultdict)."""

    def __missing__(self, key: str) -> int:
        return 0


def parameters_from_json(doc: dict[str, Any]) -> PunktParameters:
    """Punkt parameters from the JSON document written by tools/train_punkt.py (immutable sets)."""
    from transforms.nltk_import import import_nltk

    import_nltk()
    from nltk.tokenize.punkt import PunktParameters

    params = PunktParameters()
    params.abbrev_types = frozenset(doc["abbrev_types"])
    params.collocations = frozenset((a, b) for a, b in doc["collocations"])
    params.sent_starters = frozenset(doc["sent_starters"])
    params.ortho_context = _Flags(doc["ortho_context"])
    return params


@functools.cache
def load_punkt_parameters() -> PunktParameters:
    """The shipped English news Punkt parameters, read once per process. Shared: do not mutate."""
    resource = importlib.resources.files(RESOURCE_PACKAGE).joinpath(RESOURCE_NAME)
    return parameters_from_json(json.loads(resource.read_text(encoding="utf-8")))


@functools.cache
def _punkt_classes() -> tuple[type, type, type]:
    """(NewsPunktTokenizer, _LangVars, _Token), built on first use.

    nltk's package import pulls in most of nltk (about a second per process, without scipy.stats:
    see nltk_import); the pipeline's main process, which only builds the graph, never needs it,
    and a worker pays it once, when it first splits sentences.
    """
    from transforms.nltk_import import import_nltk

    import_nltk()
    from nltk.tokenize.punkt import PunktLanguageVars, PunktSentenceTokenizer, PunktToken

    class NewsPunktTokenizer(PunktSentenceTokenizer):
        """Punkt plus one rule: a run of dotted letters ("P.J.", "U.S.") is an abbreviation.

        Plain Punkt only treats single-letter initials ("J.") that way, so "spokesman P.J. Crowley" would
        split after "P.J.". As for any abbreviation, Punkt still breaks after it when the next word is a
        clear sentence start ("...talks with the U.S. The envoy ..."). Hooks nltk's first-pass
        annotation (a private method, stable across nltk 3.9-3.10; the tests pin the behaviour).
        """

        def _first_pass_annotation(self, aug_tok: PunktToken) -> None:
            super()._first_pass_annotation(aug_tok)
            if aug_tok.sentbreak and _DOTTED_LETTERS.match(aug_tok.tok.split("-")[-1]):
                aug_tok.sentbreak = False
                aug_tok.abbr = True

    class _LangVars(PunktLanguageVars):
        """Punkt's language variables with its fixed patterns compiled by the stdlib `re`.

        nltk 3.10 runs every regex through the third-party `regex` engine under a timeout (a ReDoS
        backstop for caller-supplied patterns), which makes Punkt about 3x slower; Punkt's own patterns
        are fixed and linear, and the stdlib engine finds the same matches (the dev set splits byte for byte
        the same). Same pattern texts and flags as nltk's.
        """

        re_boundary_realignment = re.compile(PunktLanguageVars.re_boundary_realignment.pattern, re.MULTILINE)

        def _word_tokenizer_re(self):
            try:
                return self._re_word_tokenizer
            except AttributeError:
                fields = {
                    "NonWord": self._re_non_word_chars,
                    "MultiChar": self._re_multi_char_punct,
                    "WordStart": self._re_word_start,
                }
                self._re_word_tokenizer = re.compile(
                    self._word_tokenize_fmt % fields, re.UNICODE | re.VERBOSE
                )
                return self._re_word_tokenizer

        def period_context_re(self):
            try:
                return self._re_period_context
            except AttributeError:
                fields = {"NonWord": self._re_non_word_chars, "SentEndChars": self._re_sent_end_chars}
                self._re_period_context = re.compile(
                    self._period_context_fmt % fields, re.UNICODE | re.VERBOSE
                )
                return self._re_period_context

    class _Token(PunktToken):
        """PunktToken with its patterns compiled by the stdlib `re` (see `_LangVars`)."""

        _RE_ELLIPSIS = re.compile(r"\.\.+$")
        _RE_NUMERIC = re.compile(r"^-?[\.,]?\d[\d,\.-]*\.?$")
        _RE_INITIAL = re.compile(r"[^\W\d]\.$", re.UNICODE)
        _RE_ALPHA = re.compile(r"[^\W\d]+$", re.UNICODE)
        _RE_NON_PUNCT = re.compile(r"[^\W\d]", re.UNICODE)

        @property
        def is_non_punct(self):
            return self._RE_NON_PUNCT.search(self.type)

    return NewsPunktTokenizer, _LangVars, _Token


@functools.cache
def sentence_tokenizer() -> PunktSentenceTokenizer:
    """The shared sentence tokenizer built on the shipped parameters (cached per process)."""
    news_tokenizer, _, token = _punkt_classes()
    return news_tokenizer(load_punkt_parameters(), lang_vars=_lang_vars(), token_cls=token)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) code-point offsets of each sentence of `text`, end exclusive, in order.

    Punkt's `span_tokenize`, plus one repair: a "sentence" that starts with a word Punkt's statistics
    know as lower-case mid-sentence (`"Why not?" he asked.`) is joined to the sentence before it.
    Closing quotes/brackets after the final punctuation belong to the sentence; whitespace before,
    between and after sentences belongs to none.
    """
    spans: list[tuple[int, int]] = []
    for start, end in sentence_tokenizer().span_tokenize(text):
        sentence = text[start:end]
        start, end = start + len(sentence) - len(sentence.lstrip()), start + len(sentence.rstrip())
        if start >= end:
            continue
        if spans and _continues_sentence(text[start:end]):
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


def has_break_candidate(text: str) -> bool:
    """Whether Punkt could break `text` anywhere: a . ? ! followed by punctuation or a next token.

    Without such a place (most one-sentence paragraphs: their only full stop ends the text)
    `sentence_spans` returns the whole text as one sentence, so callers that only count
    sentences can skip running Punkt.
    """
    return _lang_vars().period_context_re().search(text) is not None


def several_sentences(text: str) -> bool:
    """len(sentence_spans(text)) > 1, found lazily: Punkt stops once a second sentence starts."""
    if not has_break_candidate(text):
        return False
    count = 0
    for start, end in sentence_tokenizer().span_tokenize(text):
        sentence = text[start:end]
        start, end = start + len(sentence) - len(sentence.lstrip()), start + len(sentence.rstrip())
        if start >= end or (count and _continues_sentence(text[start:end])):
            continue  # as in sentence_spans: skipped, or joined to the sentence before
        count += 1
        if count > 1:
            return True
    return False


def _continues_sentence(sentence: str) -> bool:
    """Whether a split-off `sentence` really continues the previous one: it opens with a known
    lower-case word ("he", "said", "and")."""
    return sentence[:1].islower() and is_sentence_start(sentence.split(maxsplit=1)[0]) is False


def split_sentences(text: str) -> list[str]:
    """The sentences of `text` (slices of it, see `sentence_spans`)."""
    return [text[start:end] for start, end in sentence_spans(text)]


def _is_abbreviation(word: str) -> bool:
    """Punkt's own test on a lower-cased word without its final period (also "ex-gov" -> "gov")."""
    abbrev_types = load_punkt_parameters().abbrev_types
    return word in abbrev_types or word.split("-")[-1] in abbrev_types


def ends_sentence(text: str) -> bool:
    """Whether `text` stops at the end of a complete sentence (used to flag truncated stories).

    True for a final . ! ? (optionally followed by closing quotes/brackets ” " ’ ' ) ]), except when
    the final period belongs to a known abbreviation ("Feb.", "Mr.", a bare "No.") or an initial
    ("P.J.", "J."), or the text ends with an ellipsis ("..." or "…"). Abbreviations that normally close a
    phrase (TERMINAL_ABBREVIATIONS, e.g. "the U.S.", "Acme Inc.", "5 p.m.") do count as an ending.
    """
    stripped = text.rstrip().rstrip(CLOSERS).rstrip()
    # Only the last 4 characters can hold the ending ("..", ". .", "…"); searching the whole
    # text took quadratic time on a long run of dots.
    if not stripped or _ELLIPSIS_END.search(stripped[-4:]):
        return False
    if stripped[-1] in "!?":
        return True
    if stripped[-1] != ".":
        return False
    token = stripped.split()[-1]
    word = _strip_edge_punct(token[:-1]).lower()
    last = word.split("-")[-1]
    if word == "no" and token != "No.":
        return True  # "he said no." / "“No.": the word, not the abbreviation of "No. 2"
    if _INITIAL.match(last) or _DOTTED_LETTERS.match(last + ".") or _is_abbreviation(word):
        return last in TERMINAL_ABBREVIATIONS
    return True


@functools.cache
def _lang_vars() -> PunktLanguageVars:
    return _punkt_classes()[1]()


def is_sentence_start(word: str) -> bool | None:
    """Orthographic evidence on whether `word`, spelled as given, begins a sentence.

    Punkt's orthographic heuristic over the shipped flags (see tools/train_punkt.py for how they were
    counted and de-noised):
    True  - capitalised, and a word the news also writes lower-case but rarely capitalises
            mid-sentence ("The", "However", "Officials"): the capital marks a sentence start;
    False - lower-case (sentences don't start lower-case) unless the word is seen starting sentences
            in lower case; or punctuation;
    None  - no evidence: names capitalised everywhere ("Philippine", "Austria", "President"), unseen
            capitalised words, numbers, and ALL-CAPS words (their case says nothing).
    Surrounding quotes/brackets and a possessive or contraction ("Australia’s", "“It’s") are ignored.
    """
    tokens = _lang_vars().word_tokenize(word.strip().lstrip(OPENERS))
    if not tokens:
        return None
    token = tokens[0]
    if token in _PUNCTUATION:
        return False
    token = token.rstrip(".")
    if not token[:1].isalpha() or (len(token) > 1 and token.isupper()):
        return None
    flags = load_punkt_parameters().ortho_context[token.lower()]
    if token[0].isupper():
        return True if flags & ORTHO_LC and not flags & ORTHO_MID_UC else None
    if token[0].islower() and (flags & ORTHO_UC or not flags & ORTHO_BEG_LC):
        return False
    return None
