"""topic_shift: gap features, the shipped model and the length-aware decoder."""

from __future__ import annotations

import math

from tests.conftest import SAMPLES
from transforms.topic_shift import (
    FEATURES,
    GapModel,
    content_terms,
    decode_segments,
    gap_features,
    gap_probabilities,
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
