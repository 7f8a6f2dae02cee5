"""The `storysift` command: parse options, check inputs and output, run, report.

storysift --input 'dumps/*.txt' --input 'crawl/*.jsonl.gz' --output out/ [options]
          [any Beam pipeline option, e.g. --runner, --direct_num_workers=2]
"""

from __future__ import annotations

import argparse
import datetime
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import replace

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions, TypeOptions

from pipeline.assembly import build_pipeline
from pipeline.options import StorysiftOptions, configs_from_options
from pipeline.report import (  # noqa: F401 - re-exported: the report code moved to pipeline/report.py
    REPORT_HTML,
    REPORT_JSON,
    SUMMARY_ROWS,
    build_report,
    finish_run,
    input_sizes,
    metric_values,
    summary_table,
    write_html,
    write_report,
)
from pipeline.runners import runner_for
from pipeline.staging import SUCCESS, commit, new_staging_dir, staging_dirs, write_success
from pipeline.staging import discard as discard_staging
from pipeline.staging import remove as staging_remove
from transforms import counters
from transforms.accounting import run_checks
from transforms.deduplicate import SIGNATURES
from transforms.write_corpus import CARD_FILE, DOLMA_DOCUMENTS, STATS_FILE

LOG = logging.getLogger("storysift")

EXIT_OK = 0
EXIT_USAGE = 2  # bad options, no input matched, output exists
EXIT_FAILED = 1  # the pipeline itself failed
EXIT_BAD_INPUT = 3  # the run finished, but more input was unusable than --max-reject-fraction allows
EXIT_UNBALANCED = 4  # the run finished, but the character accounting does not balance (a bug)

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
storysift report OUTPUT rebuilds report.json/report.html from a finished --detach run's output.
Options may also be spelled with underscores (--text_field), as Beam's are.

Any other option is handed to Apache Beam, for example:
  --runner NAME                 DirectRunner (default: local, never downloads anything),
                                PortableRunner, FlinkRunner, SparkRunner, DataflowRunner
  --direct_num_workers N        local parallelism (with --direct_running_mode)
  --direct_running_mode MODE    in_memory (default), multi_threading or multi_processing

Exit codes: 0 done (or submitted, with --detach), 1 the pipeline or its report failed (worth a retry:
reruns are idempotent), 2 bad usage (bad option, no input matched, output exists without
--overwrite; a retry will not help), 3 more of the input (bytes) was unusable than
--max-reject-fraction allows, 4 the character accounting does not balance (text went missing:
a bug). With 3 and 4 the output is written (rejected/ says why) but OUTPUT/_SUCCESS is not.
The output is staged under OUTPUT/_storysift_staging-*/ and moved into place at the end;
_SUCCESS is written last: readers should check it.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="storysift",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,  # an unknown Beam option must never be taken for a prefix of ours
    )
    StorysiftOptions._add_argparse_args(parser)
    return parser


def normalize_option_names(argv: Sequence[str], parser: argparse.ArgumentParser) -> list[str]:
    """`--text_field=x` -> `--text-field=x` for our own options (Airflow and Flex Templates often
    spell options with underscores); every other argument is left as it is, for Beam."""
    ours = {
        "--" + opt[2:].replace("-", "_"): opt
        for action in parser._actions
        for opt in action.option_strings
        if opt.startswith("--")
    }
    out = []
    for arg in argv:
        name, sep, value = arg.partition("=")
        if name.startswith("--") and "_" in name and name in ours and ours[name] != name:
            arg = ours[name] + sep + value
        out.append(arg)
    return out


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


OUTPUT_NAMES = (
    SUCCESS,
    REPORT_JSON,
    REPORT_HTML,
    STATS_FILE,
    CARD_FILE,
    "clean",
    "duplicates",
    "rejected",
    DOLMA_DOCUMENTS,
    SIGNATURES,
)


def output_in_use(output_dir: str) -> bool:
    """Whether the output directory already holds a storysift run."""
    for name in OUTPUT_NAMES:
        if FileSystems.exists(FileSystems.join(output_dir, name)):
            return True
    return bool(staging_dirs(output_dir))  # a run in progress, or one that was killed


def remove_previous_output(output_dir: str) -> None:
    for name in OUTPUT_NAMES:
        path = FileSystems.join(output_dir, name)
        if FileSystems.exists(path):
            FileSystems.delete([path])


def skip_construction_type_check(options: PipelineOptions, argv: Sequence[str]) -> None:
    """Turn off Beam's check of type hints between transforms while the graph is built, unless
    `--pipeline_type_check` was given: storysift's graph is fixed, and checked with it on by the
    tests (tests/pipeline/test_assembly.py), and the check cost 0.6-0.7 s of every run's start
    (about half of building the graph), before any worker starts. Runtime type checks
    (`--runtime_type_check`) are another option, untouched."""
    asked = {a.split("=", 1)[0].replace("-", "_") for a in argv}
    if "__pipeline_type_check" not in asked:
        options.view_as(TypeOptions).pipeline_type_check = False


def run(argv: Sequence[str] | None = None) -> int:
    """Run storysift with command-line arguments; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["explain"]:
        from pipeline.explain import run_explain

        return run_explain(argv[1:])
    if argv[:1] == ["report"]:
        from pipeline.report import run_report

        return run_report(argv[1:])
    parser = build_parser()
    argv = normalize_option_names(argv, parser)
    known, _beam_args = parser.parse_known_args(argv)
    logging.basicConfig(
        level=getattr(logging, str(known.log_level).upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,  # importing Beam already gave the root logger a WARNING-level handler
    )
    if logging.getLogger().level > logging.DEBUG:  # Beam's own INFO lines drown the progress lines
        logging.getLogger("apache_beam").setLevel(logging.WARNING)
    options = PipelineOptions(argv)
    skip_construction_type_check(options, argv)
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
        # The previous output stays whole until the new one replaces it (staging.commit).
        staging_remove(staging_dirs(cfg.corpus.output_dir))
    runner_name = options.view_as(StandardOptions).runner or "DirectRunner"
    LOG.info(
        "storysift: %d input pattern(s) -> %s on %s", len(cfg.inputs), cfg.corpus.output_dir, runner_name
    )
    counters.set_progress_every(cfg.progress_every)
    started = time.monotonic()
    started_at = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    # Write into a staging folder, moved into place when the run is over (not when detached:
    # the job then outlives this process, and writes in place).
    staging = None if known.detach else new_staging_dir(cfg.corpus.output_dir)
    run_cfg = cfg if staging is None else replace(cfg, corpus=replace(cfg.corpus, output_dir=staging))
    try:
        p = beam.Pipeline(runner=runner_for(options.view_as(StandardOptions).runner), options=options)
        build_pipeline(p, run_cfg)
        result = p.run()
        if known.detach:
            report = build_report(cfg, {}, time.monotonic() - started, runner_name, None, None, started_at)
            report["status"] = "submitted"
            write_report(cfg.corpus.output_dir, report)
            LOG.info(
                "storysift: submitted; run `storysift report %s` when the job is done", cfg.corpus.output_dir
            )
            return EXIT_OK
        result.wait_until_finish()
    except Exception:
        LOG.exception("storysift: the pipeline failed")
        if staging is not None:
            discard_staging(staging)
        return EXIT_FAILED
    seconds = time.monotonic() - started
    metrics = metric_values(result)
    checks = run_checks(metrics, cfg.max_reject_fraction)
    try:
        commit(staging, cfg.corpus.output_dir, OUTPUT_NAMES)
        report = finish_run(cfg, metrics, seconds, runner_name, started_at, checks.status)
        report.update(checks.sections)
        write_report(cfg.corpus.output_dir, report)
        if checks.ok:
            write_success(cfg.corpus.output_dir, checks.status)
    except Exception:
        LOG.exception("storysift: the corpus is written but the report could not be")
        return EXIT_FAILED
    print(summary_table(metrics, seconds, cfg.corpus.output_dir))
    for problem in checks.problems:
        LOG.error("storysift: %s", problem)
    return {"bad-input": EXIT_BAD_INPUT, "unbalanced": EXIT_UNBALANCED}.get(checks.failure, EXIT_OK)


def main() -> None:
    from transforms.gc_tuning import tune_for_batch

    tune_for_batch()  # see gc_tuning: the runner holds every PCollection of a local run
    sys.exit(run())
