"""End-to-end runs of the storysift CLI on samples/: real output files, parsed and checked."""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
import shutil
from pathlib import Path

import pytest

from pipeline.cli import run
from tests.conftest import DATA, SAMPLES

SAMPLE_GLOBS = ["samples/*.txt", "samples/*.jsonl", "samples/*.gz"]


def read_folder(folder: Path) -> list[dict]:
    records = []
    for path in sorted(folder.glob("part-*")):
        raw = path.read_bytes()
        if path.suffix == ".gz":
            raw = gzip.decompress(raw)
        records.extend(json.loads(line) for line in raw.decode("utf-8").splitlines() if line)
    return records


def run_cli(tmp_root: Path, out_name: str, *extra: str) -> tuple[int, Path]:
    """Run the CLI from a copy of samples/ so uris are the short relative paths."""
    work = tmp_root / "work"
    if not work.exists():
        shutil.copytree(SAMPLES, work / "samples")
    out = tmp_root / out_name
    args = []
    for glob in SAMPLE_GLOBS:
        args += ["--input", str(work / glob)]
    code = run([*args, "--output", str(out), *extra])
    return code, out


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("e2e")
    code, out = run_cli(root, "out")
    assert code == 0
    return out


def stories_of(out: Path) -> list[dict]:
    return read_folder(out / "clean") + read_folder(out / "duplicates")


def test_seed_page_exactly(sample_run: Path) -> None:
    seed = sorted(
        (r for r in stories_of(sample_run) if r["source"]["uri"].endswith("page-00000.txt")),
        key=lambda r: r["source"]["start"],
    )
    gold = [json.loads(line) for line in (DATA / "seed_gold.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(r["source"]["start"], r["source"]["end"]) for r in seed] == [
        (g["start"], g["end"]) for g in gold
    ]
    article = seed[0]
    assert article["kind"] == "article" and article["title"] is None and not article["truncated"]
    assert len(article["text"].split("\n\n")) == 18
    assert [r["kicker"] for r in seed] == [None, "BACKLASH", "CONTROVERSY", "NO EXCUSES", None]
    assert [r["kind"] for r in seed[1:]] == ["teaser"] * 4
    assert all(r["truncated"] for r in seed[1:])
    assert seed[1]["deck"].endswith("which won a historic third term")
    assert seed[2]["deck"].endswith("two people tried to get on stage")
    assert seed[1]["text"].startswith("Australia’s National Party")
    assert seed[2]["text"].startswith("Austria’s JJ yesterday")
    assert seed[4]["text"].startswith("A documentary whose main subject")
    for r, g in zip(seed, gold, strict=True):
        if r["kicker"] != "NO EXCUSES":
            assert r["text"] == g["text"]
            assert r["deck"] == g["deck"]


def test_seed_no_excuses_deck(sample_run: Path) -> None:
    (teaser,) = [r for r in stories_of(sample_run) if r["kicker"] == "NO EXCUSES"]
    assert teaser["deck"].endswith("after a poor midterm showing")
    assert teaser["text"].startswith("Philippine President Ferdinand Marcos Jr")


def test_output_layout_and_report(sample_run: Path) -> None:
    for sub in ("clean", "duplicates", "rejected"):
        assert sorted(p.name for p in (sample_run / sub).iterdir()) == [
            f"part-{i:05d}-of-00004.jsonl.gz" for i in range(4)
        ]
    report = json.loads((sample_run / "report.json").read_text(encoding="utf-8"))
    clean, dups = read_folder(sample_run / "clean"), read_folder(sample_run / "duplicates")
    assert report["counts"]["write"]["clean"] == len(clean)
    assert report["counts"]["write"]["duplicates"] == len(dups)
    assert report["options"]["threshold"] == 0.8
    assert report["counts"]["read"]["dumps"] == 8  # 4 text files + 4 JSONL records


def test_every_story_has_the_contract_fields(sample_run: Path) -> None:
    for r in stories_of(sample_run):
        assert set(r) >= {"id", "text", "kind", "title", "kicker", "deck", "truncated", "source", "dedup"}
        assert set(r["source"]) == {"uri", "record", "start", "end"}
        assert r["kind"] in ("article", "teaser")
        assert {"cluster", "duplicate_of"} <= set(r["dedup"])
    ids = [r["id"] for r in stories_of(sample_run)]
    assert len(ids) == len(set(ids))


def _throughput_module():
    spec = importlib.util.spec_from_file_location(
        "throughput", Path(__file__).parents[2] / "benchmarks/throughput.py"
    )
    throughput = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(throughput)
    return throughput


def test_throughput_benchmarks_halves_start_with_cold_word_caches() -> None:
    """Each half of the plain loop must start as a fresh worker does: per-word caches empty, the
    once-per-process loaders (a model, the stop words) kept."""
    from transforms import deck_split, deduplicate, topic_shift

    topic_shift.content_terms("Ministers were running late")
    deck_split.edge_key("Ministers")
    deduplicate.head_key(12345, 4)
    assert topic_shift._term.cache_info().currsize > 0
    assert topic_shift._stopwords.cache_info().currsize == 1
    _throughput_module().clear_word_caches(topic_shift, deck_split, deduplicate)
    assert topic_shift._term.cache_info().currsize == 0
    assert topic_shift._stem.cache_info().currsize == 0
    assert deck_split.edge_key.cache_info().currsize == 0
    assert deduplicate.head_key.cache_info().currsize == 0
    assert topic_shift._stopwords.cache_info().currsize == 1


def test_throughput_benchmarks_plain_loop_finds_the_pipelines_stories(sample_run: Path) -> None:
    """benchmarks/throughput.py times storysift's text stages without Beam; that measure only
    means something if its loop runs them as the pipeline does, to the same stories."""
    throughput = _throughput_module()
    work = sample_run.parent / "work"
    files = sorted(p for glob in SAMPLE_GLOBS for p in work.glob(glob))
    measured = throughput.text_stages(files)
    ids = sorted(r["id"] for r in stories_of(sample_run))
    assert measured["dumps"] == 8
    assert measured["stories"] == len(ids)
    assert measured["stories_digest"] == hashlib.sha256("\n".join(ids).encode()).hexdigest()
    assert set(measured["cpu_s"]) == {
        "read",
        "repeated lines",
        "story openings",
        "story continuations",
        "split",
        "parse",
        "sketch",
    }
    # split, parse and sketch are timed again on two halves (the cost of parallel memos)
    assert set(measured["split_parse_sketch_cpu_s"]) == {"one loop", "two halves"}
    assert measured["split_parse_sketch_cpu_s"]["one loop"] > 0
    # ... and once more in two processes at once: between them, the same stories
    parallel = measured["two_processes_at_once"]
    assert parallel["wall_s"] >= max(parallel["each_wall_s"]) > 0
    assert sum(parallel["stories"]) == len(ids) and min(parallel["stories"]) > 0
    # ... and once more in two processes at once: between them, the same stories
    parallel = measured["two_processes_at_once"]
    assert parallel["wall_s"] > 0
    assert sum(parallel["stories"]) == len(ids) and min(parallel["stories"]) > 0


def test_duplicates_point_at_kept_stories(sample_run: Path) -> None:
    clean = {r["id"]: r for r in read_folder(sample_run / "clean")}
    dups = read_folder(sample_run / "duplicates")
    assert dups, "samples hold copies across files"
    for d in dups:
        kept = clean[d["dedup"]["duplicate_of"]]
        assert kept["dedup"]["cluster"] == d["dedup"]["cluster"]
        assert kept["dedup"]["duplicate_of"] is None
    # The U-TURN teaser line appears in two files: one copy kept, one dropped.
    uturn = [r for r in clean.values() if r["kicker"] == "U-TURN"] + [
        d for d in dups if d["kicker"] == "U-TURN"
    ]
    assert len(uturn) == 2 and sum(r["dedup"]["duplicate_of"] is None for r in uturn) == 1


def test_boilerplate_is_written_not_lost(sample_run: Path) -> None:
    rejected = read_folder(sample_run / "rejected")
    texts = {r["text"] for r in rejected if r["kind"] == "boilerplate"}
    assert {"Advertisement", "Most read", "By Claire Fenwick, Business reporter"} <= texts
    assert all(r["stage"] and r["reason"] for r in rejected)
    for story in stories_of(sample_run):
        assert "Advertisement" not in story["text"].split("\n\n")


def test_story_offsets_point_into_the_input(sample_run: Path) -> None:
    work = sample_run.parent / "work"
    for r in stories_of(sample_run):
        uri = Path(r["source"]["uri"])
        if uri.suffix != ".txt":
            continue
        text = (work / "samples" / uri.name).read_text(encoding="utf-8")
        span = text[r["source"]["start"] : r["source"]["end"]]
        first_paragraph = r["text"].split("\n\n")[0]
        assert first_paragraph in span


def test_second_run_gives_byte_identical_files(sample_run: Path, tmp_path: Path) -> None:
    root = sample_run.parent
    code, again = run_cli(root, "again")
    assert code == 0
    for sub in ("clean", "duplicates", "rejected"):
        for path in sorted((sample_run / sub).iterdir()):
            assert path.read_bytes() == (again / sub / path.name).read_bytes(), path


def test_existing_output_is_refused_without_overwrite(sample_run: Path) -> None:
    code, _ = run_cli(sample_run.parent, "out")
    assert code == 2


def test_no_matching_input_is_a_usage_error(tmp_path: Path) -> None:
    assert run(["--input", str(tmp_path / "nothing-*.txt"), "--output", str(tmp_path / "o")]) == 2


@pytest.mark.parametrize(
    "bad",
    [["--threshold", "1.5"], ["--compression-level", "10"], ["--compression=none", "--compression-level=3"]],
)
def test_bad_option_value_is_a_usage_error(tmp_path: Path, bad: list[str]) -> None:
    code = run(["--input", str(SAMPLES / "*.txt"), "--output", str(tmp_path / "o"), *bad])
    assert code == 2
