"""Dedup quality on gold segments: runs `Deduplicate` alone on the gold stories of a bench set.

  python benchmarks/dedup_quality.py ../shared/bench/dev [more sets ...] [--threshold 0.8 ...]

Each argument is a folder holding gold.jsonl (or the gold.jsonl file itself). Gold stories
(kind != boilerplate) become `Story` records (id = story_id(uri, record, start, end)); the
transform runs on the offline DirectRunner; we print pairwise precision/recall/F1 of "same
predicted cluster" vs "same gold cluster", representative quality, lost clusters and the
dedup counters. Only this script reads the bench; the product never does.

  --perturb SEED   add segmentation noise first (glued decks/titles, stray lines, 4% of
                   stories run together with the next one) to see how robust dedup is
  --runner fnapi   the FnApiRunner directly instead of OfflineDirectRunner
  --workers N      direct_num_workers (multi_processing when N > 1)
  --<field>        any DedupConfig field, e.g. --containment-threshold 0.75 --verify estimate
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import fields, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import apache_beam as beam  # noqa: E402
from apache_beam.options.pipeline_options import PipelineOptions  # noqa: E402

from pipeline.runners import OfflineDirectRunner  # noqa: E402
from transforms import counters  # noqa: E402
from transforms.deduplicate import DedupConfig, Deduplicate  # noqa: E402
from transforms.records import Story, story_id  # noqa: E402


def load_gold(path: Path) -> tuple[list[Story], dict[str, dict]]:
    gold_file = path / "gold.jsonl" if path.is_dir() else path
    stories, gold = [], {}
    with gold_file.open(encoding="utf-8") as fh:
        for line in fh:
            g = json.loads(line)
            if g["kind"] == "boilerplate":
                continue
            sid = story_id(g["uri"], g["record"], g["start"], g["end"])
            gold[sid] = g
            stories.append(
                Story(
                    id=sid,
                    uri=g["uri"],
                    record=g["record"],
                    start=g["start"],
                    end=g["end"],
                    text=g["text"],
                    kind=g["kind"],
                    title=g.get("title"),
                    kicker=g.get("kicker"),
                    deck=g.get("deck"),
                    truncated=bool(g.get("truncated")),
                )
            )
    return stories, gold


def make_runner(name: str):
    if name == "fnapi":  # the DirectRunner's batch engine, called directly
        from apache_beam.runners.portability.fn_api_runner import fn_runner

        return fn_runner.FnApiRunner()
    return OfflineDirectRunner()


# Lines a splitter might leave inside a story (our own generic list, not the bench's word lists).
NOISE_LINES = (
    "Share this article",
    "Follow us on Twitter for the latest news",
    "Reporting by Anna Park; Editing by Joe Lin",
    "All rights reserved.",
    "Sign up for our daily newsletter",
    "By Sam Reed, Staff Writer",
)


def perturb(stories: list[Story], gold: dict[str, dict], seed: int) -> tuple[list[Story], dict[str, dict]]:
    """Segmentation noise a real splitter/parser could add, to test how robust dedup is.

    20% of teasers get their deck (or kicker) glued in front; 10% of articles their title;
    15% of stories a noise line at the end, 10% at the start; 4% of stories are run together
    with the next story of the same record (the merged story keeps the first one's gold cluster).
    """
    rng = random.Random(seed)
    out: list[Story] = []
    new_gold: dict[str, dict] = {}
    i = 0
    while i < len(stories):
        s = stories[i]
        text = s.text
        nxt = stories[i + 1] if i + 1 < len(stories) else None
        step = 1
        if nxt is not None and (nxt.uri, nxt.record) == (s.uri, s.record) and rng.random() < 0.04:
            text = text + "\n\n" + nxt.text
            step = 2
        if s.kind == "teaser" and rng.random() < 0.2 and (s.deck or s.kicker):
            text = (s.deck or s.kicker) + " " + text
        if s.kind == "article" and s.title and rng.random() < 0.1:
            text = s.title + "\n\n" + text
        if rng.random() < 0.15:
            text = text + "\n\n" + rng.choice(NOISE_LINES)
        if rng.random() < 0.1:
            text = rng.choice(NOISE_LINES) + "\n\n" + text
        out.append(replace(s, text=text))
        new_gold[s.id] = gold[s.id]
        i += step
    return out, new_gold


def run_dedup(
    stories: list[Story], config: DedupConfig, workers: int = 1, runner: str = "direct"
) -> tuple[list[Story], dict]:
    """The product's Deduplicate over `stories`: (the stories it emits, its storysift metrics)."""
    out: list[Story] = []
    mode = "multi_processing" if workers > 1 else "in_memory"
    options = PipelineOptions(flags=[], direct_num_workers=workers, direct_running_mode=mode)
    p = beam.Pipeline(runner=make_runner(runner), options=options)
    deduped = (p | beam.Create(stories, reshuffle=False) | Deduplicate(config)).stories
    # Written to a temp folder, then read back (works with any runner and worker count).
    with tempfile.TemporaryDirectory(prefix="storysift-dedup-") as tmp:
        _ = (
            deduped
            | beam.Map(lambda s: json.dumps({f.name: getattr(s, f.name) for f in fields(s)}))
            | beam.io.WriteToText(str(Path(tmp) / "part"))
        )
        result = p.run()
        result.wait_until_finish()
        for f in sorted(Path(tmp).glob("part*")):
            for line in f.read_text(encoding="utf-8").splitlines():
                out.append(Story(**json.loads(line)))
    metrics = {}
    for c in result.metrics().query()["counters"]:
        if c.key.metric.namespace == counters.NAMESPACE:
            metrics[c.key.metric.name] = metrics.get(c.key.metric.name, 0) + c.committed
    dists: dict[str, list] = defaultdict(list)
    for d in result.metrics().query()["distributions"]:
        if d.key.metric.namespace == counters.NAMESPACE and d.committed and d.committed.count:
            dists[d.key.metric.name].append(d.committed)
    for name, parts in dists.items():
        count, total = sum(r.count for r in parts), sum(r.sum for r in parts)
        metrics[name] = {"count": count, "max": max(r.max for r in parts), "mean": round(total / count, 3)}
    return out, metrics


def add_dedup_options(parser: argparse.ArgumentParser) -> None:
    """One --option per tunable DedupConfig field, defaulting as the CLI's local runner does."""
    for f in _tunable_fields():
        default = "dict" if f.name == "side_inputs" else f.default
        parser.add_argument("--" + f.name.replace("_", "-"), type=type(f.default), default=default)


def dedup_config_from(args: argparse.Namespace) -> DedupConfig:
    return DedupConfig(**{f.name: getattr(args, f.name) for f in _tunable_fields()})


def _tunable_fields():
    return [f for f in fields(DedupConfig) if isinstance(f.default, (int, float, str))]


def pairs(n: int) -> int:
    return n * (n - 1) // 2


def score(out: list[Story], gold: dict[str, dict]) -> dict:
    gold_c = [gold[s.id]["cluster"] for s in out]
    pred_c = [s.cluster for s in out]
    tp = sum(pairs(v) for v in Counter(zip(gold_c, pred_c, strict=True)).values())
    pred_pos = sum(pairs(v) for v in Counter(pred_c).values())
    gold_pos = sum(pairs(v) for v in Counter(gold_c).values())
    precision = tp / pred_pos if pred_pos else 1.0
    recall = tp / gold_pos if gold_pos else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    kept = defaultdict(list)
    has_full = set()
    for s in out:
        g = gold[s.id]
        full = g["kind"] == "article" and not g["truncated"]
        if full:
            has_full.add(g["cluster"])
        if s.duplicate_of is None:
            kept[g["cluster"]].append(full)
    ids = {s.id for s in out}
    rep_quality = round(sum(any(kept[c]) for c in has_full) / len(has_full), 4) if has_full else None
    by_reason = Counter(s.dedup_reason for s in out if s.duplicate_of is not None)
    # dropped stories whose gold cluster differs from their representative's (false merges)
    wrong = Counter()
    for s in out:
        if s.duplicate_of and gold[s.id]["cluster"] != gold[s.duplicate_of]["cluster"]:
            wrong[s.dedup_reason] += 1
    return {
        "stories": len(out),
        "pairwise_precision": round(precision, 4),
        "pairwise_recall": round(recall, 4),
        "pairwise_f1": round(f1, 4),
        "gold_pairs": gold_pos,
        "pred_pairs": pred_pos,
        "true_pairs": tp,
        "representative_quality": rep_quality,
        "lost_clusters": sum(not kept[c] for c in set(gold_c)),
        "missed_duplicates": sum(max(0, len(kept[c]) - 1) for c in set(gold_c)),
        "dangling_duplicate_of": sum(s.duplicate_of is not None and s.duplicate_of not in ids for s in out),
        "dropped_by_reason": dict(by_reason),
        "wrong_merges_by_reason": dict(wrong),
        "input_ok": len(ids) == len(out) == len(gold),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("gold", nargs="+", type=Path)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--runner", choices=("direct", "fnapi"), default="direct")
    parser.add_argument("--perturb", type=int, default=None, metavar="SEED", help="add segmentation noise")
    add_dedup_options(parser)
    args = parser.parse_args(argv)
    config = dedup_config_from(args)
    print("config:", config)
    for path in args.gold:
        stories, gold = load_gold(path)
        if args.perturb is not None:
            stories, gold = perturb(stories, gold, args.perturb)
        t0 = time.perf_counter()
        out, metrics = run_dedup(stories, config, args.workers, args.runner)
        elapsed = time.perf_counter() - t0
        report = score(out, gold)
        report["seconds"] = round(elapsed, 2)
        print(f"== {path}")
        print(json.dumps(report, indent=1, sort_keys=True))
        print("counters:", json.dumps(metrics, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
