"""Where a teaser's deck (sub-headline) ends and its lede begins.

`KICKER: The party quit the coalition after the loss Australia's National Party has split…`
The deck carries no final punctuation, so nothing on the surface marks the seam. Every
place where a capitalised word follows a word that may end a deck is a candidate, up to the
first full stop (a deck is one headline or one sentence). Each candidate is read two ways,
as a language model would: how likely the text *breaks* there (the word before ends
sentences, the word after starts them) against how likely it simply *runs on* (the word
before is usually followed by a capitalised word, the pair is a known name, the seam would
split a run of capitalised words). Both come from word statistics counted over real news
sentences (resources/sentence_edges.json) and from Punkt's orthographic context. The deck
side adds its length, whether it reads as a headline or as a complete sentence (a deck that
opens "During …" needs a main clause), and whether the lede restates its words.

A conditional-logit model (weights in resources/deck_model.json, fitted on real articles by
tools/train_deck_split.py) turns the evidence into a probability per seam. The best seam is
taken when its probability is high enough; otherwise deck is None and the whole text stays
in the body: a missing deck is better than a sentence cut in half. One decision rule comes
before the model: a seam may not cut a person's titled name ("…a poor midterm showing |
Philippine President Ferdinand Marcos Jr") unless the words at the seam give evidence of a
break (run_break_supported); word statistics counted on one outlet know too few names for that.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import operator
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import NamedTuple, TypeVar

from transforms import line_cues
from transforms.sentences import ends_sentence, is_sentence_start
from transforms.topic_shift import BoundedMemo, content_terms

_WORD_RE = re.compile(r"\S+")
_OPEN_QUOTES = "\"'“‘"
_CLOSE_QUOTES = "\"'”’"
_EDGE_CHARS = _OPEN_QUOTES + _CLOSE_QUOTES + ",;:()[]"
MIN_DECK_WORDS = 2
MAX_DECK_WORDS = 40
MIN_LEDE_WORDS = 5
LEDE_WINDOW = 80  # words of the lede compared with the deck
OPENING_WINDOW = 12  # words of the lede that restate the deck, when it does
TEXT_WINDOW = MAX_DECK_WORDS + LEDE_WINDOW  # words of the text that any seam reads

T = TypeVar("T")


# ---------------------------------------------------------------------------- words


def core(word: str) -> str:
    """The word without surrounding quotes, brackets and clause punctuation."""
    return word.strip(_EDGE_CHARS)


def starts_capitalised(word: str) -> bool:
    """Capital letter, digit or currency sign first (what may open a lede)."""
    w = word.lstrip(_OPEN_QUOTES + "(")
    return bool(w) and (w[0].isupper() or w[0].isdigit() or w[0] in "$£€")


def is_upper(word: str) -> bool:
    """A capital letter first (names and sentence starts; digits excluded)."""
    w = word.lstrip(_OPEN_QUOTES + "(")
    return bool(w) and w[0].isupper()


@functools.lru_cache(maxsize=65536)
def edge_key(word: str) -> str:
    """Lookup form of a word: lower-case, straight apostrophes, no final stop.

    The possessive stays: "Australia's" never ends a sentence, whatever "Australia" does.
    """
    return core(word).lower().replace("’", "'").rstrip(".!?")


@functools.lru_cache(maxsize=65536)
def word_classes(word: str) -> tuple[str, str]:
    """(fine, coarse) class of a written word, the back-off for words the statistics lack.

    Coarse: number, all-caps, capitalised or lower-case. Fine marks a possessive, and for a
    lower-case word adds its last three letters ("-ing", "-ion", "-ers"), which carry much of
    its syntax.
    """
    key = edge_key(word)
    c = core(word)
    if not key or not c[:1].isalnum() and c[:1] not in "$£€":
        return "other", "other"
    if c[0].isdigit() or c[0] in "$£€":
        return "#", "#"
    if len(c) > 1 and c.isupper():
        return "A", "A"
    coarse = "U" if c[0].isupper() else "l"
    if key.endswith("'s"):
        return f"{coarse}:'s", coarse
    if coarse == "U":  # a name's last letters say nothing of its syntax
        return coarse, coarse
    return f"{coarse}:{key[-3:]}", coarse


# ---------------------------------------------------------------------------- statistics

# Per-word counts over real sentences (STAT_FIELDS order); see count_word_stats.
STAT_FIELDS = ("total", "last", "capital_next", "capital_total", "first", "capital_after_capital")


def _rate(k: float, n: float, prior: float, weight: float) -> float:
    """Rate of k successes in n, shrunk toward `prior` by `weight` pseudo-counts."""
    return (k + weight * prior) / (n + weight)


def _log_odds(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


@dataclass(frozen=True)
class EdgeEvidence:
    """Log-odds that bear on a seam, for one word (see WordStats)."""

    end: float  # the word ends a sentence
    start: float  # the word, capitalised, starts a sentence
    capital_next: float  # a capitalised word follows it inside a sentence
    after_capital: float  # capitalised inside a sentence, it follows another capitalised word
    known: bool  # the word itself was counted (not only its class)


@dataclass(frozen=True, eq=False)  # compared by identity: evidence() caches per instance
class WordStats:
    """How words behave at sentence edges and inside names, counted over real news text.

    `words` and `classes` map a lookup key (edge_key) or a class (word_classes) to counts in
    STAT_FIELDS order; `pairs` counts "prev next" pairs inside sentences where the next word is
    capitalised ("Prime Minister", "in London"). Rates are shrunk toward the word's class, the
    class toward its coarse class, so a rare or unseen word reads as its kind of word.
    """

    words: Mapping[str, Sequence[int]]
    classes: Mapping[str, Sequence[int]]
    pairs: Mapping[str, int]
    prior_weight: float = 4.0

    def _rates(self, counts: Sequence[int] | None, prior: tuple[float, ...]) -> tuple[float, ...]:
        if counts is None:
            return prior
        total, last, cap_next, cap_total, first, cap_after_cap = counts
        w = self.prior_weight
        return (
            _rate(last, total, prior[0], w),
            _rate(first, cap_total, prior[1], w),
            _rate(cap_next, total - last, prior[2], w),
            _rate(cap_after_cap, cap_total - first, prior[3], w),
        )

    @functools.cached_property
    def _global(self) -> tuple[float, ...]:
        coarse = [c for name, c in self.classes.items() if ":" not in name]
        sums = [sum(c[k] for c in coarse) for k in range(len(STAT_FIELDS))]
        return self._rates(sums, (0.5, 0.5, 0.5, 0.5))

    @functools.lru_cache(maxsize=65536)  # noqa: B019 - the stats live as long as the process
    def evidence(self, word: str) -> EdgeEvidence:
        """The four log-odds for a written word, backing off to its classes."""
        fine, coarse = word_classes(word)
        key = edge_key(word)
        rates = self._rates(self.classes.get(coarse), self._global)
        rates = self._rates(self.classes.get(fine), rates)
        counts = self.words.get(key)
        if counts is None and "-" in key:  # "center-left" reads as "left"
            counts = self.words.get(key.rsplit("-", 1)[-1])
        rates = self._rates(counts, rates)
        return EdgeEvidence(*(_log_odds(p) for p in rates), known=counts is not None)

    def pair_count(self, prev: str, word: str) -> int:
        """How often `word` (capitalised) followed `prev` inside a sentence."""
        return self.pairs.get(f"{edge_key(prev)} {edge_key(word)}", 0)


def count_word_stats(
    sentences: Iterable[str],
    min_count: int = 2,
    min_pair: int = 2,
    min_class: int = 20,
    rare: int = 5,
    prior_weight: float = 4.0,
) -> WordStats:
    """Count, over real sentences, how each word behaves at sentence edges (see WordStats).

    Words, pairs and fine classes seen fewer than min_count / min_pair / min_class times are
    left to their back-off: they carry more noise than evidence and would bloat the resource.
    Classes are counted over rare words only (seen at most `rare` times): an unseen word is
    a rare word, and "Marcos" behaves like the rare names, not like "The" or "President".
    """
    rows: Counter = Counter()  # (token as written, last, capital next, first, capital before)
    pairs: Counter = Counter()
    for sentence in sentences:
        tokens = [t for t in sentence.split() if edge_key(t)]
        upper = [is_upper(t) for t in tokens]
        last = len(tokens) - 1
        for j, tok in enumerate(tokens):
            rows[tok, j == last, j < last and upper[j + 1], j == 0, j > 0 and upper[j - 1]] += 1
            if j > 0 and upper[j]:
                pairs[f"{edge_key(tokens[j - 1])} {edge_key(tok)}"] += 1
    words: dict[str, list[int]] = {}
    per_token: list[tuple[str, tuple[int, ...]]] = []
    for (tok, is_last, capital_next, is_first, after_capital), n in rows.items():
        up = is_upper(tok)
        row = (n, n * is_last, n * capital_next, n * up, n * (is_first and up), n * (after_capital and up))
        per_token.append((tok, row))
        acc = words.setdefault(edge_key(tok), [0] * len(STAT_FIELDS))
        for k, v in enumerate(row):
            acc[k] += v
    classes: dict[str, list[int]] = {}
    for tok, row in per_token:
        if words[edge_key(tok)][0] > rare:
            continue
        for name in set(word_classes(tok)):
            acc = classes.setdefault(name, [0] * len(STAT_FIELDS))
            for k, v in enumerate(row):
                acc[k] += v
    return WordStats(
        words={w: tuple(c) for w, c in sorted(words.items()) if c[0] >= min_count},
        classes={w: tuple(c) for w, c in sorted(classes.items()) if c[0] >= min_class or ":" not in w},
        pairs={p: n for p, n in sorted(pairs.items()) if n >= min_pair},
        prior_weight=prior_weight,
    )


def word_stats_to_json(stats: WordStats) -> dict:
    return {
        "fields": list(STAT_FIELDS),
        "prior_weight": stats.prior_weight,
        "classes": {k: list(v) for k, v in stats.classes.items()},
        "words": {k: list(v) for k, v in stats.words.items()},
        "pairs": dict(stats.pairs),
    }


def word_stats_from_json(doc: dict) -> WordStats:
    if tuple(doc["fields"]) != STAT_FIELDS:
        raise ValueError("sentence_edges.json holds other fields; rebuild it with tools/train_deck_split.py")
    return WordStats(
        words={k: tuple(v) for k, v in doc["words"].items()},
        classes={k: tuple(v) for k, v in doc["classes"].items()},
        pairs=doc["pairs"],
        prior_weight=doc["prior_weight"],
    )


@functools.lru_cache(maxsize=1)
def shipped_word_stats() -> WordStats:
    text = resources.files("transforms.resources").joinpath("sentence_edges.json").read_text("utf-8")
    return word_stats_from_json(json.loads(text))


# ---------------------------------------------------------------------------- the teaser text


_COMMON_VERBS = frozenset(
    "is are was were be been has have had will would could can may might must should shall "
    "said says say do does did get gets got make makes made take takes took go goes went".split()
)
_ARTICLES = frozenset({"a", "an", "the"})
_DETERMINERS = _ARTICLES | {"its", "his", "her", "their", "our", "this", "these", "that", "those"}
_CLOSED_CLASS = frozenset(
    "a an the and or but nor of to in on at for with from by as into than that which who whose "
    "this these those its his her their our your my is are was were be been has have had will "
    "would can could should may might must not no so if about after before over under".split()
)
_SUBORDINATE_OPENERS = frozenset(
    "during after before while when as since until although though if because despite amid "
    "following in on at for with without under over from".split()
)


class WordFacts(NamedTuple):
    """What the seams read of one written word, worked out once per word (pure in the word).

    Each field is one of the word-level tests the helpers below apply (named after them); a
    teaser's seams all read the same words, and the same words recur across teasers.
    """

    core: str  # core(word)
    lower: str  # core(word), lower-cased
    key: str  # edge_key(word)
    upper: bool  # is_upper(word)
    capitalised: bool  # starts_capitalised(word): may open a lede
    may_end_deck: bool  # may stand before a seam (see is_candidate)
    core_lower_first: bool  # core starts with a lower-case letter
    core_upper_first: bool  # core starts with a capital letter
    long: bool  # core longer than three characters (title_case_ratio)
    own_verb: bool  # a verb on its own (has_verb)
    s_verb: bool  # a lower-case -s word: a headline verb after a capitalised word (has_verb)
    quote: int  # 1 opens a quotation, -1 closes one, 0 neither (quote_left_open)
    numeric: bool  # core opens with a digit or currency sign (or is empty)
    digit: bool  # core opens with a digit
    asks: bool  # ends in ? or ! before closing quotes and brackets
    close_quoted: bool  # ends with a closing quote
    open_quoted: bool  # starts with an opening quote
    clause_end: bool  # ends in , ; or :
    plain: bool  # a plain lower-case word (descriptor_length)
    closed_class: bool  # the word as written is a function word (descriptor_length)


def may_end_deck(word: str) -> bool:
    """Whether a deck may end with this word (is_candidate's test on the word before a seam)."""
    if word[-1] in ",;:-–—(" or core(word).lower() in _ARTICLES:
        return False
    return not line_cues.ends_sentence_simple(word) or word.rstrip(_CLOSE_QUOTES + ")")[-1:] in "?!"


def is_own_verb(word: str) -> bool:
    """An auxiliary or common verb, or a lower-case -ed word (has_verb)."""
    c = core(word)
    low = c.lower()
    return low in _COMMON_VERBS or (c[:1].islower() and len(c) > 4 and low.endswith("ed"))


def is_s_verb(word: str) -> bool:
    """A lower-case -s word ("sues", "puts"): a headline verb after a capitalised word (has_verb)."""
    c = core(word)
    low = c.lower()
    return c[:1].islower() and low.endswith("s") and not low.endswith("ss")


def quote_effect(word: str) -> int:
    """1 when the word opens a quotation, -1 when it closes one (closing wins), else 0."""
    tail = word.rstrip(".,;:!?")
    if len(tail) > 1 and tail[-1] in _CLOSE_QUOTES:
        return -1
    return 1 if len(word) > 1 and word[0] in _OPEN_QUOTES and word[1].isalnum() else 0


def word_facts(word: str) -> WordFacts:
    """The WordFacts of one written word."""
    c = core(word)
    first = c[:1]
    return WordFacts(
        core=c,
        lower=c.lower(),
        key=edge_key(word),
        upper=is_upper(word),
        capitalised=starts_capitalised(word),
        may_end_deck=may_end_deck(word),
        core_lower_first=first.islower(),
        core_upper_first=first.isupper(),
        long=len(c) > 3,
        own_verb=is_own_verb(word),
        s_verb=is_s_verb(word),
        quote=quote_effect(word),
        numeric=first.isdigit() or first in "$£€",
        digit=first.isdigit(),
        asks=word.rstrip(_CLOSE_QUOTES + ")")[-1:] in "?!",
        close_quoted=word[-1:] in _CLOSE_QUOTES,
        open_quoted=word[:1] in _OPEN_QUOTES,
        clause_end=word[-1:] in ",;:",
        plain=word[:1].islower() and word.isalpha(),
        closed_class=word in _CLOSED_CLASS,
    )


def word_terms(word: str) -> frozenset[str]:
    """The content terms of one written word (stemmed)."""
    return frozenset(content_terms(word))


class WordReader:
    """The word-level readings a split makes: the plain functions, or bounded memos of them.

    All are pure in the word, so a memo returns what the call would (see DeckSplitter). A
    memo holds about `memo_size` words (it starts over when full, then takes one teaser's
    words); a teaser holding a word longer than `max_chars` (a run of text with no space) is
    read without it, so no entry is large.
    """

    def __init__(self, memo_size: int = 0, max_chars: int = 64):
        self._size = memo_size
        self._max_chars = max_chars
        self._facts: dict[str, WordFacts] = {}
        self._terms: dict[str, frozenset[str]] = {}
        self._starts: dict[str, bool | None] = {}
        self._ends: dict[str, bool] = {}

    def _read(self, memo: dict[str, T], fn: Callable[[str], T], words: Sequence[str]) -> tuple[T, ...]:
        if not self._size or max(map(len, words), default=0) > self._max_chars:
            return tuple(map(fn, words))
        out = tuple(map(memo.get, words))
        if None in out:  # (fn never returns None here)
            if len(memo) + len(out) > self._size:
                memo.clear()
            memo.update({w: fn(w) for w in words if w not in memo})
            out = tuple(map(memo.__getitem__, words))
        return out

    def facts(self, words: Sequence[str]) -> tuple[WordFacts, ...]:
        """word_facts of each word."""
        return self._read(self._facts, word_facts, words)

    def terms(self, words: Sequence[str]) -> tuple[frozenset[str], ...]:
        """word_terms of each word."""
        return self._read(self._terms, word_terms, words)

    def starts_sentence(self, core_word: str) -> bool | None:
        """is_sentence_start of a word's core."""
        return self._one(self._starts, is_sentence_start, core_word)

    def ends_sentence(self, text: str) -> bool:
        """ends_sentence of a few words."""
        return self._one(self._ends, ends_sentence, text)

    def _one(self, memo: dict[str, T], fn: Callable[[str], T], arg: str) -> T:
        if arg in memo:
            return memo[arg]
        value = fn(arg)
        if self._size and len(arg) <= self._max_chars:
            if len(memo) >= self._size:
                memo.clear()
            memo[arg] = value
        return value


PLAIN_READER = WordReader()

# Words a seam reads one by one after it: a descriptor (descriptor_length reads up to 4 words
# on) or the lede's first capitals (SURPRISE_WINDOW). Later words count only through their
# terms and sentence ends, so facts are worked out for the head of the text (see head_length).
READ_AHEAD = 4
_MAY_END_SENTENCE = ".!?”’\"')"


@dataclass(frozen=True)
class TeaserWords:
    """The teaser text split into words, with what every seam reads computed once.

    `prefix` turns each seam's scans of the deck into look-ups: each of its tables is a helper
    below evaluated at every prefix of the words (the tests check they agree).
    """

    words: tuple[str, ...]
    offsets: tuple[int, ...]
    facts: tuple[WordFacts, ...]  # of the first head_length(...) words
    terms: tuple[frozenset[str], ...]  # content terms of each word (stemmed)
    sentence_end: tuple[bool, ...]  # the word closes a sentence (abbreviations do not)

    def sentence_end_from(self, k: int) -> int | None:
        """The first index >= k of a word that closes a sentence, None when none does."""
        try:
            return self.sentence_end.index(True, k)
        except ValueError:
            return None

    @functools.cached_property
    def keys(self) -> tuple[str, ...]:
        """edge_key of each head word (a word's key is in words[:i] when keys.index(key) < i)."""
        return tuple(map(operator.attrgetter("key"), self.facts))

    def run_left(self, k: int) -> int:
        """capital_run(words, k, -1)."""
        j = k
        while j >= 0 and self.facts[j].upper:
            j -= 1
        return k - j

    def run_right(self, i: int) -> int:
        """capital_run(words, i, 1)."""
        k = i
        while k < len(self.facts) and self.facts[k].upper:
            k += 1
        if k < len(self.facts):
            return k - i
        return k - i + capital_run(self.words, k, 1)

    @functools.cached_property
    def prefix(self) -> tuple[tuple[float, ...], tuple[bool, ...], tuple[bool, ...]]:
        """([i]: title_case_ratio, has_verb, quote_left_open of words[:i]) for every deck."""
        ratio, verb, quote = [0.0], [False], [False]
        n_long = n_upper = 0
        previous_upper = False
        for f in self.facts[:MAX_DECK_WORDS]:
            if f.long:
                n_long += 1
                n_upper += f.core_upper_first
            ratio.append(n_upper / n_long if n_long else 0.0)
            verb.append(verb[-1] or f.own_verb or (f.s_verb and previous_upper))
            quote.append(quote[-1] if not f.quote else f.quote > 0)
            previous_upper = f.core_upper_first
        return tuple(ratio), tuple(verb), tuple(quote)


def _word_spans(text: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """The first TEXT_WINDOW words of the text and their offsets."""
    words = text.split(maxsplit=TEXT_WINDOW)[:TEXT_WINDOW]
    if not words:
        return (), ()
    if text.startswith(" ".join(words)):  # single spaces (split_deck's text): offsets add up
        lengths = itertools.accumulate(map(len, words[:-1]), initial=0)
        return tuple(words), tuple(map(operator.add, lengths, range(len(words))))
    spans = [(m.start(), m.group()) for m in itertools.islice(_WORD_RE.finditer(text), TEXT_WINDOW)]
    return tuple(w for _, w in spans), tuple(o for o, _ in spans)


def last_candidate(n_words: int, sentence_end: Sequence[bool]) -> int:
    """The furthest word index a lede may start at (see candidate_indices)."""
    last = min(MAX_DECK_WORDS, n_words - MIN_LEDE_WORDS)
    if last > 0 and True in sentence_end[:last]:
        last = sentence_end.index(True) + 1  # the deck holds one sentence at most
    return last


def head_length(n_words: int, sentence_end: Sequence[bool]) -> int:
    """How many words a seam reads one by one: up to READ_AHEAD past the last candidate."""
    return max(0, min(n_words, last_candidate(n_words, sentence_end) + READ_AHEAD + 1))


def teaser_words(text: str, reader: WordReader = PLAIN_READER) -> TeaserWords:
    """The first words of the text, as many as any seam reads (a 50 MB line costs no more)."""
    words, offsets = _word_spans(text)
    ends = [False] * len(words)
    for k, w in enumerate(words):
        if w[-1] in _MAY_END_SENTENCE:
            ends[k] = reader.ends_sentence(" ".join(words[max(0, k - 2) : k + 1]))
    head = words[: head_length(len(words), ends)]
    return TeaserWords(words, offsets, reader.facts(head), reader.terms(words), tuple(ends))


def has_verb(deck: Sequence[str]) -> bool:
    """Rough test for a finite verb: an auxiliary or common verb, a lower-case -ed word, or a
    headline verb (a lower-case -s word after a capitalised one: "Yukos sues", "IBM puts")."""
    return any(
        is_own_verb(w) or (k and is_s_verb(w) and core(deck[k - 1])[:1].isupper()) for k, w in enumerate(deck)
    )


def opens_subordinate_without_verb(deck: Sequence[str]) -> bool:
    """A deck that opens with a preposition or subordinator ("During the performance of …")
    and has no finite verb is a fragment: the main clause is still to come."""
    return core(deck[0]).lower() in _SUBORDINATE_OPENERS and not has_verb(deck)


def title_case_ratio(words: Sequence[str]) -> float:
    """Share of the deck's longer words that are capitalised (headline-style decks)."""
    long = [core(w) for w in words if len(core(w)) > 3]
    if not long:
        return 0.0
    return sum(1 for w in long if w[:1].isupper()) / len(long)


def capital_run(words: Sequence[str], i: int, step: int) -> int:
    """Length of the run of capitalised words from words[i] going by `step` (+1 or -1)."""
    n = 0
    while 0 <= i < len(words) and is_upper(words[i]):
        n += 1
        i += step
    return n


def quote_left_open(words: Sequence[str]) -> bool:
    """Whether a quotation opened in these words is still open after the last one: a seam
    there would cut a quoted title or remark in two ("…’s song ‘New Day | Will Rise,’")."""
    is_open = False
    for w in words:
        effect = quote_effect(w)
        if effect:
            is_open = effect > 0
    return is_open


def capital_surprise(words: Sequence[str], lo: int, hi: int, stats: WordStats) -> float:
    """How unexpected the least expected capital after a lower-case word in words[lo:hi] is.

    Inside a sentence a capital follows "in", "of" or "by" easily, "sector" or "showing"
    hardly ever; a deck that would swallow such a transition has likely swallowed the lede's
    first words ("…banking sector Nigerian banks"). Log-odds against, 0 when there is none.
    """
    return _capital_surprise(words, [word_facts(w) for w in words], lo, hi, stats)


def _capital_surprise(
    words: Sequence[str], facts: Sequence[WordFacts], lo: int, hi: int, stats: WordStats
) -> float:
    worst = 0.0
    for k in range(max(lo, 1), min(hi, len(words))):
        if facts[k].upper and facts[k - 1].core_lower_first:
            worst = max(worst, -stats.evidence(words[k - 1]).capital_next)
    return worst


def run_entry_surprise(words: Sequence[str], i: int, stats: WordStats) -> float:
    """For a seam inside a run of capitalised words, how unexpected the run's first capital is.

    "…after a poor midterm showing Philippine President Ferdinand | Marcos Jr": a run entered
    from a word that is hardly ever followed by a capital ("showing") more likely opens the
    lede itself than holds a seam; one entered from "in" or "by" is a name the deck ends with.
    """
    start = i - capital_run(words, i - 1, -1)
    if start < 1 or not core(words[start - 1])[:1].islower():
        return 0.0
    return -stats.evidence(words[start - 1]).capital_next


def phrase_surprise(words: Sequence[str], i: int, stats: WordStats) -> float:
    """capital_surprise over the deck's final noun phrase: from its last determiner to the seam,
    when no function word or punctuation intervenes ("after a poor midterm showing Philippine
    President Ferdinand |"): a phrase that runs from plain words into a name it rarely precedes."""
    return _phrase_surprise(words, [word_facts(w) for w in words], i, stats)


def _phrase_surprise(words: Sequence[str], facts: Sequence[WordFacts], i: int, stats: WordStats) -> float:
    k = i - 1
    while k > 0 and i - k <= 8:
        f = facts[k - 1]
        if f.lower in _DETERMINERS:
            return _capital_surprise(words, facts, k, i, stats)
        if f.clause_end or f.lower in _CLOSED_CLASS:
            return 0.0
        k -= 1
    return 0.0


def descriptor_length(words: Sequence[str], start: int) -> int:
    """Length of a descriptor opening at words[start] and followed by a name, else 0.

    News ledes name things through a capitalised descriptor: "Technology firms Sony, …",
    "Swiss cement firm Holcim", "US behemoth General Electric". The descriptor is a capitalised
    word and one to three plain lower-case words (no function word, no punctuation), then a
    capitalised word.
    """
    return _descriptor_length([word_facts(w) for w in words], start)


def _descriptor_length(facts: Sequence[WordFacts], start: int) -> int:
    if not (0 <= start < len(facts)) or not facts[start].upper or facts[start].clause_end:
        return 0
    k = start + 1
    while k < len(facts) and k - start <= 3 and facts[k].plain:
        if facts[k].closed_class:
            return 0
        k += 1
    return k - start if k > start + 1 and k < len(facts) and facts[k].upper else 0


# Words that stand before a person's name in news copy ("Prime Minister Tony Blair", "Philippine
# President Ferdinand Marcos Jr"): the capitalised words around such a title are one phrase, the
# title's modifiers before it and the name after it. Honorifics that take a surname alone
# ("Mr Blair") are left out: after them the name is already complete.
PERSON_TITLES = frozenset(
    "president vice-president president-elect minister prime chancellor secretary senator "
    "governor king queen prince princess pope general colonel captain sir lord lady dame judge "
    "mayor premier ambassador commissioner chairman archbishop bishop cardinal sheikh emperor "
    "speaker".split()
)


def run_break_supported(
    words: Sequence[str], i: int, stats: WordStats, reader: WordReader = PLAIN_READER
) -> bool:
    """Whether a seam before words[i] may cut a titled name phrase.

    When a run of capitalised words holding a person title is entered from a plain lower-case
    word that may itself end the deck ("…a poor midterm showing | Philippine President
    Ferdinand Marcos Jr yesterday"), the seam goes at the run's start unless something says
    the run really breaks inside: the word after the seam opens sentences (Punkt) or is likelier
    to start a sentence than to continue a name, the word before it is likelier to end a
    sentence than to run on into a capital ("…across Africa | Prime Minister Tony Blair"), or
    the word repeats ("…for Chancellor | Chancellor Gordon Brown"). Unknown words read as their
    class, so an unseen name ("Marcos") is no such evidence.
    """
    prev, word = words[i - 1], words[i]
    if not (is_upper(prev) and is_upper(word)):
        return True
    start = i - capital_run(words, i - 1, -1)
    if start < 1 or not core(words[start - 1])[:1].islower() or not is_candidate(words, start):
        return True  # no seam at the run's start to prefer
    end = i + capital_run(words, i, 1)
    if not any(edge_key(words[k]) in PERSON_TITLES for k in range(start, end)):
        return True
    before, after = stats.evidence(prev), stats.evidence(word)
    return (
        reader.starts_sentence(core(word))
        or after.start >= after.after_capital
        or before.end >= before.capital_next
        or edge_key(word) == edge_key(prev)
    )


def is_candidate(words: Sequence[str], i: int) -> bool:
    """Whether the lede may start at word i: a capital after a word that can end a deck.

    Headlines may end in "?" or "!" (but a deck never ends in a full stop); a comma, a colon, a
    dash or an article always wants more words (see may_end_deck). Other words are left to the
    statistics: "to do so", "I always will be" end sentences although "so" and "be" rarely do.
    """
    return starts_capitalised(words[i]) and may_end_deck(words[i - 1])


def candidate_indices(tw: TeaserWords) -> list[int]:
    """Word indices where the lede may start, no further than the first sentence end."""
    facts = tw.facts
    return [
        i
        for i in range(MIN_DECK_WORDS, last_candidate(len(tw.words), tw.sentence_end) + 1)
        if facts[i].capitalised and facts[i - 1].may_end_deck
    ]


# ---------------------------------------------------------------------------- features

DECK_LENGTH_BINS = ((2, 3), (4, 6), (10, 14), (15, 20), (21, 30), (31, MAX_DECK_WORDS))  # 7-9: baseline
LEDE_SENTENCE_BINS = ((1, 4), (5, 9))  # words to the first full stop: the deck swallowed most of it
SURPRISE_WINDOW = 3  # words of the lede searched for a capital that should not be there


def _bin_indicators(bins: Sequence[tuple[int, int]], top: int) -> tuple[tuple[float, ...], ...]:
    """[v]: the 0/1 indicator of each (lo, hi) bin holding v, for v up to top (a feature row
    looks its bins up instead of testing them)."""
    return tuple(tuple(1.0 if lo <= v <= hi else 0.0 for lo, hi in bins) for v in range(top + 1))


_DECK_LENGTH_ROWS = _bin_indicators(DECK_LENGTH_BINS, MAX_DECK_WORDS)
_LEDE_SENTENCE_ROWS = _bin_indicators(LEDE_SENTENCE_BINS, TEXT_WINDOW)

FEATURES = (
    # the seam itself: break against run-on
    "prev_end",
    "next_start",
    "prev_capital_next",
    "next_after_capital",
    "next_after_capital_if_prev_upper",
    "pair_seen",
    "next_punkt_starter",
    "prev_unknown",
    "next_unknown",
    "prev_upper",
    "prev_digit",
    "prev_question",
    "prev_quote",
    "next_digit",
    "next_quote",
    "inside_run",
    "inside_run_left",
    "inside_run_right",
    "next_repeats_prev",
    "run_entry_surprise",
    # the deck
    *(f"deck_words_{lo}_{hi}" for lo, hi in DECK_LENGTH_BINS),
    "deck_title_case",
    "deck_fragment",
    "deck_tail_repeats",
    "deck_open_quote",
    "deck_ends_with_descriptor",
    "deck_phrase_surprise",
    # the lede against the deck
    "next_in_deck",
    "overlap",
    "overlap_count",
    "restates",
    "lede_opening_surprise",
    "lede_opens_with_descriptor",
    *(f"lede_sentence_{lo}_{hi}" for lo, hi in LEDE_SENTENCE_BINS),
)


def seam_features(
    tw: TeaserWords, i: int, stats: WordStats, reader: WordReader = PLAIN_READER
) -> tuple[float, ...]:
    """The evidence for a seam before word i (FEATURES order).

    Reads the teaser's per-word facts and prefix tables rather than scanning the deck again for
    every seam (each feature is the helper above applied to the seam; the tests check they agree).
    `tw.facts` covers the head of the text only: a seam reads no further than READ_AHEAD words
    past the last candidate (see head_length).
    """
    words, facts = tw.words, tw.facts
    prev, word = words[i - 1], words[i]
    fp, fw = facts[i - 1], facts[i]
    p, n = stats.evidence(prev), stats.evidence(word)
    prev_upper, next_upper = fp.upper, fw.upper
    inside = prev_upper and next_upper
    terms = tw.terms
    head = frozenset().union(*terms[: max(0, i - 3)])
    tail = frozenset().union(*terms[max(0, i - 3) : i])
    deck_terms = head | tail
    opening = frozenset().union(*terms[i : i + OPENING_WINDOW])
    lede_terms = opening.union(*terms[i + OPENING_WINDOW : i + LEDE_WINDOW])
    end = tw.sentence_end_from(i)
    sentence_len = len(words) - i if end is None else end - i + 1
    ratio, verb, quote = tw.prefix
    entry_surprise = 0.0
    if inside:
        start = i - tw.run_left(i - 1)  # run_entry_surprise
        if start >= 1 and facts[start - 1].core_lower_first:
            entry_surprise = -stats.evidence(words[start - 1]).capital_next
    shared = len(deck_terms & lede_terms)
    return (
        p.end,
        n.start,
        p.capital_next,
        n.after_capital,
        n.after_capital if prev_upper else 0.0,
        math.log1p(stats.pairs.get(f"{fp.key} {fw.key}", 0)),  # stats.pair_count(prev, word)
        1.0 if reader.starts_sentence(fw.core) else 0.0,
        0.0 if p.known else 1.0,
        0.0 if n.known else 1.0,
        1.0 if prev_upper else 0.0,
        1.0 if fp.numeric else 0.0,
        1.0 if fp.asks else 0.0,
        1.0 if fp.close_quoted else 0.0,
        1.0 if fw.digit else 0.0,
        1.0 if fw.open_quoted else 0.0,
        1.0 if inside else 0.0,
        math.log(tw.run_left(i - 1)) if inside else 0.0,
        math.log(tw.run_right(i)) if inside else 0.0,
        1.0 if fw.key == fp.key else 0.0,
        entry_surprise,
        *_DECK_LENGTH_ROWS[i],
        ratio[i],
        1.0 if facts[0].lower in _SUBORDINATE_OPENERS and not verb[i] else 0.0,
        1.0 if tail & head else 0.0,
        1.0 if quote[i] else 0.0,
        1.0 if any(_descriptor_length(facts, j) == i - j for j in range(max(1, i - 4), i - 1)) else 0.0,
        _phrase_surprise(words, facts, i, stats),
        1.0 if tw.keys.index(fw.key) < i else 0.0,
        shared / len(deck_terms) if deck_terms else 0.0,
        math.log1p(shared),
        len(opening & deck_terms) / len(opening) if opening else 0.0,
        _capital_surprise(words, facts, i + 1, i + 1 + SURPRISE_WINDOW, stats),
        1.0 if _descriptor_length(facts, i) else 0.0,
        *_LEDE_SENTENCE_ROWS[sentence_len],
    )


def candidate_seams(
    text: str, stats: WordStats | None = None, reader: WordReader = PLAIN_READER
) -> tuple[TeaserWords, list[tuple[int, tuple[float, ...]]]]:
    """The text's words and (word index, features) of every candidate seam."""
    stats = stats or shipped_word_stats()
    tw = teaser_words(text, reader)
    return tw, [(i, seam_features(tw, i, stats, reader)) for i in candidate_indices(tw)]


# ---------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class Seam:
    index: int  # word index where the lede starts
    offset: int  # character offset in the text
    probability: float
    features: tuple[float, ...]


@dataclass(frozen=True)
class DeckModel:
    """Conditional logit over a teaser's candidate seams, plus a 'no seam' option at score 0."""

    weights: tuple[float, ...]
    bias: float  # score of a seam relative to 'no seam'
    accept: float = 0.5

    def score(self, features: Sequence[float]) -> float:
        if len(features) != len(self.weights):
            raise ValueError(f"{len(features)} features for {len(self.weights)} weights")
        # map(mul) sums the same products in the same order as a generator would, without
        # a Python frame per feature
        return self.bias + sum(map(operator.mul, self.weights, features))

    def to_json(self) -> dict:
        return {
            "features": list(FEATURES),
            "weights": list(self.weights),
            "bias": self.bias,
            "accept": self.accept,
        }

    @staticmethod
    def from_json(doc: dict) -> DeckModel:
        if tuple(doc["features"]) != FEATURES:
            raise ValueError("deck_model.json was fitted on other features; refit it")
        return DeckModel(tuple(doc["weights"]), doc["bias"], doc.get("accept", 0.5))


@functools.lru_cache(maxsize=1)
def shipped_deck_model() -> DeckModel:
    text = resources.files("transforms.resources").joinpath("deck_model.json").read_text("utf-8")
    return DeckModel.from_json(json.loads(text))


def score_seams(
    text: str,
    model: DeckModel | None = None,
    stats: WordStats | None = None,
    reader: WordReader = PLAIN_READER,
) -> list[Seam]:
    """Every candidate seam with its probability (softmax over seams and 'no seam').

    Seams that would cut a titled name without evidence (run_break_supported) are no options:
    the model weighs word statistics one seam at a time, and news text it was not fitted on
    ("Ferdinand" is a BBC surname, "showing" never ends a BBC sentence) can outvote the
    structure of a title phrase. The model is fitted on every candidate; this is a decision rule.
    """
    model = model or shipped_deck_model()
    stats = stats or shipped_word_stats()
    tw = teaser_words(text, reader)
    facts = tw.facts
    indices = [
        i
        for i in candidate_indices(tw)
        # run_break_supported holds unless both words are capitalised: skip the call then
        if not (facts[i - 1].upper and facts[i].upper) or run_break_supported(tw.words, i, stats, reader)
    ]
    if not indices:
        return []
    candidates = [(i, seam_features(tw, i, stats, reader)) for i in indices]
    scores = [model.score(f) for _, f in candidates]
    top = max(max(scores), 0.0)
    norm = math.exp(-top) + sum(math.exp(s - top) for s in scores)
    return [
        Seam(i, tw.offsets[i], math.exp(s - top) / norm, f)
        for (i, f), s in zip(candidates, scores, strict=True)
    ]


def split_deck(
    text: str,
    model: DeckModel | None = None,
    stats: WordStats | None = None,
    reader: WordReader = PLAIN_READER,
) -> tuple[str | None, str]:
    """(deck, lede) of the text after a kicker; (None, text) when no seam is convincing."""
    model = model or shipped_deck_model()
    text = " ".join(text.split())
    seams = score_seams(text, model, stats, reader)
    if not seams:
        return None, text
    best = max(seams, key=lambda s: (s.probability, -s.index))
    if best.probability < model.accept:
        return None, text
    return text[: best.offset].rstrip(), text[best.offset :]


class DeckSplitter:
    """split_deck with bounded memos, one per DoFn instance.

    Syndicated teasers recur word for word across dumps, and their words recur far more:
    split_deck and the word readings are pure, so a memo hit returns exactly what the call
    would. The memo of whole splits is bounded in characters, not texts: the default holds
    some 7,000 news teasers in about 10 MB, so a 50 MB crawl (10,100 distinct teasers in
    20,000) splits 10,600 texts, where a memo of 4,096 texts split 12,900. Texts longer than
    max_text_chars are split without being kept.
    """

    def __init__(
        self,
        model: DeckModel | None = None,
        stats: WordStats | None = None,
        max_chars: int = 4_000_000,
        max_text_chars: int = 2000,
        max_words: int = 65536,
    ):
        self._model = model or shipped_deck_model()
        self._stats = stats or shipped_word_stats()
        self._reader = WordReader(max_words)
        self._max_text_chars = max_text_chars
        self._splits: BoundedMemo[tuple[str | None, str]] = BoundedMemo(max_chars)

    def _split_uncached(self, text: str) -> tuple[str | None, str]:
        return split_deck(text, self._model, self._stats, self._reader)

    def __call__(self, text: str) -> tuple[str | None, str]:
        """split_deck(text) with this splitter's model and statistics."""
        if len(text) > self._max_text_chars:
            return self._split_uncached(text)
        return self._splits.get(text, len(text), lambda: self._split_uncached(text))
