"""Where a teaser's deck (sub-headline) ends and its lede begins.

`KICKER: The party quit the coalition after the loss Australia's National Party has split…`
The deck carries no final punctuation, so nothing on the surface marks the seam. Every
place where a capitalised word follows a word that may end a headline is a candidate, and
each candidate is described by evidence:

- the word before the seam: lower-case, a number, a closing quote, or a capitalised word
  (two capitalised words in a row are usually one name);
- the word after: a sentence starter by Punkt's orthographic statistics ("The", "He" are
  written lower-case mid-sentence), a proper noun, or a word the deck already used (a lede
  restates its headline: "Yukos sues four firms Russian oil firm Yukos has sued…");
- the deck's length, whether it reads as a headline (title case, no verb-less tail), and
  how many of its content words come back in the lede;
- the length of the lede's first sentence read from the seam.

A small conditional-logit model (weights in resources/deck_model.json, fitted on real
articles by tools/train_deck_split.py) turns the evidence into a probability per seam.
The best seam is taken when its probability is high enough; otherwise deck is None and
the whole text stays in the body: a missing deck is better than a sentence cut in half.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

from transforms import line_cues
from transforms.topic_shift import content_terms

_WORD_RE = re.compile(r"\S+")
_OPEN_QUOTES = "\"'“‘"
_CLOSE_QUOTES = "\"'”’"
MIN_DECK_WORDS = 2
MAX_DECK_WORDS = 40
MIN_LEDE_WORDS = 5

FEATURES = (
    "prev_lower",
    "prev_digit",
    "prev_capital",
    "prev_quote",
    "next_starter",
    "next_lower_elsewhere",
    "next_in_deck",
    "next_repeats_prev",
    "next_digit",
    "next_quote",
    "deck_log_words",
    "deck_short",
    "deck_long",
    "deck_title_case",
    "deck_has_comma",
    "overlap",
    "lede_sentence_log_words",
    "lede_sentence_short",
    "seam_rank",
    "capital_run_inside",
    "prev_end_logodds",
    "next_start_logodds",
    "prev_unknown",
    "next_unknown",
    "both_capital",
    "lede_opening_restates",
    "deck_has_verb",
    "starts_capital_run",
    "deck_opens_subordinate_without_verb",
    "sentence_deck_prev_lower",
    "sentence_deck_inside_name",
)


@dataclass(frozen=True)
class Seam:
    index: int  # word index where the lede starts
    offset: int  # character offset in the text
    probability: float
    features: tuple[float, ...]


def _core(word: str) -> str:
    return word.strip(_OPEN_QUOTES + _CLOSE_QUOTES + ",;:()[]")


def _starts_capitalised(word: str) -> bool:
    w = word.lstrip(_OPEN_QUOTES + "(")
    return bool(w) and (w[0].isupper() or w[0].isdigit() or w[0] in "$£€")


def _is_sentence_start(word: str) -> bool | None:
    from transforms.sentences import is_sentence_start

    return is_sentence_start(_core(word))


def _first_sentence_words(words: Sequence[str]) -> int:
    """Number of words up to the first that ends a sentence (abbreviations do not)."""
    from transforms.sentences import ends_sentence

    for k, w in enumerate(words):
        if w[-1:] in ".!?”’\"'" and ends_sentence(" ".join(words[max(0, k - 2) : k + 1])):
            return k + 1
    return len(words)


def _title_case_ratio(words: Sequence[str]) -> float:
    """Share of the deck's longer words that are capitalised (headline-style decks)."""
    long = [_core(w) for w in words if len(_core(w)) > 3]
    if not long:
        return 0.0
    return sum(1 for w in long if w[:1].isupper()) / len(long)


_COMMON_VERBS = frozenset(
    "is are was were be been has have had will would could can may might must should shall "
    "said says say do does did get gets got make makes made take takes took go goes went".split()
)


def _has_verb(deck: Sequence[str]) -> bool:
    """Rough test for a finite verb: an auxiliary or common verb, a lower-case -ed word, or a
    headline verb (a lower-case -s word after a capitalised one: "Yukos sues", "IBM puts")."""
    for k, w in enumerate(deck):
        c = _core(w)
        low = c.lower()
        if low in _COMMON_VERBS:
            return True
        if c[:1].islower() and len(c) > 4 and low.endswith("ed"):
            return True
        if k and c[:1].islower() and low.endswith("s") and not low.endswith("ss") and _core(deck[k - 1])[:1].isupper():
            return True
    return False


def _restates(deck_terms: set[str], opening: Sequence[str]) -> float:
    """Share of the lede opening's content words that the deck already used."""
    terms = set(content_terms(" ".join(opening)))
    return len(terms & deck_terms) / len(terms) if terms else 0.0


def is_candidate(words: Sequence[str], i: int) -> bool:
    """Whether the lede may start at word i: capital after a word that can end a deck."""
    prev, word = words[i - 1], words[i]
    if not _starts_capitalised(word):
        return False
    if prev[-1] in ",;:-–—(" or line_cues.dangling_function_word(prev):
        return False
    return not line_cues.ends_sentence_simple(prev)


def seam_features(words: Sequence[str], i: int, rank: int) -> tuple[float, ...]:
    """The evidence for a seam before word i (FEATURES order)."""
    prev, word = words[i - 1], words[i]
    prev_core, word_core = _core(prev), _core(word)
    deck = words[:i]
    deck_lower = {_core(w).lower() for w in deck}
    starter = _is_sentence_start(word)
    deck_terms = set(content_terms(" ".join(deck)))
    lede_terms = set(content_terms(" ".join(words[i : i + 80])))
    overlap = len(deck_terms & lede_terms) / len(deck_terms) if deck_terms else 0.0
    lede_sentence = _first_sentence_words(words[i : i + 120])
    capital_run = i + 1 < len(words) and _starts_capitalised(words[i + 1]) and prev_core[:1].isupper()
    edges = sentence_edges()
    prev_end = edges.end_logodds(prev_core)
    next_start = edges.start_logodds(word_core)
    next_capital = i + 1 < len(words) and _core(words[i + 1])[:1].isupper()
    return (
        1.0 if prev_core[:1].islower() else 0.0,
        1.0 if prev_core[:1].isdigit() or prev_core[:1] in "$£€" else 0.0,
        1.0 if prev_core[:1].isupper() else 0.0,
        1.0 if prev[-1:] in _CLOSE_QUOTES else 0.0,
        1.0 if starter else 0.0,
        1.0 if starter is None and word_core.lower() in deck_lower else 0.0,
        1.0 if word_core.lower() in deck_lower else 0.0,
        1.0 if word_core.lower() == prev_core.lower() else 0.0,
        1.0 if word_core[:1].isdigit() else 0.0,
        1.0 if word[:1] in _OPEN_QUOTES else 0.0,
        math.log(i),
        1.0 if i < 4 else 0.0,
        1.0 if i > 30 else 0.0,
        _title_case_ratio(deck),
        1.0 if any(w.endswith(",") for w in deck) else 0.0,
        overlap,
        math.log(lede_sentence),
        1.0 if lede_sentence < 8 else 0.0,
        math.log1p(rank),
        1.0 if capital_run else 0.0,
        edges.typical_end if prev_end is None else prev_end,
        edges.typical_start if next_start is None else next_start,
        1.0 if prev_end is None else 0.0,
        1.0 if next_start is None else 0.0,
        1.0 if prev_core[:1].isupper() and word_core[:1].isupper() and not starter else 0.0,
        _restates(deck_terms, words[i : i + 12]),
        1.0 if _has_verb(deck) else 0.0,
        1.0 if not prev_core[:1].isupper() and next_capital else 0.0,
        1.0 if _core(deck[0]).lower() in _SUBORDINATE_OPENERS and not _has_verb(deck) else 0.0,
        # A deck of ten words or more is a sentence, not a headline: it ends like one, and
        # does not stop in the middle of a run of capitalised words (a name).
        1.0 if i >= 10 and prev_core[:1].islower() else 0.0,
        1.0 if i >= 10 and prev_core[:1].isupper() and word_core[:1].isupper() else 0.0,
    )


def candidate_seams(text: str) -> tuple[list[tuple[int, str]], list[tuple[int, tuple[float, ...]]]]:
    """Word spans of the text and (word index, features) of every candidate seam."""
    spans = [(m.start(), m.group()) for m in _WORD_RE.finditer(text)]
    words = [w for _, w in spans]
    out = []
    rank = 0
    for i in range(MIN_DECK_WORDS, min(MAX_DECK_WORDS, len(words) - MIN_LEDE_WORDS) + 1):
        if is_candidate(words, i):
            out.append((i, seam_features(words, i, rank)))
            rank += 1
    return spans, out


_SUBORDINATE_OPENERS = frozenset(
    "during after before while when as since until although though if because despite amid "
    "following in on at for with without under over from".split()
)


@dataclass(frozen=True)
class SentenceEdges:
    """How often a word ends or starts a sentence in real news text (log-odds, lower-cased).

    Built with the Punkt sentence splitter over real articles (tools/train_deck_split.py):
    "including", "some", "behind" almost never end a sentence; "The", "Russian" often start one.
    """

    end: dict[str, float]
    start: dict[str, float]

    @functools.cached_property
    def typical_end(self) -> float:
        """What an unseen word is taken to score: the median of the seen ones."""
        values = sorted(self.end.values())
        return values[len(values) // 2] if values else 0.0

    @functools.cached_property
    def typical_start(self) -> float:
        values = sorted(self.start.values())
        return values[len(values) // 2] if values else 0.0

    def end_logodds(self, word: str) -> float | None:
        return self.end.get(edge_key(word))

    def start_logodds(self, word: str) -> float | None:
        return self.start.get(edge_key(word))


def edge_key(word: str) -> str:
    """Lookup form of a word: lower-case, straight apostrophes, no possessive, no final stop."""
    w = _core(word).lower().replace("’", "'").rstrip(".!?")
    return w[:-2] if w.endswith("'s") else w


def count_sentence_edges(sentences: Sequence[str], min_count: int = 3) -> SentenceEdges:
    """Log-odds of each word (seen at least min_count times) being a sentence's last/first word."""
    from collections import Counter

    total: Counter = Counter()
    last: Counter = Counter()
    first: Counter = Counter()
    for sentence in sentences:
        words = [edge_key(w) for w in sentence.split()]
        words = [w for w in words if w]
        if not words:
            continue
        total.update(words)
        first[words[0]] += 1
        last[words[-1]] += 1
    end = {}
    start = {}
    for w, n in total.items():
        if n < min_count:
            continue
        end[w] = round(math.log((last[w] + 0.5) / (n - last[w] + 0.5)), 3)
        start[w] = round(math.log((first[w] + 0.5) / (n - first[w] + 0.5)), 3)
    return SentenceEdges(dict(sorted(end.items())), dict(sorted(start.items())))


@functools.lru_cache(maxsize=1)
def sentence_edges() -> SentenceEdges:
    text = resources.files("transforms.resources").joinpath("sentence_edges.json").read_text("utf-8")
    doc = json.loads(text)
    return SentenceEdges(doc["end"], doc["start"])


@dataclass(frozen=True)
class DeckModel:
    """Conditional logit over a teaser's candidate seams, plus a 'no seam' option at score 0."""

    weights: tuple[float, ...]
    bias: float  # score of a seam relative to 'no seam'
    accept: float = 0.5

    def score(self, features: Sequence[float]) -> float:
        return self.bias + sum(w * x for w, x in zip(self.weights, features, strict=True))

    def to_json(self) -> dict:
        return {"features": list(FEATURES), "weights": list(self.weights), "bias": self.bias, "accept": self.accept}

    @staticmethod
    def from_json(doc: dict) -> DeckModel:
        if tuple(doc["features"]) != FEATURES:
            raise ValueError("deck_model.json was fitted on other features; refit it")
        return DeckModel(tuple(doc["weights"]), doc["bias"], doc.get("accept", 0.5))


@functools.lru_cache(maxsize=1)
def shipped_deck_model() -> DeckModel:
    text = resources.files("transforms.resources").joinpath("deck_model.json").read_text("utf-8")
    return DeckModel.from_json(json.loads(text))


def score_seams(text: str, model: DeckModel | None = None) -> list[Seam]:
    """Every candidate seam with its probability (softmax over seams and 'no seam')."""
    model = model or shipped_deck_model()
    spans, candidates = candidate_seams(text)
    if not candidates:
        return []
    scores = [model.score(f) for _, f in candidates]
    top = max(max(scores), 0.0)
    norm = math.exp(-top) + sum(math.exp(s - top) for s in scores)
    return [
        Seam(i, spans[i][0], math.exp(s - top) / norm, f)
        for (i, f), s in zip(candidates, scores, strict=True)
    ]


def split_deck(text: str, model: DeckModel | None = None) -> tuple[str | None, str]:
    """(deck, lede) of the text after a kicker; (None, text) when no seam is convincing."""
    text = " ".join(text.split())
    seams = score_seams(text, model)
    if not seams:
        return None, text
    best = max(seams, key=lambda s: (s.probability, -s.index))
    if best.probability < (model or shipped_deck_model()).accept:
        return None, text
    return text[: best.offset].rstrip(), text[best.offset :]
