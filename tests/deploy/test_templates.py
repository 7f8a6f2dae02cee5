"""Flex Template, container image, cron and Kubernetes examples agree with the CLI.

Docker is not available where the tests run, so the images are not built: their files are
checked against the package (what is copied, what runs) and the CLI's own parser.
"""

from __future__ import annotations

import importlib.util
import json
import shlex
import tomllib

import yaml
from apache_beam.options.pipeline_options import PipelineOptions

from pipeline.cli import EXIT_USAGE, build_parser, normalize_option_names
from pipeline.options import StorysiftOptions, configs_from_options
from tests.conftest import ROOT

DEPLOY = ROOT / "deploy"


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cli_options() -> dict[str, object]:
    """Every long option of `storysift`, by its template name (snake case), from the parser."""
    return {
        action.option_strings[0][2:].replace("-", "_"): action
        for action in build_parser()._actions
        if action.option_strings and action.option_strings[0].startswith("--") and action.dest != "help"
    }


def dockerfile_instructions(path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    text = path.read_text(encoding="utf-8").replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def parse_cli(argv: list[str]):
    """The configs the CLI would run with (no pipeline is run)."""
    argv = normalize_option_names(argv, build_parser())
    known, _ = build_parser().parse_known_args(argv)
    return known, configs_from_options(PipelineOptions(argv).view_as(StorysiftOptions))


# ---- Flex Template ----------------------------------------------------------------------------


def test_flex_metadata_lists_every_cli_option():
    metadata = json.loads((DEPLOY / "flex-template" / "metadata.json").read_text(encoding="utf-8"))
    params = {p["name"]: p for p in metadata["parameters"]}
    options = cli_options()
    assert set(params) == set(options), (
        "deploy/flex-template/metadata.json is out of date: run "
        "`python deploy/flex-template/make_metadata.py > deploy/flex-template/metadata.json`"
    )
    for name, action in options.items():
        param = params[name]
        assert param["helpText"].strip() and param["label"].strip()
        assert param["isOptional"] is (name not in ("input", "output"))
        if action.choices:
            assert param["regexes"] == ["^(" + "|".join(sorted(map(str, action.choices))) + ")$"]


def test_flex_metadata_is_what_the_generator_writes():
    generator = _load(DEPLOY / "flex-template" / "make_metadata.py", "make_metadata")
    metadata = json.loads((DEPLOY / "flex-template" / "metadata.json").read_text(encoding="utf-8"))
    assert [p["name"] for p in metadata["parameters"]] == [p["name"] for p in generator.parameters()]


def test_flex_launcher_turns_template_parameters_into_cli_arguments():
    launch = _load(DEPLOY / "flex-template" / "launch.py", "launch")
    args = launch.template_args(
        ["--input=gs://c/{date}/*.gz", "--output=gs://o/{date}", "--date=2026-11-28", "--overwrite=true",
         "--shard_size=64MB", "--project=p", "--detach=false"]
    )  # fmt: skip
    assert args == [
        "--input=gs://c/{date}/*.gz",
        "--output=gs://o/{date}",
        "--date=2026-11-28",
        "--overwrite",
        "--shard_size=64MB",
        "--project=p",
        "--detach",
    ]
    known, cfg = parse_cli(args)
    assert known.detach and known.overwrite
    assert cfg.inputs == ("gs://c/2026-11-28/*.gz",) and cfg.corpus.shard_size == 64_000_000
    assert launch.template_args(["--overwrite=false"]) == ["--detach"]


def test_flex_dockerfile_installs_the_package_and_points_at_the_launcher():
    instructions = dockerfile_instructions(DEPLOY / "flex-template" / "Dockerfile")
    assert instructions[0][0] == "FROM" and "python311-template-launcher" in instructions[0][1]
    env = " ".join(rest for word, rest in instructions if word == "ENV")
    assert "FLEX_TEMPLATE_PYTHON_PY_FILE=" in env and "launch.py" in env
    copies = copied(instructions)
    assert "deploy/flex-template/launch.py" in copies
    _assert_copies_the_package(copies)
    assert any(word == "RUN" and "pip install" in rest for word, rest in instructions)


def copied(instructions: list[tuple[str, str]]) -> list[str]:
    """The sources of every COPY (all words but the destination)."""
    return [src for word, rest in instructions if word == "COPY" for src in rest.split()[:-1]]


def _assert_copies_the_package(copies: list[str]) -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    top_level = {p.split(".")[0] for p in pyproject["tool"]["setuptools"]["packages"]}
    assert top_level <= set(copies) and "pyproject.toml" in copies
    assert "README.md" in copies  # pyproject's readme
    for path in copies:
        assert (ROOT / path).exists(), path


# ---- the container image ----------------------------------------------------------------------


def test_container_runs_the_cli():
    instructions = dockerfile_instructions(DEPLOY / "container" / "Dockerfile")
    entrypoint = [json.loads(rest) for word, rest in instructions if word == "ENTRYPOINT"]
    cmd = [json.loads(rest) for word, rest in instructions if word == "CMD"]
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["scripts"]["storysift"] == "pipeline.cli:main"
    assert entrypoint == [["storysift"]]  # the console script pyproject installs
    assert cmd == [["--help"]]
    assert "--help" in {s for a in build_parser()._actions for s in a.option_strings}
    _assert_copies_the_package(copied(instructions))
    assert any(word == "USER" for word, _ in instructions)  # not root


# ---- cron and Kubernetes ----------------------------------------------------------------------


def test_crontab_line_is_a_valid_storysift_command():
    lines = [
        line
        for line in (DEPLOY / "cron" / "storysift.crontab").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#") and "=" not in line.split()[0]
    ]
    (line,) = lines
    fields = line.split(None, 5)
    assert len(fields[:5]) == 5 and "%" not in fields[5]  # cron turns % into a newline
    command = shlex.split(fields[5].split(">>")[0])
    assert command[0].endswith("/storysift")
    known, cfg = parse_cli(command[1:])
    assert known.overwrite and cfg.run_date is not None
    assert all(cfg.run_date in pattern for pattern in cfg.inputs) and cfg.run_date in cfg.corpus.output_dir


def test_kubernetes_cronjob_runs_the_image_with_valid_arguments():
    doc = yaml.safe_load((DEPLOY / "kubernetes" / "cronjob.yaml").read_text(encoding="utf-8"))
    assert doc["kind"] == "CronJob" and len(doc["spec"]["schedule"].split()) == 5
    assert doc["spec"]["concurrencyPolicy"] == "Forbid"
    job = doc["spec"]["jobTemplate"]["spec"]
    pod = job["template"]["spec"]
    assert pod["restartPolicy"] == "Never"  # required by podFailurePolicy
    (container,) = pod["containers"]
    assert "command" not in container  # the image's ENTRYPOINT (storysift) runs
    (rule,) = job["podFailurePolicy"]["rules"]
    assert rule["action"] == "FailJob" and rule["onExitCodes"]["values"] == [EXIT_USAGE]
    assert rule["onExitCodes"]["containerName"] == container["name"]
    known, cfg = parse_cli(container["args"])
    assert known.overwrite and cfg.run_date is not None and "{date}" not in cfg.corpus.output_dir
