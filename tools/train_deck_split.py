#!/usr/bin/env python3
"""Fit the deck/lede seam model on real articles (a development tool).

From each real article (<category>/NNN.txt: headline line, then one paragraph per line) it
builds teaser text the way news sites write it: a deck (the headline, or a later sentence
without its final stop) running straight into the lede (the opening words, cut mid-sentence
after 50-110 words). Two resources come out:

- sentence_edges.json: word statistics counted over the articles' sentences (how often a word
  ends or starts a sentence, is followed by a capitalised word, continues a name);
- deck_model.json: deck_split's conditional-logit weights, fitted by Newton's method with L2.

The statistics and the weights are fitted on different articles (two-fold cross-fitting):
statistics counted on the very article a teaser comes from know its names and would teach
the model to trust them far more than it can on unseen text. The tool first reports the
whole procedure run on one half of the articles and measured on teasers of the other half,
split by deck kind (headline or sentence), then fits on everything and writes the files.

  python tools/train_deck_split.py ARTICLES_DIR --out transforms/resources/deck_model.json
  python tools/train_deck_split.py ARTICLES_DIR --out /tmp/x.json --drop overlap,restates  # ablation
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools import articles  # noqa: E402
from transforms.deck_split import (  # noqa: E402
    FEATURES,
    DeckModel,
    WordStats,
    candidate_seams,
    count_word_stats,
    split_deck,
    word_stats_to_json,
)
from transforms.sentences import split_sentences  # noqa: E402

SENTENCE_DECK_SHARE = 0.5  # share of teasers whose deck is a later sentence rather than the headline
ACCEPT = 0.25  # below this probability the best seam is not trusted and deck stays None


@dataclass(frozen=True)
class Article:
    path: str
    title: str
    paras: tuple[str, ...]


@dataclass(frozen=True)
class Sample:
    features: np.ndarray  # candidates x features
    gold: int  # index of the true seam among the candidates, -1 when it is not one
    deck: str
    text: str
    kind: str  # "title" or "sentence"


def load_articles(root: Path) -> list[Article]:
    return [Article(path, title, tuple(paras)) for path, title, paras in articles.load_articles(root, 3)]


@functools.cache
def _sentences(art: Article) -> tuple[str, ...]:
    return tuple(s for p in art.paras for s in split_sentences(p))


def article_sentences(arts: Sequence[Article]) -> list[str]:
    return [s for a in arts for s in _sentences(a)]


def make_teaser(art: Article, rng: random.Random) -> tuple[str, str, str] | None:
    """(deck, lede, deck kind) for one article, or None when it has no usable text."""
    deck, kind = art.title, "title"
    if rng.random() < SENTENCE_DECK_SHARE:
        later = [s for p in art.paras[1:] for s in split_sentences(p)]
        later = [s for s in later if 8 <= len(s.split()) <= 30 and s.endswith(".") and s[:1].isupper()]
        if later:
            deck, kind = rng.choice(later)[:-1], "sentence"
    words = " ".join(art.paras).split()
    if len(words) < 30:
        return None
    n = min(rng.randint(50, 110), len(words) - 1)
    while n > 5 and not words[n - 1][-1].isalnum():
        n -= 1
    return deck, " ".join(words[:n]), kind


def make_samples(arts: Sequence[Article], stats: WordStats, rng: random.Random, rounds: int) -> list[Sample]:
    out = []
    for _ in range(rounds):
        for art in arts:
            made = make_teaser(art, rng)
            if made is None:
                continue
            deck, lede, kind = made
            text = " ".join(f"{deck} {lede}".split())
            gold = len(deck.split())
            _, cands = candidate_seams(text, stats)
            idx = [i for i, _ in cands]
            feats = np.array([f for _, f in cands], dtype=float).reshape(len(cands), len(FEATURES))
            out.append(Sample(feats, idx.index(gold) if gold in idx else -1, deck, text, kind))
    return out


def fit(
    data: Sequence[Sample], l2: float = 1.0, iters: int = 50, drop: frozenset[str] = frozenset()
) -> DeckModel:
    """Conditional logit (seams vs. a 'no seam' option at score 0) by damped Newton with L2.

    Features named in `drop` keep weight 0 (to measure what each one earns)."""
    data = [s for s in data if s.gold >= 0 and len(s.features)]
    kmax = max(len(s.features) for s in data)
    dim = len(FEATURES) + 1  # last column: the bias
    x = np.zeros((len(data), kmax, dim))
    mask = np.zeros((len(data), kmax), dtype=bool)
    gold = np.array([s.gold for s in data])
    for r, s in enumerate(data):
        x[r, : len(s.features), :-1] = s.features
        x[r, : len(s.features), -1] = 1.0
        mask[r, : len(s.features)] = True
    keep = np.array([name not in drop for name in FEATURES] + [True])
    x[:, :, ~keep] = 0.0
    reg = np.where(keep, l2, 1.0)
    reg[-1] = 1e-6
    rows = np.arange(len(data))

    def loss_and_probs(w: np.ndarray) -> tuple[float, np.ndarray]:
        s = np.where(mask, x @ w, -np.inf)
        top = np.maximum(s.max(axis=1), 0.0)
        e = np.exp(s - top[:, None])
        z = e.sum(axis=1) + np.exp(-top)
        loss = float((np.log(z) + top - s[rows, gold]).sum() + 0.5 * (reg * w * w).sum())
        return loss, e / z[:, None]

    w = np.zeros(dim)
    loss, p = loss_and_probs(w)
    for _ in range(iters):
        mean = np.einsum("nk,nkd->nd", p, x)
        grad = mean.sum(axis=0) - x[rows, gold].sum(axis=0) + reg * w
        hess = np.einsum("nk,nkd,nke->de", p, x, x) - mean.T @ mean + np.diag(reg)
        step = np.linalg.solve(hess, grad)
        for _ in range(30):  # halve the step until the loss falls
            new_loss, new_p = loss_and_probs(w - step)
            if new_loss <= loss:
                break
            step /= 2
        w, p, done = w - step, new_p, loss - new_loss < 1e-7 * abs(loss)
        loss = new_loss
        if done:
            break
    return DeckModel(tuple(float(v) for v in w[:-1]), float(w[-1]), accept=ACCEPT)


def evaluate(model: DeckModel, stats: WordStats, data: Sequence[Sample]) -> dict:
    """Deck exact match (all, headline decks, sentence decks) and the share left None."""
    out = {"teasers": len(data)}
    for kind in ("all", "title", "sentence"):
        part = [s for s in data if kind in ("all", s.kind)]
        got = [split_deck(s.text, model, stats)[0] for s in part]
        out[f"{kind}_exact"] = round(sum(g == s.deck for g, s in zip(got, part, strict=True)) / len(part), 4)
        out[f"{kind}_none"] = round(sum(g is None for g in got) / len(part), 4)
    return out


def fold(path: str) -> int:
    return int(hashlib.sha1(f"deck-split:{path}".encode()).hexdigest(), 16) % 2


def train(
    arts: Sequence[Article], seed: int, rounds: int, l2: float, drop: frozenset[str] = frozenset()
) -> tuple[WordStats, DeckModel]:
    """Word statistics from all `arts`; weights fitted on teasers whose statistics were
    counted on the other fold (cross-fitting), so they weigh evidence as on unseen text."""
    rng = random.Random(seed)
    halves = [[a for a in arts if fold(a.path) == f] for f in (0, 1)]
    data = []
    for f in (0, 1):
        other_stats = count_word_stats(article_sentences(halves[1 - f]))
        data += make_samples(halves[f], other_stats, rng, rounds)
    return count_word_stats(article_sentences(arts)), fit(data, l2=l2, drop=drop)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("root")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=4, help="teasers made per article")
    ap.add_argument("--l2", type=float, default=1.0)
    ap.add_argument(
        "--drop", default="", help="comma-separated features held at weight 0 (what do they earn?)"
    )
    args = ap.parse_args()
    drop = frozenset(name for name in args.drop.split(",") if name)
    if drop - set(FEATURES):
        ap.error(f"unknown features: {sorted(drop - set(FEATURES))}")
    arts = load_articles(Path(args.root))
    # The whole procedure on one half, measured on the other: what to expect on unseen articles.
    inner = [a for a in arts if fold(f"outer:{a.path}") == 0]
    outer = [a for a in arts if fold(f"outer:{a.path}") == 1]
    stats, model = train(inner, args.seed, args.rounds, args.l2, drop)
    print(
        "held-out half:", json.dumps(evaluate(model, stats, make_samples(outer, stats, random.Random(1), 2)))
    )
    stats, model = train(arts, args.seed, args.rounds, args.l2, drop)
    for name, w in zip(FEATURES, model.weights, strict=True):
        print(f"  {name:34s} {w:+.3f}")
    print(f"  {'bias':34s} {model.bias:+.3f}")
    out = Path(args.out)
    edges = out.with_name("sentence_edges.json")
    edges.write_text(json.dumps(word_stats_to_json(stats), separators=(",", ":")) + "\n", encoding="utf-8")
    out.write_text(json.dumps(model.to_json(), indent=1) + "\n", encoding="utf-8")
    print("wrote", edges, f"({edges.stat().st_size // 1024} KB)", "and", out)


if __name__ == "__main__":
    main()
