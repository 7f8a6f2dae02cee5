"""Topic-shift boundaries between paragraphs: where does one article end and the next begin?

Lexical cohesion alone (Utiyama & Isahara's segment likelihoods, TextTiling's depth
scores) mistakes an article's change of sub-topic for a new article. So each gap between
paragraphs is described by several kinds of evidence — cohesion across the gap, how new
the next paragraph's names and terms are, whether it opens like a news lede (one
sentence, no pronoun or connective carried over, prose rather than a list) — and a small
logistic model turns them into P(boundary). A dynamic programme then picks the
boundaries together with a prior on article length, so a run is neither cut into
implausibly short pieces nor left as one implausibly long article. Each piece it finds is
then scored again as a run of its own, as the model was fitted: a short article between two
others, whose context windows reached into both neighbours, is found on the second look.

The model's weights, its decision threshold and the length prior are fitted on real
articles pasted back to back (tools/train_topic_shift.py) and ship as plain JSON.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import operator
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources

from transforms.line_cues import ends_sentence_simple

_TOKEN_RE = re.compile(r"[^\W\d_]{2,}", re.UNICODE)

# --topic-penalty: 8 is the model's own threshold; each unit up or down moves it 0.05.
DEFAULT_PENALTY = 8.0
MAX_DP_RUN = 400  # paragraphs; a longer run is decided gap by gap (the DP is quadratic)


@functools.lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from stop_words import get_stop_words

    return frozenset(get_stop_words("en")) | {"said", "says", "mr", "mrs", "ms", "also", "year", "years"}


@functools.lru_cache(maxsize=1)
def _stemmer():
    from nltk.stem.snowball import SnowballStemmer

    return SnowballStemmer("english")


@functools.lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return _stemmer().stem(word)


@functools.lru_cache(maxsize=65536)
def _term(token: str) -> str | None:
    """The content term of one raw token (its lower-cased stem), None for a stop word.

    Cached per raw token: content_terms runs on every paragraph and on every word of a deck
    candidate, and the same tokens recur (a pure function: the cache never changes a result).
    """
    word = token.lower()
    return None if word in _stopwords() else _stem(word)


def content_terms(text: str) -> list[str]:
    """Stemmed, lower-cased content words of a paragraph (stop words and numbers removed)."""
    return [t for t in map(_term, _TOKEN_RE.findall(text)) if t is not None]


# math.log(f + 1) for the small counts segment costs meet (the same floats, without a call each).
_LOG_F1 = tuple(math.log(f + 1) for f in range(4096))


def _cost(freqs: Iterable[int], n_tokens: int, vocab: int) -> float:
    """segment_cost over the counts themselves, in their order (so the float sum is the same)."""
    if n_tokens == 0:
        return 0.0
    denom = math.log(n_tokens + vocab)
    table, size = _LOG_F1, len(_LOG_F1)
    return sum([f * (denom - (table[f] if f < size else math.log(f + 1))) for f in freqs])


def segment_cost(counts: Counter, n_tokens: int, vocab: int) -> float:
    """-log P(words | segment model) with Laplace smoothing over the run's vocabulary."""
    return _cost(counts.values(), n_tokens, vocab)


def boundary_gain(paragraphs: Sequence[Sequence[str]], at: int) -> float:
    """How many nats a boundary before paragraph `at` saves against none (for `explain`)."""
    whole = Counter(itertools.chain.from_iterable(paragraphs))
    left = Counter(itertools.chain.from_iterable(paragraphs[:at]))
    vocab = len(whole) or 1
    # whole - left, as Counter.__sub__ builds it (whole's order, positive counts only), values only
    right = [d for d in map(operator.sub, whole.values(), map(left.get, whole, itertools.repeat(0))) if d > 0]
    n_all, n_left = sum(whole.values()), sum(left.values())
    return _cost(whole.values(), n_all, vocab) - (
        _cost(left.values(), n_left, vocab) + _cost(right, n_all - n_left, vocab)
    )


# ---------------------------------------------------------------- learned gap scorer
#
# Lexical cohesion alone confuses an article's change of sub-topic with a new article.
# A small logistic model combines it with other evidence at each gap between paragraphs:
# how new the next paragraph's names and terms are, whether it opens like a news lede
# (one sentence, no pronoun or connective carried over), and how far into the run it is.
# tools/train_topic_shift.py fits the weights on real articles pasted back to back; the
# weights ship as plain JSON (transforms/resources/topic_shift_model.json).


_NAME_RE = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+(?:['’]s)?\b")
_CARRY_OVER = frozenset(
    "he she it they his her its their them him this these those that but and also however meanwhile "
    "yet so still instead then there such both while although though the".split()
)
_OPENING_QUOTES = "\"'“‘"

FEATURES = (
    "bias",
    "sim_adjacent",
    "sim_window",
    "depth",
    "gain_per_token",
    "name_novelty",
    "term_novelty",
    "carry_over_start",
    "quote_start",
    "one_sentence",
    "log_words",
    "log_position",
    "log_remaining",
    "prev_one_sentence",
    "lowercase_share",
    "ends_sentence",
    "prev_ends_sentence",
)


def _cosine(a: Counter, b: Counter) -> float:
    if not a or not b:
        return 0.0
    # integer sums (exact in any order), taken in C
    dot = sum(map(operator.mul, a.values(), map(b.get, a, itertools.repeat(0))))
    if not dot:
        return 0.0
    return dot / math.sqrt(
        sum(map(operator.mul, a.values(), a.values())) * sum(map(operator.mul, b.values(), b.values()))
    )


def _names(text: str) -> set[str]:
    return {m.group().lower().rstrip("'’s") for m in _NAME_RE.finditer(text)}


def _sentences(text: str) -> int:
    """Number of sentences, by the shipped Punkt model (initials like "J.R." do not end one)."""
    from transforms.sentences import has_break_candidate, sentence_spans

    if not has_break_candidate(text):  # no place Punkt could break: one sentence, no need to run it
        return 1
    return max(1, len(sentence_spans(text)))


def _one_sentence(text: str) -> bool:
    """_sentences(text) == 1, without running Punkt past the second sentence."""
    from transforms.sentences import several_sentences

    return not several_sentences(text)


def _lowercase_share(text: str) -> float:
    """Share of words starting in lower case: prose is mostly lower case, line-ups and lists are not."""
    words = text.split()
    return sum(1 for w in words if w[:1].islower()) / len(words) if words else 0.0


def _first_word(text: str) -> str:
    words = text.split()
    return words[0].lower().strip(_OPENING_QUOTES + ",;:") if words else ""


def gap_features(texts: Sequence[str], terms: Sequence[Sequence[str]] | None = None) -> list[list[float]]:
    """One feature vector (in FEATURES order) for each gap before paragraph i, i = 1..n-1."""
    n = len(texts)
    if terms is None:
        terms = [content_terms(t) for t in texts]
    bags = [Counter(t) for t in terms]
    window = 3
    sims = []
    for i in range(1, n):
        # the window's term counts, counted in C (the same keys, order and counts as adding
        # the paragraphs' Counters one by one)
        left = Counter(itertools.chain.from_iterable(terms[max(0, i - window) : i]))
        right = Counter(itertools.chain.from_iterable(terms[i : min(n, i + window)]))
        sims.append(_cosine(left, right))
    left_peaks = list(itertools.accumulate(sims, max))
    right_peaks = list(itertools.accumulate(reversed(sims), max))[::-1]
    names = [_names(t) for t in texts]
    lower_texts = [t.lower() for t in texts]
    one_sentence = [1.0 if _one_sentence(t) else 0.0 for t in texts] if n > 1 else []  # Punkt once each
    rows: list[list[float]] = []
    for i in range(1, n):
        k = i - 1
        s = sims[k]
        left_peak = left_peaks[k]  # max(sims[: k + 1]), precomputed: linear, not quadratic
        right_peak = right_peaks[k]  # max(sims[k:])
        depth = (left_peak - s) + (right_peak - s)
        lo, hi = max(0, i - 6), min(n, i + 6)
        local = terms[lo:hi]
        tokens = sum(len(x) for x in local) or 1
        gain = boundary_gain(local, i - lo) / tokens
        seen_before = " ".join(lower_texts[max(0, i - 8) : i])
        new_names = [nm for nm in names[i] if nm not in seen_before]
        name_novelty = len(new_names) / len(names[i]) if names[i] else 0.5
        left_terms = {t for j in range(max(0, i - 5), i) for t in terms[j]}
        term_novelty = (
            sum(1 for t in set(terms[i]) if t not in left_terms) / len(set(terms[i])) if terms[i] else 0.5
        )
        first = _first_word(texts[i])
        words = len(texts[i].split())
        rows.append(
            [
                1.0,
                _cosine(bags[i - 1], bags[i]),
                s,
                depth,
                gain,
                name_novelty,
                term_novelty,
                1.0 if first in _CARRY_OVER and first != "the" else 0.0,
                1.0 if texts[i][:1] in _OPENING_QUOTES else 0.0,
                one_sentence[i],
                math.log1p(words),
                math.log1p(i),
                math.log1p(n - i),
                one_sentence[i - 1],
                _lowercase_share(texts[i]),
                1.0 if ends_sentence_simple(texts[i]) else 0.0,
                1.0 if ends_sentence_simple(texts[i - 1]) else 0.0,
            ]
        )
    return rows


@dataclass(frozen=True)
class GapModel:
    """Logistic model over standardised gap features."""

    weights: tuple[float, ...]
    means: tuple[float, ...]
    scales: tuple[float, ...]
    threshold: float = 0.5
    # log P(article has L paragraphs), L = 1..len; empty: decide gap by gap
    length_logprior: tuple[float, ...] = ()

    def probability(self, row: Sequence[float]) -> float:
        z = self.weights[0]
        for w, x, m, s in zip(self.weights[1:], row[1:], self.means[1:], self.scales[1:], strict=True):
            z += w * (x - m) / s
        return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))

    def to_json(self) -> dict:
        return {
            "features": list(FEATURES),
            "weights": list(self.weights),
            "means": list(self.means),
            "scales": list(self.scales),
            "threshold": self.threshold,
            "length_logprior": [round(v, 4) for v in self.length_logprior],
        }

    @staticmethod
    def from_json(doc: dict) -> GapModel:
        if tuple(doc["features"]) != FEATURES:
            raise ValueError("topic_shift_model.json was trained on other features; retrain it")
        return GapModel(
            tuple(doc["weights"]),
            tuple(doc["means"]),
            tuple(doc["scales"]),
            doc["threshold"],
            tuple(doc.get("length_logprior", ())),
        )


@functools.lru_cache(maxsize=1)
def shipped_gap_model() -> GapModel:
    """The model shipped in the package (tools/train_topic_shift.py writes it)."""
    text = resources.files("transforms.resources").joinpath("topic_shift_model.json").read_text("utf-8")
    return GapModel.from_json(json.loads(text))


def gap_probabilities(texts: Sequence[str], model: GapModel) -> list[float]:
    """P(boundary) before each paragraph 1..n-1."""
    return [model.probability(row) for row in gap_features(texts)]


def scored_boundaries(
    texts: Sequence[str],
    allowed: Sequence[bool] | None = None,
    model: GapModel | None = None,
    penalty: float = DEFAULT_PENALTY,
) -> list[tuple[int, float]]:
    """(index, probability) of topic boundaries in a run of paragraphs.

    The decoder's pieces are decoded once more each on its own (new boundaries only: see
    below). `penalty` shifts the model's decision threshold (5 points of probability per unit away
    from the default), so a user can ask for fewer or more splits.
    """
    if len(texts) < 2:
        return []
    model = shipped_gap_model() if model is None else model
    # Each penalty unit above the default asks for 5 points more probability.
    threshold = min(0.99, max(0.01, model.threshold + 0.05 * (penalty - DEFAULT_PENALTY)))
    probs = gap_probabilities(texts, model)
    if not model.length_logprior or len(texts) > MAX_DP_RUN:
        return [
            (i, p) for i, p in enumerate(probs, start=1) if (allowed is None or allowed[i]) and p >= threshold
        ]
    cuts = decode_segments(probs, allowed, model.length_logprior, threshold)
    scored = {i: probs[i - 1] for i in cuts}
    # Each piece is then looked at again as a run of its own, as the model was fitted: the
    # cohesion windows and name novelty of a gap near a boundary reached across it into the
    # neighbouring article (a short article between two others shares their words), and do not
    # any more. This only adds boundaries, and none to a run left whole.
    if cuts:
        for lo, hi in itertools.pairwise([0, *cuts, len(texts)]):
            if hi - lo < 2:
                continue
            piece_allowed = None if allowed is None else [True, *allowed[lo + 1 : hi]]
            piece_probs = gap_probabilities(texts[lo:hi], model)
            for c in decode_segments(piece_probs, piece_allowed, model.length_logprior, threshold):
                scored[lo + c] = piece_probs[c - 1]
    return sorted(scored.items())


def _logit(p: float) -> float:
    p = min(1 - 1e-9, max(1e-9, p))
    return math.log(p / (1 - p))


def decode_segments(
    probs: Sequence[float],
    allowed: Sequence[bool] | None,
    length_logprior: Sequence[float],
    threshold: float = 0.5,
) -> list[int]:
    """Best boundaries given each gap's probability and how long articles usually are.

    Exact DP over segmentations: a boundary scores its log-odds against the threshold's, and
    each segment scores log P(length) relative to the likeliest length, so a run is not cut
    into implausibly short pieces (a list, a line-up, a reader's comment) nor left as one
    implausibly long article. The last segment may be an article cut off at the end of the
    page, so it scores as the likeliest length at least as long as it.
    """
    n = len(probs) + 1  # paragraphs
    table = list(length_logprior)
    top = max(table)
    rel = [v - top for v in table]
    tail = [max(rel[k:]) for k in range(len(rel))]

    def prior(length: int, last: bool) -> float:
        k = min(length, len(rel)) - 1
        return tail[k] if last else rel[k]

    base = _logit(threshold)
    gain = [0.0] + [_logit(p) - base for p in probs]  # gain[i]: boundary before paragraph i
    best = [0.0] + [-math.inf] * n
    back = [0] * (n + 1)
    for j in range(1, n + 1):
        for i in range(j - 1, -1, -1):
            if i > 0 and allowed is not None and not allowed[i]:
                continue
            if best[i] == -math.inf:
                continue
            score = best[i] + prior(j - i, j == n) + (gain[i] if i > 0 else 0.0)
            if score > best[j]:
                best[j], back[j] = score, i
    cuts = []
    j = n
    while j > 0:
        if back[j] > 0:
            cuts.append(back[j])
        j = back[j]
    return sorted(cuts)
