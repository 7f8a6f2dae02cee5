#!/usr/bin/env python3
"""Fit the deck/lede seam model on real articles (a development tool).

From each real article (<category>/NNN.txt: headline line, then one paragraph per line) it
builds teaser text the way news sites write it: a deck (the headline, or a later sentence
without its final stop) running straight into the lede (the opening words, cut mid-sentence
after 50-110 words). It then fits deck_split's conditional-logit model on the candidate
seams (numpy gradient descent with L2), measured on a held-out half of the articles, and
writes the weights as JSON.

  python tools/train_deck_split.py ARTICLES_DIR --out transforms/resources/deck_model.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from transforms import deck_split  # noqa: E402
from transforms.deck_split import FEATURES, DeckModel, candidate_seams, count_sentence_edges, split_deck  # noqa: E402
from transforms.sentences import split_sentences  # noqa: E402


def load_articles(root: Path) -> list[tuple[str, str, list[str]]]:
    arts = []
    for f in sorted(root.glob("*/*.txt")):
        raw = f.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
        if len(lines) >= 3:
            arts.append((f"{f.parent.name}/{f.name}", lines[0], lines[1:]))
    return arts


SENTENCE_DECK_SHARE = 0.5  # share of teasers whose deck is a later sentence rather than the headline


def make_teaser(title: str, paras: list[str], rng: random.Random) -> tuple[str, str] | None:
    """(deck, lede) for one article, or None when it has no usable text."""
    deck = title
    if rng.random() < SENTENCE_DECK_SHARE:
        later = [s for p in paras[1:] for s in split_sentences(p)]
        later = [s for s in later if 8 <= len(s.split()) <= 30 and s.endswith(".") and s[:1].isupper()]
        if later:
            deck = rng.choice(later)[:-1]
    words = " ".join(paras).split()
    if len(words) < 30:
        return None
    n = min(rng.randint(50, 110), len(words) - 1)
    while n > 5 and not words[n - 1][-1].isalnum():
        n -= 1
    return deck, " ".join(words[:n])


def samples(arts, rng: random.Random):
    out = []
    for _, title, paras in arts:
        made = make_teaser(title, paras, rng)
        if made is None:
            continue
        deck, lede = made
        text = f"{deck} {lede}"
        gold = len(deck.split())
        _, cands = candidate_seams(text)
        idx = [i for i, _ in cands]
        if gold not in idx:
            continue
        out.append((np.array([f for _, f in cands], dtype=float), idx.index(gold), deck, text))
    return out


def fit(data, l2: float = 0.01, iters: int = 3000, lr: float = 0.1) -> DeckModel:
    dim = len(FEATURES)
    w = np.zeros(dim)
    b = 0.0
    m_w, v_w, m_b, v_b = np.zeros(dim), np.zeros(dim), 0.0, 0.0
    for t in range(1, iters + 1):
        g_w = l2 * w * len(data)
        g_b = 0.0
        for x, gold, _, _ in data:
            s = x @ w + b
            top = max(s.max(), 0.0)
            e = np.exp(s - top)
            z = e.sum() + np.exp(-top)
            p = e / z
            p[gold] -= 1.0
            g_w += x.T @ p
            g_b += p.sum()
        g_w /= len(data)
        g_b /= len(data)
        # Adam
        m_w = 0.9 * m_w + 0.1 * g_w
        v_w = 0.999 * v_w + 0.001 * g_w**2
        m_b = 0.9 * m_b + 0.1 * g_b
        v_b = 0.999 * v_b + 0.001 * g_b**2
        w -= lr * (m_w / (1 - 0.9**t)) / (np.sqrt(v_w / (1 - 0.999**t)) + 1e-8)
        b -= lr * (m_b / (1 - 0.9**t)) / (np.sqrt(v_b / (1 - 0.999**t)) + 1e-8)
    return DeckModel(tuple(float(v) for v in w), float(b), accept=0.25)


def evaluate(model: DeckModel, data) -> dict:
    exact = none = 0
    for _, _, deck, text in data:
        got, _ = split_deck(text, model)
        exact += got == deck
        none += got is None
    return {"teasers": len(data), "deck_exact": round(exact / len(data), 4), "deck_none": round(none / len(data), 4)}


def half(path: str) -> int:
    return int(hashlib.sha1(f"deck-split:{path}".encode()).hexdigest(), 16) % 2


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("root")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=2, help="teasers made per article")
    ap.add_argument("--iters", type=int, default=400)
    args = ap.parse_args()
    arts = load_articles(Path(args.root))
    rng = random.Random(args.seed)
    # Sentence-edge statistics first: the seam features read them.
    edges = count_sentence_edges([s for _, _, paras in arts for p in paras for s in split_sentences(p)])
    edges_path = Path(args.out).with_name("sentence_edges.json")
    edges_path.write_text(json.dumps({"end": edges.end, "start": edges.start}, sort_keys=True,
                                     separators=(",", ":")) + "\n", encoding="utf-8")
    deck_split.sentence_edges.cache_clear()
    print("wrote", edges_path, f"({len(edges.end)} words)")
    train = [a for a in arts if half(a[0]) == 0]
    test = [a for a in arts if half(a[0]) == 1]
    train_data = [s for _ in range(args.rounds) for s in samples(train, rng)]
    test_data = samples(test, rng)
    model = fit(train_data, iters=args.iters)
    print("held-out half:", json.dumps(evaluate(model, test_data)))
    all_data = [s for _ in range(args.rounds) for s in samples(arts, rng)]
    final = fit(all_data, iters=args.iters)
    print("all (training fit):", json.dumps(evaluate(final, all_data[: len(all_data) // args.rounds])))
    for name, w in zip(FEATURES, final.weights, strict=True):
        print(f"  {name:26s} {w:+.3f}")
    print(f"  {'bias':26s} {final.bias:+.3f}")
    Path(args.out).write_text(json.dumps(final.to_json(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print("wrote", args.out)


if __name__ == "__main__":
    main()
