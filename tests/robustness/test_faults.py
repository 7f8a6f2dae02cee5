"""Faults: failed bundles, replayed bundles, killed runs, and atomic output.

What Beam's local runners really do (Beam 2.77):
- the FnApiRunner (our default DirectRunner engine) does NOT retry a failed bundle: the first
  exception fails the pipeline. `--direct_runner_bundle_repeat=N` makes it run every bundle N
  more times (outputs discarded, side effects kept), which shows DoFns are idempotent;
- the BundleBasedDirectRunner retries a failed bundle up to 4 times (executor.py,
  _MAX_RETRY_PER_BUNDLE), as Dataflow does; a transient failure there must not change the output.
"""

from __future__ import annotations

import filecmp
import json
import shutil
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.runners.direct.direct_runner import BundleBasedDirectRunner

import transforms.accounting as accounting
import transforms.read_dumps as read_dumps
import transforms.write_corpus as write_corpus
from pipeline.assembly import build_pipeline
from pipeline.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, run
from pipeline.options import StorysiftOptions, configs_from_options
from pipeline.staging import SUCCESS, commit, is_complete, new_staging_dir, staging_dirs, write_success
from tests.robustness.conftest import good_args


def shard_files(out: Path) -> list[Path]:
    return sorted(p.relative_to(out) for p in out.glob("*/part-*"))


def same_shards(a: Path, b: Path) -> bool:
    names = shard_files(a)
    assert names and names == shard_files(b)
    match, mismatch, errors = filecmp.cmpfiles(a, b, [str(n) for n in names], shallow=False)
    return not mismatch and not errors


@pytest.fixture
def inputs(corpus) -> list[str]:
    """The good sample files of the bad corpus (tests/robustness/conftest.py)."""
    return good_args(corpus)


def cli_args(inputs: list[str], out: Path, *extra: str) -> list[str]:
    return [*inputs, "--output", str(out), *extra]


@pytest.fixture
def reference(good_run) -> Path:
    """A complete run of the same inputs (shared with the bad-corpus tests)."""
    return good_run


# ---- staging, without a pipeline ----------------------------------------------------------------


def test_commit_replaces_the_previous_output_and_success_comes_last(tmp_path):
    out = tmp_path / "out"
    (out / "clean").mkdir(parents=True)
    (out / "clean" / "old-shard").write_text("old")
    (out / "report.json").write_text("{}")
    write_success(str(out))
    staging = Path(new_staging_dir(str(out)))
    (staging / "clean").mkdir(parents=True)
    (staging / "clean" / "part-00000-of-00001.jsonl").write_text("new")
    (staging / "_storysift_stats.json").write_text("{}")
    assert staging_dirs(str(out)) == [str(staging)]
    moved = commit(str(staging), str(out), ("clean", "report.json", SUCCESS))
    assert moved == 2
    assert sorted(p.name for p in out.rglob("*") if p.is_file()) == [
        "_storysift_stats.json",
        "part-00000-of-00001.jsonl",
    ]
    assert not is_complete(str(out)) and staging_dirs(str(out)) == []
    write_success(str(out))
    assert is_complete(str(out))


# ---- the FnApiRunner: no retries; a failure leaves the previous output whole --------------------


def test_a_failed_run_leaves_the_previous_output_whole(reference, inputs, tmp_path, monkeypatch):
    out = tmp_path / "out"
    shutil.copytree(reference, out)
    calls = []

    def broken_write(self, element, *args, **kwargs):
        calls.append(element[0])
        raise RuntimeError("disk full (injected)")
        yield  # a generator, like the real one

    monkeypatch.setattr(write_corpus._WriteShardFn, "process", broken_write)
    assert run(cli_args(inputs, out, "--overwrite")) == EXIT_FAILED
    assert calls  # it failed in the write stage, and nothing retried it into a success
    assert is_complete(str(out)) and same_shards(reference, out)
    assert (out / "report.json").read_bytes() == (reference / "report.json").read_bytes()
    assert staging_dirs(str(out)) == []  # the failed run's staging folder is gone


def test_a_killed_run_is_refused_then_replaced_and_replayed_bundles_change_nothing(
    reference, inputs, tmp_path
):
    out = tmp_path / "out"
    leftover = Path(new_staging_dir(str(out))) / "clean"
    leftover.mkdir(parents=True)
    (leftover / "part-00000-of-00004.jsonl.gz").write_bytes(b"half a shard")
    assert run(cli_args(inputs, out)) == EXIT_USAGE  # an unfinished run: refused without --overwrite
    # --direct_runner_bundle_repeat=1: the FnApiRunner runs every bundle twice (reads, writes,
    # counters); idempotent DoFns give the same files and a balanced account.
    assert run(cli_args(inputs, out, "--overwrite", "--direct_runner_bundle_repeat=1")) == EXIT_OK
    assert staging_dirs(str(out)) == [] and is_complete(str(out))
    assert same_shards(reference, out)


# ---- the BundleBasedDirectRunner: failed bundles are retried, the output does not change --------


def test_retried_bundles_give_the_same_output(reference, inputs, tmp_path, monkeypatch):
    failures = {"read": 0, "write": 0, "account": 0}

    def flaky(name, original):
        def process(self, *args, **kwargs):
            if failures[name] == 0:  # the first attempt of the first bundle fails
                failures[name] += 1
                raise ConnectionError(f"transient {name} failure (injected)")
            yield from original(self, *args, **kwargs)

        return process

    monkeypatch.setattr(read_dumps._ReadFileFn, "process", flaky("read", read_dumps._ReadFileFn.process))
    monkeypatch.setattr(
        write_corpus._WriteShardFn, "process", flaky("write", write_corpus._WriteShardFn.process)
    )
    monkeypatch.setattr(
        accounting._AccountDumpFn, "process", flaky("account", accounting._AccountDumpFn.process)
    )
    out = tmp_path / "out"
    cfg = configs_from_options(StorysiftOptions(cli_args(inputs, out)))
    p = beam.Pipeline(runner=BundleBasedDirectRunner())
    build_pipeline(p, cfg)
    p.run().wait_until_finish()
    assert failures == {"read": 1, "write": 1, "account": 1}
    assert same_shards(reference, out)
    # the run's stats (counted in the pipeline) agree too: no retried bundle counted twice
    stats = "_storysift_stats.json"
    assert (out / stats).read_bytes() == (reference / stats).read_bytes()


# ---- the run's checks and their exit codes ------------------------------------------------------


def test_help_documents_the_checks_and_exit_codes():
    from pipeline.cli import build_parser

    text = " ".join(build_parser().format_help().split())
    for expected in (
        "--max-reject-fraction",
        "--max-record-bytes",
        "--max-file-bytes",
        "input BYTES",
        "3 more of the input (bytes) was unusable",
        "4 the character accounting does not balance",
        "_SUCCESS is written last",
    ):
        assert expected in text, expected


@pytest.mark.parametrize(
    "option",
    [["--max-reject-fraction", "1.5"], ["--max-reject-fraction", "-0.1"], ["--max-record-bytes", "0"]],
)
def test_bad_check_options_are_usage_errors(inputs, tmp_path, option):
    assert run(cli_args(inputs, tmp_path / "out", *option)) == EXIT_USAGE
    assert not (tmp_path / "out").exists()


def test_lost_text_fails_the_run_with_exit_4(tmp_path, monkeypatch):
    """The CLI's handling of an unbalanced account: status, report, no _SUCCESS, exit 4. (That the
    pipeline detects lost text is tested on AccountCharacters itself, tests/transforms/
    test_accounting.py; here the run's counters say so, without the cost of a full pipeline.)"""
    import pipeline.cli as cli
    from transforms import counters

    def tiny_pipeline(p, cfg):
        _ = p | beam.Create([1])

    lost = {
        counters.DUMPS_READ: 1,
        counters.INPUT_CHARS: 10,
        counters.ACCOUNT_DUMPS: 1,
        counters.ACCOUNT_INPUT_CHARS: 10,
        counters.ACCOUNT_KEPT_CHARS: 7,
        counters.ACCOUNT_LOST_CHARS: 3,
        counters.ACCOUNT_UNBALANCED_DUMPS: 1,
    }
    monkeypatch.setattr(cli, "build_pipeline", tiny_pipeline)
    monkeypatch.setattr(cli, "metric_values", lambda result: dict(lost))
    (tmp_path / "page.txt").write_text("Some text.")
    out = tmp_path / "out"
    assert run(["--input", str(tmp_path / "page.txt"), "--output", str(out)]) == cli.EXIT_UNBALANCED
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["status"] == "failed: accounting does not balance"
    assert report["accounting"]["balanced"] is False and report["accounting"]["lost_chars"] == 3
    assert not is_complete(str(out)) and staging_dirs(str(out)) == []
