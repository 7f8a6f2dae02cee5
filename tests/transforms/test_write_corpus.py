"""WriteCorpus: the record/shard rules, then real runs into tmp_path (names, contents, bytes)."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import apache_beam as beam
import pytest
import zstandard
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.testing.util import assert_that, equal_to
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import offline_test_pipeline
from transforms import counters, write_corpus
from transforms.records import ARTICLE, TEASER, Rejected, Story, canonical_json, story_id
from transforms.write_corpus import (
    STATS_FILE,
    CorpusConfig,
    WriteCorpus,
    add_fact,
    bin_index,
    dataset_card,
    dolma_document,
    empty_stats,
    encode_parquet,
    encode_run,
    encode_shard,
    finish_stats,
    line_weight,
    merge_runs,
    merge_stats,
    parse_shard_size,
    rejected_facts,
    rejected_to_json,
    shard_count,
    shard_name,
    shard_of,
    sort_key,
    stale_names,
    stale_shard_names,
    story_facts,
    story_to_json,
    to_line,
    unwritten_shards,
)

CONTRACT_KEYS = {"id", "text", "kind", "title", "kicker", "deck", "truncated", "source", "dedup"}


def make_story(uri: str, record: int, start: int, end: int, **fields) -> Story:
    values = dict(
        id=story_id(uri, record, start, end),
        uri=uri,
        record=record,
        start=start,
        end=end,
        text=f"Body of {uri}#{record}@{start}.\n\nSecond paragraph — café.",
        kind=ARTICLE,
        title=None,
        kicker=None,
        deck=None,
        truncated=False,
    )
    values.update(fields)
    return Story(**values)


# ---- pure functions ---------------------------------------------------------------------------


def test_story_to_json_has_the_contract_and_keeps_falsy_values():
    story = make_story(
        "dumps/page-00001.txt", 0, 0, 0, text="", metadata_json=canonical_json({"url": "u", "fetched": None})
    )
    obj = story_to_json(story)
    assert set(obj) == CONTRACT_KEYS | {"metadata"}
    assert obj["source"] == {"uri": "dumps/page-00001.txt", "record": 0, "start": 0, "end": 0}
    assert obj["dedup"] == {"cluster": None, "duplicate_of": None, "reason": None, "similarity": None}
    assert obj["metadata"] == {"url": "u", "fetched": None}
    line = to_line(obj)
    assert json.loads(line) == obj
    for fragment in ('"truncated":false', '"title":null', '"record":0', '"start":0', '"text":""'):
        assert fragment in line


def test_story_to_json_dedup_fields():
    story = make_story(
        "a.txt",
        0,
        5,
        90,
        kind=TEASER,
        kicker="SPORT",
        deck="Deck",
        truncated=True,
        cluster="c-1",
        duplicate_of="abc",
        dedup_reason="contained",
        similarity=0.0,
    )
    obj = story_to_json(story)
    assert (obj["kind"], obj["kicker"], obj["deck"], obj["truncated"]) == (TEASER, "SPORT", "Deck", True)
    assert obj["dedup"] == {"cluster": "c-1", "duplicate_of": "abc", "reason": "contained", "similarity": 0.0}


def test_story_to_json_never_writes_nan():
    assert story_to_json(make_story("a.txt", 0, 0, 1, similarity=float("nan")))["dedup"]["similarity"] is None


def test_rejected_to_json():
    r = Rejected(stage="read", reason="bad-json", uri="b.jsonl", record=0, start=None, end=None, text="{x")
    obj = rejected_to_json(r)
    assert obj == {
        "id": r.id,
        "kind": "rejected",
        "stage": "read",
        "reason": "bad-json",
        "detail": "",
        "text": "{x",
        "source": {"uri": "b.jsonl", "record": 0, "start": None, "end": None},
    }
    assert '"detail":""' in to_line(obj) and '"start":null' in to_line(obj)


def test_to_line_is_deterministic_and_unescaped():
    assert to_line({"b": "é\u2028", "a": [1, None]}) == '{"a":[1,null],"b":"é\u2028"}'


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


@given(st.dictionaries(st.text(max_size=8), _JSON_VALUES, max_size=6))
def test_to_line_is_what_json_dumps_writes(obj):
    # orjson where it can (lone surrogates and integers beyond 64 bits go through json): the
    # same bytes either way, floats aside (see to_line)
    assert to_line(obj) == json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def test_shard_of_is_stable():
    # Pinned values: a change here reshuffles every corpus ever written.
    assert [shard_of(x, 4) for x in "abcd"] == [0, 1, 3, 2]
    assert [shard_of(x, 1000) for x in "abcd"] == [108, 269, 603, 278]
    assert shard_of("3f2a", 1) == 0


@given(st.text(), st.integers(min_value=1, max_value=1000))
def test_shard_of_in_range(record_id, n):
    assert 0 <= shard_of(record_id, n) < n


def test_shard_of_spreads_ids():
    counts = [0] * 4
    for i in range(4000):
        counts[shard_of(story_id("u", i, 0, 1), 4)] += 1
    assert min(counts) > 900


def test_shard_of_rejects_zero_shards():
    with pytest.raises(ValueError):
        shard_of("a", 0)


def test_encode_shard_gzip_is_reproducible():
    lines = [to_line({"id": str(i), "text": "café"}) for i in range(100)]
    first, second = encode_shard(lines, "gzip"), encode_shard(lines, "gzip")
    assert first == second
    assert first[4:8] == b"\x00\x00\x00\x00"  # mtime 0
    assert first[3] & 0x08 == 0  # no file name stored
    assert gzip.decompress(first).decode() == "".join(line + "\n" for line in lines)


def test_encode_shard_none_and_zstd():
    lines = ['{"a": 1}', '{"b": "é"}']
    assert encode_shard(lines, "none") == '{"a": 1}\n{"b": "é"}\n'.encode()
    assert zstandard.ZstdDecompressor().decompress(encode_shard(lines, "zstd")) == encode_shard(lines, "none")
    assert encode_shard([], "none") == b""
    assert gzip.decompress(encode_shard([], "gzip")) == b""
    with pytest.raises(ValueError):
        encode_shard(lines, "lz4")


def test_encode_shard_compresses_at_the_level_asked():
    # news-like lines: the levels differ in bytes, and gzip records its level class in XFL
    lines = [
        to_line({"id": str(i), "text": f"story {i % 7} of the day, said the minister {i}"})
        for i in range(3000)
    ]
    fast, default, best = (
        encode_shard(lines, "gzip", 1),
        encode_shard(lines, "gzip"),
        encode_shard(lines, "gzip", 9),
    )
    assert default == fast  # DEFAULT_LEVELS: gzip 1
    assert fast[8] == 4 and best[8] == 2  # XFL: fastest / maximum compression
    assert len(best) < len(fast)
    assert gzip.decompress(best) == gzip.decompress(fast) == encode_shard(lines, "none")
    level1, level19 = encode_shard(lines, "zstd", 1), encode_shard(lines, "zstd", 19)
    assert level1 != level19 and encode_shard(lines, "zstd") == encode_shard(lines, "zstd", 3)
    assert zstandard.ZstdDecompressor().decompress(level19) == encode_shard(lines, "none")


@pytest.mark.parametrize(("compression", "level"), [("gzip", 0), ("gzip", 10), ("zstd", 23), ("none", 1)])
def test_corpus_config_refuses_a_level_its_codec_lacks(compression, level):
    with pytest.raises(ValueError, match="level"):
        CorpusConfig("out", compression=compression, compression_level=level)


def test_encode_shard_escapes_lone_surrogates():
    line = to_line({"text": "x\udc80y"})
    data = encode_shard([line], "none")
    assert json.loads(data.decode("utf-8")) == {"text": "x\udc80y"}


ODD_TEXTS = st.text() | st.sampled_from(["a\tb\nc", "line\u2028sep", "lone \udcff surrogate", "\x85", ""])


@given(
    st.lists(
        st.tuples(ODD_TEXTS, st.integers(-1, 3), st.integers(-1, 3), st.sampled_from(["a", "b"]), ODD_TEXTS),
        max_size=30,
    ),
    st.lists(st.integers(0, 4), max_size=30),
    st.randoms(),
)
def test_merged_runs_are_the_lines_sorted_at_once(rows, run_of, rng):
    """However a shard's lines are cut into runs, and in whichever order the runs come, the
    merged lines are the same, in shard order, and make the bytes of the shard."""
    lines = [(uri, record, start, id_, to_line({"text": text})) for uri, record, start, id_, text in rows]
    runs: dict[int, list] = {}
    for i, line in enumerate(lines):
        runs.setdefault(run_of[i] if i < len(run_of) else 0, []).append(line)
    encoded = [encode_run(run) for run in runs.values()]
    merged = merge_runs(encoded)
    rng.shuffle(encoded)
    assert merge_runs(encoded) == merged
    assert merge_runs([encode_run(lines)]) == merged
    assert len(merged) == len(lines)
    if not any("\udcff" in line[-1] for line in lines):  # else ordered by its escape (encode_run)
        assert encode_shard(merged, "none") == encode_shard([line[-1] for line in sorted(lines)], "none")
    assert sorted(encode_shard(merged, "none").split(b"\n")) == sorted(
        encode_shard([line[-1] for line in lines], "none").split(b"\n")
    )


def test_runs_order_equal_keys_by_the_line_bytes_the_shard_gets():
    key = ("dumps/a.txt", 0, 0, "id")
    lines = [(*key, to_line({"text": "lone \udcff"})), (*key, to_line({"text": "lone a"}))]
    merged = merge_runs([encode_run(lines[:1]), encode_run(lines[1:])])
    assert merged == ['{"text":"lone \\udcff"}', '{"text":"lone a"}']  # "\\" sorts before "a"
    assert merge_runs([encode_run(lines[1:]), encode_run(lines[:1])]) == merged


def test_runs_keep_a_file_name_that_is_not_utf8():
    # os.fsdecode gives an undecodable byte as a lone surrogate: orjson refuses it, json escapes it
    lines = [("dumps/caf\udce9.txt", 0, 5, "b", to_line({"text": "b"}))]
    lines.append(("dumps/café.txt", 0, 1, "a", to_line({"text": "a"})))
    merged = merge_runs([encode_run(lines[:1]), encode_run(lines[1:])])
    assert merged == ['{"text":"a"}', '{"text":"b"}']  # "é" (U+00E9) sorts before U+DCE9


def test_sort_key_is_total_with_missing_offsets():
    r = Rejected(stage="read", reason="no-match", uri="x/*", record=None, start=None, end=None, text="")
    s = make_story("x/a.txt", 0, 10, 20)
    assert sort_key(r) == ("x/*", -1, -1, r.id)
    assert sorted([sort_key(s), sort_key(r)]) == [sort_key(r), sort_key(s)]


def test_unwritten_shards_are_the_indices_without_a_file():
    written = [shard_name(0, 3, "gzip"), shard_name(2, 3, "gzip"), shard_name(1, 4, "gzip")]
    assert unwritten_shards(written, 3, "gzip") == [1]  # part-00001-of-00004 is another set's
    assert unwritten_shards([], 2, "none", "parquet") == [0, 1]


def test_shard_names_and_stale_names():
    assert shard_name(1, 4, "gzip") == "part-00001-of-00004.jsonl.gz"
    assert shard_name(0, 1, "none") == "part-00000-of-00001.jsonl"
    existing = [
        "part-00000-of-00002.jsonl.gz",
        "part-00001-of-00002.jsonl.gz",
        "part-00000-of-00002.jsonl",  # other compression
        "part-00007-of-00008.jsonl.gz",  # other shard count
        ".part-00001-of-00002.jsonl.gz.0123abcd.tmp",  # a failed attempt's temp file
        "README.md",
        "part-final.jsonl.gz",
    ]
    assert stale_shard_names(existing, 2, "gzip") == [
        ".part-00001-of-00002.jsonl.gz.0123abcd.tmp",
        "part-00000-of-00002.jsonl",
        "part-00007-of-00008.jsonl.gz",
    ]


@pytest.mark.parametrize("kwargs", [{"num_shards": 0}, {"compression": "lz4"}])
def test_config_validates(kwargs):
    with pytest.raises(ValueError):
        CorpusConfig(output_dir="out", **kwargs)


# ---- the Beam stage ---------------------------------------------------------------------------

CLEAN_STORIES = [
    make_story("dumps/page-00001.txt", 0, 39, 1858, title="Ad sales boost Time Warner profit", cluster="c-1"),
    make_story("dumps/page-00001.txt", 0, 1860, 2200, kind=TEASER, kicker="SPORT", truncated=True),
    make_story("dumps/batch-01.jsonl", 3, 0, 500, metadata_json=canonical_json({"url": "http://x/3"})),
    make_story("dumps/page-00002.txt", 0, 0, 100, text="", title="", cluster="c-2"),
]
DUPLICATE_STORIES = [
    make_story(
        "dumps/page-00009.txt",
        0,
        12,
        1800,
        cluster="c-1",
        duplicate_of=CLEAN_STORIES[0].id,
        dedup_reason="near",
        similarity=0.91,
    ),
]
REJECTED_RECORDS = [
    Rejected(
        stage="read", reason="bad-json", uri="dumps/batch-01.jsonl", record=2, start=None, end=None, text="{"
    ),
    Rejected(
        stage="split",
        reason="boilerplate",
        uri="dumps/page-00001.txt",
        record=0,
        start=0,
        end=37,
        text="Share this page",
        kind="boilerplate",
    ),
]


def _run(output_dir: Path, compression: str = "gzip", num_shards: int = 4, clean=None):
    config = CorpusConfig(output_dir=str(output_dir), num_shards=num_shards, compression=compression)
    p = offline_test_pipeline()
    clean_pc = p | "Clean" >> beam.Create(CLEAN_STORIES if clean is None else clean)
    dup_pc = p | "Duplicates" >> beam.Create(DUPLICATE_STORIES)
    rej_pc = p | "Rejected" >> beam.Create(REJECTED_RECORDS)
    _ = (clean_pc, dup_pc, rej_pc) | WriteCorpus(config)
    result = p.run()
    result.wait_until_finish()
    return result


def _read_dir(folder: Path) -> list[dict]:
    records = []
    for f in sorted(folder.iterdir()):
        data = gzip.decompress(f.read_bytes()) if f.name.endswith(".gz") else f.read_bytes()
        records += [json.loads(line) for line in data.decode("utf-8").split("\n") if line]
    return records


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(f.relative_to(root)): f.read_bytes() for f in sorted(root.rglob("*")) if f.is_file()}


def test_write_corpus_files_names_and_contents(tmp_path):
    out = tmp_path / "out"
    result = _run(out)
    expected_names = [f"part-{i:05d}-of-00004.jsonl.gz" for i in range(4)]
    for subdir in ("clean", "duplicates", "rejected"):
        assert sorted(f.name for f in (out / subdir).iterdir()) == expected_names
    assert sorted(f.name for f in out.iterdir()) == [
        "_storysift_stats.json",
        "clean",
        "duplicates",
        "rejected",
    ]

    clean = _read_dir(out / "clean")
    assert sorted(r["id"] for r in clean) == sorted(s.id for s in CLEAN_STORIES)
    assert {r["id"]: r for r in clean} == {s.id: json.loads(to_line(story_to_json(s))) for s in CLEAN_STORIES}
    for r in clean:
        assert CONTRACT_KEYS <= set(r)
    empty = next(r for r in clean if r["source"]["uri"] == "dumps/page-00002.txt")
    assert (empty["text"], empty["title"], empty["truncated"], empty["source"]["start"]) == ("", "", False, 0)

    (dup,) = _read_dir(out / "duplicates")
    assert dup["dedup"] == {
        "cluster": "c-1",
        "duplicate_of": CLEAN_STORIES[0].id,
        "reason": "near",
        "similarity": 0.91,
    }
    rejected = _read_dir(out / "rejected")
    assert sorted((r["kind"], r["reason"]) for r in rejected) == [
        ("boilerplate", "boilerplate"),
        ("rejected", "bad-json"),
    ]

    # Each record sits in the shard of its id, and lines inside a shard are in (uri, record, start, id) order.
    for i in range(4):
        lines = _read_dir_file(out / "clean" / expected_names[i])
        assert all(shard_of(r["id"], 4) == i for r in lines)
        keys = [(r["source"]["uri"], r["source"]["record"], r["source"]["start"], r["id"]) for r in lines]
        assert keys == sorted(keys)

    totals = {}
    for c in result.metrics().query(MetricsFilter().with_namespace(counters.NAMESPACE))["counters"]:
        totals[c.key.metric.name] = totals.get(c.key.metric.name, 0) + c.committed
    assert totals == {counters.WRITTEN_CLEAN: 4, counters.WRITTEN_DUPLICATES: 1, counters.WRITTEN_REJECTED: 2}


def _read_dir_file(f: Path) -> list[dict]:
    return [json.loads(line) for line in gzip.decompress(f.read_bytes()).decode().split("\n") if line]


def test_write_corpus_reports_every_shard(tmp_path):
    config = CorpusConfig(output_dir=str(tmp_path), num_shards=3)
    p = offline_test_pipeline()
    stories = p | "Clean" >> beam.Create(CLEAN_STORIES)
    nothing = p | "Nothing" >> beam.Create([]).with_output_types(Story)
    no_rejects = p | "NoRejects" >> beam.Create([]).with_output_types(Rejected)
    written = {"clean": stories, "duplicates": nothing, "rejected": no_rejects} | WriteCorpus(config)
    clean_counts = [0, 0, 0]
    for s in CLEAN_STORIES:
        clean_counts[shard_of(s.id, 3)] += 1
    expected = [("clean", f"part-{i:05d}-of-00003.jsonl.gz", clean_counts[i]) for i in range(3)]
    expected += [
        (sub, f"part-{i:05d}-of-00003.jsonl.gz", 0) for sub in ("duplicates", "rejected") for i in range(3)
    ]
    assert_that(written | beam.Map(lambda w: (w[0], Path(w[1]).name, w[2])), equal_to(expected))
    p.run().wait_until_finish()
    assert _read_dir(tmp_path / "rejected") == []
    assert (tmp_path / "rejected" / "part-00002-of-00003.jsonl.gz").stat().st_size > 0  # a valid empty gzip


def test_write_corpus_is_byte_identical_across_runs(tmp_path):
    _run(tmp_path / "a")
    _run(tmp_path / "b", clean=list(reversed(CLEAN_STORIES)))  # input order must not matter
    first = _snapshot(tmp_path / "a")
    assert first == _snapshot(tmp_path / "b")
    _run(tmp_path / "a")  # rerun over existing output: same bytes, nothing left beside them
    assert _snapshot(tmp_path / "a") == first
    assert len(first) == 13  # 12 shards and the stats file


def test_write_corpus_is_the_same_with_a_run_per_line_and_removes_every_run(tmp_path, monkeypatch):
    _run(tmp_path / "a")
    # an earlier, crashed run's leftovers: removed with this run's own runs
    stale = tmp_path / "b" / write_corpus.RUNS_FOLDER / "clean" / "00000-0123abcd.run"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"")
    monkeypatch.setattr(write_corpus, "RUN_CHARS", 1)  # every line its own run
    _run(tmp_path / "b")
    assert _snapshot(tmp_path / "b") == _snapshot(tmp_path / "a")
    assert not (tmp_path / "b" / write_corpus.RUNS_FOLDER).exists()


def test_write_corpus_rerun_with_other_shards_removes_stale_ones(tmp_path):
    _run(tmp_path, num_shards=4)
    _run(tmp_path, num_shards=2, compression="none")
    for subdir in ("clean", "duplicates", "rejected"):
        names = sorted(f.name for f in (tmp_path / subdir).iterdir())
        assert names == ["part-00000-of-00002.jsonl", "part-00001-of-00002.jsonl"]
    assert sorted(r["id"] for r in _read_dir(tmp_path / "clean")) == sorted(s.id for s in CLEAN_STORIES)


def test_write_corpus_zstd(tmp_path):
    _run(tmp_path, compression="zstd", num_shards=1)
    data = (tmp_path / "clean" / "part-00000-of-00001.jsonl.zst").read_bytes()
    lines = zstandard.ZstdDecompressor().decompress(data).decode().split("\n")
    assert [json.loads(line)["id"] for line in lines if line] == [
        s.id for s in sorted(CLEAN_STORIES, key=sort_key)
    ]


# ---- shard size, formats, stats: pure functions -----------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("50000", (50000, "records")),
        ("7 records", (7, "records")),
        ("1record", (1, "records")),
        ("1000B", (1000, "bytes")),
        ("500MB", (500_000_000, "bytes")),
        ("64KiB", (65536, "bytes")),
        ("1gib", (1024**3, "bytes")),
    ],
)
def test_parse_shard_size(text, expected):
    assert parse_shard_size(text) == expected


@pytest.mark.parametrize("text", ["", "0", "-5", "1.5MB", "12 parsecs", "MB"])
def test_parse_shard_size_rejects(text):
    with pytest.raises(ValueError):
        parse_shard_size(text)


def test_shard_count_and_line_weight():
    assert [shard_count(t, 10) for t in (0, 1, 10, 11, 95)] == [1, 1, 1, 2, 10]
    assert line_weight('{"a": "é"}', "records") == 1
    assert line_weight('{"a": "é"}', "bytes") == len('{"a": "é"}'.encode()) + 1


def test_stale_names_keeps_wanted_and_foreign_files():
    existing = ["part-00000-of-00001.parquet", "part-00000-of-00002.jsonl.gz", "notes.txt", "part-x.jsonl"]
    assert stale_names(existing, ["part-00000-of-00002.jsonl.gz"]) == ["part-00000-of-00001.parquet"]


def test_dolma_document_keeps_the_contract_in_metadata():
    story = CLEAN_STORIES[2]  # from a JSONL dump, with metadata
    record = story_to_json(story)
    doc = dolma_document(record, added="2026-11-28T00:00:00.000Z", source="news")
    assert doc["id"] == story.id and doc["text"] == story.text
    assert doc["source"] == "news" and doc["added"] == doc["created"] == "2026-11-28T00:00:00.000Z"
    assert doc["metadata"] == {k: v for k, v in record.items() if k not in ("id", "text")}
    assert doc["metadata"]["source"] == {"uri": story.uri, "record": 3, "start": 0, "end": 500}
    with_fetched = {**record, "metadata": {"fetched": "2005-03-01T09:00:00Z"}}
    assert dolma_document(with_fetched)["created"] == "2005-03-01T09:00:00Z"
    assert dolma_document(rejected_to_json(REJECTED_RECORDS[0]))["metadata"]["reason"] == "bad-json"


def test_encode_parquet_schema_and_determinism():
    import pyarrow.parquet as pq

    lines = [to_line(story_to_json(s)) for s in sorted(CLEAN_STORIES, key=sort_key)]
    data = encode_parquet(lines, "clean", "zstd")
    assert data == encode_parquet(lines, "clean", "zstd")
    table = pq.read_table(io.BytesIO(data))
    assert table.schema.field("metadata").type == "string"
    assert table.schema.field("source").type.num_fields == 4
    rows = table.to_pylist()
    assert [r["id"] for r in rows] == [json.loads(line)["id"] for line in lines]
    assert json.loads(rows[[r["source"]["record"] for r in rows].index(3)]["metadata"]) == {
        "url": "http://x/3"
    }
    rejected = pq.read_table(
        io.BytesIO(encode_parquet([to_line(rejected_to_json(REJECTED_RECORDS[0]))], "rejected", "none"))
    )
    assert rejected.to_pylist()[0]["source"] == {
        "uri": "dumps/batch-01.jsonl",
        "record": 2,
        "start": None,
        "end": None,
    }
    empty = pq.ParquetFile(io.BytesIO(encode_parquet([], "duplicates", "gzip")))
    # no 0-row group: Hugging Face datasets cannot read one
    assert empty.metadata.num_rows == 0 and empty.metadata.num_row_groups == 0


def test_stats_from_facts():
    facts = [f for s in CLEAN_STORIES for f in story_facts(s, "clean")]
    facts += [f for s in DUPLICATE_STORIES for f in story_facts(s, "duplicates")]
    facts += [f for r in REJECTED_RECORDS for f in rejected_facts(r)]
    facts += [("cluster", 2), ("shard", "clean", "part-00000-of-00001.jsonl.gz", 4, 321)]
    half = len(facts) // 2
    acc = merge_stats([add_fact_all(facts[:half]), add_fact_all(facts[half:])])
    stats = finish_stats(acc)
    assert stats == finish_stats(add_fact_all(facts))  # merging is the same as one pass
    # a bundle's facts folded where they are made: a "partial" fact adds them all at once
    partials = [("partial", add_fact_all(facts[k::3])) for k in range(3)]
    assert finish_stats(add_fact_all([facts[0], *partials[::-1]])) == finish_stats(
        add_fact_all([facts[0], *facts])
    )
    assert stats["folders"]["clean"] == {
        "files": 1,
        "records": 4,
        "bytes": 321,
        "shards": [{"name": "part-00000-of-00001.jsonl.gz", "records": 4, "bytes": 321}],
    }
    assert stats["stories"]["clean"]["records"] == 4 and stats["stories"]["clean"]["teaser"] == 1
    assert stats["cluster_sizes"] == {"1": 3, "2": 1}  # 4 kept stories, one of them with a copy
    assert stats["duplicates_by_reason"] == {"near": 1}
    assert sum(stats["similarity_histogram"]["near"]) == 1
    assert (
        stats["similarity_histogram"]["near"][bin_index(tuple(stats["similarity_histogram"]["edges"]), 0.91)]
        == 1
    )
    assert sum(stats["story_chars_histogram"]["clean"]) == 4
    reasons = {(r["stage"], r["reason"]): r for r in stats["rejected"]}
    assert reasons[("read", "bad-json")]["example"] == {
        "uri": "dumps/batch-01.jsonl",
        "record": 2,
        "start": -1,
    }
    assert reasons[("split", "boilerplate")]["chars"] == 37


def add_fact_all(facts):
    acc = empty_stats()
    for fact in facts:
        add_fact(acc, fact)
    return acc


def test_bin_index():
    edges = (0, 100, 250)
    assert [bin_index(edges, v) for v in (-1, 0, 99, 100, 249, 250, 10**6)] == [0, 0, 0, 1, 1, 2, 2]


# ---- shard size, formats, stats: the Beam stage ------------------------------------------------


def _run_config(config: CorpusConfig, clean=None):
    p = offline_test_pipeline()
    clean_pc = p | "Clean" >> beam.Create(CLEAN_STORIES if clean is None else clean)
    dup_pc = p | "Duplicates" >> beam.Create(DUPLICATE_STORIES)
    rej_pc = p | "Rejected" >> beam.Create(REJECTED_RECORDS)
    _ = (clean_pc, dup_pc, rej_pc) | WriteCorpus(config)
    p.run().wait_until_finish()


def test_shard_size_in_records_derives_the_count_per_folder(tmp_path):
    _run_config(CorpusConfig(output_dir=str(tmp_path), shard_size=3, compression="none", write_stats=False))
    assert sorted(f.name for f in (tmp_path / "clean").iterdir()) == [
        "part-00000-of-00002.jsonl",
        "part-00001-of-00002.jsonl",
    ]  # 4 stories, 3 per shard
    assert [f.name for f in (tmp_path / "duplicates").iterdir()] == ["part-00000-of-00001.jsonl"]
    assert sorted(r["id"] for r in _read_dir(tmp_path / "clean")) == sorted(s.id for s in CLEAN_STORIES)


def test_shard_size_in_bytes(tmp_path):
    lines = [to_line(story_to_json(s)) for s in CLEAN_STORIES]
    total = sum(line_weight(line, "bytes") for line in lines)
    _run_config(CorpusConfig(output_dir=str(tmp_path), shard_size=total // 2, shard_unit="bytes"))
    names = sorted(f.name for f in (tmp_path / "clean").iterdir())
    expected = -(-total // (total // 2))  # ceil(total / (total // 2)): 2 or 3 by the parity of total
    assert names == [f"part-{i:05d}-of-{expected:05d}.jsonl.gz" for i in range(expected)]
    stats = json.loads((tmp_path / STATS_FILE).read_text())
    assert stats["folders"]["clean"]["files"] == expected and stats["folders"]["clean"]["records"] == 4


def test_dolma_format_layout_and_records(tmp_path):
    config = CorpusConfig(
        output_dir=str(tmp_path), num_shards=2, format="dolma", added="2026-11-28T00:00:00.000Z"
    )
    _run_config(config)
    assert sorted(f.name for f in tmp_path.iterdir()) == ["_storysift_stats.json", "documents"]
    docs = _read_dir(tmp_path / "documents" / "clean")
    assert sorted(d["id"] for d in docs) == sorted(s.id for s in CLEAN_STORIES)
    for d in docs:
        assert set(d) == {"id", "text", "source", "added", "created", "metadata"}
        assert d["source"] == "storysift" and d["added"] == "2026-11-28T00:00:00.000Z"
        assert set(d["metadata"]["source"]) == {"uri", "record", "start", "end"}
    (dup,) = _read_dir(tmp_path / "documents" / "duplicates")
    assert dup["metadata"]["dedup"]["duplicate_of"] == CLEAN_STORIES[0].id
    assert len(_read_dir(tmp_path / "documents" / "rejected")) == 2


def test_parquet_format_and_switching_formats_leaves_one_set(tmp_path):
    """(Parquet bytes are the same run after run: see test_encode_parquet_schema_and_determinism.)"""
    import pyarrow.parquet as pq

    _run_config(CorpusConfig(output_dir=str(tmp_path), num_shards=2, format="dolma", write_stats=False))
    _run_config(CorpusConfig(output_dir=str(tmp_path), num_shards=2, format="parquet", compression="zstd"))
    assert sorted(f.name for f in (tmp_path / "clean").iterdir()) == [
        "part-00000-of-00002.parquet",
        "part-00001-of-00002.parquet",
    ]
    assert [list(d.iterdir()) for d in sorted((tmp_path / "documents").iterdir())] == [[], [], []]
    table = pq.read_table(tmp_path / "clean")
    assert sorted(table.column("id").to_pylist()) == sorted(s.id for s in CLEAN_STORIES)


def test_stats_file_of_a_run(tmp_path):
    _run(tmp_path)
    stats = json.loads((tmp_path / STATS_FILE).read_text())
    assert {sub: stats["folders"][sub]["records"] for sub in ("clean", "duplicates", "rejected")} == {
        "clean": 4,
        "duplicates": 1,
        "rejected": 2,
    }
    assert stats["folders"]["clean"]["bytes"] == sum(f.stat().st_size for f in (tmp_path / "clean").iterdir())
    assert stats["cluster_sizes"] == {"1": 3, "2": 1}
    (sample,) = stats["sample_clusters"]
    assert sample["cluster"] == "c-1" and sample["size"] == 2
    assert [m["id"] for m in sample["members"]] == [CLEAN_STORIES[0].id, DUPLICATE_STORIES[0].id]


@pytest.mark.parametrize("fmt", ["jsonl", "dolma", "parquet"])
def test_dataset_card_names_every_folder_and_field(fmt):
    card = dataset_card(CorpusConfig(output_dir="out", format=fmt))
    assert card.startswith("---\n")
    header = json.loads(card.split("---\n")[1])
    configs = {c["config_name"]: c for c in header["configs"]}
    assert list(configs) == ["clean", "duplicates", "rejected"] and configs["clean"]["default"] is True
    prefix = "documents/" if fmt == "dolma" else ""
    assert configs["rejected"]["data_files"] == [{"split": "train", "path": f"{prefix}rejected/part-*"}]
    features = {i["config_name"]: [f["name"] for f in i["features"]] for i in header["dataset_info"]}
    story = story_to_json(CLEAN_STORIES[2])
    if fmt == "dolma":
        assert set(features["clean"]) == set(dolma_document(story))
    else:
        assert set(features["clean"]) == set(story) == set(features["duplicates"])
        assert set(features["rejected"]) == set(rejected_to_json(REJECTED_RECORDS[0]))
    if fmt == "parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(io.BytesIO(encode_parquet([to_line(story)], "clean", "none")))
        assert features["clean"] == table.schema.names
