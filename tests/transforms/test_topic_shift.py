"""topic_shift: gap features, the shipped model and the length-aware decoder."""

from __future__ import annotations

import math

from tests.conftest import SAMPLES
from transforms.topic_shift import (
    FEATURES,
    content_terms,
    decode_segments,
    gap_features,
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
