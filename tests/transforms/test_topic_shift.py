"""topic_shift: gap features, the shipped model and the length-aware decoder."""

from __future__ import annotations

import itertools
import json
import math
import random

from tests.conftest import SAMPLES
from transforms.topic_shift import (
    DEFAULT_PENALTY,
    FEATURES,
    MAX_DP_RUN,
    BoundedMemo,
    FeatureMemo,
    GapModel,
    _cut_floor,
    _decode,
    _names,
    _relative_priors,
    _Run,
    boundary_gain,
    content_terms,
    decode_segments,
    gap_features,
    gap_probabilities,
    least_merge_change,
    paragraph_features,
    scored_boundaries,
    shipped_gap_model,
)


def paragraphs(name: str) -> list[str]:
    return [ln for ln in (SAMPLES / name).read_text(encoding="utf-8").splitlines() if ln.strip()]


def test_content_terms_drop_stop_words_and_stem() -> None:
    assert content_terms("The councillors were voting on the budgets") == ["councillor", "vote", "budget"]


def test_gap_features_shape() -> None:
    rows = gap_features(["One paragraph about budgets.", "Another about budgets.", "A third on football."])
    assert len(rows) == 2 and all(len(r) == len(FEATURES) for r in rows)


def test_shipped_model_matches_features() -> None:
    model = shipped_gap_model()
    assert len(model.weights) == len(FEATURES) and 0 < model.threshold < 1 and model.length_logprior


def test_two_unrelated_articles_split_where_they_meet() -> None:
    paras = paragraphs("two-articles.txt")[2:-1]  # the two bodies, without headline/byline/credit
    cuts = scored_boundaries(paras)
    assert [c for c, _ in cuts] == [8]  # the match report starts at its 9th paragraph


def test_one_long_real_article_stays_whole() -> None:
    seed = paragraphs("page-00000.txt")[:18]
    assert scored_boundaries(seed) == []


def test_forbidden_gaps_are_never_cut() -> None:
    paras = paragraphs("two-articles.txt")[2:-1]
    allowed = [True] * len(paras)
    allowed[8] = False
    assert 8 not in [c for c, _ in scored_boundaries(paras, allowed=allowed)]


def test_decoder_prefers_plausible_lengths() -> None:
    # Flat length prior: the decoder cuts exactly where the gap probability passes 0.5.
    flat = [math.log(1 / 40)] * 40
    assert decode_segments([0.1, 0.9, 0.2, 0.6], None, flat, 0.5) == [2, 4]
    # A prior that makes one-paragraph articles very unlikely removes the cut that would
    # leave a single paragraph on its own between two others.
    short_unlikely = [math.log(1e-6)] + [math.log(1 / 40)] * 39
    assert decode_segments([0.1, 0.9, 0.6, 0.1], None, short_unlikely, 0.5) == [2]


def position_model() -> GapModel:
    """A stub model: P(boundary) = sigmoid(1.5 - log(1 + position in the run)), flat length prior.

    Above 0.5 for the first two gaps of a run, below it from the third on: what it says of a
    gap depends on where the run it is scored in starts.
    """
    weights = [1.5 if f == "bias" else -1.0 if f == "log_position" else 0.0 for f in FEATURES]
    return GapModel(tuple(weights), (0.0,) * len(FEATURES), (1.0,) * len(FEATURES), 0.5, (0.0,) * 40)


def test_each_piece_is_decoded_again_as_a_run_of_its_own() -> None:
    texts = [f"Paragraph {i} of the run." for i in range(6)]
    model = position_model()
    allowed = [True, False, True, False, True, False]
    # In the whole run only the gap before paragraph 2 passes (position 2: p = 0.60; position
    # 4: p = 0.47); in the piece from paragraph 2 on, paragraph 4 is at position 2 again.
    assert [round(p, 2) for p in gap_probabilities(texts, model)] == [0.69, 0.6, 0.53, 0.47, 0.43]
    assert [(c, round(p, 2)) for c, p in scored_boundaries(texts, allowed, model)] == [(2, 0.6), (4, 0.6)]
    # The second look obeys the forbidden gaps and adds nothing where the first found nothing.
    assert [c for c, _ in scored_boundaries(texts, [True, False, True, False, False, False], model)] == [2]
    assert scored_boundaries(texts, [True, False, False, False, True, False], model) == []


# ---------------------------------------------------------------- the same answers, sooner


def _reference_boundaries(texts, allowed=None, model=None, penalty=DEFAULT_PENALTY):
    """scored_boundaries as first written: every gap's probability, then the two decodes."""
    model = shipped_gap_model() if model is None else model
    threshold = min(0.99, max(0.01, model.threshold + 0.05 * (penalty - DEFAULT_PENALTY)))
    probs = gap_probabilities(texts, model)
    if len(texts) > MAX_DP_RUN:
        return [(i, p) for i, p in enumerate(probs, 1) if (allowed is None or allowed[i]) and p >= threshold]
    cuts = decode_segments(probs, allowed, model.length_logprior, threshold)
    scored = {i: probs[i - 1] for i in cuts}
    for lo, hi in itertools.pairwise([0, *cuts, len(texts)]) if cuts else ():
        if hi - lo < 2:
            continue
        piece_allowed = None if allowed is None else [True, *allowed[lo + 1 : hi]]
        piece_probs = gap_probabilities(texts[lo:hi], model)
        for c in decode_segments(piece_probs, piece_allowed, model.length_logprior, threshold):
            scored[lo + c] = piece_probs[c - 1]
    return sorted(scored.items())


def _sample_runs() -> list[list[str]]:
    """Runs of paragraphs spliced from the samples' pages: articles back to back, cut anywhere."""
    docs = [paragraphs(name) for name in ("two-articles.txt", "page-00000.txt", "section-front.txt")]
    for line in (SAMPLES / "pages.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            docs.append([ln for ln in json.loads(line)["text"].splitlines() if ln.strip()])
    rng = random.Random(1)
    runs = []
    for _ in range(40):
        texts: list[str] = []
        for _ in range(rng.randrange(2, 5)):
            doc = rng.choice(docs)
            start = rng.randrange(len(doc))
            texts += doc[start : start + rng.randrange(2, 9)]
        runs.append(texts)
    return runs


def test_scored_boundaries_match_the_unpruned_reference_with_and_without_a_memo() -> None:
    # Gaps are dropped unscored when even their most favourable features could not make them a cut,
    # and results are memoised: neither may change an answer (nor a probability).
    memo = FeatureMemo()
    rng = random.Random(3)
    for texts in _sample_runs():
        for penalty in (DEFAULT_PENALTY, 4.0, 12.0):
            allowed = [True] + [rng.random() < 0.85 for _ in texts[1:]]
            for a in (None, allowed):
                expected = _reference_boundaries(texts, a, penalty=penalty)
                assert scored_boundaries(texts, a, penalty=penalty) == expected
                assert scored_boundaries(texts, a, penalty=penalty, memo=memo) == expected
                assert scored_boundaries(texts, a, penalty=penalty, memo=memo) == expected  # memo hit


def test_a_gap_below_the_cut_floor_is_never_cut_whatever_it_scores() -> None:
    model = shipped_gap_model()
    floor = _cut_floor(model, model.threshold, decoded=True)
    assert 0.0 < floor < model.threshold
    rng = random.Random(11)
    for _ in range(300):
        n = rng.randrange(2, 60)
        probs = [rng.random() ** 2 for _ in range(n - 1)]
        allowed = [True] + [rng.random() < 0.9 for _ in range(n - 1)]
        cuts = decode_segments(probs, allowed, model.length_logprior, model.threshold)
        # what the pruned gaps read instead of their probability
        pruned = [0.0 if p < floor else p for p in probs]
        assert decode_segments(pruned, allowed, model.length_logprior, model.threshold) == cuts
        assert all(probs[c - 1] >= floor for c in cuts)


def test_least_merge_change_is_the_smallest_prior_change_of_a_merge() -> None:
    prior = [math.log(p) for p in (0.05, 0.3, 0.4, 0.2, 0.05)]
    top = max(prior)
    rel = [v - top for v in prior]
    # two segments of the likeliest length (3) merged into one of 6, which scores as the table's
    # last entry (5): rel(5) - rel(3) - rel(3), the worst of all pairs here
    assert math.isclose(least_merge_change(prior), rel[4] - rel[2] - rel[2])
    assert least_merge_change(prior) <= min(rel)
    # a merge can only cost what the priors say: a flat prior costs nothing
    assert least_merge_change([0.0] * 10) == 0.0


def test_a_model_works_its_relative_priors_out_once_and_decodes_with_them_as_without() -> None:
    model = shipped_gap_model()
    assert model.relative_priors is model.relative_priors  # cached
    assert model.relative_priors == _relative_priors(model.length_logprior)
    rng = random.Random(5)
    for n in (2, 7, 40):
        probs = [rng.random() for _ in range(n - 1)]
        allowed = [True] + [rng.random() < 0.8 for _ in probs]
        assert _decode(probs, allowed, model.relative_priors, 0.4) == decode_segments(
            probs, allowed, model.length_logprior, 0.4
        )


def test_gain_bound_is_never_below_the_gain() -> None:
    rng = random.Random(5)
    vocabulary = [f"w{i}" for i in range(40)]
    for _ in range(500):
        paras = [
            [rng.choice(vocabulary) for _ in range(rng.randrange(0, 30))] for _ in range(rng.randrange(2, 9))
        ]
        run = _Run([paragraph_features(" ".join(p), p) for p in paras])
        at = rng.randrange(1, len(paras))
        vocab = len({t for p in paras for t in p}) or 1
        tokens = sum(map(len, paras)) or 1
        gain = boundary_gain(paras, at) / tokens
        assert run._gain(0, at, len(paras)) == gain
        assert gain <= run._gain_bound(0, at, len(paras), vocab)
    # two sides without a term in common: the bound is the gain itself (bar the rounding margin)
    run = _Run([paragraph_features("", ["a", "b", "a"]), paragraph_features("", ["c", "d"])])
    assert math.isclose(run._gain(0, 1, 2), run._gain_bound(0, 1, 2, 4), rel_tol=1e-5)


def test_paragraph_features_worked_out_late_are_those_of_the_text() -> None:
    text = "Mr Smith went to Washington. He met Jones's staff there."
    f = paragraph_features(text)
    assert f.names == _names(text) == {"smith", "washington", "jone"}  # "’s"/"s" stripped, as always
    assert f.one_sentence == 0.0 and f.names is f.names  # worked out once
    assert f.lower == text.lower() and f.terms == tuple(content_terms(text))
    assert paragraph_features("One sentence from Paris only.").one_sentence == 1.0


def test_bounded_memo_keeps_to_its_budget_and_drops_the_least_recently_used() -> None:
    memo = BoundedMemo(10)
    calls = []

    def value(key):
        calls.append(key)
        return key.upper()

    for key in ("abcd", "efgh", "abcd", "ijkl"):  # "efgh" is the least recently used when "ijkl" comes
        assert memo.get(key, len(key), lambda k=key: value(k)) == key.upper()
    assert calls == ["abcd", "efgh", "ijkl"] and memo.chars <= 10 and len(memo) == 2
    memo.get("abcd", 4, lambda: value("abcd"))
    memo.get("efgh", 4, lambda: value("efgh"))
    assert calls[-1] == "efgh"  # it was dropped
    memo.get("x" * 11, 11, lambda: value("x" * 11))  # longer than the whole budget: not kept
    assert memo.chars <= 10 and "x" * 11 in calls


def test_bounded_memo_lookup_computes_nothing_and_counts_as_a_use() -> None:
    memo = BoundedMemo(8)
    assert memo.lookup("abcd") is None and len(memo) == 0
    memo.get("abcd", 4, lambda: 1)
    memo.get("efgh", 4, lambda: 2)
    assert memo.lookup("abcd") == 1  # now the most recently used: "efgh" goes first
    memo.get("ijkl", 4, lambda: 3)
    assert memo.lookup("efgh") is None and memo.lookup("abcd") == 1
