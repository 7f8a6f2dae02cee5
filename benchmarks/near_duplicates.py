"""Near-duplicate check on a real corpus: are the pairs with word 5-gram Jaccard >= 0.8 found?

  python benchmarks/near_duplicates.py ARTICLES_DIR [--copies 0.6] [--seed 1] [--verify exact]

ARTICLES_DIR holds real articles, one per `.txt` file (searched recursively), e.g. a folder of
BBC News articles `<category>/NNN.txt` (title line, blank line, paragraphs). The corpus must not
hold near-copies of its own beyond what is found (a curated pool) -- they would be counted as well,
which is fine: the truth is computed, not assumed.

1. Edited copies are added, of the kinds a crawl really holds: re-titled (another headline),
   trimmed (the last one or two paragraphs dropped), re-quoted (curly/straight quotes, dashes),
   re-flowed (paragraphs re-wrapped or joined, double spaces), with a byline or dateline added,
   and with a few words edited (numbers spelled out, "per cent" -> "percent", a verb changed).
   A share of the articles (`--copies`) gets one to three copies, each with a random mix.
2. The truth is the exact Jaccard of the sets of lowercased word 5-grams (its own tokenizer, not
   the product's), computed for every pair that shares a 5-gram (every other pair has Jaccard 0).
3. The product's `Deduplicate` runs on all texts (the offline DirectRunner, default options unless
   given); a predicted pair is two texts in the same cluster.
4. Pairs with Jaccard >= 0.8 are positives, < 0.5 negatives; pairs in between count neither way.
   Printed: precision and recall (target >= 0.98 both), the counts, and the worst misses.

Not imported by the product or the tests; timings printed here are for information only.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections import defaultdict
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from benchmarks import dedup_quality  # noqa: E402
from transforms.deduplicate import DedupConfig  # noqa: E402
from transforms.records import ARTICLE, Story, story_id  # noqa: E402

POSITIVE, NEGATIVE = 0.8, 0.5

BYLINES = (
    "By Staff Reporter",
    "By Jane Doe, News correspondent",
    "LONDON (Reuters) -",
    "From our correspondent",
)
WORD_EDITS = (
    (r"\bper cent\b", "percent"),
    (r"\bpercent\b", "per cent"),
    (r"\bsaid\b", "stated"),
    (r"\btold\b", "informed"),
    (r"\bbig\b", "large"),
    (r"\bUS\b", "United States"),
    (r"\bUK\b", "Britain"),
    (r"\b2\b", "two"),
    (r"\b3\b", "three"),
    (r"\b10\b", "ten"),
)


def load_articles(folder: Path) -> list[tuple[str, str]]:
    """(path relative to folder, text) of every .txt file, sorted."""
    out = []
    for path in sorted(folder.rglob("*.txt")):
        text = path.read_text(encoding="utf-8", errors="replace").strip()
        if text:
            out.append((str(path.relative_to(folder)), text))
    return out


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]


def edit_copy(text: str, other_title: str, rng: random.Random) -> tuple[str, list[str]]:
    """One edited copy of an article (title line + paragraphs) and the edits made."""
    paras = paragraphs(text)
    title, body = (paras[0], paras[1:]) if len(paras) > 1 else ("", paras)
    done: list[str] = []
    kinds = [k for k in ("retitle", "trim", "requote", "reflow", "byline", "words") if rng.random() < 0.45]
    if not kinds:
        kinds = [rng.choice(("retitle", "trim", "requote", "reflow", "byline", "words"))]
    if "retitle" in kinds:
        title = rng.choice([other_title, "UPDATE 1-" + title, title.upper(), title + " - report"])
        done.append("retitle")
    if "trim" in kinds and len(body) >= 4:
        body = body[: -rng.choice((1, 1, 2))]
        done.append("trim")
    if "words" in kinds:
        edited = 0
        for pattern, repl in rng.sample(WORD_EDITS, len(WORD_EDITS)):
            joined = "\n\n".join(body)
            changed = re.sub(pattern, repl, joined, count=rng.randint(1, 2))
            if changed != joined:
                body = paragraphs(changed)
                edited += 1
            if edited >= 3:
                break
        done.append("words")
    if "byline" in kinds:
        body = [rng.choice(BYLINES), *body]
        done.append("byline")
    out = "\n\n".join([title, *body] if title else body)
    if "requote" in kinds:
        out = (
            out.replace('"', "\u201c", 1)
            .replace('"', "\u201d", 1)
            .replace("'", "\u2019")
            .replace(" - ", " \u2013 ")
        )
        done.append("requote")
    if "reflow" in kinds:
        style = rng.choice(("wrap", "join", "spaces"))
        if style == "wrap":
            out = "\n".join(_wrap(p, rng.randint(60, 90)) + "\n" for p in paragraphs(out))
        elif style == "join":
            out = "\n".join(paragraphs(out))
        else:
            out = out.replace(". ", ".  ").replace("\n\n", "\n \n")
        done.append("reflow-" + style)
    return out, done


def _wrap(paragraph: str, width: int) -> str:
    lines, line = [], ""
    for word in paragraph.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return "\n".join([*lines, line] if line else lines)


def make_corpus(articles: list[tuple[str, str]], share: float, seed: int) -> list[tuple[str, str, str]]:
    """(name, text, origin) for the articles and their edited copies."""
    rng = random.Random(seed)
    titles = [paragraphs(t)[0] for _, t in articles]
    out = [(name, text, "original") for name, text in articles]
    for name, text in articles:
        if rng.random() >= share:
            continue
        for k in range(rng.choice((1, 1, 2, 3))):
            copy, done = edit_copy(text, titles[rng.randrange(len(titles))], rng)
            out.append((f"{name}#copy{k}", copy, "+".join(done)))
    return out


# ------------------------------------------------------------------ the truth


def five_grams(text: str) -> frozenset[str]:
    words = re.findall(r"\w+", text.lower())
    if len(words) < 5:
        return frozenset([" ".join(words)]) if words else frozenset()
    return frozenset(" ".join(words[i : i + 5]) for i in range(len(words) - 4))


def true_jaccards(texts: list[str]) -> dict[tuple[int, int], float]:
    """Exact Jaccard of every pair of texts sharing at least one 5-gram (the others have 0)."""
    sets = [five_grams(t) for t in texts]
    index: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(sets):
        for g in s:
            index[g].append(i)
    candidates = set()
    for ids in index.values():
        if len(ids) > 1:
            candidates.update(combinations(ids, 2))
    out = {}
    for i, j in candidates:
        both = len(sets[i] & sets[j])
        out[i, j] = both / (len(sets[i]) + len(sets[j]) - both)
    return out


# ------------------------------------------------------------------ the product


def run_dedup(texts: list[tuple[str, str]], config: DedupConfig) -> dict[str, str]:
    """name -> cluster, from the product's Deduplicate on the offline DirectRunner."""
    stories = [
        Story(
            id=story_id(name, 0, 0, len(text)),
            uri=name,
            record=0,
            start=0,
            end=len(text),
            text=text,
            kind=ARTICLE,
            title=None,
            kicker=None,
            deck=None,
            truncated=False,
        )
        for name, text in texts
    ]
    out, _ = dedup_quality.run_dedup(stories, config)
    return {s.uri: s.cluster for s in out}


def _origin(name: str) -> str:
    return name.split("#", 1)[0]


def evaluate(names: list[str], truth: dict[tuple[int, int], float], clusters: dict[str, str]) -> dict:
    members: dict[str, list[int]] = defaultdict(list)
    for i, name in enumerate(names):
        members[clusters[name]].append(i)
    predicted = {pair for ids in members.values() for pair in combinations(sorted(ids), 2)}
    positives = {pair for pair, j in truth.items() if j >= POSITIVE}
    neutral = {pair for pair, j in truth.items() if NEGATIVE <= j < POSITIVE}
    counted = predicted - neutral
    found = predicted & positives
    precision = len(found) / len(counted) if counted else 1.0
    recall = len(found) / len(positives) if positives else 1.0
    missed = sorted(positives - predicted, key=lambda p: -truth[p])
    false = sorted(counted - positives, key=lambda p: -truth.get(p, 0.0))
    return {
        "texts": len(names),
        "positive_pairs": len(positives),
        "neutral_pairs": len(neutral),
        "predicted_pairs": len(predicted),
        "predicted_neutral_pairs": len(predicted & neutral),
        "true_positives": len(found),
        "false_positives": len(false),
        # a false positive between two versions of one article (a contained, trimmed copy) or
        # between two different articles (a real false merge)
        "false_positives_same_article": sum(_origin(names[i]) == _origin(names[j]) for i, j in false),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "worst_missed": [(names[i], names[j], round(truth[i, j], 3)) for i, j in missed[:8]],
        "worst_false": [(names[i], names[j], round(truth.get((i, j), 0.0), 3)) for i, j in false[:8]],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("articles", type=Path, help="folder of real articles, one per .txt file")
    parser.add_argument("--copies", type=float, default=0.6, help="share of articles that get edited copies")
    parser.add_argument("--corpus-seed", type=int, default=1, help="seed of the edited copies")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N articles (0: all)")
    dedup_quality.add_dedup_options(parser)
    args = parser.parse_args(argv)
    config = dedup_quality.dedup_config_from(args)
    articles = load_articles(args.articles)
    if args.limit:
        articles = articles[: args.limit]
    corpus = make_corpus(articles, args.copies, args.corpus_seed)
    names = [name for name, _, _ in corpus]
    t0 = time.perf_counter()
    truth = true_jaccards([text for _, text, _ in corpus])
    t1 = time.perf_counter()
    clusters = run_dedup([(name, text) for name, text, _ in corpus], config)
    t2 = time.perf_counter()
    report = evaluate(names, truth, clusters)
    edits = defaultdict(int)
    for _, _, origin in corpus:
        for kind in origin.split("+"):
            edits[kind] += 1
    report["edits"] = dict(sorted(edits.items()))
    report["config"] = {"verify": config.verify, "threshold": config.threshold}
    report["seconds"] = {"truth": round(t1 - t0, 1), "dedup": round(t2 - t1, 1)}
    print(json.dumps(report, indent=1))
    ok = report["precision"] >= 0.98 and report["recall"] >= 0.98
    print("target (precision and recall >= 0.98):", "met" if ok else "NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
