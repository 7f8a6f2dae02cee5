"""The Airflow DAG: it builds its Beam task, and the command that task runs is a real nightly run.

Airflow is not installed for the tests: apache-airflow 3 with the Beam provider is ~110 packages
(minutes to install, more than the tests' time budget) and the provider also wants the Google
provider. So the DAG file is executed against small stand-ins for the three Airflow names it
uses, which record what the DAG gives them; the operator's option-to-argument rule is copied
from the provider (airflow/providers/apache/beam/hooks/beam.py: beam_options_to_args, and the
`labels` dict it always adds). The DAG was also checked against real Airflow 3.3.2 with
apache-airflow-providers-apache-beam 6.3.1 (see README, "Run it nightly").
"""

from __future__ import annotations

import ast
import datetime
import gzip
import json
import shutil
import sys
import types
from pathlib import Path

import pytest

from pipeline.cli import EXIT_OK, run
from tests.conftest import ROOT, SAMPLES

DAG_FILE = ROOT / "deploy" / "airflow" / "storysift_nightly.py"
DATE = "2026-11-28"


class _Recorder:
    def __init__(self):
        self.dags: list[_FakeDAG] = []
        self.tasks: list[dict] = []


class _FakeDAG:
    def __init__(self, recorder: _Recorder, **kwargs):
        self.kwargs = kwargs
        recorder.dags.append(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def load_dag(monkeypatch, env: dict[str, str] | None = None) -> _Recorder:
    """Execute the DAG file with stand-ins for DAG and BeamRunPythonPipelineOperator."""
    recorder = _Recorder()

    def operator(**kwargs):
        recorder.tasks.append(kwargs)
        return kwargs

    names = ["airflow", "airflow.sdk", "airflow.providers", "airflow.providers.apache"]
    names += ["airflow.providers.apache.beam", "airflow.providers.apache.beam.operators"]
    names += ["airflow.providers.apache.beam.operators.beam"]
    modules = {name: types.ModuleType(name) for name in names}
    modules["airflow.sdk"].DAG = lambda **kw: _FakeDAG(recorder, **kw)
    modules["airflow.providers.apache.beam.operators.beam"].BeamRunPythonPipelineOperator = operator
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    for key, value in (env or {}).items():
        monkeypatch.setenv(key, value)
    code = compile(DAG_FILE.read_text(encoding="utf-8"), str(DAG_FILE), "exec")
    exec(code, {"__name__": "storysift_nightly", "__file__": str(DAG_FILE)})  # noqa: S102
    return recorder


def beam_options_to_args(options: dict) -> list[str]:
    """The provider's rule (apache-airflow-providers-apache-beam 6.x) for Python pipelines."""
    args = []
    for attr, value in options.items():
        if isinstance(value, bool):
            if value:
                args.append(f"--{attr}")
        elif isinstance(value, list):
            args.extend(f"--{attr}={v}" for v in value)
        elif isinstance(value, dict):
            args.append(f"--{attr}={json.dumps(value)}")
        elif value is not None:
            args.append(f"--{attr}={value}")
    return args


def render(text: str, ds: str) -> str:
    """Airflow's Jinja for the two templates the DAG uses: `{{ ds }}` and the day before it."""
    day_before = (datetime.date.fromisoformat(ds) - datetime.timedelta(days=1)).isoformat()
    return text.replace("{{ macros.ds_add(ds, -1) }}", day_before).replace("{{ ds }}", ds)


def operator_command(task: dict, ds: str) -> list[str]:
    """What the operator runs after rendering its templates: interpreter, -m pipeline, options."""
    options = json.loads(render(json.dumps(task["pipeline_options"]), ds))
    options["labels"] = [f"{k}={v}" for k, v in {"airflow-version": "v3-3-2"}.items()]  # always added
    return [
        task["py_interpreter"],
        *task["py_options"],
        task["py_file"],
        f"--runner={task['runner']}",
        *beam_options_to_args(options),
    ]


def test_dag_file_parses_and_imports_only_what_it_should():
    tree = ast.parse(DAG_FILE.read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert "airflow.providers.apache.beam.operators.beam" in imported
    assert not any(m.startswith(("pipeline", "transforms", "apache_beam")) for m in imported)


def test_dag_builds_one_nightly_beam_task(monkeypatch):
    recorder = load_dag(monkeypatch)
    (dag,) = recorder.dags
    assert dag.kwargs["dag_id"] == "storysift_nightly"
    assert dag.kwargs["catchup"] is False and dag.kwargs["max_active_runs"] == 1
    assert len(dag.kwargs["schedule"].split()) == 5  # a cron expression
    assert dag.kwargs["default_args"]["retries"] >= 1
    (task,) = recorder.tasks
    assert task["task_id"] == "storysift"
    assert (task["py_options"], task["py_file"]) == (["-m"], "pipeline")  # `python -m pipeline`
    options = task["pipeline_options"]
    assert options["date"] == "{{ ds }}"
    assert all("{date}" in pattern for pattern in options["input"]) and "{date}" in options["output"]
    assert options["overwrite"] is True  # retries replace a failed attempt's output
    assert render(options["against"], DATE) == options["output"].replace("{date}", "2026-11-27")
    (first_run,) = load_dag(monkeypatch, {"STORYSIFT_AGAINST_PREVIOUS": "0"}).tasks
    assert "against" not in first_run["pipeline_options"]


def test_the_task_command_is_accepted_by_the_cli_parser(monkeypatch):
    from apache_beam.options.pipeline_options import PipelineOptions

    from pipeline.cli import build_parser, normalize_option_names
    from pipeline.options import StorysiftOptions, configs_from_options

    # (without --against: checking it would open the previous day's output on gs://)
    (task,) = load_dag(monkeypatch, {"STORYSIFT_AGAINST_PREVIOUS": "0"}).tasks
    argv = operator_command(task, DATE)[3:]
    assert any(a.startswith("--labels=airflow-version=") for a in argv)
    argv = normalize_option_names(argv, build_parser())
    known, beam_args = build_parser().parse_known_args(argv)
    assert beam_args == ["--runner=DirectRunner", "--labels=airflow-version=v3-3-2"]  # left to Beam
    options = PipelineOptions(argv)
    assert options.get_all_options()["labels"] == ["airflow-version=v3-3-2"]
    cfg = configs_from_options(options.view_as(StorysiftOptions))
    assert cfg.inputs == (
        f"gs://example-crawl/{DATE}/*.jsonl.gz",
        f"gs://example-crawl/{DATE}/*.txt.gz",
    )
    assert cfg.corpus.output_dir == f"gs://example-corpus/storysift/{DATE}"
    assert (cfg.corpus.shard_size, cfg.corpus.shard_unit) == (256_000_000, "bytes")
    assert known.overwrite and cfg.run_date == DATE


DAY1 = "2026-11-27"
DAY1_FILES = {"two-articles.txt"}  # day 2 holds an edited copy of one of its articles (pages.jsonl)


@pytest.fixture(scope="module")
def crawl(tmp_path_factory) -> Path:
    """Two dated crawl folders as the DAG expects them: CRAWL/<day>/*.jsonl.gz and *.txt.gz."""
    root = tmp_path_factory.mktemp("nightly")
    for src in sorted(SAMPLES.iterdir()):
        day = root / "crawl" / (DAY1 if src.name in DAY1_FILES else DATE)
        day.mkdir(parents=True, exist_ok=True)
        if src.suffix in (".txt", ".jsonl"):
            (day / (src.name + ".gz")).write_bytes(gzip.compress(src.read_bytes(), mtime=0))
        elif src.name.endswith(".txt.gz"):
            shutil.copy(src, day / src.name)
    return root


def corpus_files(out: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(out)): p.read_bytes()
        for sub in ("clean", "duplicates", "rejected")
        for p in sorted((out / sub).glob("part-*"))
    }


def test_two_nights_dedup_across_days_and_rerun_idempotently(monkeypatch, crawl):
    """Night 1 (no previous output yet), night 2 --against night 1, then night 2 again."""
    env = {"STORYSIFT_CRAWL": str(crawl / "crawl"), "STORYSIFT_CORPUS": str(crawl / "corpus")}
    (first_night,) = load_dag(monkeypatch, {**env, "STORYSIFT_AGAINST_PREVIOUS": "0"}).tasks
    assert run(operator_command(first_night, DAY1)[3:]) == EXIT_OK
    day1 = {r["id"]: r for r in read_jsonl(crawl / "corpus" / DAY1 / "clean")}
    assert any(r["text"].startswith("Northbridge City Council") for r in day1.values())

    monkeypatch.delenv("STORYSIFT_AGAINST_PREVIOUS")  # the DAG's default: against the day before
    (task,) = load_dag(monkeypatch, env).tasks
    argv = operator_command(task, DATE)[3:]
    assert f"--against={crawl / 'corpus' / DAY1}" in argv
    assert run(argv) == EXIT_OK
    out = crawl / "corpus" / DATE
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["status"] == "done" and report["options"]["date"] == DATE
    assert report["input"]["files"] == 4 and report["counts"]["read"]["dumps"] == 7
    clean, dups = read_jsonl(out / "clean"), read_jsonl(out / "duplicates")
    across = [d for d in dups if d["dedup"]["duplicate_of"] in day1]
    assert across, "the copy of a story published on night 1 must be a duplicate on night 2"
    assert not any(r["text"].startswith("Northbridge City Council") for r in clean)
    first = corpus_files(out)
    assert len(first) == 3  # 256MB per shard: one shard per folder
    assert run(argv) == EXIT_OK  # an Airflow retry or a manual rerun of the same date
    assert corpus_files(out) == first
    # A day whose crawl has not arrived is a usage error (2): the task fails without a run.
    assert run(operator_command(task, "2026-11-30")[3:]) == 2


def read_jsonl(folder: Path) -> list[dict]:
    return [
        json.loads(line)
        for p in sorted(folder.glob("part-*"))
        for line in gzip.decompress(p.read_bytes()).decode("utf-8").splitlines()
        if line
    ]
