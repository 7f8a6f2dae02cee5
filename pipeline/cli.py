"""The `storysift` command: parse options, check inputs and output, run, report.

storysift --input 'dumps/*.txt' --input 'crawl/*.jsonl.gz' --output out/ [options]
          [any Beam pipeline option, e.g. --runner, --direct_num_workers=2]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from pipeline.assembly import build_pipeline
from pipeline.options import StageConfigs, StorysiftOptions, configs_from_options
from pipeline.runners import runner_for
from transforms import counters

LOG = logging.getLogger("storysift")

EXIT_OK = 0
EXIT_USAGE = 2  # bad options, no input matched, output exists
EXIT_FAILED = 1  # the pipeline itself failed

DESCRIPTION = """\
Turn scraped news dumps into a clean, deduplicated story corpus (Apache Beam).

Reads .txt dumps (one per file) and .jsonl dumps (one per line), optionally .gz/.bz2/.zst;
splits them into stories, parses teasers (kicker, deck, lede), removes near-duplicates
(MinHash + LSH, and teasers contained in their full story), and writes sharded JSONL:
OUTPUT/clean/ (kept stories), OUTPUT/duplicates/ (dropped copies, with duplicate_of),
OUTPUT/rejected/ (boilerplate and unusable input, with stage and reason), OUTPUT/report.json.
"""

EPILOG = """\
storysift explain FILE [--record N] shows, line by line, how one dump is split and parsed.

Any other option is handed to Apache Beam, for example:
  --runner NAME                 DirectRunner (default: local, never downloads anything),
                                PortableRunner, FlinkRunner, SparkRunner, DataflowRunner
  --direct_num_workers N        local parallelism (with --direct_running_mode)
  --direct_running_mode MODE    in_memory (default), multi_threading or multi_processing

Exit codes: 0 done, 1 the pipeline failed, 2 bad usage (bad option, no input, output exists).
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="storysift",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    StorysiftOptions._add_argparse_args(parser)
    parser.add_argument(
        "--log-level", dest="log_level", default="INFO", help="Logging level (DEBUG, INFO, WARNING, ERROR)."
    )
    return parser


def check_inputs(patterns: Sequence[str]) -> list[str]:
    """Patterns that match no file (an empty list when every pattern matched something)."""
    empty = []
    for pattern in patterns:
        try:
            result = FileSystems.match([pattern])[0]
            if not result.metadata_list:
                empty.append(pattern)
        except Exception:  # noqa: BLE001 - a bad scheme or path is reported the same way
            empty.append(pattern)
    return empty


def output_in_use(output_dir: str) -> bool:
    """Whether the output directory already holds a storysift run."""
    for name in ("report.json", "clean", "duplicates", "rejected"):
        if FileSystems.exists(FileSystems.join(output_dir, name)):
            return True
    return False


def remove_previous_output(output_dir: str) -> None:
    for name in ("report.json", "clean", "duplicates", "rejected"):
        path = FileSystems.join(output_dir, name)
        if FileSystems.exists(path):
            FileSystems.delete([path])


def metric_values(result) -> dict[str, float]:
    """Counters and distribution sums of storysift's namespace, by name."""
    values: dict[str, float] = {}
    try:
        queried = result.metrics().query(beam.metrics.MetricsFilter().with_namespace(counters.NAMESPACE))
    except Exception as exc:  # noqa: BLE001 - some runners do not report metrics
        LOG.warning("metrics unavailable on this runner: %s", exc)
        return values
    for counter in queried.get("counters", []):
        values[counter.key.metric.name] = values.get(counter.key.metric.name, 0) + (
            counter.committed if counter.committed is not None else counter.attempted
        )
    for dist in queried.get("distributions", []):
        data = dist.committed if dist.committed is not None else dist.attempted
        if data is not None:
            values[dist.key.metric.name + ".count"] = data.count
            values[dist.key.metric.name + ".mean"] = round(data.mean, 1) if data.count else 0
            values[dist.key.metric.name + ".max"] = data.max if data.count else 0
    return dict(sorted(values.items()))


def build_report(cfg: StageConfigs, metrics: dict[str, float], seconds: float, runner: str) -> dict:
    stages: dict[str, dict[str, float]] = {}
    for name, value in metrics.items():
        stage, _, what = name.partition(".")
        stages.setdefault(stage, {})[what] = value
    return {
        "storysift_version": _version(),
        "runner": runner,
        "wall_seconds": round(seconds, 2),
        "inputs": list(cfg.inputs),
        "output": cfg.corpus.output_dir,
        "options": {
            "text_field": cfg.text_field,
            "threshold": cfg.dedup.threshold,
            "containment_threshold": cfg.dedup.containment_threshold,
            "num_perm": cfg.dedup.num_perm,
            "shingle_size": cfg.dedup.shingle_size,
            "min_chars": cfg.parse.min_chars,
            "topic_penalty": cfg.split.topic_penalty,
            "num_shards": cfg.corpus.num_shards,
            "compression": cfg.corpus.compression,
        },
        "counts": stages,
    }


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("storysift")
    except Exception:  # noqa: BLE001 - running from a source tree
        return "unknown"


SUMMARY_ROWS = [
    ("dump files read", counters.FILES_READ),
    ("dumps (files or JSONL records)", counters.DUMPS_READ),
    ("input characters", counters.INPUT_CHARS),
    ("inputs rejected", counters.READ_REJECTED),
    ("stories found", counters.DRAFTS),
    ("boilerplate lines", counters.BOILERPLATE_LINES),
    ("articles", counters.ARTICLES),
    ("teasers", counters.TEASERS),
    ("truncated stories", counters.TRUNCATED),
    ("too short, rejected", counters.PARSE_REJECTED),
    ("exact duplicates", counters.EXACT_DUPLICATES),
    ("near duplicates", counters.NEAR_DUPLICATES),
    ("contained (teasers, trims)", counters.CONTAINED_DUPLICATES),
    ("written to clean/", counters.WRITTEN_CLEAN),
    ("written to duplicates/", counters.WRITTEN_DUPLICATES),
    ("written to rejected/", counters.WRITTEN_REJECTED),
]


def summary_table(metrics: dict[str, float], seconds: float, output_dir: str) -> str:
    width = max(len(label) for label, _ in SUMMARY_ROWS)
    lines = ["", "storysift summary", "-" * (width + 14)]
    for label, name in SUMMARY_ROWS:
        value = metrics.get(name, 0)
        shown = f"{int(value or 0):,}"
        lines.append(f"{label:<{width}}  {shown:>12}")
    lines.append("-" * (width + 14))
    lines.append(f"{'wall time (s)':<{width}}  {seconds:>12.1f}")
    lines.append(f"output: {output_dir}")
    return "\n".join(lines)


def write_report(output_dir: str, report: dict) -> str:
    path = FileSystems.join(output_dir, "report.json")
    with FileSystems.create(path) as f:
        f.write((json.dumps(report, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    return path


def run(argv: Sequence[str] | None = None) -> int:
    """Run storysift with command-line arguments; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["explain"]:
        from pipeline.explain import run_explain

        return run_explain(argv[1:])
    parser = build_parser()
    known, _beam_args = parser.parse_known_args(argv)
    logging.basicConfig(
        level=getattr(logging, str(known.log_level).upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    options = PipelineOptions(argv)
    ours = options.view_as(StorysiftOptions)
    try:
        cfg = configs_from_options(ours)
    except ValueError as exc:
        parser.print_usage(sys.stderr)
        print(f"storysift: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    unmatched = check_inputs(cfg.inputs)
    if len(unmatched) == len(cfg.inputs):
        print(f"storysift: error: no input file matches {', '.join(unmatched)}", file=sys.stderr)
        return EXIT_USAGE
    for pattern in unmatched:
        LOG.warning("input pattern matches no file: %s", pattern)
    if output_in_use(cfg.corpus.output_dir):
        if not ours.overwrite:
            print(
                f"storysift: error: {cfg.corpus.output_dir} already holds a storysift output; "
                "pass --overwrite to replace it",
                file=sys.stderr,
            )
            return EXIT_USAGE
        remove_previous_output(cfg.corpus.output_dir)
    runner_name = options.view_as(StandardOptions).runner or "DirectRunner"
    LOG.info(
        "storysift: %d input pattern(s) -> %s on %s", len(cfg.inputs), cfg.corpus.output_dir, runner_name
    )
    started = time.monotonic()
    try:
        p = beam.Pipeline(runner=runner_for(options.view_as(StandardOptions).runner), options=options)
        build_pipeline(p, cfg)
        result = p.run()
        result.wait_until_finish()
    except Exception:
        LOG.exception("storysift: the pipeline failed")
        return EXIT_FAILED
    seconds = time.monotonic() - started
    metrics = metric_values(result)
    report = build_report(cfg, metrics, seconds, runner_name)
    write_report(cfg.corpus.output_dir, report)
    print(summary_table(metrics, seconds, cfg.corpus.output_dir))
    return EXIT_OK


def main() -> None:
    sys.exit(run())
