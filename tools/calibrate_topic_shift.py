#!/usr/bin/env python3
"""Calibrate topic_shift's segment penalty on real articles (a development tool).

Takes a folder of real news articles, one per file (<category>/NNN.txt: first line the
headline, then one paragraph per line), builds runs of 1-4 articles pasted back to back
without headlines, and reports boundary precision/recall/F1 for each penalty: single
articles must stay whole, pasted ones must come apart.

  python tools/calibrate_topic_shift.py ARTICLES_DIR [--runs 600] [--seed 7]
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from transforms.topic_shift import best_boundaries, content_terms  # noqa: E402


def load_articles(root: Path) -> list[list[str]]:
    arts = []
    for f in sorted(root.glob("*/*.txt")):
        raw = f.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
        if len(lines) >= 3:
            arts.append(lines[1:])
    return arts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("--runs", type=int, default=600)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--penalties", default="2,4,6,8,10,12,15,20")
    args = ap.parse_args()
    arts = load_articles(Path(args.root))
    rng = random.Random(args.seed)
    runs = []
    for _ in range(args.runs):
        k = rng.choice([1, 1, 2, 3, 4])
        chosen = rng.sample(arts, k)
        paras, gold, pos = [], set(), 0
        for a in chosen:
            if pos:
                gold.add(pos)
            paras.extend(a)
            pos += len(a)
        runs.append(([content_terms(p) for p in paras], gold))
    for pen in [float(x) for x in args.penalties.split(",")]:
        tp = fp = fn = 0
        whole = 0
        singles = 0
        for terms, gold in runs:
            cuts = set(best_boundaries(terms, penalty=pen))
            tp += len(cuts & gold)
            fp += len(cuts - gold)
            fn += len(gold - cuts)
            if not gold:
                singles += 1
                whole += not cuts
        p = tp / (tp + fp) if tp + fp else 1.0
        r = tp / (tp + fn) if tp + fn else 1.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        print(
            f"penalty {pen:5.1f}  precision {p:.3f}  recall {r:.3f}  f1 {f:.3f}  "
            f"single articles kept whole {whole}/{singles}"
        )


if __name__ == "__main__":
    main()
