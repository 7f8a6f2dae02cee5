"""The README's first commands, CI and --help stay true."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import ROOT


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```sh\n(.*?)\n```", text, flags=re.S)[:2]


def test_readme_starts_with_run_and_test_commands() -> None:
    run_cmd, test_cmd = readme_commands()
    assert "pip install ." in run_cmd and "storysift --input" in run_cmd and "samples/" in run_cmd
    assert "--output out/" in run_cmd
    assert "pip install -q '.[test]'" in test_cmd and "pytest" in test_cmd


def test_ci_runs_the_readme_test_command() -> None:
    _, test_cmd = readme_commands()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test_cmd in ci


def test_help_explains_every_option() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "pipeline", "--help"], capture_output=True, text=True, cwd=ROOT, check=True
    ).stdout
    for option in (
        "--input",
        "--output",
        "--text-field",
        "--threshold",
        "--num-perm",
        "--shingle-size",
        "--min-chars",
        "--num-shards",
        "--compression",
        "--compression-level",
        "--overwrite",
        "--runner",
        "--direct_num_workers",
    ):
        assert option in out, option


def test_explain_shows_cues_and_fields() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "pipeline", "explain", "samples/page-00000.txt"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    ).stdout
    assert "5 stories" in out
    assert "opened by kicker" in out and "opened by after-kicker" in out
    assert "kicker='NO EXCUSES'" in out
    assert out.count("=> teaser, truncated=True") == 4


def test_explain_missing_file_is_a_usage_error() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "explain", "no/such/file.txt"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 2 and "no such file" in proc.stderr


def test_a_clean_run_logs_no_warning(tmp_path) -> None:
    """A run on good input says nothing alarming: no warning from Beam's import (apitools) or from
    its exception-handling wrapper about undeclared output tags, only storysift's own lines."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "--input",
            "samples/page-00000.txt",
            "--output",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    logged = proc.stderr + proc.stdout
    assert "apitools" not in logged and "not declared in type hints" not in logged
    assert "WARNING" not in logged and "storysift summary" in logged
