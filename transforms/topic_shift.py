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
from collections.abc import Callable, Collection, Hashable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Generic, TypeVar

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
    from transforms.nltk_import import import_nltk

    import_nltk()
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


def _cost(freqs: Collection[int], n_tokens: int, vocab: int) -> float:
    """segment_cost over the counts themselves, in their order (so the float sum is the same).

    Each term f * (denom - log(f + 1)) is looked up in a table built once per call for the
    counts 0..max: most counts are 1 or 2, so that is a few entries for hundreds of terms.
    """
    if n_tokens == 0:
        return 0.0
    denom = math.log(n_tokens + vocab)
    table, size = _LOG_F1, len(_LOG_F1)
    top = max(freqs, default=0)
    if top > 4 * len(freqs) + 64:  # a few very frequent terms: per-count terms, no table
        return sum([f * (denom - (table[f] if f < size else math.log(f + 1))) for f in freqs])
    terms = [f * (denom - (table[f] if f < size else math.log(f + 1))) for f in range(top + 1)]
    return sum(map(terms.__getitem__, freqs))


def segment_cost(counts: Counter, n_tokens: int, vocab: int) -> float:
    """-log P(words | segment model) with Laplace smoothing over the run's vocabulary."""
    return _cost(counts.values(), n_tokens, vocab)


def boundary_gain(paragraphs: Sequence[Sequence[str]], at: int) -> float:
    """How many nats a boundary before paragraph `at` saves against none (for `explain`)."""
    return _gain(Counter(itertools.chain.from_iterable(paragraphs[:at])), paragraphs[at:])


def _gain(left: Counter, right_paragraphs: Sequence[Sequence[str]]) -> float:
    """boundary_gain, given the left part's term counts (read, not changed)."""
    # The whole run's counts: the left part's, then the right part's counted on (the same keys in
    # the same order, first seen first, as counting the whole run from its start).
    whole = left.copy()
    whole.update(itertools.chain.from_iterable(right_paragraphs))
    vocab = len(whole) or 1
    # whole - left, as Counter.__sub__ builds it (whole's order, positive counts only), values
    # only; a count is never below its left part, so "positive" is "not zero"
    right = list(filter(None, map(operator.sub, whole.values(), map(left.get, whole, itertools.repeat(0)))))
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


_GAIN = FEATURES.index("gain_per_token")
_NAMES = FEATURES.index("name_novelty")
_TERMS = FEATURES.index("term_novelty")
_ONE = FEATURES.index("one_sentence")
_PREV_ONE = FEATURES.index("prev_one_sentence")
_PREV_ENDS = FEATURES.index("prev_ends_sentence")
_BOUNDED = (_GAIN, _NAMES, _TERMS, _ONE, _PREV_ONE)  # features _Run.rows may bound before computing


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
    return {name.rstrip("'’s") for name in map(str.lower, _NAME_RE.findall(text))}


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


_FIRST_CHAR = operator.itemgetter(0)


def _lowercase_share(words: Sequence[str]) -> float:
    """Share of words (text.split()) starting in lower case: prose is mostly lower case, line-ups
    and lists are not."""
    # split() gives no empty word, so w[0] is w[:1]; the count is summed in C
    return sum(map(str.islower, map(_FIRST_CHAR, words))) / len(words) if words else 0.0


def _first_word(words: Sequence[str]) -> str:
    return words[0].lower().strip(_OPENING_QUOTES + ",;:") if words else ""


class ParagraphFeatures:
    """What the gap scorer reads of one paragraph, the same in any run it stands in.

    Computed once per paragraph (and memoised by text, see FeatureMemo); the gap features
    combine these with the paragraphs around the gap. The dearer ones (Punkt's sentence count,
    the names) are worked out on first use: most gaps are settled without them (see _Run.rows).
    `bag` is shared: never mutate it.
    """

    __slots__ = (
        "text",
        "terms",
        "bag",
        "carry_over_start",
        "quote_start",
        "log_words",
        "lowercase_share",
        "ends_sentence",
        "_names",
        "_lower",
        "_one_sentence",
    )

    def __init__(self, text: str, terms: Sequence[str] | None = None):
        """`terms`: content_terms(text), if known."""
        self.text = text
        self.terms: tuple[str, ...] = tuple(content_terms(text) if terms is None else terms)
        self.bag = Counter(self.terms)  # its keys are the distinct terms
        words = text.split()
        first = _first_word(words)
        self.carry_over_start = 1.0 if first in _CARRY_OVER and first != "the" else 0.0
        self.quote_start = 1.0 if text[:1] in _OPENING_QUOTES else 0.0
        self.log_words = math.log1p(len(words))
        self.lowercase_share = _lowercase_share(words)
        self.ends_sentence = 1.0 if ends_sentence_simple(text) else 0.0
        self._names: frozenset[str] | None = None
        self._lower: str | None = None
        self._one_sentence: float | None = None

    @property
    def names(self) -> frozenset[str]:
        if self._names is None:
            self._names = frozenset(_names(self.text))
        return self._names

    @property
    def lower(self) -> str:
        if self._lower is None:
            self._lower = self.text.lower()
        return self._lower

    @property
    def one_sentence(self) -> float:
        if self._one_sentence is None:
            self._one_sentence = 1.0 if _one_sentence(self.text) else 0.0
        return self._one_sentence


def paragraph_features(text: str, terms: Sequence[str] | None = None) -> ParagraphFeatures:
    """The per-paragraph part of the gap features (`terms`: content_terms(text), if known)."""
    return ParagraphFeatures(text, terms)


_V = TypeVar("_V")


class BoundedMemo(Generic[_V]):
    """Results of a pure function by key, holding keys of at most `max_chars` characters in all.

    What an entry holds grows with the text of its key (a paragraph's terms, names, lower-case
    copy), so the bound is on characters, not entries; a key longer than the whole budget is
    not kept. The least recently used entries go first. A memo never changes a result.
    """

    def __init__(self, max_chars: int):
        self.max_chars = max_chars
        self.chars = 0
        self._table: dict[Hashable, tuple[_V, int]] = {}

    def get(self, key: Hashable, size: int, compute: Callable[[], _V]) -> _V:
        """compute()'s value for `key` (`size`: the characters of its text)."""
        table = self._table
        entry = table.pop(key, None)  # re-inserted below: the dict's order is the order of use
        if entry is None:
            value = compute()
            if size > self.max_chars:
                return value
            self.chars += size
            while self.chars > self.max_chars:
                _, dropped = table.pop(next(iter(table)))
                self.chars -= dropped
            entry = (value, size)
        table[key] = entry
        return entry[0]

    def lookup(self, key: Hashable) -> _V | None:
        """The value held for `key` (it becomes the most recently used), or None: computes nothing."""
        entry = self._table.pop(key, None)
        if entry is None:
            return None
        self._table[key] = entry
        return entry[0]

    def __len__(self) -> int:
        return len(self._table)


class FeatureMemo:
    """Bounded memo of paragraph features by text, and of whole runs' boundaries.

    One per DoFn instance (or per call): a pure memo, so it never changes a result. News dumps
    repeat a lot (the same article under several URLs, the same teaser strip on every page of
    a site): about half the paragraphs of a crawl are exact repeats, and a sixth of the runs.
    Paragraph entries take about 5 bytes per character of their text, run entries (the texts and
    the cuts) about 1 to 2: the default budgets (8 million characters of paragraphs, 8 million of
    runs) hold some 20,000 news paragraphs and 3,000 runs in about 50 MB. On a 50 MB crawl
    (12,000 pages) they keep all its 22,000 distinct paragraphs, and find four times the repeated
    runs a budget of 1 million did (runs repeat further apart).
    """

    def __init__(self, max_paragraph_chars: int = 8_000_000, max_run_chars: int = 8_000_000):
        self.paragraphs: BoundedMemo[ParagraphFeatures] = BoundedMemo(max_paragraph_chars)
        self.runs: BoundedMemo[tuple[tuple[int, float], ...]] = BoundedMemo(max_run_chars)

    def paragraph(self, text: str) -> ParagraphFeatures:
        return self.paragraphs.get(text, len(text), lambda: paragraph_features(text))

    def run(
        self, texts: Sequence[str], key: Hashable, compute: Callable[[], list[tuple[int, float]]]
    ) -> list[tuple[int, float]]:
        """compute() for the run of `texts` (`key`: everything the result depends on), as a new list."""
        return list(self.runs.get(key, sum(map(len, texts)), lambda: tuple(compute())))


class _Run:
    """A run of paragraphs being scored, with the window computations its gaps share.

    The run is decoded whole and then each piece again as a run of its own; a gap whose
    windows (clipped at the edges of the run or piece) are the same in both is computed once.
    Keys are absolute paragraph indices, so the memo is valid for any piece of the run.
    """

    def __init__(self, paragraphs: Sequence[ParagraphFeatures]):
        self.paras = paragraphs
        self.terms = [p.terms for p in paragraphs]
        self._tokens = [0, *itertools.accumulate(map(len, self.terms))]  # tokens before paragraph i
        self._windows: dict[tuple[int, int], tuple[Counter, int]] = {}
        self._sims: dict[tuple[int, int, int], float] = {}
        self._gains: dict[tuple[int, int, int], float] = {}
        self._names: dict[tuple[int, int], float] = {}
        self._novel: dict[tuple[int, int], float] = {}
        self._adjacent: dict[int, float] = {}

    def _window(self, a: int, b: int) -> tuple[Counter, int]:
        """Term counts of paragraphs[a:b] and their sum of squares (shared: never mutate them)."""
        key = (a, b)
        found = self._windows.get(key)
        if found is None:
            # the window's term counts, counted in C (the same keys, order and counts as adding
            # the paragraphs' Counters one by one)
            counts = Counter(itertools.chain.from_iterable(self.terms[a:b]))
            found = self._windows[key] = (counts, sum(map(operator.mul, counts.values(), counts.values())))
        return found

    def _sim(self, a: int, i: int, b: int) -> float:
        """_cosine of the term counts of paragraphs[a:i] and [i:b]."""
        key = (a, i, b)
        s = self._sims.get(key)
        if s is None:
            (left, left_sq), (right, right_sq) = self._window(a, i), self._window(i, b)
            if not left or not right:
                s = 0.0
            else:
                if len(right) < len(left):  # the dot product over the smaller (exact integers)
                    left, right = right, left
                dot = sum(map(operator.mul, left.values(), map(right.get, left, itertools.repeat(0))))
                s = dot / math.sqrt(left_sq * right_sq) if dot else 0.0
            self._sims[key] = s
        return s

    def _gain(self, a: int, i: int, b: int) -> float:
        key = (a, i, b)
        g = self._gains.get(key)
        if g is None:
            tokens = (self._tokens[b] - self._tokens[a]) or 1
            g = self._gains[key] = _gain(self._window(a, i)[0], self.terms[i:b]) / tokens
        return g

    def _gain_bound(self, a: int, i: int, b: int, vocab: int) -> float:
        """An upper bound of _gain(a, i, b) from token counts alone (`vocab`: at most the window's).

        With N = L + R tokens and V terms, a segment of n tokens costs n log(n + V) minus
        sum(f log(f + 1)) over its terms, and f log(f + 1) over the whole is at least the sum of
        the two sides' (l + r) log(l + r + 1) >= l log(l + 1) + r log(r + 1); so the gain is at
        most N log(N + V) - L log(L + V) - R log(R + V), which falls as V grows. The margin
        covers the rounding of the float sums.
        """
        n_left = self._tokens[i] - self._tokens[a]
        n_right = self._tokens[b] - self._tokens[i]
        n = n_left + n_right
        if n == 0:
            return 0.0
        bound = n * math.log(n + vocab)
        if n_left:
            bound -= n_left * math.log(n_left + vocab)
        if n_right:
            bound -= n_right * math.log(n_right + vocab)
        return (bound + 1e-6 * (n + 1)) / n

    def _name_novelty(self, a: int, i: int) -> float:
        names = self.paras[i].names
        if not names:
            return 0.5
        key = (a, i)
        v = self._names.get(key)
        if v is None:
            seen_before = " ".join([p.lower for p in self.paras[a:i]])
            new_names = [nm for nm in names if nm not in seen_before]
            v = self._names[key] = len(new_names) / len(names)
        return v

    def _term_novelty(self, a: int, i: int) -> float:
        mine = self.paras[i].bag.keys()  # the paragraph's distinct terms
        if not mine:
            return 0.5
        key = (a, i)
        v = self._novel.get(key)
        if v is None:
            left_terms = set().union(*[p.bag.keys() for p in self.paras[a:i]])
            v = self._novel[key] = len(mine - left_terms) / len(mine)
        return v

    def _sim_adjacent(self, i: int) -> float:
        v = self._adjacent.get(i)
        if v is None:
            v = self._adjacent[i] = _cosine(self.paras[i - 1].bag, self.paras[i].bag)
        return v

    def rows(
        self,
        lo: int,
        hi: int,
        wanted: Sequence[bool] | None = None,
        model: GapModel | None = None,
        floor: float = 0.0,
    ) -> list[list[float] | None]:
        """Gap features for the piece paragraphs[lo:hi] scored as a run of its own.

        One row per gap before piece paragraph k = 1..n-1; None where `wanted[k]` is false, and
        where `model` gives the gap a probability below `floor` even with the most favourable
        values its dearer features could take (see _cut_floor): those are filled in one kind at
        a time, cheapest first, and the gap is dropped as soon as the bound falls below `floor`.
        The lexical gain (the dearest) is bounded by _gain_bound; the one-sentence flags and the
        novelties, which lie in [0, 1], by whichever end the model favours.
        """
        n = hi - lo
        window = 3
        sims = [self._sim(max(lo, j - window), j, min(hi, j + window)) for j in range(lo + 1, hi)]
        left_peaks = list(itertools.accumulate(sims, max))
        right_peaks = list(itertools.accumulate(reversed(sims), max))[::-1]
        paras = self.paras
        prune = model is not None and floor > 0.0
        if prune:
            top = {f: 1.0 if _weight_sign(model, f) >= 0 else 0.0 for f in _BOUNDED}
        rows: list[list[float] | None] = []
        for k in range(1, n):
            if wanted is not None and not wanted[k]:
                rows.append(None)
                continue
            i = lo + k  # absolute index of the paragraph after the gap
            s = sims[k - 1]
            # max(sims[:k]) and max(sims[k - 1:]), precomputed: linear, not quadratic
            depth = (left_peaks[k - 1] - s) + (right_peaks[k - 1] - s)
            para, prev = paras[i], paras[i - 1]
            row = [
                1.0,
                self._sim_adjacent(i),
                s,
                depth,
                0.0,  # gain_per_token, name_novelty, term_novelty: below
                0.0,
                0.0,
                para.carry_over_start,
                para.quote_start,
                0.0,  # one_sentence: below
                para.log_words,
                math.log1p(k),
                math.log1p(n - k),
                0.0,  # prev_one_sentence: below
                para.lowercase_share,
                para.ends_sentence,
                prev.ends_sentence,
            ]
            a, b = max(lo, i - 6), min(hi, i + 6)
            if prune:
                # the gain window holds both cohesion windows: its vocabulary is at least theirs
                vocab = max(
                    len(self._window(max(lo, i - window), i)[0]),
                    len(self._window(i, min(hi, i + window))[0]),
                    1,
                )
                row[_GAIN] = self._gain_bound(a, i, b, vocab)
                for f in (_NAMES, _TERMS, _ONE, _PREV_ONE):
                    row[f] = top[f]
                if model.probability(row) < floor:
                    rows.append(None)
                    continue
            row[_ONE], row[_PREV_ONE] = para.one_sentence, prev.one_sentence  # Punkt, once a paragraph
            if prune and model.probability(row) < floor:
                rows.append(None)
                continue
            row[_NAMES] = self._name_novelty(max(lo, i - 8), i)
            row[_TERMS] = self._term_novelty(max(lo, i - 5), i)
            if prune and model.probability(row) < floor:
                rows.append(None)
                continue
            row[_GAIN] = self._gain(a, i, b)
            rows.append(row)
        return rows


def gap_features(texts: Sequence[str], terms: Sequence[Sequence[str]] | None = None) -> list[list[float]]:
    """One feature vector (in FEATURES order) for each gap before paragraph i, i = 1..n-1."""
    if len(texts) < 2:
        return []
    paras = [paragraph_features(t, None if terms is None else terms[i]) for i, t in enumerate(texts)]
    return _Run(paras).rows(0, len(paras))  # type: ignore[return-value]  (no None: all wanted)


@dataclass(frozen=True)
class GapModel:
    """Logistic model over standardised gap features."""

    weights: tuple[float, ...]
    means: tuple[float, ...]
    scales: tuple[float, ...]
    threshold: float = 0.5
    # log P(article has L paragraphs), L = 1..len; empty: decide gap by gap
    length_logprior: tuple[float, ...] = ()

    @functools.cached_property
    def least_merge_change(self) -> float:
        """least_merge_change(self.length_logprior), worked out once per model."""
        return least_merge_change(self.length_logprior)

    @functools.cached_property
    def relative_priors(self) -> tuple[list[float], list[float]]:
        """_relative_priors(self.length_logprior), worked out once per model, not once per run."""
        return _relative_priors(self.length_logprior)

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


# The share of boundaries among the gaps the model was fitted on (tools/train_topic_shift.py's
# runs of 1-4 bbc-dev articles: 0.1097): its probabilities are calibrated to that prior.
TRAINING_BOUNDARY_SHARE = 0.11


def continues_article(
    texts: Sequence[str], gaps: Sequence[int], memo: FeatureMemo | None = None, model: GapModel | None = None
) -> list[bool]:
    """For each gap in `gaps` (before paragraph i of the run `texts`, 1 <= i < n): whether the
    model reads paragraph i as the same article's when a boundary there is as likely as not
    before reading (its probability below the prior it was fitted on). No length prior: the
    caller has other evidence of a boundary there (the paragraph above stops mid-sentence)."""
    model = shipped_gap_model() if model is None else model
    memo = FeatureMemo() if memo is None else memo
    wanted = [False] * len(texts)
    for i in gaps:
        wanted[i] = True
    rows = _Run([memo.paragraph(t) for t in texts]).rows(0, len(texts), wanted)
    out = []
    for i in gaps:
        row = list(rows[i - 1])  # type: ignore[arg-type]
        # The paragraph above is unfinished: that is the evidence the caller already counted, and
        # the model never saw it (it was fitted on whole articles), so it reads as finished here.
        row[_PREV_ENDS] = 1.0
        out.append(model.probability(row) < TRAINING_BOUNDARY_SHARE)
    return out


def _piece_probabilities(
    run: _Run, lo: int, hi: int, allowed: Sequence[bool] | None, model: GapModel, floor: float
) -> list[float]:
    """gap_probabilities of paragraphs[lo:hi] as a run of its own, for the gaps `allowed`
    (piece indices) lets cut and that may reach `floor`; the others read 0.0, and no decision
    reads them (see _cut_floor)."""
    rows = run.rows(lo, hi, allowed, model, floor)
    return [0.0 if row is None else model.probability(row) for row in rows]


def _weight_sign(model: GapModel, feature: int) -> int:
    """+1 if the model's probability grows with the feature, -1 if it falls, 0 if it ignores it
    (GapModel.probability adds w * (x - m) / s, monotone in x in floating point too)."""
    w, scale = model.weights[feature], model.scales[feature]
    return 0 if w == 0 else 1 if (w > 0) == (scale > 0) else -1


def _cut_floor(model: GapModel, threshold: float, decoded: bool) -> float:
    """A probability below which no gap is ever cut, whatever the other gaps' (0.0: none known).

    Gap by gap, that is the threshold. In decode_segments, a gap whose log-odds less the
    threshold's are below least_merge_change is never a cut: the best segmentation of the run up
    to any later paragraph that cut there would score strictly more (by a margin far above the
    float rounding) with its last two segments merged, so the decoder never picks the cut, and
    what the gap scores exactly does not matter.
    """
    if _weight_sign(model, _GAIN) < 0:
        return 0.0  # the probability falls as the gain grows: its upper bound proves nothing
    if not decoded:
        return threshold - 1e-9
    x = _logit(threshold) + model.least_merge_change - 1e-6
    if x <= _logit(1e-9) + 1e-6:
        return 0.0  # _logit clamps below 1e-9: the argument does not hold there
    return 1.0 / (1.0 + math.exp(-x))


def scored_boundaries(
    texts: Sequence[str],
    allowed: Sequence[bool] | None = None,
    model: GapModel | None = None,
    penalty: float = DEFAULT_PENALTY,
    memo: FeatureMemo | None = None,
) -> list[tuple[int, float]]:
    """(index, probability) of topic boundaries in a run of paragraphs.

    The decoder's pieces are decoded once more each on its own (new boundaries only: see
    below). `penalty` shifts the model's decision threshold (5 points of probability per unit away
    from the default), so a user can ask for fewer or more splits. `memo` (one per DoFn
    instance) keeps paragraphs' features and runs' results for the repeats of a corpus.
    """
    if len(texts) < 2:
        return []
    if allowed is not None and not any(allowed[1 : len(texts)]):
        return []  # no gap may be cut: nothing to score
    model = shipped_gap_model() if model is None else model
    if memo is None:
        return _scored_boundaries(texts, allowed, model, penalty, FeatureMemo())
    key = (tuple(texts), None if allowed is None else tuple(allowed), model, penalty)
    return memo.run(texts, key, lambda: _scored_boundaries(texts, allowed, model, penalty, memo))


def _scored_boundaries(
    texts: Sequence[str], allowed: Sequence[bool] | None, model: GapModel, penalty: float, memo: FeatureMemo
) -> list[tuple[int, float]]:
    # Each penalty unit above the default asks for 5 points more probability.
    threshold = min(0.99, max(0.01, model.threshold + 0.05 * (penalty - DEFAULT_PENALTY)))
    run = _Run([memo.paragraph(t) for t in texts])
    decoded = bool(model.length_logprior) and len(texts) <= MAX_DP_RUN
    floor = _cut_floor(model, threshold, decoded)
    probs = _piece_probabilities(run, 0, len(texts), allowed, model, floor)
    if not decoded:
        return [
            (i, p) for i, p in enumerate(probs, start=1) if (allowed is None or allowed[i]) and p >= threshold
        ]
    cuts = _decode(probs, allowed, model.relative_priors, threshold)
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
            piece_probs = _piece_probabilities(run, lo, hi, piece_allowed, model, floor)
            for c in _decode(piece_probs, piece_allowed, model.relative_priors, threshold):
                scored[lo + c] = piece_probs[c - 1]
    return sorted(scored.items())


def _logit(p: float) -> float:
    p = min(1 - 1e-9, max(1e-9, p))
    return math.log(p / (1 - p))


def _relative_priors(length_logprior: Sequence[float]) -> tuple[list[float], list[float]]:
    """(rel, tail) of decode_segments: each length's log-prior relative to the likeliest length's,
    and for the last segment of a run the best of it and of every longer length."""
    table = list(length_logprior)
    top = max(table)
    rel = [v - top for v in table]
    return rel, list(itertools.accumulate(reversed(rel), max))[::-1]  # tail[k] = max(rel[k:])


def least_merge_change(length_logprior: Sequence[float]) -> float:
    """The least the length priors of decode_segments change when two adjacent segments merge.

    min over lengths a, b >= 1 of prior(a + b) - rel(a) - prior(b), where prior is rel, or tail
    when the second segment ends the run (lengths past the table's end score as its last entry).
    A cut whose score (log-odds less the threshold's) is below this is never worth making.
    """
    rel, tail = _relative_priors(length_logprior)
    longest = len(rel)
    lengths = range(1, longest + 1)
    return min(
        prior[min(a + b, longest) - 1] - rel[a - 1] - prior[b - 1]
        for prior in (rel, tail)
        for a in lengths
        for b in lengths
    )


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
    return _decode(probs, allowed, _relative_priors(length_logprior), threshold)


def _decode(
    probs: Sequence[float],
    allowed: Sequence[bool] | None,
    priors: tuple[Sequence[float], Sequence[float]],
    threshold: float,
) -> list[int]:
    """decode_segments, given _relative_priors of the length prior."""
    n = len(probs) + 1  # paragraphs
    rel, tail = priors
    longest = len(rel)

    base = _logit(threshold)
    gain = [0.0] + [_logit(p) - base for p in probs]  # gain[i]: boundary before paragraph i
    best = [0.0] + [-math.inf] * n
    back = [0] * (n + 1)
    starts: list[int] = []  # where a segment may start, ascending: 0 and every allowed gap
    for j in range(1, n + 1):
        if j == 1 or allowed is None or allowed[j - 1]:
            starts.append(j - 1)
        # prior(j - i): the length's log-prior relative to the likeliest (the last segment: tail)
        prior = tail if j == n else rel
        best_j, back_j = -math.inf, 0
        for i in reversed(starts):  # latest start first: the first of equal scores wins
            best_i = best[i]
            if best_i == -math.inf:
                continue
            length = j - i
            score = best_i + prior[(length if length < longest else longest) - 1] + gain[i]
            if score > best_j:
                best_j, back_j = score, i
        best[j], back[j] = best_j, back_j
    cuts = []
    j = n
    while j > 0:
        if back[j] > 0:
            cuts.append(back[j])
        j = back[j]
    return sorted(cuts)
