"""Topic-shift boundaries between paragraphs, by lexical cohesion.

The model is Utiyama & Isahara's (2001) statistical segmenter: a segmentation of a run of
paragraphs is scored by how well each segment's own smoothed unigram model explains its
words, plus a prior cost of log(n) per segment. Dynamic programming finds the best
segmentation exactly. Stories pasted back to back use different vocabularies, so a
boundary between them saves far more than it costs; an article's sub-topics share names
and terms, so splitting one article does not pay. `penalty` scales the prior; it was
calibrated on real articles (tools/calibrate_topic_shift.py) so single articles stay whole.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Sequence

_TOKEN_RE = re.compile(r"[^\W\d_]{2,}", re.UNICODE)

DEFAULT_PENALTY = 8.0  # calibrated on real articles: tools/calibrate_topic_shift.py
MAX_RUN = 400  # paragraphs; longer runs are segmented window by window


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


def content_terms(text: str) -> list[str]:
    """Stemmed, lower-cased content words of a paragraph (stop words and numbers removed)."""
    stop = _stopwords()
    return [_stem(w) for w in (t.lower() for t in _TOKEN_RE.findall(text)) if w not in stop]


def segment_cost(counts: Counter, n_tokens: int, vocab: int) -> float:
    """-log P(words | segment model) with Laplace smoothing over the run's vocabulary."""
    if n_tokens == 0:
        return 0.0
    denom = math.log(n_tokens + vocab)
    return sum(f * (denom - math.log(f + 1)) for f in counts.values())


def best_boundaries(
    paragraphs: Sequence[Sequence[str]],
    allowed: Sequence[bool] | None = None,
    bonus: Sequence[float] | None = None,
    penalty: float = DEFAULT_PENALTY,
) -> list[int]:
    """Indices i (1..n-1) where a new segment starts before paragraph i, by exact DP.

    paragraphs: content terms of each paragraph. allowed[i]: whether a boundary may fall
    before paragraph i (index 0 unused). bonus[i]: nats subtracted from the cost of a
    boundary before paragraph i (other cues that favour or oppose a boundary there).
    """
    n = len(paragraphs)
    if n < 2:
        return []
    if n > MAX_RUN:
        out: list[int] = []
        for lo in range(0, n, MAX_RUN):
            hi = min(n, lo + MAX_RUN)
            sub_allowed = None if allowed is None else [True, *allowed[lo + 1 : hi]]
            sub_bonus = None if bonus is None else [0.0, *bonus[lo + 1 : hi]]
            out.extend(lo + b for b in best_boundaries(paragraphs[lo:hi], sub_allowed, sub_bonus, penalty))
        return out
    vocab = len({t for p in paragraphs for t in p}) or 1
    total = sum(len(p) for p in paragraphs)
    prior = penalty * math.log(max(total, 2))
    # best[j] = least cost of segmenting paragraphs[:j]; back[j] = start of the last segment.
    best = [0.0] + [math.inf] * n
    back = [0] * (n + 1)
    for j in range(1, n + 1):
        counts: Counter = Counter()
        tokens = 0
        f_log = 0.0  # sum of f * log(f + 1) over the segment's counts, kept incrementally
        for i in range(j - 1, -1, -1):  # last segment is paragraphs[i:j]
            for t in paragraphs[i]:
                f = counts[t]
                f_log += (f + 1) * math.log(f + 2) - (f * math.log(f + 1) if f else 0.0)
                counts[t] = f + 1
            tokens += len(paragraphs[i])
            if i > 0 and allowed is not None and not allowed[i]:
                continue
            if best[i] == math.inf:
                continue
            seg = tokens * math.log(tokens + vocab) - f_log if tokens else 0.0
            cost = best[i] + seg + prior
            if i > 0 and bonus is not None:
                cost -= bonus[i]
            if cost < best[j]:
                best[j], back[j] = cost, i
    cuts = []
    j = n
    while j > 0:
        i = back[j]
        if i > 0:
            cuts.append(i)
        j = i
    return sorted(cuts)


def boundary_gain(paragraphs: Sequence[Sequence[str]], at: int) -> float:
    """How many nats a boundary before paragraph `at` saves against none (for `explain`)."""
    vocab = len({t for p in paragraphs for t in p}) or 1
    whole = Counter(t for p in paragraphs for t in p)
    left = Counter(t for p in paragraphs[:at] for t in p)
    right = whole - left
    n_all, n_left = sum(whole.values()), sum(left.values())
    return segment_cost(whole, n_all, vocab) - (
        segment_cost(left, n_left, vocab) + segment_cost(right, n_all - n_left, vocab)
    )


# ---------------------------------------------------------------- learned gap scorer
#
# Lexical cohesion alone confuses an article's change of sub-topic with a new article.
# A small logistic model combines it with other evidence at each gap between paragraphs:
# how new the next paragraph's names and terms are, whether it opens like a news lede
# (one sentence, no pronoun or connective carried over), and how far into the run it is.
# tools/train_topic_shift.py fits the weights on real articles pasted back to back; the
# weights ship as plain JSON (transforms/resources/topic_shift_model.json).

import json  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from importlib import resources  # noqa: E402

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
)


def _cosine(a: Counter, b: Counter) -> float:
    if not a or not b:
        return 0.0
    dot = sum(v * b.get(k, 0) for k, v in a.items())
    if not dot:
        return 0.0
    return dot / math.sqrt(sum(v * v for v in a.values()) * sum(v * v for v in b.values()))


def _names(text: str) -> set[str]:
    return {m.group().lower().rstrip("'’s") for m in _NAME_RE.finditer(text)}


def _sentences(text: str) -> int:
    """Number of sentences, by the shipped Punkt model (initials like "J.R." do not end one)."""
    from transforms.sentences import sentence_spans

    return max(1, len(sentence_spans(text)))


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
        left = sum((bags[j] for j in range(max(0, i - window), i)), Counter())
        right = sum((bags[j] for j in range(i, min(n, i + window))), Counter())
        sims.append(_cosine(left, right))
    names = [_names(t) for t in texts]
    lower_texts = [t.lower() for t in texts]
    rows: list[list[float]] = []
    for i in range(1, n):
        k = i - 1
        s = sims[k]
        left_peak = max(sims[: k + 1])
        right_peak = max(sims[k:])
        depth = (left_peak - s) + (right_peak - s)
        lo, hi = max(0, i - 6), min(n, i + 6)
        local = [list(terms[j]) for j in range(lo, hi)]
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
                1.0 if _sentences(texts[i]) == 1 else 0.0,
                math.log1p(words),
                math.log1p(i),
                math.log1p(n - i),
                1.0 if _sentences(texts[i - 1]) == 1 else 0.0,
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
        }

    @staticmethod
    def from_json(doc: dict) -> GapModel:
        if tuple(doc["features"]) != FEATURES:
            raise ValueError("topic_shift_model.json was trained on other features; retrain it")
        return GapModel(tuple(doc["weights"]), tuple(doc["means"]), tuple(doc["scales"]), doc["threshold"])


@functools.lru_cache(maxsize=1)
def shipped_gap_model() -> GapModel | None:
    """The model shipped in the package, or None when it is missing (the DP is used then)."""
    try:
        text = resources.files("transforms.resources").joinpath("topic_shift_model.json").read_text("utf-8")
    except (FileNotFoundError, ModuleNotFoundError):
        return None
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
    """(index, score) of topic boundaries in a run of paragraphs.

    With the learned model, a gap is a boundary when its probability passes the model's
    threshold (shifted by how far `penalty` is from its default: a user can ask for fewer
    or more splits); without it, the exact DP of best_boundaries decides.
    """
    n = len(texts)
    if n < 2:
        return []
    model = shipped_gap_model() if model is None else model
    if model is None:
        cuts = best_boundaries([content_terms(t) for t in texts], allowed=allowed, penalty=penalty)
        return [(c, 1.0) for c in cuts]
    # Each penalty unit above the default asks for 5 points more probability.
    threshold = min(0.99, max(0.01, model.threshold + 0.05 * (penalty - DEFAULT_PENALTY)))
    probs = gap_probabilities(texts, model)
    out = []
    for i, p in enumerate(probs, start=1):
        if (allowed is None or allowed[i]) and p >= threshold:
            out.append((i, p))
    return out
