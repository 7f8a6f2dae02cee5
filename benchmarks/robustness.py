"""How long storysift takes on hostile input: seconds per MB for each kind of bad input, and how
the splitter's time grows with the number of lines (it must grow linearly).

python benchmarks/robustness.py                 # the pure read+split+parse path, per case
python benchmarks/robustness.py --cli           # also one CLI job over the whole bad corpus
python benchmarks/robustness.py --json OUT.json

The corpus is tests/robustness/bad_inputs.py's (written to a temporary folder). Timings belong
here, never in the tests.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.robustness.bad_inputs import write_corpus  # noqa: E402
from transforms.parse_teasers import ParseConfig, parse_draft  # noqa: E402
from transforms.read_dumps import ReadConfig, read_stream  # noqa: E402
from transforms.records import Dump, Rejected  # noqa: E402
from transforms.split_stories import SplitConfig, drafts_from_split, split_text  # noqa: E402


def process_file(path: Path) -> tuple[int, int]:
    """read -> split -> parse one file as the pipeline does; (dumps, stories)."""
    dumps = stories = 0
    data = path.read_bytes()
    for item in read_stream(str(path), io.BytesIO(data), "text", ReadConfig(), len(data)):
        if not isinstance(item.item, Dump):
            continue
        dumps += 1
        for out in drafts_from_split(item.item, split_text(item.item.text, SplitConfig())):
            if not isinstance(out, Rejected) and not isinstance(parse_draft(out, ParseConfig()), Rejected):
                stories += 1
    return dumps, stories


def per_case(folder: Path) -> list[dict]:
    corpus = write_corpus(folder)
    process_file(folder / corpus.good[0])  # load models and caches outside the timings
    rows = []
    for case in corpus.cases:
        path = folder / case.file
        started = time.perf_counter()
        dumps, stories = process_file(path)
        seconds = time.perf_counter() - started
        mb = path.stat().st_size / 1e6
        rows.append(
            {
                "case": case.name,
                "file": case.file,
                "mb_on_disk": round(mb, 3),
                "seconds": round(seconds, 3),
                "seconds_per_mb": round(seconds / mb, 2) if mb >= 0.01 else None,
                "dumps": dumps,
                "stories": stories,
            }
        )
    return rows


def line_scaling() -> list[dict]:
    """split_text on 25k, 50k and 100k lines of two kinds: the time must about double each step."""
    kinds = {
        "one-word lines": lambda i: ("alpha", "Beta", "gamma", "Delta")[i % 4],
        "prose lines without full stops": lambda i: f"Line {i} goes on about the harbour and the rain and",
    }
    rows = []
    for kind, line in kinds.items():
        for n in (25_000, 50_000, 100_000):
            text = "\n".join(line(i) for i in range(n))
            started = time.perf_counter()
            split_text(text, SplitConfig())
            rows.append({"kind": kind, "lines": n, "seconds": round(time.perf_counter() - started, 2)})
    return rows


def cli_job(folder: Path) -> dict:
    from pipeline.cli import run

    started = time.perf_counter()
    code = run(["--input", str(folder / "*"), "--output", str(folder.parent / "out"), "--overwrite"])
    seconds = time.perf_counter() - started
    mb = sum(p.stat().st_size for p in folder.iterdir()) / 1e6
    return {"exit_code": code, "seconds": round(seconds, 1), "mb_on_disk": round(mb, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cli", action="store_true", help="also run the CLI over the whole corpus")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "bad"
        result = {"per_case": per_case(folder), "line_scaling": line_scaling()}
        if args.cli:
            result["cli_job"] = cli_job(folder)
    print(f"{'case':58} {'MB':>8} {'s':>8} {'s/MB':>8}")
    for row in result["per_case"]:
        per_mb = "" if row["seconds_per_mb"] is None else f"{row['seconds_per_mb']:8.2f}"
        print(f"{row['case'][:58]:58} {row['mb_on_disk']:8.3f} {row['seconds']:8.3f} {per_mb:>8}")
    print()
    for row in result["line_scaling"]:
        print(f"split_text, {row['kind']:32} {row['lines']:>7,} lines {row['seconds']:7.2f} s")
    if "cli_job" in result:
        job = result["cli_job"]
        print(f"\nCLI job over the corpus ({job['mb_on_disk']} MB on disk): {job['seconds']} s", end="")
        print(f", exit code {job['exit_code']}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
