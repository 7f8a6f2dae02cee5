"""ReadDumps: match input globs, decompress and decode each file, and cut it into `Dump` records.

A `.txt` file is one dump (record 0); a `.jsonl` file is one dump per non-empty line, numbered
0, 1, ... among the non-empty lines (as the scorer numbers them). Compression is taken from the
suffix (`.gz`, `.bz2`, `.zst`). The decoded text is kept exactly as decoded (no newline or Unicode
normalisation), so every later offset refers to it. Whatever cannot be read becomes a `Rejected`
record with stage "read" and a machine-readable reason; nothing is dropped silently.

The rules are plain functions at the top of the module; the Beam stage is at the bottom.
"""

from __future__ import annotations

import bz2
import gzip
import json
from collections.abc import Iterator
from typing import NamedTuple

from transforms.records import Dump, Rejected, canonical_json

STAGE = "read"

# Reasons a file, record or pattern is set aside (Rejected.reason).
NO_MATCH = "no-match"
UNSUPPORTED_FORMAT = "unsupported-format"
CORRUPT_COMPRESSED = "corrupt-compressed"
UNDECODABLE = "undecodable"
EMPTY = "empty"
BAD_JSON = "bad-json"
NOT_AN_OBJECT = "not-an-object"
MISSING_TEXT_FIELD = "missing-text-field"
TEXT_NOT_A_STRING = "text-not-a-string"
EXCEPTION = "exception"

TXT = "txt"
JSONL = "jsonl"
FORMATS = {".txt": TXT, ".jsonl": JSONL}
COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd"}

# Dump.decoding values.
UTF8 = "utf-8"
UTF8_BOM = "utf-8-sig"
UTF16 = "utf-16"
CP1252 = "cp1252"
LATIN1 = "latin-1"
LEGACY_ENCODINGS = frozenset({CP1252, LATIN1})


class CorruptCompressedError(ValueError):
    """The bytes do not decompress with the codec their file name announces."""


class UndecodableError(ValueError):
    """The bytes are not text in any encoding we accept."""


def _basename(name: str) -> str:
    return name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def detect_format(name: str) -> tuple[str | None, str | None]:
    """(format, compression) of a file from its name: ("jsonl", "zstd") for `x.jsonl.zst`.

    format is None for an unsupported extension; compression is None for an uncompressed file.
    """
    base = _basename(name).lower()
    compression = None
    for suffix, codec in COMPRESSIONS.items():
        if base.endswith(suffix):
            compression = codec
            base = base[: -len(suffix)]
            break
    for suffix, fmt in FORMATS.items():
        if base.endswith(suffix) and len(base) > len(suffix):
            return fmt, compression
    return None, compression


def _zstd_decompress(data: bytes) -> bytes:
    import zstandard

    out = []
    dctx = zstandard.ZstdDecompressor()
    while data:  # one frame per pass: files made by concatenation hold several
        dobj = dctx.decompressobj()
        out.append(dobj.decompress(data))
        if not dobj.eof:
            raise CorruptCompressedError("zstd stream ends inside a frame (truncated file)")
        data = dobj.unused_data
    return b"".join(out)


def decompress(data: bytes, name: str) -> bytes:
    """The bytes of `data` decompressed as its file name's suffix says (unchanged without one).

    Raises CorruptCompressedError for truncated or damaged data.
    """
    _, compression = detect_format(name)
    if compression is None:
        return data
    try:
        if compression == "gzip":
            return gzip.decompress(data)
        if compression == "bz2":
            return bz2.decompress(data)
        return _zstd_decompress(data)
    except CorruptCompressedError:
        raise
    except Exception as exc:  # OSError, EOFError, zlib.error, zstandard.ZstdError, ...: the bytes are bad
        raise CorruptCompressedError(f"{compression}: {exc!r}") from exc


def decode_text(data: bytes) -> tuple[str, str]:
    """(text, encoding): UTF-8 (a leading BOM removed), else a legacy fallback, named so it is recorded.

    Order: UTF-8; UTF-16 when the bytes start with its BOM; cp1252 (curly quotes, euro sign);
    latin-1 (any byte sequence). Bytes with NUL characters that are not UTF-8 are binary, not
    text: UndecodableError.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), UTF8_BOM
        except UnicodeDecodeError:
            data = data[3:]
    else:
        try:
            return data.decode("utf-8"), UTF8
        except UnicodeDecodeError:
            pass
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), UTF16
        except UnicodeDecodeError as exc:
            raise UndecodableError(f"UTF-16 BOM but invalid UTF-16: {exc}") from exc
    if b"\x00" in data:
        raise UndecodableError("not UTF-8 and holds NUL bytes: binary data")
    try:
        return data.decode("cp1252"), CP1252
    except UnicodeDecodeError:
        return data.decode("latin-1"), LATIN1


def _is_encodable(text: str) -> bool:
    """False when the text holds lone surrogates (possible via JSON "\\ud800" escapes)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _reject(reason: str, uri: str, record: int | None, text: str = "", detail: str = "") -> Rejected:
    return Rejected(
        stage=STAGE, reason=reason, uri=uri, record=record, start=None, end=None, text=text, detail=detail
    )


def parse_jsonl_line(
    line: str, uri: str, record: int, text_field: str = "text", decoding: str = UTF8
) -> Dump | Rejected:
    """One non-empty JSONL line as a Dump, or a Rejected (with the raw line as its text)."""
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError) as exc:
        return _reject(BAD_JSON, uri, record, line, f"{type(exc).__name__}: {exc}")
    if not isinstance(obj, dict):
        return _reject(NOT_AN_OBJECT, uri, record, line, f"a JSON {type(obj).__name__}")
    if text_field not in obj:
        return _reject(MISSING_TEXT_FIELD, uri, record, line, f"no {text_field!r} field")
    text = obj[text_field]
    if not isinstance(text, str):
        return _reject(TEXT_NOT_A_STRING, uri, record, line, f"{text_field!r} is a {type(text).__name__}")
    if not text.strip():
        return _reject(EMPTY, uri, record, line, f"{text_field!r} is empty or whitespace")
    metadata_json = canonical_json({k: v for k, v in obj.items() if k != text_field})
    if not (_is_encodable(text) and _is_encodable(metadata_json)):
        return _reject(UNDECODABLE, uri, record, line, "lone surrogate escape in a JSON string")
    return Dump(uri=uri, record=record, text=text, metadata_json=metadata_json, decoding=decoding)


def parse_jsonl(
    text: str, uri: str, text_field: str = "text", decoding: str = UTF8
) -> Iterator[Dump | Rejected]:
    """A Dump or Rejected for every non-empty line; `record` counts non-empty lines from 0.

    Lines are split on "\\n" only (JSON may hold a raw U+2028, which str.splitlines would cut);
    a line holding only whitespace is not a record.
    """
    record = 0
    for line in text.split("\n"):
        if not line.strip():
            continue
        yield parse_jsonl_line(line, uri, record, text_field, decoding)
        record += 1
    if record == 0:
        yield _reject(EMPTY, uri, None, text, "no non-empty lines")


def read_file(uri: str, data: bytes, text_field: str = "text") -> Iterator[Dump | Rejected]:
    """Every Dump and Rejected of one input file, given its raw (possibly compressed) bytes."""
    fmt, _ = detect_format(uri)
    if fmt is None:
        yield _reject(UNSUPPORTED_FORMAT, uri, None, detail=f"unsupported file name {_basename(uri)!r}")
        return
    try:
        raw = decompress(data, uri)
    except CorruptCompressedError as exc:
        yield _reject(CORRUPT_COMPRESSED, uri, None, detail=str(exc))
        return
    try:
        text, encoding = decode_text(raw)
    except UndecodableError as exc:
        yield _reject(UNDECODABLE, uri, None, detail=str(exc))
        return
    if fmt == JSONL:
        yield from parse_jsonl(text, uri, text_field, encoding)
    elif not text.strip():
        yield _reject(EMPTY, uri, 0, text, "empty or whitespace-only file")
    else:
        yield Dump(uri=uri, record=0, text=text, decoding=encoding)


# ---------------------------------------------------------------------------------------------
# The Beam stage. Everything above is plain Python; Beam is only needed from here on.
# ---------------------------------------------------------------------------------------------

import apache_beam as beam  # noqa: E402
from apache_beam.io import fileio  # noqa: E402
from apache_beam.io.filesystem import CompressionTypes  # noqa: E402
from apache_beam.io.filesystems import FileSystems  # noqa: E402

from transforms import counters  # noqa: E402

REJECTED_TAG = "rejected"


class _MatchPatternFn(beam.DoFn):
    """Expand a glob to file paths; a glob matching nothing (or failing) becomes a Rejected."""

    REJECTED = REJECTED_TAG

    def __init__(self):
        self.rejected = counters.counter(counters.READ_REJECTED)

    def process(self, pattern: str):
        try:
            (result,) = FileSystems.match([pattern])
            paths = sorted({m.path for m in result.metadata_list})
        except Exception as exc:
            self.rejected.inc()
            yield beam.pvalue.TaggedOutput(
                self.REJECTED, _reject(EXCEPTION, pattern, None, detail=f"match failed: {exc!r}")
            )
            return
        if not paths:
            self.rejected.inc()
            yield beam.pvalue.TaggedOutput(
                self.REJECTED, _reject(NO_MATCH, pattern, None, detail="the pattern matches no file")
            )
        yield from paths


class _ReadFileFn(beam.DoFn):
    """Read one matched file's bytes and emit its Dumps (main) and Rejected (tagged)."""

    REJECTED = REJECTED_TAG

    def __init__(self, text_field: str):
        self.text_field = text_field
        self.files = counters.counter(counters.FILES_READ)
        self.dumps = counters.counter(counters.DUMPS_READ)
        self.chars = counters.counter(counters.INPUT_CHARS)
        self.rejected = counters.counter(counters.READ_REJECTED)
        self.legacy = counters.counter(counters.LEGACY_DECODED)

    def process(self, readable: fileio.ReadableFile):
        uri = readable.metadata.path
        try:
            if detect_format(uri)[0] is None:  # don't fetch bytes we cannot use
                outputs = list(read_file(uri, b"", self.text_field))
            else:
                # Raw bytes: we decompress ourselves, so a bad archive is a record, not a crash.
                with readable.open(compression_type=CompressionTypes.UNCOMPRESSED) as fh:
                    data = fh.read()
                self.files.inc()
                outputs = list(read_file(uri, data, self.text_field))
        except Exception as exc:  # one bad file must not fail the job; its record says why
            outputs = [_reject(EXCEPTION, uri, None, detail=repr(exc))]
        for out in outputs:
            if isinstance(out, Dump):
                self.dumps.inc()
                self.chars.inc(len(out.text))
                if out.decoding in LEGACY_ENCODINGS:
                    self.legacy.inc()
                yield out
            else:
                self.rejected.inc()
                yield beam.pvalue.TaggedOutput(self.REJECTED, out)


class ReadDumpsResult(NamedTuple):
    """The outputs of ReadDumps; unpacks as `dumps, rejected = p | ReadDumps(...)`."""

    dumps: beam.PCollection  # of Dump
    rejected: beam.PCollection  # of Rejected (stage "read")


class ReadDumps(beam.PTransform):
    """Pipeline root -> (Dumps, Rejected) from files matching `patterns` on any Beam filesystem.

    Each file is read once even when several patterns match it. Counters: FILES_READ,
    DUMPS_READ, INPUT_CHARS, READ_REJECTED, LEGACY_DECODED (dumps decoded by a legacy fallback).
    """

    def __init__(self, patterns: list[str], text_field: str = "text"):
        super().__init__()
        if isinstance(patterns, str):
            raise TypeError("ReadDumps takes a list of patterns, not one string")
        self.patterns = sorted(set(patterns))
        self.text_field = text_field

    def expand(self, pbegin) -> ReadDumpsResult:
        matched = (
            pbegin
            | "Patterns" >> beam.Create(self.patterns)
            | "Match" >> beam.ParDo(_MatchPatternFn()).with_outputs(REJECTED_TAG, main="paths")
        )
        read = (
            matched.paths
            # Distinct: a file matched by two patterns is read once. Its GroupByKey also breaks
            # fusion, so file reads spread over workers instead of following the few patterns.
            | "OncePerFile" >> beam.Distinct()
            | "Open" >> fileio.ReadMatches(compression=CompressionTypes.UNCOMPRESSED)
            | "Read" >> beam.ParDo(_ReadFileFn(self.text_field)).with_outputs(REJECTED_TAG, main="dumps")
        )
        rejected = (matched[REJECTED_TAG], read[REJECTED_TAG]) | "Rejected" >> beam.Flatten()
        return ReadDumpsResult(dumps=read.dumps, rejected=rejected)
