"""storysift on corpora generated with other word lists than the dev set's.

  python benchmarks/word_lists.py --make-dumps ../shared/bench/make_dumps.py --out /tmp/wl [--pages 400]

The bench generator builds its pages from word lists (`config-dev.json` beside it: kickers,
boilerplate lines, bylines, datelines, credit lines, names, places, retitle prefixes, edit rules).
A rule that only knows the dev set's lists fails on a crawl that writes its bylines or kickers
differently, and the dev score would never show it. So each variant below keeps the dev config
but replaces some lists with shapes news sites use, generates a set (its own seed), runs the
storysift CLI on it (the checkout this script lives in, one process) and scores it with the
bench's score.py (beside make_dumps.py unless --score says otherwise). Only this script reads the
bench; the product never does. The table has a column per variant; run it from an older checkout
to compare. The lists are data of this module, so tests can check that the line cues read them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# name -> (generator seed, lists that replace the dev config's)
VARIANTS: dict[str, tuple[int, dict]] = {
    "kickers beyond A-Z": (
        7,
        {
            "kickers": [
                "DÉJÀ VU",
                "£1BN BLOW",
                "WHAT NEXT?",
                "Q&A",
                "24/7 WATCH",
                "ÜBER DEAL",
                "NO. 1 SPOT",
                "MUST-SEE",
                "BIG 4 SHOCK",
                "€2BN BID",
                "CAFÉ CULTURE",
                "SÃO PAULO",
                "RÉSUMÉ ROW",
                "100% CLUB",
                "#METOO",
            ],
        },
    ),
    "other bylines and datelines": (
        11,
        {
            "boilerplate": [
                "ADVERTISEMENT",
                "Read more",
                "Sign up for our daily newsletter",
                "Image copyright Getty Images",
                "Share on Facebook",
                "Most popular",
                "Listen to this article",
                "Skip to main content",
                "Comments ({n})",
                "Continue reading",
                "Enjoy unlimited access",
                "Join the conversation",
            ],
            "bylines": [
                "By {name} | {role}",
                "Written by {name}",
                "By {name}, The Example Times",
                "By {name} for Example News",
                "By {name}, {name2} and {name3}",
            ],
            "datelines": [
                "{CITY} (AFP) -",
                "{CITY} (Bloomberg) --",
                "{CITY}, {month} {day} (AFP) -",
                "{City} (dpa) -",
            ],
            "credit_lines": [
                "Additional reporting by {name}",
                "Reporting by {name}; Writing by {name2}; Editing by {name3}",
                "Editing by {name} and {name2}",
            ],
            "first_names": [
                "Olivia",
                "Noah",
                "Amelia",
                "Liam",
                "Isla",
                "Oscar",
                "Ava",
                "Leo",
                "Mia",
                "Arthur",
                "Chloe",
                "Hugo",
            ],
            "last_names": [
                "Patel",
                "Nguyen",
                "Kowalski",
                "Murphy",
                "Okafor",
                "Rossi",
                "Jensen",
                "Fischer",
                "Garcia",
                "Dubois",
                "Kim",
                "Novak",
            ],
            "roles": [
                "Economics editor",
                "Health correspondent",
                "Environment reporter",
                "Chief political commentator",
                "Culture writer",
            ],
            "cities": [
                "Madrid",
                "Sydney",
                "Nairobi",
                "Toronto",
                "Mumbai",
                "Seoul",
                "Lagos",
                "Lisbon",
                "Dublin",
                "Warsaw",
            ],
            "retitle_prefixes": ["UPDATE 3-", "BREAKING-", "WRAPUP 1-", "CORRECTED-"],
            "retitle_suffixes": [" - Example News", " | The Example Times", " (updated)"],
            "percent_word": " per cent",
            "money_words": [["m", " million"], ["bn", " billion"]],
            "word_swaps": [["US", "USA"], ["Mr", "Mister"], ["UN", "U.N."]],
        },
    ),
    "desks, agency-less datelines": (
        23,
        {
            "boilerplate": [
                "Advertisement – scroll to continue",
                "Story continues below advertisement",
                "Read next",
                "You may also like",
                "Recommended for you",
                "Watch more",
                "Show comments",
                "Trending now",
                "Newsletter sign-up",
                "Topics",
                "Explore more on these topics",
                "Reuse this content",
            ],
            "bylines": [
                "From {name} in {City}",
                "{name} | {role}",
                "Posted by {name}",
                "By {name}, {role}, in {City}",
                "BY {name}",
            ],
            "datelines": ["{CITY} —", "{CITY} (Xinhua) --", "{City} (Reuters) –"],
            "credit_lines": [
                "Compiled by {name}",
                "(Reporting by {name}; additional reporting by {name2})",
                "Editing by {name} and {name2}",
                "Writing by {name}; Editing by {name2}",
            ],
            "first_names": ["Grace", "Ethan", "Zara", "Felix", "Nora", "Jack", "Ruby", "Max", "Ivy", "Sam"],
            "last_names": [
                "Campbell",
                "Ahmed",
                "Schmidt",
                "Reid",
                "Costa",
                "Lindqvist",
                "Bauer",
                "Singh",
                "Moreau",
                "Walsh",
            ],
            "roles": [
                "Senior reporter",
                "Business desk",
                "Defence correspondent",
                "Science editor",
                "Investigations team",
            ],
            "cities": [
                "Geneva",
                "Cape Town",
                "Jakarta",
                "Manila",
                "Oslo",
                "Buenos Aires",
                "Cairo",
                "Helsinki",
            ],
            "retitle_prefixes": ["UPDATE 4-", "FACTBOX-", "TIMELINE-"],
            "retitle_suffixes": [" | Reuters", " — Example Daily", " - live updates"],
            "percent_word": " pc",
            "money_words": [["m", "m"], ["bn", "bln"]],
            "word_swaps": [["UK", "Britain"], ["Dr", "Doctor"]],
        },
    ),
    "labelled headlines": (31, {"retitle_prefixes": ["BREAKING: ", "LIVE: ", "EXCLUSIVE: ", "UPDATE: "]}),
}

METRICS = (
    "coverage",
    "boundary_f1",
    "truncated_f1",
    "kicker_accuracy",
    "deck_accuracy",
    "title_accuracy",
    "title_false_positives",
    "body_token_f1",
    "boilerplate_leakage",
    "pairwise_f1",
    "ari",
    "lost_clusters",
)


def variant_config(base: dict, name: str) -> dict:
    """The dev config with the variant's lists in place of its own."""
    return {**base, **VARIANTS[name][1], "name": name}


def score_values(report: str) -> dict[str, str]:
    """The METRICS score.py printed ("  name   value" lines)."""
    found = {m.group(1): m.group(2) for m in re.finditer(r"^\s+(\w+)\s+(\S+)\s*$", report, re.M)}
    return {metric: found.get(metric, "?") for metric in METRICS}


def run_variant(name: str, make_dumps: Path, score: Path, out: Path, pages: int) -> dict[str, str]:
    seed, _ = VARIANTS[name]
    bench = make_dumps.parent
    slug = re.sub(r"\W+", "-", name).strip("-")
    config = out / f"config-{slug}.json"
    base = json.loads((bench / "config-dev.json").read_text(encoding="utf-8"))
    config.write_text(json.dumps(variant_config(base, name), ensure_ascii=False), encoding="utf-8")
    set_dir, pred = out / f"set-{slug}", out / f"out-{slug}"
    generate = [sys.executable, str(make_dumps), "--pool", "dev", "--bbc", str(bench / "bbc-dev")]
    generate += ["--config", str(config), "--seed", str(seed), "--pages", str(pages), "--out", str(set_dir)]
    subprocess.run(generate, check=True, stdout=subprocess.DEVNULL)
    dumps = set_dir / "dumps"
    run = [sys.executable, "-m", "pipeline", "--input", f"{dumps}/*.txt", "--input", f"{dumps}/*.jsonl"]
    run += ["--output", str(pred), "--overwrite", "--log-level", "WARNING"]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH")))),
    }
    subprocess.run(run, check=True, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    report = subprocess.run(
        [sys.executable, str(score), "--gold", str(set_dir), "--pred", str(pred)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return score_values(report)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--make-dumps", required=True, type=Path, help="path of the bench's make_dumps.py")
    ap.add_argument("--score", type=Path, help="the bench's score.py (default: beside make_dumps.py)")
    ap.add_argument("--out", required=True, type=Path, help="work folder: configs, sets, outputs")
    ap.add_argument("--pages", type=int, default=400, help="pages per generated set")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    score = args.score or args.make_dumps.parent / "score.py"
    results = {name: run_variant(name, args.make_dumps, score, args.out, args.pages) for name in VARIANTS}
    (args.out / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    print("| metric | " + " | ".join(f"{name} (seed {VARIANTS[name][0]})" for name in VARIANTS) + " |")
    print("|---|" + "---|" * len(VARIANTS))
    for metric in METRICS:
        print(f"| {metric} | " + " | ".join(results[name][metric] for name in VARIANTS) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
