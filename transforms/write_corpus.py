"""WriteCorpus: write kept stories, duplicates and rejected records as sharded files.

Layout (`--format jsonl`, the output contract): `DIR/clean/part-00000-of-00004.jsonl.gz`,
`DIR/duplicates/...`, `DIR/rejected/...`. `--format dolma` writes Dolma's documents layout
(`DIR/documents/clean/...`, records with Dolma's string `source`, `added`, `created` and our
contract record inside `metadata`); `--format parquet` writes `.parquet` shards with an explicit
pyarrow schema. A record's shard is a stable hash of its id and the records of a shard are sorted
by a total order, so a given shard count gives byte-identical files on any runner, run after run.
The shard count is fixed (`num_shards`) or derived from the data (`shard_size` records or bytes
per shard, divided into a total counted in the pipeline): the same data always gives the same
count. Every shard file is written, even an empty one, so readers can check that the set is
complete. A bundle's lines reach their shard's writer as sorted run files under
`DIR/.storysift-runs/` (deleted once every shard is written), so the shuffle before writing
carries file names, not texts. Beside the shards, `DIR/_storysift_stats.json` summarises what
was written (counts, sizes, histograms, a sample of duplicate clusters) for the run report.

The rules are plain functions at the top of the module; the Beam stage is at the bottom.
"""

from __future__ import annotations

import gzip
import hashlib
import heapq
import io
import json
import math
import re
import uuid
from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import orjson

from transforms.records import Rejected, Story

CLEAN = "clean"
DUPLICATES = "duplicates"
REJECTED = "rejected"
SUBDIRS = (CLEAN, DUPLICATES, REJECTED)
# WriteCorpus's optional input: the cluster of each duplicate, from Deduplicate (DedupResult)
DUPLICATE_CLUSTERS = "duplicate_clusters"

JSONL = "jsonl"
DOLMA = "dolma"
PARQUET = "parquet"
FORMATS = (JSONL, DOLMA, PARQUET)
# Dolma's tools find a dataset's documents under a `documents` folder (its taggers write
# `attributes/<experiment>/` beside it by replacing that path component).
DOLMA_DOCUMENTS = "documents"
DOLMA_SOURCE = "storysift"

RECORDS = "records"
BYTES = "bytes"

STATS_FILE = "_storysift_stats.json"  # leading "_": dataset loaders skip it in a folder glob

COMPRESSION_SUFFIXES = {"gzip": ".jsonl.gz", "none": ".jsonl", "zstd": ".jsonl.zst"}
# The level each codec compresses at unless told (--compression-level), and the levels it takes.
# gzip 1: shards are written once and read once by a loader; on news JSONL, levels 3 and 6 cost
# 1.4x and 3.1x the CPU of level 1 for 7% and 13% fewer bytes (zstd 3 is smaller than any
# gzip level, and faster: the choice when size matters and the reader takes .zst).
DEFAULT_LEVELS = {"gzip": 1, "zstd": 3}
LEVEL_RANGES = {"gzip": (1, 9), "zstd": (1, 22)}
PARQUET_CODECS = {"gzip": "gzip", "none": "none", "zstd": "zstd"}
SHARD_NAME_RE = re.compile(r"part-\d{5,}-of-\d{5,}\.(jsonl(\.gz|\.zst)?|parquet)")
TEMP_NAME_RE = re.compile(r"\.part-\d{5,}-of-\d{5,}\.(jsonl(\.gz|\.zst)?|parquet)\.[0-9a-f]+\.tmp")

# Keys of the dump's own metadata that can say when a document was created (Dolma's `created`).
CREATED_KEYS = ("created", "published", "date", "fetched")

# Histogram bin edges for the run report: bin i holds values in [edges[i], edges[i + 1]).
STORY_CHAR_EDGES = (0, 100, 250, 500, 1000, 2000, 4000, 8000, 16000)
SIMILARITY_EDGES = tuple(round(i * 0.05, 2) for i in range(20))
SAMPLE_CLUSTERS = 8  # duplicate clusters shown in the report
SAMPLE_MEMBERS = 4  # stories shown per sampled cluster (the kept one first)
SAMPLE_TEXT_CHARS = 4000

# (uri, record, start, id, line): the total order of lines inside a shard.
SortedLine = tuple[str, int, int, str, str]

_SIZE_RE = re.compile(r"^\s*(\d+)\s*([a-z]*)\s*$", re.IGNORECASE)
_SIZE_UNITS = {
    "": (1, RECORDS),
    "record": (1, RECORDS),
    "records": (1, RECORDS),
    "b": (1, BYTES),
    "kb": (1000, BYTES),
    "mb": (1000**2, BYTES),
    "gb": (1000**3, BYTES),
    "kib": (1024, BYTES),
    "mib": (1024**2, BYTES),
    "gib": (1024**3, BYTES),
}


@dataclass(frozen=True)
class CorpusConfig:
    """Where and how WriteCorpus writes."""

    output_dir: str
    num_shards: int = 4
    compression: str = "gzip"  # "gzip", "none" or "zstd"
    compression_level: int | None = None  # None: DEFAULT_LEVELS (Parquet: pyarrow's default)
    # Delete our own shard files of other shard counts, compressions or formats (and temp files
    # left by failed attempts) from the output folders, so a rerun leaves exactly one complete set.
    remove_stale_shards: bool = True
    format: str = JSONL  # "jsonl" (the contract), "dolma" or "parquet"
    # When set, the shard count of each folder is ceil(total / shard_size), the total counted in
    # `shard_unit` ("records", or "bytes" of uncompressed JSON lines); num_shards is then unused.
    shard_size: int | None = None
    shard_unit: str = RECORDS
    added: str = ""  # Dolma's `added` (ISO 8601, from --date); "" when the run has no date
    dolma_source: str = DOLMA_SOURCE  # Dolma's `source`: the name of the data source
    write_stats: bool = True  # write STATS_FILE for the run report

    def __post_init__(self):
        if self.num_shards < 1:
            raise ValueError(f"num_shards must be >= 1, not {self.num_shards}")
        if self.compression not in COMPRESSION_SUFFIXES:
            choices = ", ".join(sorted(COMPRESSION_SUFFIXES))
            raise ValueError(f"compression must be one of {choices}, not {self.compression!r}")
        check_level(self.compression, self.compression_level)
        if self.format not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {self.format!r}")
        if self.shard_size is not None and self.shard_size < 1:
            raise ValueError(f"shard_size must be >= 1, not {self.shard_size}")
        if self.shard_unit not in (RECORDS, BYTES):
            raise ValueError(f"shard_unit must be {RECORDS!r} or {BYTES!r}, not {self.shard_unit!r}")


def parse_shard_size(text: str) -> tuple[int, str]:
    """`50000` or `50000records` -> (50000, "records"); `256MB`, `1GiB`, `900kb` -> (bytes, "bytes")."""
    m = _SIZE_RE.match(str(text))
    unit = m and _SIZE_UNITS.get(m.group(2).lower())
    if not m or unit is None:
        raise ValueError(
            f"shard size {text!r} is not a number of records (50000) or bytes (500MB, 1GiB, 64KiB, 1000B)"
        )
    value = int(m.group(1)) * unit[0]
    if value < 1:
        raise ValueError(f"shard size must be at least 1, got {text!r}")
    return value, unit[1]


def shard_count(total: int, shard_size: int) -> int:
    """Shards needed for `total` records/bytes at `shard_size` each: at least one."""
    return max(1, -(-int(total) // int(shard_size)))


def line_weight(line: str, unit: str) -> int:
    """What one line adds to a shard's size: 1 record, or its UTF-8 bytes with the newline."""
    return 1 if unit == RECORDS else len(line.encode("utf-8", "backslashreplace")) + 1


def folder_parts(subdir: str, fmt: str) -> tuple[str, ...]:
    """Path parts, under the output directory, of one output folder in a format's layout."""
    return (DOLMA_DOCUMENTS, subdir) if fmt == DOLMA else (subdir,)


def story_to_json(story: Story) -> dict:
    """The output-contract record of a story (bench/README.md), plus metadata and dedup details."""
    similarity = story.similarity
    if similarity is not None and not math.isfinite(similarity):
        similarity = None  # NaN/inf are not JSON
    return {
        "id": story.id,
        "text": story.text,
        "kind": story.kind,
        "title": story.title,
        "kicker": story.kicker,
        "deck": story.deck,
        "truncated": story.truncated,
        "source": {"uri": story.uri, "record": story.record, "start": story.start, "end": story.end},
        "dedup": {
            "cluster": story.cluster,
            "duplicate_of": story.duplicate_of,
            "reason": story.dedup_reason,
            "similarity": similarity,
        },
        "metadata": json.loads(story.metadata_json),
    }


def rejected_to_json(r: Rejected) -> dict:
    """A dead-letter record; its kind ("rejected", "boilerplate") makes the scorer skip it."""
    return {
        "id": r.id,
        "kind": r.kind,
        "stage": r.stage,
        "reason": r.reason,
        "detail": r.detail,
        "text": r.text,
        "source": {"uri": r.uri, "record": r.record, "start": r.start, "end": r.end},
    }


def created_of(metadata: object) -> str | None:
    """When the dump says its document was created: the first string among CREATED_KEYS."""
    if isinstance(metadata, dict):
        for key in CREATED_KEYS:
            value = metadata.get(key)
            if isinstance(value, str) and value:
                return value
    return None


def dolma_document(record: dict, added: str = "", source: str = DOLMA_SOURCE) -> dict:
    """A contract record in Dolma's document format.

    Dolma reads `id`, `text`, `source` (a string: the data source's name), `added`, `created`
    (ISO 8601 strings) and `metadata` (an object). Our contract's `source` is an object, so the
    whole contract record except `id` and `text` goes into `metadata`, unchanged: a Dolma
    document's `metadata` is exactly our record (`metadata.source.uri`, `metadata.dedup`, ...).
    """
    inner = {k: v for k, v in record.items() if k not in ("id", "text")}
    return {
        "id": record["id"],
        "text": record["text"],
        "source": source,
        "added": added,
        "created": created_of(record.get("metadata")) or added,
        "metadata": inner,
    }


def to_line(obj: dict) -> str:
    """One JSON line: sorted keys, UTF-8 text unescaped, falsy values kept, no spaces.

    orjson writes what json.dumps would with these settings (a test checks it) in a sixth of
    the time; what orjson refuses (a lone surrogate from an escaped JSONL input, an integer
    beyond 64 bits) goes through json.dumps. The two differ only in how a float is spelled
    (1e-05 / 0.00001), which no reader sees.
    """
    try:
        return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS).decode("utf-8")
    except orjson.JSONEncodeError:
        return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def sort_key(element: Story | Rejected) -> tuple[str, int, int, str]:
    """(source uri, record, start, id): where a record's line goes inside its shard."""
    record = -1 if element.record is None else element.record
    start = -1 if element.start is None else element.start
    return (element.uri, record, start, element.id)


def shard_of(record_id: str, num_shards: int) -> int:
    """The shard of a record: a stable hash of its id (never Python's salted hash())."""
    if num_shards < 1:
        raise ValueError(f"num_shards must be >= 1, not {num_shards}")
    digest = hashlib.sha1(record_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % num_shards


def shard_name(index: int, num_shards: int, compression: str, fmt: str = JSONL) -> str:
    """`part-00001-of-00004.jsonl.gz` (`.parquet` for Parquet: it compresses inside the file)."""
    suffix = ".parquet" if fmt == PARQUET else COMPRESSION_SUFFIXES[compression]
    return f"part-{index:05d}-of-{num_shards:05d}{suffix}"


def unwritten_shards(
    written_names: Iterable[str], num_shards: int, compression: str, fmt: str = JSONL
) -> list[int]:
    """The shard indices of a set of `num_shards` whose file name is not among `written_names`."""
    names = set(written_names)
    return [i for i in range(num_shards) if shard_name(i, num_shards, compression, fmt) not in names]


def check_level(compression: str, level: int | None) -> None:
    """Raise ValueError unless `level` is None or a level `compression` takes."""
    if level is None:
        return
    if compression not in LEVEL_RANGES:
        raise ValueError(f"a compression level needs gzip or zstd compression, not {compression!r}")
    lo, hi = LEVEL_RANGES[compression]
    if not lo <= level <= hi:
        raise ValueError(f"{compression} compression level must be in {lo}..{hi}, not {level}")


def encode_shard(lines: list[str], compression: str, level: int | None = None) -> bytes:
    """The bytes of a JSONL shard file: each line plus "\\n", compressed reproducibly at
    `level` (None: the codec's DEFAULT_LEVELS).

    gzip gets mtime 0 and no file name, so the same lines give the same bytes every run.
    """
    # backslashreplace turns a lone surrogate (only possible inside a JSON string) into the
    # JSON escape "\\udcxx", so the file stays valid UTF-8 and valid JSON.
    data = "".join(line + "\n" for line in lines).encode("utf-8", "backslashreplace")
    if compression == "none":
        return data
    level = DEFAULT_LEVELS.get(compression) if level is None else level
    if compression == "gzip":
        buf = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=level) as gz:
            gz.write(data)
        return buf.getvalue()
    if compression == "zstd":
        import zstandard

        return zstandard.ZstdCompressor(level=level, write_content_size=True).compress(data)
    raise ValueError(f"unknown compression {compression!r}")


# ---- sorted runs: a bundle's lines of a shard, in a temp file until the shard is written ----

RUNS_FOLDER = ".storysift-runs"  # under the output folder; removed once every shard is written


def encode_run(lines: Iterable[SortedLine]) -> bytes:
    """A run file: the lines in shard order, each as its sort key (JSON) TAB line.

    Each line is encoded as the shard will be (backslashreplace), and the lines are ordered by
    (key, those bytes), the order `merge_runs` compares (UTF-8 bytes sort as the text does;
    a lone surrogate, possible only inside a JSON string, sorts by its escape). JSON escapes
    tabs and newlines inside both parts, so each row is one line with one tab.
    """
    rows = sorted((line[:4], line[4].encode("utf-8", "backslashreplace")) for line in lines)
    return b"".join(_key_json(key) + b"\t" + data + b"\n" for key, data in rows)


def _key_json(key: tuple) -> bytes:
    try:
        return orjson.dumps(key)
    except orjson.JSONEncodeError:  # a lone surrogate (a file name that is not UTF-8): escaped
        return json.dumps(key).encode("ascii")


def _key_from_json(data: bytes) -> list:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:  # (see _key_json)
        return json.loads(data)


def _run_rows(data: bytes) -> Iterable[tuple[list, bytes]]:
    for row in data.split(b"\n")[:-1]:
        key, _, line = row.partition(b"\t")
        yield _key_from_json(key), line


def merge_runs(runs: Iterable[bytes]) -> list[str]:
    """The lines of several run files (`encode_run`) in shard order: the same lines in the same
    order whichever order the runs come in, and as if they had all been sorted at once."""
    return [line.decode("utf-8") for _, line in heapq.merge(*(_run_rows(run) for run in runs))]


def _source_type():
    import pyarrow as pa

    return pa.struct(
        [("uri", pa.string()), ("record", pa.int64()), ("start", pa.int64()), ("end", pa.int64())]
    )


def story_schema():
    """The Parquet schema of clean/ and duplicates/: the contract, `metadata` as JSON text.

    The dump's own metadata has no fixed fields, so it is stored as a JSON string (datatrove's
    readers decode a string `metadata` on their own).
    """
    import pyarrow as pa

    dedup = pa.struct(
        [
            ("cluster", pa.string()),
            ("duplicate_of", pa.string()),
            ("reason", pa.string()),
            ("similarity", pa.float64()),
        ]
    )
    return pa.schema(
        [
            ("id", pa.string()),
            ("text", pa.string()),
            ("kind", pa.string()),
            ("title", pa.string()),
            ("kicker", pa.string()),
            ("deck", pa.string()),
            ("truncated", pa.bool_()),
            ("source", _source_type()),
            ("dedup", dedup),
            ("metadata", pa.string()),
        ]
    )


def rejected_schema():
    """The Parquet schema of rejected/."""
    import pyarrow as pa

    return pa.schema(
        [
            ("id", pa.string()),
            ("kind", pa.string()),
            ("stage", pa.string()),
            ("reason", pa.string()),
            ("detail", pa.string()),
            ("text", pa.string()),
            ("source", _source_type()),
        ]
    )


def parquet_row(record: dict) -> dict:
    """A contract record as a Parquet row: `metadata` becomes canonical JSON text."""
    if "metadata" not in record:
        return record
    text = json.dumps(record["metadata"], ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return {**record, "metadata": text}


def encode_parquet(lines: list[str], subdir: str, compression: str, level: int | None = None) -> bytes:
    """The bytes of a Parquet shard: the JSON lines as rows of the folder's explicit schema.

    No timestamps are stored, so the same lines give the same bytes (for one pyarrow version).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = rejected_schema() if subdir == REJECTED else story_schema()
    rows = [parquet_row(json.loads(line)) for line in lines]
    buf = io.BytesIO()
    codec = PARQUET_CODECS[compression]
    with pq.ParquetWriter(buf, schema, compression=codec, compression_level=level) as writer:
        # An empty shard has the schema and no row group: a 0-row group makes readers that size
        # their batches by row group (Hugging Face datasets) fail with "BatchSize must be > 0".
        if rows:
            writer.write_table(pa.Table.from_pylist(rows, schema=schema), row_group_size=50_000)
    return buf.getvalue()


def encode_file(lines: list[str], subdir: str, config: CorpusConfig) -> bytes:
    """A shard's bytes in the configured format."""
    if config.format == PARQUET:
        return encode_parquet(lines, subdir, config.compression, config.compression_level)
    return encode_shard(lines, config.compression, config.compression_level)


def record_line(element: Story | Rejected, config: CorpusConfig) -> str:
    """The JSON line of a record in the configured format (Parquet rows start as contract lines)."""
    obj = rejected_to_json(element) if isinstance(element, Rejected) else story_to_json(element)
    if config.format == DOLMA:
        obj = dolma_document(obj, config.added, config.dolma_source)
    return to_line(obj)


def stale_names(existing: Iterable[str], wanted: Iterable[str]) -> list[str]:
    """File names among `existing` that are our shard or temp files but not in `wanted`."""
    keep = set(wanted)
    return sorted(
        name
        for name in existing
        if name not in keep and (SHARD_NAME_RE.fullmatch(name) or TEMP_NAME_RE.fullmatch(name))
    )


def stale_shard_names(existing: Iterable[str], num_shards: int, compression: str) -> list[str]:
    """File names among `existing` that are our shard or temp files but not part of this run's set."""
    return stale_names(existing, (shard_name(i, num_shards, compression) for i in range(num_shards)))


def sorted_line(element: Story | Rejected, line: str) -> SortedLine:
    return (*sort_key(element), line)


# ---- the dataset card (README.md): how Hugging Face `datasets` loads the output -------------

CARD_FILE = "README.md"


def _feature(name: str, dtype: str) -> dict:
    return {"name": name, "dtype": dtype}


def card_features(fmt: str, subdir: str) -> list[dict]:
    """The `datasets` features of one output folder, in the YAML form of a dataset card.

    `datasets`' JSON loader otherwise infers the columns from the first 10 MB of the first file,
    and fails on a later file when a column was null all through that sample (a shard without a
    single title, say); the card fixes every type, and the free-form `metadata` is `json`.
    """
    source = {
        "name": "source",
        "struct": [
            _feature("uri", "string"),
            _feature("record", "int64"),
            _feature("start", "int64"),
            _feature("end", "int64"),
        ],
    }
    if fmt == DOLMA:
        names = ("id", "text", "source", "added", "created")
        return [*(_feature(n, "string") for n in names), _feature("metadata", "json")]
    if subdir == REJECTED:
        names = ("id", "kind", "stage", "reason", "detail", "text")
        return [*(_feature(n, "string") for n in names), source]
    dedup = {
        "name": "dedup",
        "struct": [
            _feature("cluster", "string"),
            _feature("duplicate_of", "string"),
            _feature("reason", "string"),
            _feature("similarity", "float64"),
        ],
    }
    strings = [_feature(n, "string") for n in ("id", "text", "kind", "title", "kicker", "deck")]
    metadata = _feature("metadata", "string" if fmt == PARQUET else "json")
    return [*strings, _feature("truncated", "bool"), source, dedup, metadata]


def dataset_card(config: CorpusConfig) -> str:
    """README.md for the output folder: `datasets.load_dataset(OUTPUT, "clean")` then just works.

    The YAML header (written as JSON, which YAML reads as it is) names one config per folder
    and its features; `clean` is the default.
    """
    configs, infos = [], []
    for subdir in SUBDIRS:
        path = "/".join(folder_parts(subdir, config.format)) + "/part-*"
        entry = {"config_name": subdir, "data_files": [{"split": "train", "path": path}]}
        if subdir == CLEAN:
            entry["default"] = True
        configs.append(entry)
        infos.append({"config_name": subdir, "features": card_features(config.format, subdir)})
    header = json.dumps({"configs": configs, "dataset_info": infos}, indent=1)
    return (
        f"---\n{header}\n---\n\n# storysift corpus\n\n"
        f"Written by storysift (`--format {config.format}`). Folders: `clean` (kept stories), "
        "`duplicates` (dropped copies, with `dedup.duplicate_of`), `rejected` (boilerplate and "
        "unusable input, with `stage` and `reason`). See report.html for this run.\n\n"
        '```python\nimport datasets\nclean = datasets.load_dataset(OUTPUT_DIR, "clean", split="train")\n```\n'
    )


# ---- the summary of what was written (for the run report) -----------------------------------


def bin_index(edges: tuple[float, ...], value: float) -> int:
    """The histogram bin of `value`: the last edge <= value (values below the first go to bin 0)."""
    return max(0, bisect_right(edges, value) - 1)


def story_facts(story: Story, subdir: str) -> list[tuple]:
    """What the report needs to know about one written story."""
    facts: list[tuple] = [
        ("story", subdir, story.kind, bool(story.truncated), len(story.text), story.end - story.start)
    ]
    if story.duplicate_of is not None:
        similarity = story.similarity
        if similarity is not None and not math.isfinite(similarity):
            similarity = None
        facts.append(("dup", story.dedup_reason or "unknown", similarity))
    return facts


def rejected_facts(r: Rejected) -> list[tuple]:
    span = (r.end - r.start) if r.start is not None and r.end is not None else len(r.text)
    example = (r.uri, -1 if r.record is None else r.record, -1 if r.start is None else r.start)
    return [("rejected", r.stage, r.reason, r.kind, span, example)]


def sample_rank(cluster: str) -> str:
    """Order in which duplicate clusters are sampled for the report: a hash, so a fair sample."""
    return hashlib.sha1(cluster.encode("utf-8")).hexdigest()


def sample_member(story: Story) -> dict:
    """A sampled story as the report shows it (text capped)."""
    obj = story_to_json(story)
    obj.pop("metadata")
    text = obj["text"]
    obj["text"] = text[:SAMPLE_TEXT_CHARS]
    obj["text_chars"] = len(text)
    return obj


def empty_stats() -> dict:
    return {
        "folders": {},
        "stories": {},
        "story_chars": {},
        "dup_reasons": {},
        "similarity": {},
        "cluster_sizes": {},
        "rejected": {},
        "samples": {},
    }


def _add(counts: dict, key, n: int = 1) -> None:
    counts[key] = counts.get(key, 0) + n


def add_fact(acc: dict, fact: tuple) -> dict:
    """Fold one fact into the stats accumulator (plain dicts of counts; merge adds them up)."""
    kind = fact[0]
    if kind == "story":
        _, subdir, story_kind, truncated, chars, span = fact
        s = acc["stories"].setdefault(subdir, {})
        _add(s, "records")
        _add(s, story_kind)
        _add(s, "truncated", int(truncated))
        _add(s, "text_chars", chars)
        _add(s, "span_chars", span)
        _add(acc["story_chars"].setdefault(subdir, {}), bin_index(STORY_CHAR_EDGES, chars))
    elif kind == "dup":
        _, reason, similarity = fact
        _add(acc["dup_reasons"], reason)
        if similarity is not None:
            _add(acc["similarity"].setdefault(reason, {}), bin_index(SIMILARITY_EDGES, similarity))
    elif kind == "cluster":
        _add(acc["cluster_sizes"], fact[1])
    elif kind == "rejected":
        _, stage, reason, rkind, span, example = fact
        entry = acc["rejected"].setdefault(
            (stage, reason, rkind), {"records": 0, "chars": 0, "example": None}
        )
        entry["records"] += 1
        entry["chars"] += span
        if entry["example"] is None or tuple(example) < tuple(entry["example"]):
            entry["example"] = tuple(example)
    elif kind == "shard":
        _, subdir, name, records, size = fact
        acc["folders"].setdefault(subdir, {})[name] = (records, size)
    elif kind == "sample":
        _, cluster, member = fact
        acc["samples"].setdefault(cluster, {})[member["id"]] = member
    elif kind == "partial":  # the facts of many records, folded already (see _FoldFactsFn)
        merged = merge_stats([acc, fact[1]])
        acc.clear()
        acc.update(merged)
    else:
        raise ValueError(f"unknown fact {kind!r}")
    return acc


def merge_stats(accs: Iterable[dict]) -> dict:
    out = empty_stats()
    for acc in accs:
        for subdir, shards in acc["folders"].items():
            out["folders"].setdefault(subdir, {}).update(shards)
        for group in ("stories", "story_chars", "similarity"):
            for key, counts in acc[group].items():
                target = out[group].setdefault(key, {})
                for k, v in counts.items():
                    _add(target, k, v)
        for group in ("dup_reasons", "cluster_sizes"):
            for k, v in acc[group].items():
                _add(out[group], k, v)
        for key, entry in acc["rejected"].items():
            target = out["rejected"].setdefault(key, {"records": 0, "chars": 0, "example": None})
            target["records"] += entry["records"]
            target["chars"] += entry["chars"]
            if entry["example"] is not None and (
                target["example"] is None or tuple(entry["example"]) < tuple(target["example"])
            ):
                target["example"] = tuple(entry["example"])
        for cluster, members in acc["samples"].items():
            out["samples"].setdefault(cluster, {}).update(members)
    return out


def _histogram(edges: tuple, counts: dict) -> list[int]:
    return [counts.get(i, 0) for i in range(len(edges))]


def finish_stats(acc: dict) -> dict:
    """The stats as JSON-ready, sorted plain data (the same on every runner)."""
    folders = {}
    for subdir in SUBDIRS:
        shards = acc["folders"].get(subdir, {})
        folders[subdir] = {
            "files": len(shards),
            "records": sum(r for r, _ in shards.values()),
            "bytes": sum(b for _, b in shards.values()),
            "shards": [{"name": n, "records": r, "bytes": b} for n, (r, b) in sorted(shards.items())],
        }
    stories = {subdir: dict(sorted(acc["stories"].get(subdir, {}).items())) for subdir in (CLEAN, DUPLICATES)}
    multi = dict(acc["cluster_sizes"])
    singletons = stories[CLEAN].get("records", 0) - sum(multi.values())
    sizes = {**({1: singletons} if singletons > 0 else {}), **multi}
    samples = []
    for cluster in sorted(acc["samples"], key=sample_rank):
        members = sorted(
            acc["samples"][cluster].values(),
            key=lambda m: (
                m["dedup"]["duplicate_of"] is not None,
                m["source"]["uri"],
                m["source"]["start"],
                m["id"],
            ),
        )
        samples.append({"cluster": cluster, "size": len(members), "members": members[:SAMPLE_MEMBERS]})
    rejected = [
        {
            "stage": stage,
            "reason": reason,
            "kind": rkind,
            "records": e["records"],
            "chars": e["chars"],
            "example": None
            if e["example"] is None
            else {"uri": e["example"][0], "record": e["example"][1], "start": e["example"][2]},
        }
        for (stage, reason, rkind), e in sorted(acc["rejected"].items())
    ]
    return {
        "folders": folders,
        "stories": stories,
        "story_chars_histogram": {
            "edges": list(STORY_CHAR_EDGES),
            **{
                sub: _histogram(STORY_CHAR_EDGES, acc["story_chars"].get(sub, {}))
                for sub in (CLEAN, DUPLICATES)
            },
        },
        "duplicates_by_reason": dict(sorted(acc["dup_reasons"].items())),
        "similarity_histogram": {
            "edges": list(SIMILARITY_EDGES),
            **{r: _histogram(SIMILARITY_EDGES, c) for r, c in sorted(acc["similarity"].items())},
        },
        "cluster_sizes": {str(k): v for k, v in sorted(sizes.items())},
        "rejected": rejected,
        "sample_clusters": samples,
    }


# ---------------------------------------------------------------------------------------------
# The Beam stage. Everything above is plain Python; Beam is only needed from here on.
# ---------------------------------------------------------------------------------------------

import apache_beam as beam  # noqa: E402
from apache_beam.io.filesystem import CompressionTypes  # noqa: E402
from apache_beam.io.filesystems import FileSystems  # noqa: E402
from apache_beam.transforms.window import GlobalWindows  # noqa: E402

from transforms import counters  # noqa: E402


def folder_path(config: CorpusConfig, subdir: str, fmt: str | None = None) -> str:
    """The output folder of `subdir` in the layout of `fmt` (default: the configured format)."""
    return FileSystems.join(config.output_dir, *folder_parts(subdir, fmt or config.format))


def write_bytes(path: str, data: bytes) -> None:
    """Write `data` as they are to `path` (any FileSystems path)."""
    fh = FileSystems.create(path, compression_type=CompressionTypes.UNCOMPRESSED)  # we compressed already
    try:
        fh.write(data)
    finally:
        fh.close()


def write_file_atomically(folder: str, name: str, data: bytes) -> str:
    """Write `data` to a temp name in `folder`, then rename it to `name` (never a half-written shard)."""
    path = FileSystems.join(folder, name)
    temp = FileSystems.join(folder, f".{name}.{uuid.uuid4().hex}.tmp")
    write_bytes(temp, data)
    FileSystems.rename([temp], [path])
    return path


def _sorted_record_line(element: Story | Rejected, config: CorpusConfig) -> SortedLine:
    return sorted_line(element, record_line(element, config))


def _total_weight(lines, unit: str):
    return (
        lines
        | "Weigh" >> beam.Map(lambda sl: line_weight(sl[-1], unit))
        | "Total" >> beam.CombineGlobally(sum)
    )


def _key_by_shard(line: SortedLine, num_shards: int) -> tuple[int, SortedLine]:
    return shard_of(line[3], num_shards), line


# Characters of lines a `_WriteRunsFn` holds before it writes them out as runs.
RUN_CHARS = 32 << 20


def runs_folder(config: CorpusConfig, subdir: str | None = None) -> str:
    parts = (RUNS_FOLDER,) if subdir is None else (RUNS_FOLDER, subdir)
    return FileSystems.join(config.output_dir, *parts)


class _WriteRunsFn(beam.DoFn):
    """(shard index, line) -> (shard index, run path): each shard's lines of a bundle, sorted,
    in a run file (`encode_run`), every RUN_CHARS characters and at the end of the bundle.

    Only run paths go through the shuffle to the shard writers, never the texts: a runner that
    holds shuffled data in memory (DirectRunner) then holds no copy of the corpus for writing.
    """

    def __init__(self, config: CorpusConfig, subdir: str):
        self.config = config
        self.subdir = subdir
        self.run_chars = RUN_CHARS

    def start_bundle(self):
        self._lines: dict[int, list[SortedLine]] = {}
        self._chars = 0

    def process(self, element: tuple[int, SortedLine]):
        index, line = element
        self._lines.setdefault(index, []).append(line)
        self._chars += len(line[-1])
        if self._chars >= self.run_chars:
            yield from self._write_runs()

    def finish_bundle(self):
        for run in self._write_runs():
            yield GlobalWindows.windowed_value(run)

    def _write_runs(self) -> Iterable[tuple[int, str]]:
        held, self._lines, self._chars = self._lines, {}, 0
        folder = runs_folder(self.config, self.subdir)
        for index in sorted(held):
            # a unique name: a retried bundle's runs never replace the runs of the one kept
            path = FileSystems.join(folder, f"{index:05d}-{uuid.uuid4().hex}.run")
            write_bytes(path, encode_run(held[index]))
            yield index, path


def _read_run(path: str) -> bytes:
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as fh:
        return fh.read()


class _WriteShardFn(beam.DoFn):
    """(shard index, run paths) -> the shard file, its runs' lines merged in order; yields
    (subdir, path, records, bytes)."""

    def __init__(self, config: CorpusConfig, subdir: str, counter_name: str):
        self.config = config
        self.subdir = subdir
        self.written = counters.counter(counter_name)

    def process(self, element: tuple[int, Iterable[str]], num_shards: int):
        index, paths = element
        yield self.write(index, merge_runs(_read_run(path) for path in paths), num_shards)

    def write(self, index: int, lines: list[str], num_shards: int) -> tuple[str, str, int, int]:
        name = shard_name(index, num_shards, self.config.compression, self.config.format)
        data = encode_file(lines, self.subdir, self.config)
        path = write_file_atomically(folder_path(self.config, self.subdir), name, data)
        self.written.inc(len(lines))
        return (self.subdir, path, len(lines), len(data))


class _RemoveRunsFn(beam.DoFn):
    """After every shard is written: delete the run files (also those of retried bundles)."""

    def __init__(self, config: CorpusConfig):
        self.config = config

    def process(self, _written: list[tuple]):
        folder = runs_folder(self.config)
        try:
            found = FileSystems.match([FileSystems.join(folder, "*", "*.run")])[0].metadata_list
        except Exception:  # noqa: BLE001 - no folder: no runs
            found = []
        if found:
            FileSystems.delete([m.path for m in found])
        if FileSystems.exists(folder):  # a local disk's (now empty) folders; object stores have none
            FileSystems.delete([folder])
        return ()


class _WriteEmptyShardsFn(_WriteShardFn):
    """shard count -> an empty file for each shard index no line went to (written: the others)."""

    def process(self, num_shards: int, written: list[tuple]):
        names = (FileSystems.split(w[1])[1] for w in written)
        for index in unwritten_shards(names, num_shards, self.config.compression, self.config.format):
            yield self.write(index, [], num_shards)


class _WriteShards(beam.PTransform):
    """PCollection[Story | Rejected] -> one folder of shard files; every shard index is written."""

    def __init__(self, config: CorpusConfig, subdir: str, counter_name: str):
        super().__init__()
        self.config = config
        self.subdir = subdir
        self.counter_name = counter_name

    def expand(self, records):
        config = self.config
        lines = records | "ToLine" >> beam.Map(_sorted_record_line, config)
        if config.shard_size is None:
            count = records.pipeline | "ShardCount" >> beam.Create([config.num_shards])
        else:
            total = _total_weight(lines, config.shard_unit)
            count = total | "ShardCount" >> beam.Map(shard_count, config.shard_size)
        num_shards = beam.pvalue.AsSingleton(count)
        runs = (
            lines
            | "KeyByShard" >> beam.Map(_key_by_shard, num_shards)
            | "WriteRuns" >> beam.ParDo(_WriteRunsFn(config, self.subdir))
        )
        written = (
            runs
            | "GroupByShard" >> beam.GroupByKey()
            | "WriteShard" >> beam.ParDo(_WriteShardFn(config, self.subdir, self.counter_name), num_shards)
        )
        # An empty shard is still written, so readers can check the set is complete. Only shard
        # indices meet here: a Flatten of the lines with markers would copy every line once more
        # (Beam's portable runners materialise a Flatten's inputs).
        empty = count | "EmptyShards" >> beam.ParDo(
            _WriteEmptyShardsFn(config, self.subdir, self.counter_name), beam.pvalue.AsList(written)
        )
        return (written, empty) | "Written" >> beam.Flatten()


class _RemoveStaleShardsFn(beam.DoFn):
    """After every shard is written: delete our files that belong to another shard set or layout."""

    def __init__(self, config: CorpusConfig):
        self.config = config

    def process(self, written: list[tuple]):
        wanted: dict[str, set[str]] = {}
        for subdir, path, *_ in written:
            wanted.setdefault(folder_path(self.config, subdir), set()).add(FileSystems.split(path)[1])
        for fmt in (JSONL, DOLMA):  # the two layouts (parquet shares jsonl's folders)
            for subdir in SUBDIRS:
                folder = folder_path(self.config, subdir, fmt)
                # Two globs: on local disks "*" skips the dot-named temp files.
                try:
                    results = FileSystems.match([FileSystems.join(folder, g) for g in ("part-*", ".part-*")])
                except Exception:  # noqa: BLE001 - a folder that does not exist has nothing stale
                    continue
                names = {FileSystems.split(m.path)[1]: m.path for r in results for m in r.metadata_list}
                stale = stale_names(names, wanted.get(folder, set()))
                if stale:
                    FileSystems.delete([names[name] for name in stale])
                yield from ((subdir, names[name]) for name in stale)


class CorpusStatsFn(beam.CombineFn):
    """Facts about written records -> the stats dict of `finish_stats` (counts and histograms)."""

    def create_accumulator(self) -> dict:
        return empty_stats()

    def add_input(self, acc: dict, fact: tuple) -> dict:
        return add_fact(acc, fact)

    def merge_accumulators(self, accs: Iterable[dict]) -> dict:
        return merge_stats(accs)

    def extract_output(self, acc: dict) -> dict:
        return finish_stats(acc)


class _WriteStatsFn(beam.DoFn):
    def __init__(self, config: CorpusConfig):
        self.config = config

    def process(self, stats: dict):
        data = (json.dumps(stats, ensure_ascii=False, sort_keys=True, indent=1) + "\n").encode("utf-8")
        yield write_file_atomically(self.config.output_dir, STATS_FILE, data)


class _FoldFactsFn(beam.DoFn):
    """record -> nothing; at the end of each bundle one ("partial", stats accumulator) fact
    holding the facts (`facts_of(record, *args)`) of all its records. Every story has a fact or
    two: folded where they are made, a bundle's few partials go to the one combining worker
    instead of a hundred thousand small facts (the sum is the same: merging adds counts up)."""

    def __init__(self, facts_of: Callable[..., list[tuple]], *args):
        self._facts_of = facts_of
        self._args = args

    def start_bundle(self):
        self._acc: dict | None = None

    def process(self, record):
        if self._acc is None:
            self._acc = empty_stats()
        for fact in self._facts_of(record, *self._args):
            add_fact(self._acc, fact)

    def finish_bundle(self):
        if self._acc is not None:
            yield GlobalWindows.windowed_value(("partial", self._acc))
            self._acc = None


def _in_sample(story: Story, sample: list[str]):
    if story.cluster in sample:
        yield ("sample", story.cluster, sample_member(story))


class SummarizeCorpus(beam.PTransform):
    """(clean, duplicates, rejected, written shards[, duplicate clusters]) -> the stats dict (one
    element).

    Cluster sizes come from `dedup.cluster` of the duplicates, similarities from their
    `dedup.similarity`, and the sample of duplicate clusters is the SAMPLE_CLUSTERS clusters
    with the smallest `sample_rank`: all of it computed from the records, on any runner.
    """

    def expand(self, pcolls):
        clean, duplicates, rejected, written, *given = pcolls
        clusters = duplicates | "DupClusters" >> beam.Map(lambda s: s.cluster or s.id)
        sizes = (
            clusters
            | "PerCluster" >> beam.combiners.Count.PerElement()
            | "ClusterSize" >> beam.Map(lambda kv: ("cluster", kv[1] + 1))
        )
        # From the duplicates' clusters as Deduplicate decided them when given: ready before the
        # stories are, so the members are picked in the same pass that writes them (no Flatten
        # of every story into a second pass).
        sample = (
            (given[0] if given else clusters)
            | "DistinctClusters" >> beam.Distinct()
            | "SampleClusters" >> beam.combiners.Top.Smallest(SAMPLE_CLUSTERS, key=sample_rank)
        )
        in_sample = beam.pvalue.AsSingleton(sample)
        facts = (
            clean | "CleanFacts" >> beam.ParDo(_FoldFactsFn(story_facts, CLEAN)),
            duplicates | "DuplicateFacts" >> beam.ParDo(_FoldFactsFn(story_facts, DUPLICATES)),
            rejected | "RejectedFacts" >> beam.ParDo(_FoldFactsFn(rejected_facts)),
            written
            | "ShardFacts" >> beam.Map(lambda w: ("shard", w[0], FileSystems.split(w[1])[1], w[2], w[3])),
            sizes,
            clean | "CleanSampleMembers" >> beam.FlatMap(_in_sample, in_sample),
            duplicates | "DuplicateSampleMembers" >> beam.FlatMap(_in_sample, in_sample),
        ) | "Facts" >> beam.Flatten()
        return facts | "Stats" >> beam.CombineGlobally(CorpusStatsFn())


class WriteCorpus(beam.PTransform):
    """(clean stories, duplicate stories, rejected records) -> sharded files under config.output_dir.

    Takes a tuple in that order or a dict keyed "clean", "duplicates", "rejected" (and, optionally,
    DUPLICATE_CLUSTERS: Deduplicate's clusters of the duplicates, from which the report's sample
    is then drawn without another pass over the stories). Returns a PCollection of (subdir, shard
    path, record count, file bytes), one per shard file, for the run report; with
    config.write_stats it also writes STATS_FILE (see SummarizeCorpus).
    Counters: WRITTEN_CLEAN, WRITTEN_DUPLICATES, WRITTEN_REJECTED.
    """

    def __init__(self, config: CorpusConfig):
        super().__init__()
        self.config = config

    def expand(self, pcolls):
        given: tuple = ()
        if isinstance(pcolls, dict):
            clean, duplicates, rejected = (pcolls[k] for k in SUBDIRS)
            given = (pcolls[DUPLICATE_CLUSTERS],) if DUPLICATE_CLUSTERS in pcolls else ()
        else:
            clean, duplicates, rejected = pcolls
        config = self.config
        parts = (
            (CLEAN, clean, counters.WRITTEN_CLEAN),
            (DUPLICATES, duplicates, counters.WRITTEN_DUPLICATES),
            (REJECTED, rejected, counters.WRITTEN_REJECTED),
        )
        written = [
            pcoll | f"Write{subdir.title()}" >> _WriteShards(config, subdir, counter_name)
            for subdir, pcoll, counter_name in parts
        ] | "Shards" >> beam.Flatten()
        all_written = written | "AllWritten" >> beam.combiners.ToList()
        _ = all_written | "RemoveRuns" >> beam.ParDo(_RemoveRunsFn(config))
        if config.remove_stale_shards:
            _ = all_written | "RemoveStaleShards" >> beam.ParDo(_RemoveStaleShardsFn(config))
        if config.write_stats:
            _ = (
                (clean, duplicates, rejected, written, *given)
                | "Summarize" >> SummarizeCorpus()
                | "WriteStats" >> beam.ParDo(_WriteStatsFn(config))
            )
        return written
