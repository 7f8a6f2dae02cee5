"""WriteCorpus: write kept stories, duplicates and rejected records as sharded JSONL files.

Layout: `DIR/clean/part-00000-of-00004.jsonl.gz`, `DIR/duplicates/...`, `DIR/rejected/...`.
A record's shard is a stable hash of its id and the lines of a shard are sorted by a total
order, so a fixed shard count gives byte-identical files on any runner, run after run. Every
shard file is written, even an empty one, so readers can check that the set is complete.

The rules are plain functions at the top of the module; the Beam stage is at the bottom.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import math
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from transforms.records import Rejected, Story

CLEAN = "clean"
DUPLICATES = "duplicates"
REJECTED = "rejected"
SUBDIRS = (CLEAN, DUPLICATES, REJECTED)

COMPRESSION_SUFFIXES = {"gzip": ".jsonl.gz", "none": ".jsonl", "zstd": ".jsonl.zst"}
SHARD_NAME_RE = re.compile(r"part-\d{5,}-of-\d{5,}\.jsonl(\.gz|\.zst)?")
TEMP_NAME_RE = re.compile(r"\.part-\d{5,}-of-\d{5,}\.jsonl(\.gz|\.zst)?\.[0-9a-f]+\.tmp")

# (uri, record, start, id, line): the total order of lines inside a shard.
SortedLine = tuple[str, int, int, str, str]


@dataclass(frozen=True)
class CorpusConfig:
    """Where and how WriteCorpus writes."""

    output_dir: str
    num_shards: int = 4
    compression: str = "gzip"  # "gzip", "none" or "zstd"
    # Delete our own shard files of other shard counts or compressions (and temp files left by
    # failed attempts) from the three subfolders, so a rerun leaves exactly one complete set.
    remove_stale_shards: bool = True

    def __post_init__(self):
        if self.num_shards < 1:
            raise ValueError(f"num_shards must be >= 1, not {self.num_shards}")
        if self.compression not in COMPRESSION_SUFFIXES:
            choices = ", ".join(sorted(COMPRESSION_SUFFIXES))
            raise ValueError(f"compression must be one of {choices}, not {self.compression!r}")


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


def to_line(obj: dict) -> str:
    """One JSON line: sorted keys, UTF-8 text unescaped, falsy values kept."""
    return json.dumps(obj, ensure_ascii=False, sort_keys=True)


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


def shard_name(index: int, num_shards: int, compression: str) -> str:
    """`part-00001-of-00004.jsonl.gz`."""
    return f"part-{index:05d}-of-{num_shards:05d}{COMPRESSION_SUFFIXES[compression]}"


def encode_shard(lines: list[str], compression: str) -> bytes:
    """The bytes of a shard file: each line plus "\\n", compressed reproducibly.

    gzip gets mtime 0 and no file name, so the same lines give the same bytes every run.
    """
    # backslashreplace turns a lone surrogate (only possible inside a JSON string) into the
    # JSON escape "\\udcxx", so the file stays valid UTF-8 and valid JSON.
    data = "".join(line + "\n" for line in lines).encode("utf-8", "backslashreplace")
    if compression == "none":
        return data
    if compression == "gzip":
        buf = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=6) as gz:
            gz.write(data)
        return buf.getvalue()
    if compression == "zstd":
        import zstandard

        return zstandard.ZstdCompressor(level=3, write_content_size=True).compress(data)
    raise ValueError(f"unknown compression {compression!r}")


def stale_shard_names(existing: Iterable[str], num_shards: int, compression: str) -> list[str]:
    """File names among `existing` that are our shard or temp files but not part of this run's set."""
    wanted = {shard_name(i, num_shards, compression) for i in range(num_shards)}
    return sorted(
        name
        for name in existing
        if name not in wanted and (SHARD_NAME_RE.fullmatch(name) or TEMP_NAME_RE.fullmatch(name))
    )


def sorted_line(element: Story | Rejected, line: str) -> SortedLine:
    return (*sort_key(element), line)


# ---------------------------------------------------------------------------------------------
# The Beam stage. Everything above is plain Python; Beam is only needed from here on.
# ---------------------------------------------------------------------------------------------

import apache_beam as beam  # noqa: E402
from apache_beam.io.filesystem import CompressionTypes  # noqa: E402
from apache_beam.io.filesystems import FileSystems  # noqa: E402

from transforms import counters  # noqa: E402


def _keyed_story(story: Story, num_shards: int) -> tuple[int, SortedLine]:
    return shard_of(story.id, num_shards), sorted_line(story, to_line(story_to_json(story)))


def _keyed_rejected(r: Rejected, num_shards: int) -> tuple[int, SortedLine]:
    return shard_of(r.id, num_shards), sorted_line(r, to_line(rejected_to_json(r)))


def _write_file(folder: str, name: str, data: bytes) -> str:
    """Write `data` to a temp name in `folder`, then rename it to `name` (never a half-written shard)."""
    path = FileSystems.join(folder, name)
    temp = FileSystems.join(folder, f".{name}.{uuid.uuid4().hex}.tmp")
    fh = FileSystems.create(temp, compression_type=CompressionTypes.UNCOMPRESSED)  # we compressed already
    try:
        fh.write(data)
    finally:
        fh.close()
    FileSystems.rename([temp], [path])
    return path


class _WriteShardFn(beam.DoFn):
    """(shard index, lines) -> the shard file, lines sorted; yields (subdir, path, record count)."""

    def __init__(self, config: CorpusConfig, subdir: str, counter_name: str):
        self.config = config
        self.subdir = subdir
        self.written = counters.counter(counter_name)

    def process(self, element: tuple[int, Iterable[SortedLine | None]]):
        index, values = element
        lines = [value[-1] for value in sorted(v for v in values if v is not None)]
        name = shard_name(index, self.config.num_shards, self.config.compression)
        folder = FileSystems.join(self.config.output_dir, self.subdir)
        path = _write_file(folder, name, encode_shard(lines, self.config.compression))
        self.written.inc(len(lines))
        yield (self.subdir, path, len(lines))


class _WriteShards(beam.PTransform):
    """PCollection[Story | Rejected] -> one subfolder of shard files; every shard index is written."""

    def __init__(self, config: CorpusConfig, subdir: str, keyed_line, counter_name: str):
        super().__init__()
        self.config = config
        self.subdir = subdir
        self.keyed_line = keyed_line
        self.counter_name = counter_name

    def expand(self, records):
        n = self.config.num_shards
        keyed = records | "KeyByShard" >> beam.Map(self.keyed_line, n)
        # One empty marker per shard index, so an empty shard is still grouped and written.
        every_shard = records.pipeline | "ShardIndices" >> beam.Create([(i, None) for i in range(n)])
        return (
            (keyed, every_shard)
            | "Merge" >> beam.Flatten()
            | "GroupByShard" >> beam.GroupByKey()
            | "WriteShard" >> beam.ParDo(_WriteShardFn(self.config, self.subdir, self.counter_name))
        )


class _RemoveStaleShardsFn(beam.DoFn):
    """After every shard is written: delete our files that belong to another shard set."""

    def __init__(self, config: CorpusConfig):
        self.config = config

    def process(self, _written):
        for subdir in SUBDIRS:
            folder = FileSystems.join(self.config.output_dir, subdir)
            # Two globs: on local disks "*" skips the dot-named temp files.
            results = FileSystems.match([FileSystems.join(folder, glob) for glob in ("part-*", ".part-*")])
            names = {FileSystems.split(m.path)[1]: m.path for r in results for m in r.metadata_list}
            stale = stale_shard_names(names, self.config.num_shards, self.config.compression)
            if stale:
                FileSystems.delete([names[name] for name in stale])
            yield from ((subdir, names[name]) for name in stale)


class WriteCorpus(beam.PTransform):
    """(clean stories, duplicate stories, rejected records) -> sharded JSONL under config.output_dir.

    Takes a tuple in that order or a dict keyed "clean", "duplicates", "rejected". Returns a
    PCollection of (subdir, shard path, record count), one per shard file, for the run report.
    Counters: WRITTEN_CLEAN, WRITTEN_DUPLICATES, WRITTEN_REJECTED.
    """

    def __init__(self, config: CorpusConfig):
        super().__init__()
        self.config = config

    def expand(self, pcolls):
        if isinstance(pcolls, dict):
            clean, duplicates, rejected = (pcolls[k] for k in SUBDIRS)
        else:
            clean, duplicates, rejected = pcolls
        config = self.config
        parts = (
            (CLEAN, clean, _keyed_story, counters.WRITTEN_CLEAN),
            (DUPLICATES, duplicates, _keyed_story, counters.WRITTEN_DUPLICATES),
            (REJECTED, rejected, _keyed_rejected, counters.WRITTEN_REJECTED),
        )
        written = [
            pcoll | f"Write{subdir.title()}" >> _WriteShards(config, subdir, keyed_line, counter_name)
            for subdir, pcoll, keyed_line, counter_name in parts
        ] | "Shards" >> beam.Flatten()
        if config.remove_stale_shards:
            _ = (
                written
                | "AllWritten" >> beam.combiners.Count.Globally()
                | "RemoveStaleShards" >> beam.ParDo(_RemoveStaleShardsFn(config))
            )
        return written
