"""Incremental runs end to end: day 2 is deduplicated against day 1's output (`--against`).

Day 1 and day 2 are built from samples/: day 2 repeats two of day 1's files under new names
(so every story gets a new id), brings the full article of a teaser day 1 only had as a
teaser, and one story no earlier day has.
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from pipeline.cli import EXIT_OK, EXIT_USAGE, run
from tests.conftest import SAMPLES
from transforms.deduplicate import normalise_for_hash

NEW_STORY = (
    "Harbour council votes to restore the old lighthouse\n"
    "The harbour council voted on Tuesday to restore the disused lighthouse on the north pier, "
    "ending a decade of argument over whether the tower should be sold, demolished or left to the "
    "gulls that nest in its lamp room.\n"
    "Repairs to the stonework and the iron gallery will cost about two million pounds, most of it "
    "from a heritage grant, and the lamp will be lit again on summer evenings as a landmark for the "
    "fishing boats that still use the harbour.\n"
    "Local historians welcomed the decision, saying the lighthouse was the oldest working building on "
    "the coast and had guided ships into the bay since the reign of George the Third.\n"
)


def read_folder(folder: Path) -> list[dict]:
    records = []
    for path in sorted(folder.glob("part-*.jsonl.gz")):
        text = gzip.decompress(path.read_bytes()).decode("utf-8")
        records.extend(json.loads(line) for line in text.splitlines() if line)
    return records


def cli(out: Path, inputs: list[Path], *extra: str) -> int:
    args = []
    for path in inputs:
        args += ["--input", str(path)]
    return run([*args, "--output", str(out), "--log-level", "WARNING", *extra])


@pytest.fixture(scope="module")
def days(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("nightly")
    day1, day2 = root / "in-day1", root / "in-day2"
    day1.mkdir()
    day2.mkdir()
    for name in ("section-front.txt", "two-articles.txt", "pages.jsonl"):
        shutil.copy(SAMPLES / name, day1 / name)
    shutil.copy(SAMPLES / "two-articles.txt", day2 / "two-articles-again.txt")  # repeated
    shutil.copy(SAMPLES / "section-front.txt", day2 / "front-page-again.txt")  # repeated
    shutil.copy(SAMPLES / "archive.txt.gz", day2 / "archive.txt.gz")  # the HIGH WATER article, in full
    (day2 / "harbour.txt").write_text(NEW_STORY, encoding="utf-8")
    out1, out2 = root / "out-day1", root / "out-day2"
    assert cli(out1, [day1 / "*.txt", day1 / "*.jsonl"]) == EXIT_OK
    assert cli(out2, [day2 / "*.txt", day2 / "*.gz"], "--against", str(out1)) == EXIT_OK
    return {"root": root, "in2": day2, "out1": out1, "out2": out2}


def norm(text: str) -> str:
    return normalise_for_hash(text)


def test_day2_clean_holds_none_of_day1s_stories(days) -> None:
    day1_clean = read_folder(days["out1"] / "clean")
    day1_texts = {norm(r["text"]) for r in day1_clean}
    day2_clean = read_folder(days["out2"] / "clean")
    assert day1_clean and day2_clean
    assert not [r["text"][:60] for r in day2_clean if norm(r["text"]) in day1_texts]
    # every story of the two repeated files is a dropped duplicate of a day-1 story, in its cluster
    day1_by_id = {r["id"]: r for r in day1_clean}
    repeated = [
        r
        for r in read_folder(days["out2"] / "duplicates") + day2_clean
        if r["source"]["uri"].endswith(("two-articles-again.txt", "front-page-again.txt"))
    ]
    assert len(repeated) >= 9
    for r in repeated:
        original = day1_by_id.get(r["dedup"]["duplicate_of"])
        assert original is not None, r["text"][:60]
        assert r["dedup"]["cluster"] == original["dedup"]["cluster"]


def test_day2_keeps_new_stories_and_fuller_versions_of_day1_teasers(days) -> None:
    day2_clean = read_folder(days["out2"] / "clean")
    assert any(r["text"].startswith("The harbour council voted") for r in day2_clean)
    # day 1 had only the HIGH WATER teaser of the Ellerby article; day 2 has the article itself:
    # it is kept (not dropped into a teaser), in the teaser's cluster
    teaser = next(r for r in read_folder(days["out1"] / "clean") if r["kicker"] == "HIGH WATER")
    article = next(r for r in day2_clean if r["text"].startswith(teaser["text"][:80]))
    assert article["kind"] == "article" and len(article["text"]) > 2 * len(teaser["text"])
    assert article["dedup"]["cluster"] == teaser["dedup"]["cluster"]
    assert article["dedup"]["duplicate_of"] is None


def test_signatures_are_carried_forward_so_day3_still_sees_day1(days) -> None:
    def ids(out: Path) -> set[str]:
        lines = []
        for path in sorted((out / "signatures").glob("part-*.jsonl.gz")):
            lines += gzip.decompress(path.read_bytes()).decode("utf-8").splitlines()
        return {json.loads(line)["id"] for line in lines}

    day1_kept = {r["id"] for r in read_folder(days["out1"] / "clean")}
    day2_kept = {r["id"] for r in read_folder(days["out2"] / "clean")}
    assert ids(days["out1"]) == day1_kept
    assert ids(days["out2"]) == day1_kept | day2_kept
    # day 3 runs against day 2 only and still drops a copy of a day-1 story
    day3 = days["root"] / "in-day3"
    day3.mkdir()
    shutil.copy(SAMPLES / "two-articles.txt", day3 / "two-articles-third-time.txt")
    out3 = days["root"] / "out-day3"
    assert cli(out3, [day3 / "*.txt"], "--against", str(days["out2"])) == EXIT_OK
    assert read_folder(out3 / "clean") == []
    assert {r["dedup"]["duplicate_of"] for r in read_folder(out3 / "duplicates")} <= day1_kept


def test_against_must_be_a_comparable_storysift_output(days, tmp_path: Path, capsys) -> None:
    inputs = [days["in2"] / "*.txt"]
    assert cli(tmp_path / "a", inputs, "--against", str(tmp_path)) == EXIT_USAGE
    assert "no signatures/" in capsys.readouterr().err
    assert cli(tmp_path / "b", inputs, "--against", str(days["out1"]), "--num-perm", "64") == EXIT_USAGE
    assert "--num-perm" in capsys.readouterr().err
    assert cli(days["out1"], inputs, "--against", str(days["out1"]), "--overwrite") == EXIT_USAGE


def test_both_nights_load_with_the_corpus_builders_readers(days, tmp_path: Path) -> None:
    """What a nightly consumer does next: each day's folder loads as it is, with the dataset card
    (Hugging Face datasets) and with datatrove's JSONL reader, and holds exactly the written records."""
    datasets = pytest.importorskip("datasets")
    readers = pytest.importorskip("datatrove.pipeline.readers")
    for day in ("out1", "out2"):
        out = days[day]
        for sub in ("clean", "duplicates"):
            raw = {r["id"]: r for r in read_folder(out / sub)}
            ds = datasets.load_dataset(str(out), sub, split="train", cache_dir=str(tmp_path / day / sub))
            assert sorted(ds["id"]) == sorted(raw)
            assert all(row["text"] == raw[row["id"]]["text"] for row in ds)
            docs = list(readers.JsonlReader(str(out / sub), glob_pattern="part-*.jsonl.gz").run())
            assert sorted(d.id for d in docs) == sorted(raw)
            assert all(d.metadata["dedup"] == raw[d.id]["dedup"] for d in docs)
