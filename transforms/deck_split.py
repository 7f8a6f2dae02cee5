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
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

from transforms import line_cues
from transforms.sentences import ends_sentence, is_sentence_start
from transforms.topic_shift import content_terms

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


@dataclass(frozen=True)
class TeaserWords:
    """The teaser text split into words, with what every seam reads computed once."""

    words: tuple[str, ...]
    offsets: tuple[int, ...]
    terms: tuple[frozenset[str], ...]  # content terms of each word (stemmed)
    sentence_end: tuple[bool, ...]  # the word closes a sentence (abbreviations do not)


def teaser_words(text: str) -> TeaserWords:
    """The first words of the text, as many as any seam reads (a 50 MB line costs no more)."""
    spans = [(m.start(), m.group()) for m in itertools.islice(_WORD_RE.finditer(text), TEXT_WINDOW)]
    words = tuple(w for _, w in spans)
    ends = tuple(
        w[-1:] in ".!?”’\"')" and ends_sentence(" ".join(words[max(0, k - 2) : k + 1]))
        for k, w in enumerate(words)
    )
    return TeaserWords(
        words, tuple(o for o, _ in spans), tuple(frozenset(content_terms(w)) for w in words), ends
    )


def has_verb(deck: Sequence[str]) -> bool:
    """Rough test for a finite verb: an auxiliary or common verb, a lower-case -ed word, or a
    headline verb (a lower-case -s word after a capitalised one: "Yukos sues", "IBM puts")."""
    for k, w in enumerate(deck):
        c = core(w)
        low = c.lower()
        if low in _COMMON_VERBS:
            return True
        if c[:1].islower() and len(c) > 4 and low.endswith("ed"):
            return True
        if (
            k
            and c[:1].islower()
            and low.endswith("s")
            and not low.endswith("ss")
            and core(deck[k - 1])[:1].isupper()
        ):
            return True
    return False


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
        if len(w) > 1 and w[0] in _OPEN_QUOTES and w[1].isalnum():
            is_open = True
        tail = w.rstrip(".,;:!?")
        if len(tail) > 1 and tail[-1] in _CLOSE_QUOTES:
            is_open = False
    return is_open


def capital_surprise(words: Sequence[str], lo: int, hi: int, stats: WordStats) -> float:
    """How unexpected the least expected capital after a lower-case word in words[lo:hi] is.

    Inside a sentence a capital follows "in", "of" or "by" easily, "sector" or "showing"
    hardly ever; a deck that would swallow such a transition has likely swallowed the lede's
    first words ("…banking sector Nigerian banks"). Log-odds against, 0 when there is none.
    """
    worst = 0.0
    for k in range(max(lo, 1), min(hi, len(words))):
        if is_upper(words[k]) and core(words[k - 1])[:1].islower():
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
    k = i - 1
    while k > 0 and i - k <= 8:
        w = words[k - 1]
        if core(w).lower() in _DETERMINERS:
            return capital_surprise(words, k, i, stats)
        if w[-1:] in ",;:" or core(w).lower() in _CLOSED_CLASS:
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
    if not (0 <= start < len(words)) or not is_upper(words[start]) or words[start][-1] in ",;:":
        return 0
    k = start + 1
    while k < len(words) and k - start <= 3 and words[k][:1].islower() and words[k].isalpha():
        if words[k] in _CLOSED_CLASS:
            return 0
        k += 1
    return k - start if k > start + 1 and k < len(words) and is_upper(words[k]) else 0


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


def run_break_supported(words: Sequence[str], i: int, stats: WordStats) -> bool:
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
        is_sentence_start(core(word))
        or after.start >= after.after_capital
        or before.end >= before.capital_next
        or edge_key(word) == edge_key(prev)
    )


def is_candidate(words: Sequence[str], i: int) -> bool:
    """Whether the lede may start at word i: a capital after a word that can end a deck.

    Headlines may end in "?" or "!" (but a deck never ends in a full stop); a comma, a colon, a
    dash or an article always wants more words. Other words are left to the statistics: "to do
    so", "I always will be" end sentences although "so" and "be" rarely do.
    """
    prev, word = words[i - 1], words[i]
    if not starts_capitalised(word):
        return False
    if prev[-1] in ",;:-–—(" or core(prev).lower() in _ARTICLES:
        return False
    return not line_cues.ends_sentence_simple(prev) or prev.rstrip(_CLOSE_QUOTES + ")")[-1:] in "?!"


def candidate_indices(tw: TeaserWords) -> list[int]:
    """Word indices where the lede may start, no further than the first sentence end."""
    out = []
    last = min(MAX_DECK_WORDS, len(tw.words) - MIN_LEDE_WORDS)
    for i in range(1, last + 1):
        if i >= MIN_DECK_WORDS and is_candidate(tw.words, i):
            out.append(i)
        if tw.sentence_end[i - 1]:
            break  # the deck holds one sentence at most
    return out


# ---------------------------------------------------------------------------- features

DECK_LENGTH_BINS = ((2, 3), (4, 6), (10, 14), (15, 20), (21, 30), (31, MAX_DECK_WORDS))  # 7-9: baseline
LEDE_SENTENCE_BINS = ((1, 4), (5, 9))  # words to the first full stop: the deck swallowed most of it
SURPRISE_WINDOW = 3  # words of the lede searched for a capital that should not be there

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


def seam_features(tw: TeaserWords, i: int, stats: WordStats) -> tuple[float, ...]:
    """The evidence for a seam before word i (FEATURES order)."""
    words = tw.words
    prev, word = words[i - 1], words[i]
    p, n = stats.evidence(prev), stats.evidence(word)
    deck = words[:i]
    prev_upper, next_upper = is_upper(prev), is_upper(word)
    inside = prev_upper and next_upper
    deck_terms = frozenset().union(*tw.terms[:i])
    lede_terms = frozenset().union(*tw.terms[i : i + LEDE_WINDOW])
    opening = frozenset().union(*tw.terms[i : i + OPENING_WINDOW])
    head, tail = (
        frozenset().union(*tw.terms[: max(0, i - 3)]),
        frozenset().union(*tw.terms[max(0, i - 3) : i]),
    )
    sentence_len = next((k - i + 1 for k in range(i, len(words)) if tw.sentence_end[k]), len(words) - i)
    deck_keys = {edge_key(w) for w in deck}
    starter = is_sentence_start(core(word))
    prev_core = core(prev)
    return (
        p.end,
        n.start,
        p.capital_next,
        n.after_capital,
        n.after_capital if prev_upper else 0.0,
        math.log1p(stats.pair_count(prev, word)),
        1.0 if starter else 0.0,
        0.0 if p.known else 1.0,
        0.0 if n.known else 1.0,
        1.0 if prev_upper else 0.0,
        1.0 if prev_core[:1].isdigit() or prev_core[:1] in "$£€" else 0.0,
        1.0 if prev.rstrip(_CLOSE_QUOTES + ")")[-1:] in "?!" else 0.0,
        1.0 if prev[-1:] in _CLOSE_QUOTES else 0.0,
        1.0 if core(word)[:1].isdigit() else 0.0,
        1.0 if word[:1] in _OPEN_QUOTES else 0.0,
        1.0 if inside else 0.0,
        math.log(capital_run(words, i - 1, -1)) if inside else 0.0,
        math.log(capital_run(words, i, 1)) if inside else 0.0,
        1.0 if edge_key(word) == edge_key(prev) else 0.0,
        run_entry_surprise(words, i, stats) if inside else 0.0,
        *(1.0 if lo <= i <= hi else 0.0 for lo, hi in DECK_LENGTH_BINS),
        title_case_ratio(deck),
        1.0 if opens_subordinate_without_verb(deck) else 0.0,
        1.0 if tail & head else 0.0,
        1.0 if quote_left_open(deck) else 0.0,
        1.0 if any(descriptor_length(words, j) == i - j for j in range(max(1, i - 4), i - 1)) else 0.0,
        phrase_surprise(words, i, stats),
        1.0 if edge_key(word) in deck_keys else 0.0,
        len(deck_terms & lede_terms) / len(deck_terms) if deck_terms else 0.0,
        math.log1p(len(deck_terms & lede_terms)),
        len(opening & deck_terms) / len(opening) if opening else 0.0,
        capital_surprise(words, i + 1, i + 1 + SURPRISE_WINDOW, stats),
        1.0 if descriptor_length(words, i) else 0.0,
        *(1.0 if lo <= sentence_len <= hi else 0.0 for lo, hi in LEDE_SENTENCE_BINS),
    )


def candidate_seams(
    text: str, stats: WordStats | None = None
) -> tuple[TeaserWords, list[tuple[int, tuple[float, ...]]]]:
    """The text's words and (word index, features) of every candidate seam."""
    stats = stats or shipped_word_stats()
    tw = teaser_words(text)
    return tw, [(i, seam_features(tw, i, stats)) for i in candidate_indices(tw)]


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
        return self.bias + sum(w * x for w, x in zip(self.weights, features, strict=True))

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


def score_seams(text: str, model: DeckModel | None = None, stats: WordStats | None = None) -> list[Seam]:
    """Every candidate seam with its probability (softmax over seams and 'no seam').

    Seams that would cut a titled name without evidence (run_break_supported) are no options:
    the model weighs word statistics one seam at a time, and news text it was not fitted on
    ("Ferdinand" is a BBC surname, "showing" never ends a BBC sentence) can outvote the
    structure of a title phrase. The model is fitted on every candidate; this is a decision rule.
    """
    model = model or shipped_deck_model()
    stats = stats or shipped_word_stats()
    tw, candidates = candidate_seams(text, stats)
    candidates = [(i, f) for i, f in candidates if run_break_supported(tw.words, i, stats)]
    if not candidates:
        return []
    scores = [model.score(f) for _, f in candidates]
    top = max(max(scores), 0.0)
    norm = math.exp(-top) + sum(math.exp(s - top) for s in scores)
    return [
        Seam(i, tw.offsets[i], math.exp(s - top) / norm, f)
        for (i, f), s in zip(candidates, scores, strict=True)
    ]


def split_deck(
    text: str, model: DeckModel | None = None, stats: WordStats | None = None
) -> tuple[str | None, str]:
    """(deck, lede) of the text after a kicker; (None, text) when no seam is convincing."""
    model = model or shipped_deck_model()
    text = " ".join(text.split())
    seams = score_seams(text, model, stats)
    if not seams:
        return None, text
    best = max(seams, key=lambda s: (s.probability, -s.index))
    if best.probability < model.accept:
        return None, text
    return text[: best.offset].rstrip(), text[best.offset :]
