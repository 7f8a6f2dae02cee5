"""Corpus-builder formats, end to end: the CLI writes each format, the builders' readers load it.

Hugging Face `datasets` and datatrove are installed for the tests and read the files as users
would. Dolma is not: no release installs beside storysift (dolma 1.2.1 pins numpy<2 and
s3fs==2023.6.0, 1.0.7 pins nltk==3.8.1 against our nltk>=3.9), so its reader's requirements
are checked instead, from dolma's source (dolma/core/data_types.py: a msgspec decoder of
InputSpecWithMetadata over every line; dolma/core/runtime.py: documents under a `documents`
path component, which its taggers replace with `attributes/<experiment>`).
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
from pathlib import Path
from typing import Any

import msgspec
import pytest

from pipeline.cli import run
from tests.conftest import SAMPLES

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")  # no network: the loaders must not try the Hub
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")

DATE = "2026-11-28"


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    """One copy of samples/ for every run here: same inputs, same story ids in every format."""
    work = tmp_path_factory.mktemp("samples") / "samples"
    shutil.copytree(SAMPLES, work)
    return work


def run_samples(work: Path, root: Path, *extra: str) -> Path:
    """Run the CLI on WORK (a copy of samples/) into ROOT/out/{date}; returns the output directory."""
    args = [f"--input={work}/*.txt", f"--input={work}/*.jsonl", f"--input={work}/*.gz"]
    # The formats are under test here, not the input checks: no --max-reject-fraction gate.
    common = [f"--output={root}/out/{{date}}", f"--date={DATE}", "--progress-every=0"]
    common.append("--max-reject-fraction=1")
    code = run([*args, *common, *extra])
    assert code == 0
    return root / "out" / DATE


def read_jsonl(folder: Path) -> list[dict]:
    records = []
    for path in sorted(folder.glob("part-*")):
        raw = path.read_bytes()
        if path.name.endswith(".gz"):
            raw = gzip.decompress(raw)
        records += [json.loads(line) for line in raw.decode("utf-8").splitlines() if line]
    return records


@pytest.fixture(scope="module")
def jsonl_out(work, tmp_path_factory) -> Path:
    # underscore spelling and an option for Beam, as a scheduler passes them
    return run_samples(work, tmp_path_factory.mktemp("jsonl"), "--shard_size=5", "--labels=team=corpus")


@pytest.fixture(scope="module")
def dolma_out(work, tmp_path_factory) -> Path:
    return run_samples(
        work, tmp_path_factory.mktemp("dolma"), "--format=dolma", "--num-shards=2", "--dolma-source=bbc-news"
    )


@pytest.fixture(scope="module")
def parquet_out(work, tmp_path_factory) -> Path:
    return run_samples(work, tmp_path_factory.mktemp("parquet"), "--format=parquet", "--compression=zstd")


# ---- JSONL (the contract) ---------------------------------------------------------------------


def test_jsonl_shard_size_derives_the_shard_count(jsonl_out: Path):
    clean = read_jsonl(jsonl_out / "clean")
    expected = -(-len(clean) // 5)
    names = sorted(p.name for p in (jsonl_out / "clean").iterdir())
    assert names == [f"part-{i:05d}-of-{expected:05d}.jsonl.gz" for i in range(expected)]
    report = json.loads((jsonl_out / "report.json").read_text(encoding="utf-8"))
    assert report["written"]["clean"] == {
        "files": expected,
        "records": len(clean),
        "bytes": sum(p.stat().st_size for p in (jsonl_out / "clean").iterdir()),
    }


def test_jsonl_loads_with_hugging_face_datasets(jsonl_out: Path, tmp_path: Path):
    """By the dataset card (README.md): `load_dataset(OUTPUT, folder)`, and the plain JSON loader
    given the card's features (without them it guesses the columns from the first file, and a
    shard of 5 stories without a single title is enough to make it fail)."""
    datasets = pytest.importorskip("datasets")
    for sub in ("clean", "duplicates", "rejected"):
        raw = read_jsonl(jsonl_out / sub)
        ds = datasets.load_dataset(str(jsonl_out), sub, split="train", cache_dir=str(tmp_path / sub))
        assert ds.num_rows == len(raw) > 0
        assert sorted(ds["id"]) == sorted(r["id"] for r in raw)
        row = next(r for r in ds if r["id"] == raw[0]["id"])
        assert row["source"] == raw[0]["source"] and row["text"] == raw[0]["text"]
        if sub != "rejected":
            assert row["metadata"] == raw[0]["metadata"] and row["dedup"] == raw[0]["dedup"]
        features = datasets.load_dataset_builder(
            str(jsonl_out), sub, cache_dir=str(tmp_path / "b")
        ).info.features
        files = sorted(str(p) for p in (jsonl_out / sub).glob("part-*"))
        plain = datasets.load_dataset(
            "json",
            data_files=files,
            features=features,
            split="train",
            cache_dir=str(tmp_path / f"{sub}-plain"),
        )
        assert sorted(plain["id"]) == sorted(ds["id"])
    assert datasets.load_dataset(
        str(jsonl_out), split="train", cache_dir=str(tmp_path / "d")
    ).num_rows == len(read_jsonl(jsonl_out / "clean"))  # clean is the default


def test_jsonl_loads_with_datatrove(jsonl_out: Path):
    readers = pytest.importorskip("datatrove.pipeline.readers")
    raw = {r["id"]: r for r in read_jsonl(jsonl_out / "clean")}
    docs = list(readers.JsonlReader(str(jsonl_out / "clean"), glob_pattern="part-*.jsonl.gz").run())
    assert sorted(d.id for d in docs) == sorted(raw)
    for doc in docs:
        assert doc.text == raw[doc.id]["text"]
        assert doc.metadata["source"] == raw[doc.id]["source"]  # our other fields land in metadata
        assert doc.metadata["dedup"]["cluster"] == raw[doc.id]["dedup"]["cluster"]


# ---- Dolma ------------------------------------------------------------------------------------


class DolmaInputSpec(msgspec.Struct):
    """dolma.core.data_types.InputSpecWithMetadata (dolma 1.2.1), field for field."""

    id: str
    text: str
    source: str = ""
    created: str = ""
    added: str = ""
    version: str | None = None
    metadata: dict[str, Any] | None = None


def test_dolma_documents_decode_as_dolma_reads_them(dolma_out: Path):
    decoder = msgspec.json.Decoder(DolmaInputSpec)
    files = sorted((dolma_out / "documents").rglob("part-*.jsonl.gz"))
    assert {f.parent.name for f in files} == {"clean", "duplicates", "rejected"}
    seen = 0
    for path in files:
        assert "documents" in path.relative_to(dolma_out).parts  # taggers write attributes/ beside it
        for line in gzip.decompress(path.read_bytes()).splitlines():
            doc = decoder.decode(line)
            assert doc.source == "bbc-news" and doc.added == f"{DATE}T00:00:00.000Z" and doc.created
            assert set(doc.metadata["source"]) == {"uri", "record", "start", "end"}
            seen += 1
    report = json.loads((dolma_out / "report.json").read_text(encoding="utf-8"))
    assert seen == sum(report["written"][sub]["records"] for sub in ("clean", "duplicates", "rejected"))


def test_the_contract_jsonl_is_not_dolma_input(jsonl_out: Path):
    """Why --format dolma exists: Dolma's decoder rejects our object-valued `source`."""
    # the first line of any shard: ids hash the input's absolute path, so which shards are empty
    # changes with the test's temporary folder
    shards = sorted((jsonl_out / "clean").iterdir())
    line = next(line for shard in shards for line in gzip.decompress(shard.read_bytes()).splitlines())
    with pytest.raises(msgspec.ValidationError, match="source"):
        msgspec.json.Decoder(DolmaInputSpec).decode(line)


def test_dolma_documents_load_with_datasets_and_datatrove(dolma_out: Path, tmp_path: Path):
    datasets = pytest.importorskip("datasets")
    readers = pytest.importorskip("datatrove.pipeline.readers")
    folder = dolma_out / "documents" / "clean"
    ds = datasets.load_dataset(str(dolma_out), "clean", split="train", cache_dir=str(tmp_path))
    docs = list(readers.JsonlReader(str(folder)).run())
    assert sorted(ds["id"]) == sorted(d.id for d in docs) and len(docs) > 0
    assert all(d.metadata["source"] == "bbc-news" for d in docs)


# ---- Parquet ----------------------------------------------------------------------------------


def test_parquet_has_the_explicit_schema_and_loads_everywhere(parquet_out: Path, jsonl_out: Path, tmp_path):
    import pyarrow.parquet as pq

    from transforms.write_corpus import rejected_schema, story_schema

    datasets = pytest.importorskip("datasets")
    readers = pytest.importorskip("datatrove.pipeline.readers")
    schemas = {"clean": story_schema(), "duplicates": story_schema(), "rejected": rejected_schema()}
    for sub, schema in schemas.items():
        files = sorted((parquet_out / sub).iterdir())
        assert [f.suffix for f in files] == [".parquet"] * 4
        for f in files:
            meta = pq.read_metadata(f)
            assert meta.schema.to_arrow_schema().remove_metadata() == schema
            assert meta.num_rows == 0 or meta.row_group(0).column(0).compression == "ZSTD"
    table = pq.read_table(parquet_out / "clean")
    # The same stories as the JSONL run (same input and options; only the format differs).
    jsonl = {r["id"]: r for r in read_jsonl(jsonl_out / "clean")}
    rows = {r["id"]: r for r in table.to_pylist()}
    assert set(rows) == set(jsonl)
    for rid, row in rows.items():
        assert json.loads(row["metadata"]) == jsonl[rid]["metadata"]
        assert {k: v for k, v in row.items() if k != "metadata"} == {
            k: v for k, v in jsonl[rid].items() if k != "metadata"
        }
    files = sorted(str(p) for p in (parquet_out / "clean").iterdir())
    ds = datasets.load_dataset("parquet", data_files=files, split="train", cache_dir=str(tmp_path))
    assert sorted(ds["id"]) == sorted(rows)
    by_card = datasets.load_dataset(
        str(parquet_out), "rejected", split="train", cache_dir=str(tmp_path / "c")
    )
    assert by_card.num_rows == pq.read_table(parquet_out / "rejected").num_rows
    docs = list(readers.ParquetReader(str(parquet_out / "clean")).run())
    assert sorted(d.id for d in docs) == sorted(rows)
    assert all(isinstance(d.metadata["source"], dict) for d in docs)
