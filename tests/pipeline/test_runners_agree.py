"""The same output on every engine storysift targets, and the package ships to remote workers.

Three configurations of the CLI on samples/ (and on tests/data/recurring/: three pages sharing an
article, from which the split learns a story opening and two continuations, so the side inputs
the corpus-learning stages build are not empty) must write byte-identical files and equal counts:

- the default runner (Beam's FnApiRunner, in memory), run in this process with Beam's
  PrismRunner booby-trapped, so the default path is also shown never to try Prism's download;
- the same with `--direct_num_workers=2 --direct_running_mode=multi_processing` (a subprocess);
- `--runner PortableRunner --job_endpoint embed --environment_type EXTERNAL` against an external
  worker pool (a subprocess): SDK workers in separate processes, started by Beam's worker-pool
  service as they are beside Flink and Spark (`worker_pool_main`'s servicer; here bound to
  127.0.0.1 on a port the OS picks).

The two subprocess runs have a bounded timeout (a portable job whose workers cannot start waits
forever), and the worker pool and its workers are stopped whatever happens. Also here:
multi_processing workers really are other processes that import our package; `--setup_file
./pyproject.toml` builds an sdist (with Beam 2.77's own stager code) that installs and imports on
a bare worker; every third-party import is a declared dependency; the worker image matches.

The runs import the source when they start: editing transforms/ while this test runs can make
them disagree (the in-process run keeps the code it imported first).
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import tomllib
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from pipeline.cli import run
from pipeline.runners import OfflineDirectRunner, runner_for
from tests.conftest import ROOT, SAMPLES

SAMPLE_GLOBS = ["samples/*.txt", "samples/*.jsonl", "samples/*.gz"]
RECURRING = ROOT / "tests" / "data" / "recurring"
INPUT_GLOBS = [*SAMPLE_GLOBS, "recurring/*.txt"]
RUN_TIMEOUT = 300  # seconds per pipeline run: bounds a hang, not an expected time
POOL_START_TIMEOUT = 60
# Files that hold the wall time, the runner's name or the output path (the report: compared by its
# counts) or the time the run finished (_SUCCESS).
NOT_COMPARED = {"report.json", "report.html", "_SUCCESS"}

# Beam's external worker pool (worker_pool_main), bound to the loopback interface on a port the
# OS picks (worker_pool_main itself listens on every interface and takes a fixed port). The pool
# starts each SDK worker as a `python -c "...SdkHarness(...).run()"` process.
POOL_SCRIPT = """
import sys
import grpc
from apache_beam.portability.api import beam_fn_api_pb2_grpc
from apache_beam.runners.worker.worker_pool_main import BeamFnExternalWorkerPoolServicer
from apache_beam.utils import thread_pool_executor

server = grpc.server(thread_pool_executor.shared_unbounded_instance())
port = server.add_insecure_port("127.0.0.1:0")
beam_fn_api_pb2_grpc.add_BeamFnExternalWorkerPoolServicer_to_server(
    BeamFnExternalWorkerPoolServicer(use_process=True), server
)
server.start()
print(port, flush=True)
server.wait_for_termination()
"""


# ------------------------------------------------------------------ helpers


def subprocess_env(tmp: Path) -> dict[str, str]:
    """Our package importable by every child (installed or not), and `python` on PATH being this
    interpreter (the worker pool starts its workers as plain `python`)."""
    bin_dir = tmp / "bin"
    bin_dir.mkdir(exist_ok=True)
    shim = bin_dir / "python"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env["PATH"] = os.pathsep.join((str(bin_dir), env.get("PATH", "")))
    return env


def stop_group(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """Stop a process we started in its own session, with every child it started."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=grace)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # workers the pool started, even if the pool is gone
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        pass


def tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def output_files(out: Path) -> dict[str, bytes]:
    """Every file the run wrote (relative path -> bytes), the report files aside."""
    return {
        str(p.relative_to(out)): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name not in NOT_COMPARED
    }


def records(files: dict[str, bytes], folder: str) -> list[dict]:
    out = []
    for name, data in files.items():
        if name.startswith(folder + "/") and re.search(r"part-\d+-of-\d+\.jsonl\.gz$", name):
            out.extend(json.loads(line) for line in gzip.decompress(data).decode("utf-8").splitlines())
    return out


# ------------------------------------------------------------------ the three engines agree


@pytest.fixture(scope="module")
def three_runs(tmp_path_factory) -> dict[str, Path]:
    """Run the CLI on samples/ in the three configurations, at the same time; their output folders.

    The default (in-memory) run is this process's, with Beam's PrismRunner booby-trapped (see
    `no_prism`); the two others are subprocesses."""
    tmp = tmp_path_factory.mktemp("runners")
    work = tmp / "work"
    shutil.copytree(SAMPLES, work / "samples")  # relative uris, the same in every run
    shutil.copytree(RECURRING, work / "recurring")
    env = subprocess_env(tmp)
    pool_log = tmp / "pool.log"
    logs = [pool_log.open("wb")]
    pool = subprocess.Popen(
        [sys.executable, "-c", POOL_SCRIPT],
        cwd=work,
        env=env,
        stdout=subprocess.PIPE,
        stderr=logs[0],
        start_new_session=True,
    )
    runs: dict[str, subprocess.Popen] = {}
    try:
        port = _read_port(pool, pool_log)
        configs = {
            "multi_processing": ["--direct_num_workers=2", "--direct_running_mode=multi_processing"],
            "portable": [
                "--runner=PortableRunner",
                "--job_endpoint=embed",
                "--environment_type=EXTERNAL",
                f"--environment_config=127.0.0.1:{port}",
            ],
        }
        inputs = [arg for glob in INPUT_GLOBS for arg in ("--input", glob)]
        for name, extra in configs.items():
            logs.append(log := (tmp / f"{name}.log").open("wb"))
            runs[name] = subprocess.Popen(
                [sys.executable, "-m", "pipeline", *inputs, "--output", str(tmp / name), *extra],
                cwd=work,  # not the repository: workers must import the package, not find it in cwd
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        with pytest.MonkeyPatch.context() as mp:
            trip_prism(mp)
            mp.chdir(work)
            code = run([*inputs, "--output", str(tmp / "in_memory")])
        assert code == 0, "the default run failed (see the captured log)"
        deadline = time.monotonic() + RUN_TIMEOUT
        for name, proc in runs.items():
            try:
                code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pytest.fail(f"{name} run still going after {RUN_TIMEOUT}s:\n{tail(tmp / f'{name}.log')}")
            assert code == 0, f"{name} run exited {code}:\n{tail(tmp / f'{name}.log')}"
    finally:
        for proc in runs.values():
            stop_group(proc)
        stop_group(pool)
        pool.stdout.close()
        for log in logs:
            log.close()
    return {"in_memory": tmp / "in_memory", **{name: tmp / name for name in runs}}


def _read_port(pool: subprocess.Popen, log: Path) -> int:
    """The port the worker pool printed once it was serving (bounded wait)."""
    import selectors

    sel = selectors.DefaultSelector()
    sel.register(pool.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + POOL_START_TIMEOUT
    while time.monotonic() < deadline:
        if pool.poll() is not None:
            pytest.fail(f"the worker pool exited with {pool.returncode}:\n{tail(log)}")
        if sel.select(timeout=1.0):
            line = pool.stdout.readline().decode().strip()
            if line.isdigit():
                return int(line)
            pytest.fail(f"the worker pool printed {line!r}, not its port:\n{tail(log)}")
    pytest.fail(f"the worker pool did not start within {POOL_START_TIMEOUT}s:\n{tail(log)}")


def test_every_engine_writes_byte_identical_files(three_runs: dict[str, Path]) -> None:
    reference = output_files(three_runs["in_memory"])
    clean = records(reference, "clean")
    # Not an empty success: stories were kept, one was dropped as a duplicate, boilerplate set aside.
    assert len(clean) >= 10 and all(r["dedup"]["duplicate_of"] is None for r in clean)
    assert records(reference, "duplicates") and records(reference, "rejected")
    for name in ("multi_processing", "portable"):
        files = output_files(three_runs[name])
        assert sorted(files) == sorted(reference), name
        different = [path for path in reference if files[path] != reference[path]]
        assert not different, f"{name} wrote different bytes in {different}"


def test_every_engine_reports_the_same_counts(three_runs: dict[str, Path]) -> None:
    reports = {name: json.loads((out / "report.json").read_text()) for name, out in three_runs.items()}
    counts = reports["in_memory"]["counts"]
    assert counts["read"]["dumps"] == 8 + 3 and counts["write"]["clean"] >= 10
    # what the corpus taught the split went through each runner's side inputs
    assert counts["split"]["learned_openings"] >= 1 and counts["split"]["opened_at_learned_openings"] >= 1
    assert counts["split"]["learned_continuations"] >= 2
    for name in ("multi_processing", "portable"):
        assert reports[name]["counts"] == counts, name
    assert reports["portable"]["runner"] == "PortableRunner"


# ------------------------------------------------------------------ multi_processing workers


def test_multi_processing_runs_our_stages_in_other_processes(tmp_path, monkeypatch) -> None:
    from transforms.records import Dump
    from transforms.split_stories import SplitConfig, SplitStories

    monkeypatch.chdir(tmp_path)  # the workers find the package installed or on PYTHONPATH, not in cwd
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    )
    text = (SAMPLES / "page-00000.txt").read_text(encoding="utf-8")
    options = PipelineOptions(["--direct_num_workers=2", "--direct_running_mode=multi_processing"])
    out = tmp_path / "where"
    with beam.Pipeline(runner=runner_for(None), options=options) as p:
        drafts, _ = (
            p
            | beam.Create([Dump(uri=f"page-{i}.txt", record=0, text=text) for i in range(4)])
            | SplitStories(SplitConfig())
        )
        # A lambda is pickled by value: only our stage module has to be imported by the worker.
        _ = (
            drafts
            | beam.Map(lambda d: f"{os.getpid()}\t{sys.modules['transforms.split_stories'].__file__}")
            | beam.io.WriteToText(str(out))
        )
    lines = [line for f in sorted(tmp_path.glob("where*")) for line in f.read_text().splitlines()]
    assert len(lines) == 4 * 5  # five stories on the seed page, four copies
    pids = {int(line.split("\t")[0]) for line in lines}
    assert os.getpid() not in pids
    for line in lines:
        module_file = Path(line.split("\t")[1])
        assert module_file.name == "split_stories.py" and module_file.parent.name == "transforms"


# ------------------------------------------------------------------ no Prism, no download


class PrismTripwire(RuntimeError):
    pass


def trip_prism(monkeypatch) -> None:
    """Constructing Beam's PrismRunner or its job server (which downloads a binary) raises."""
    from apache_beam.runners.portability import prism_runner

    def tripwire(*_args, **_kwargs):
        raise PrismTripwire("PrismRunner constructed")

    monkeypatch.setattr(prism_runner, "PrismRunner", tripwire)
    monkeypatch.setattr(prism_runner.PrismJobServer, "__init__", tripwire)


@pytest.fixture
def no_prism(monkeypatch):
    trip_prism(monkeypatch)


def _small_pipeline(runner) -> list[int]:
    from apache_beam.testing.util import assert_that, equal_to

    with beam.Pipeline(runner=runner) as p:
        assert_that(p | beam.Create([1, 2, 3]) | beam.Map(lambda x: x * 2), equal_to([2, 4, 6]))
    return [2, 4, 6]


def test_the_tripwire_catches_beams_own_direct_runner(no_prism) -> None:
    from apache_beam.runners.direct.direct_runner import DirectRunner

    with pytest.raises(PrismTripwire):
        _small_pipeline(DirectRunner())


def test_default_runner_never_constructs_prism(no_prism) -> None:
    assert _small_pipeline(runner_for(None)) == [2, 4, 6]
    for name in ("", "DirectRunner", "direct"):  # what --runner may say for the default
        assert isinstance(runner_for(name), OfflineDirectRunner), name


def test_cli_default_path_never_constructs_prism(three_runs: dict[str, Path]) -> None:
    """The whole CLI run on samples/ (three_runs' in-memory run) went by with the tripwire set."""
    assert (three_runs["in_memory"] / "report.json").exists()


# ------------------------------------------------------------------ staging to remote workers


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _copy_tree(dest: Path) -> Path:
    skip = shutil.ignore_patterns(
        ".git", ".*venv", "venv", "*.egg-info", "build", "dist", "out", "__pycache__"
    )
    shutil.copytree(ROOT, dest, ignore=skip)
    return dest


def test_setup_file_pyproject_builds_an_sdist_that_installs_on_a_worker(tmp_path) -> None:
    """`--setup_file ./pyproject.toml`: Beam 2.77 runs `python -m build --no-isolation --sdist`
    (Stager._build_setup_package, called here as Beam calls it); a worker pip-installs that sdist."""
    from apache_beam.runners.portability.stager import Stager

    src = _copy_tree(tmp_path / "src")
    staged = tmp_path / "staging"
    staged.mkdir()
    sdist = Path(Stager._build_setup_package(str(src / "pyproject.toml"), str(staged), None))
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    for package in pyproject()["tool"]["setuptools"]["packages"]:
        assert f"{package.replace('.', '/')}/__init__.py" in names, package
    for resource in (ROOT / "transforms" / "resources").glob("*.json"):
        assert f"transforms/resources/{resource.name}" in names, resource.name
    # Install it as a worker would (without touching this environment) and use it from elsewhere.
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-index",
         "--target", str(target), str(sdist)],
        check=True, timeout=RUN_TIMEOUT, capture_output=True,
    )  # fmt: skip
    probe = f"""
import importlib.resources
import pipeline.assembly, pipeline.cli, transforms.parse_teasers
from transforms.sentences import load_punkt_parameters
from transforms.split_stories import split_text
load_punkt_parameters()
print(pipeline.assembly.__file__)
print(len(split_text(open({str(SAMPLES / "page-00000.txt")!r}, encoding="utf-8").read()).stories))
print(sum(f.name.endswith(".json") for f in importlib.resources.files("transforms.resources").iterdir()))
"""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(target)
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    where, stories, resources = done.stdout.split()
    assert Path(where).is_relative_to(target) and int(stories) == 5
    assert int(resources) == len(list((ROOT / "transforms" / "resources").glob("*.json")))


def test_worker_image_matches_the_package() -> None:
    """deploy/worker/Dockerfile: the Beam SDK image of our pinned Beam and Python, every package copied."""
    dockerfile = (ROOT / "deploy" / "worker" / "Dockerfile").read_text(encoding="utf-8")
    project = pyproject()
    (beam_pin,) = [d for d in project["project"]["dependencies"] if d.startswith("apache-beam")]
    beam_version = beam_pin.split("==")[1]
    python = re.search(r">=\s*(\d+\.\d+)", project["project"]["requires-python"]).group(1)  # 3.11
    image = f"apache/beam_python{python}_sdk:{beam_version}"
    assert re.search(rf"^FROM {re.escape(image)}\s*$", dockerfile, re.M), image
    copied = set(re.findall(r"^COPY\s+(\S+)\s", dockerfile, re.M))
    for package in project["tool"]["setuptools"]["packages"]:
        top = package.split(".")[0]
        assert top in copied, f"deploy/worker/Dockerfile does not COPY {top}"
    assert "pyproject.toml" in copied


def _requirement_name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;(]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_every_import_is_a_declared_dependency() -> None:
    """A remote worker installs only what pyproject.toml declares (directly, or through a declared
    package's own requirements): every third-party module the package imports must be there."""
    import ast
    from importlib.metadata import packages_distributions, requires

    declared = {_requirement_name(r) for r in pyproject()["project"]["dependencies"]}
    allowed = set(declared)
    for name in declared:
        allowed |= {_requirement_name(r) for r in requires(name) or () if "extra ==" not in r}
    ours = {p.split(".")[0] for p in pyproject()["tool"]["setuptools"]["packages"]}
    distributions = packages_distributions()
    missing = {}
    for package in sorted(ours):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    top = module.split(".")[0]
                    if top in ours or top in sys.stdlib_module_names or top == "__future__":
                        continue
                    dists = {d.lower().replace("_", "-") for d in distributions.get(top, [])}
                    if not dists & allowed:
                        missing.setdefault(top, str(path.relative_to(ROOT)))
    assert not missing, f"imported but not declared in pyproject.toml's dependencies: {missing}"
