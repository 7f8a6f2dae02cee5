"""ReadDumps: match input globs, decompress and decode each file, and cut it into `Dump` records.

A `.txt` file is one dump (record 0); a `.jsonl` file is one dump per non-empty line, numbered
0, 1, ... among the non-empty lines (as the scorer numbers them). Compression is taken from the
suffix (`.gz`, `.bz2`, `.zst`).

Files are streamed, never loaded whole: decompression is bounded, so a zip bomb costs at most
`max_record_bytes` of memory (a `.txt` file, one JSONL line) and `max_file_bytes` of reading
(a whole `.jsonl` file) before it is set aside as `too-large`. What is read before a corrupt or
truncated archive breaks is kept (JSONL records before the break are dumps as usual).

Decoding: UTF-8 (a BOM removed), UTF-16 (by BOM, or by the NUL pattern of ASCII text), and when
the bytes are not UTF-8, line by line: UTF-8 where a line is, else cp1252, else latin-1 (so one
JSONL file may mix encodings). Bytes that are mostly control characters are binary, not text.
Then the text is repaired, and every later offset refers to the repaired text:
- mojibake (UTF-8 read as cp1252/latin-1, `â€™` for `’`) is fixed line by line with ftfy;
- lone surrogates (possible through JSON `\\ud800` escapes) become U+FFFD;
- control characters become a space (NUL, C0, DEL, C1) or a newline (vertical tab, form feed,
  the file/group/record separators and NEL, which other tools treat as line breaks).
What was done is recorded in `Dump.decoding` (e.g. `cp1252;mojibake-lines=2;controls=3`) and, for
anything but plain UTF-8, in the output records' metadata under `storysift_decoding`; `read_file`
on the same bytes reproduces the exact text the offsets point into. Newlines are never
normalised (CRLF and old-Mac CR stay as they are).

Whatever cannot be read becomes a `Rejected` record with stage "read", a machine-readable reason
and, in `detail`, where it is (decompressed byte offsets); nothing is dropped silently. Each item
read also reports the input bytes it stands for (`ReadItem.nbytes`): the record's bytes after
decompression, or for a file that could not be decompressed or sniffed as text, its size on disk.
The Beam stage sums them in counters for `--max-reject-fraction`.

The rules are plain functions at the top of the module; the Beam stage is at the bottom.
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, NamedTuple

from transforms.records import Dump, Rejected, canonical_json

STAGE = "read"

# Reasons a file, record or pattern is set aside (Rejected.reason).
NO_MATCH = "no-match"
UNSUPPORTED_FORMAT = "unsupported-format"
CORRUPT_COMPRESSED = "corrupt-compressed"
UNDECODABLE = "undecodable"
BINARY = "binary"
EMPTY = "empty"
TOO_LARGE = "too-large"
BAD_JSON = "bad-json"
NOT_AN_OBJECT = "not-an-object"
MISSING_TEXT_FIELD = "missing-text-field"
TEXT_NOT_A_STRING = "text-not-a-string"
EXCEPTION = "exception"
REASONS = (
    NO_MATCH,
    UNSUPPORTED_FORMAT,
    CORRUPT_COMPRESSED,
    UNDECODABLE,
    BINARY,
    EMPTY,
    TOO_LARGE,
    BAD_JSON,
    NOT_AN_OBJECT,
    MISSING_TEXT_FIELD,
    TEXT_NOT_A_STRING,
    EXCEPTION,
)

TXT = "txt"
JSONL = "jsonl"
FORMATS = {".txt": TXT, ".jsonl": JSONL}
COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd"}

# Encodings (the first part of Dump.decoding).
UTF8 = "utf-8"
UTF8_BOM = "utf-8-sig"
UTF16 = "utf-16"
UTF16_LE = "utf-16-le"
UTF16_BE = "utf-16-be"
CP1252 = "cp1252"
LATIN1 = "latin-1"
MIXED = "mixed"  # "mixed(cp1252,utf-8)": lines of one .txt file in different encodings
LEGACY_ENCODINGS = frozenset({CP1252, LATIN1})
METADATA_KEY = "storysift_decoding"  # where the decoding note goes in the output's metadata

DEFAULT_MAX_RECORD_BYTES = 16 * 1024**2
DEFAULT_MAX_FILE_BYTES = 4 * 1024**3
CHUNK = 1024**2
SNIFF_BYTES = 64 * 1024
BINARY_CONTROL_SHARE = 0.05  # more control characters than this: binary, not text
MAX_REPAIR_LINE_CHARS = 100_000  # ftfy is slow on huge lines; longer lines are not repaired


@dataclass(frozen=True)
class ReadConfig:
    """Limits and repairs of ReadDumps (from --max-record-bytes, --max-file-bytes)."""

    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES  # a .txt file or one JSONL line, decompressed
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES  # a whole .jsonl file, decompressed
    repair: bool = True  # fix mojibake, surrogates and control characters

    def __post_init__(self):
        if self.max_record_bytes < 1 or self.max_file_bytes < 1:
            raise ValueError("max_record_bytes and max_file_bytes must be >= 1")


class ReadItem(NamedTuple):
    """One output of reading: a Dump or a Rejected, and the input bytes it stands for."""

    item: Dump | Rejected
    nbytes: int


class CorruptCompressedError(ValueError):
    """The bytes do not decompress with the codec their file name announces."""


class UndecodableError(ValueError):
    """The bytes are not text in any encoding we accept."""


class TooLargeError(ValueError):
    """More bytes than the configured limit came out of the decompressor."""


class SourceError(OSError):
    """Reading the stored bytes themselves failed (not their decompression)."""


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


# ---------------------------------------------------------------- bounded decompression


class _SourceReader:
    """The stored bytes; a failure to read them is a SourceError, told apart from bad compression."""

    def __init__(self, raw: BinaryIO):
        self._raw = raw
        self.consumed = 0  # stored bytes read so far

    def read(self, n: int = -1) -> bytes:
        try:
            data = self._raw.read(n)
        except Exception as exc:  # noqa: BLE001 - whatever the filesystem raises
            raise SourceError(f"reading the file failed: {exc!r}") from exc
        self.consumed += len(data)
        return data

    def readable(self) -> bool:
        return True


class _ZstdReader:
    """Streaming zstd with truncation detection and bounded output per call.

    zstandard's own stream readers accept a truncated last frame silently, so frames are fed
    through decompressobj 1 KiB at a time: one call can then produce at most ~32 MiB (RLE
    blocks), whatever the compression ratio.
    """

    FEED = 1024

    def __init__(self, raw):
        import zstandard

        self._raw = raw
        self._dctx = zstandard.ZstdDecompressor()
        self._dobj = None
        self._pending = b""
        self._buf = bytearray()
        self._eof = False
        self._error: Exception | None = None  # what broke the stream, raised after the data before it

    def _fill(self) -> None:
        data = self._pending or self._raw.read(self.FEED)
        self._pending = b""
        if not data:
            if self._dobj is not None:
                raise CorruptCompressedError("zstd: the stream ends inside a frame (truncated file)")
            self._eof = True
            return
        if self._dobj is None:
            self._dobj = self._dctx.decompressobj()
        self._buf += self._dobj.decompress(data)
        if self._dobj.eof:  # a frame is complete; files made by concatenation hold several
            self._pending = self._dobj.unused_data
            self._dobj = None

    def read(self, n: int) -> bytes:
        while len(self._buf) < n and not self._eof:
            if self._error is not None:
                if self._buf:
                    break
                raise self._error
            try:
                self._fill()
            except Exception as exc:  # noqa: BLE001 - raised again once the data before it is read
                self._error = exc
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out


class DecompressedStream:
    """read(n) of the decompressed bytes; bad or truncated data raises CorruptCompressedError."""

    def __init__(self, raw: BinaryIO, compression: str | None):
        self.compression = compression
        self.source = source = _SourceReader(raw)
        if compression is None:
            self._f = source
        elif compression == "gzip":
            self._f = gzip.GzipFile(fileobj=source, mode="rb")
        elif compression == "bz2":
            self._f = bz2.BZ2File(source, mode="rb")
        elif compression == "zstd":
            self._f = _ZstdReader(source)
        else:
            raise ValueError(f"unknown compression {compression!r}")

    def read(self, n: int) -> bytes:
        try:
            if self.compression in ("gzip", "bz2"):
                # read1: what one step decompressed, so the data before a damaged spot is handed
                # out before the error (read(n) would drop it with the exception).
                return self._f.read1(n)
            return self._f.read(n)
        except (SourceError, CorruptCompressedError):
            raise
        except Exception as exc:  # OSError, EOFError, zlib.error, ZstdError, ...: the bytes are bad
            raise CorruptCompressedError(f"{self.compression}: {exc!r}") from exc


def read_at_most(stream, limit: int) -> tuple[bytes, Exception | None]:
    """Up to `limit` bytes of `stream`, and the error that stopped it early (None at a clean end)."""
    parts: list[bytes] = []
    size = 0
    while size < limit:
        try:
            chunk = stream.read(min(CHUNK, limit - size))
        except (CorruptCompressedError, SourceError) as exc:
            return b"".join(parts), exc
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts), None


def decompress(data: bytes, name: str, limit: int | None = None) -> bytes:
    """The bytes of `data` decompressed as its file name's suffix says (unchanged without one).

    Raises CorruptCompressedError for truncated or damaged data and TooLargeError when more than
    `limit` bytes come out (reading stops there: a zip bomb is never expanded into memory).
    """
    _, compression = detect_format(name)
    stream = DecompressedStream(io.BytesIO(data), compression)
    cap = (limit + 1) if limit is not None else 2**62
    out, error = read_at_most(stream, cap)
    if error is not None:
        raise error
    if limit is not None and len(out) > limit:
        raise TooLargeError(f"more than {limit} bytes after decompression")
    return out


# ---------------------------------------------------------------- decoding

_BOMS_UTF16 = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# C0 control bytes other than tab, newline, vertical tab, form feed and carriage return, and DEL.
_CONTROL_BYTES = bytes([*range(0, 9), *range(14, 32), 127])
_PRINTABLE_BYTES = bytes([9, 10, 13, *range(32, 127)])
_LINE_BYTES_RE = re.compile(rb"[^\r\n]*(?:\r\n|\r|\n)?")


def control_byte_share(data: bytes) -> float:
    """Share of bytes that are C0 control characters other than whitespace (binary data is full of them)."""
    if not data:
        return 0.0
    return (len(data) - len(data.translate(None, _CONTROL_BYTES))) / len(data)


def sniff_utf16(data: bytes) -> str | None:
    """The UTF-16 codec ("utf-16-le"/"-be") whose NUL pattern BOM-less bytes show, else None."""
    sample = data[: SNIFF_BYTES - SNIFF_BYTES % 2]
    if len(sample) < 16:  # too little to tell from binary
        return None
    even, odd = sample[0::2], sample[1::2]
    nul_even, nul_odd = even.count(0) / len(even), odd.count(0) / len(odd)
    if nul_odd > 0.3 and nul_even < 0.02:
        codec, low = UTF16_LE, even
    elif nul_even > 0.3 and nul_odd < 0.02:
        codec, low = UTF16_BE, odd
    else:
        return None
    # The other byte of each unit must mostly be printable ASCII, as in text (binary is not).
    printable = len(low) - len(low.translate(None, _PRINTABLE_BYTES))
    return codec if printable >= 0.7 * len(low) else None


def _decode_lines(data: bytes) -> tuple[str, str]:
    """Bytes that are not UTF-8 as a whole, decoded line by line (UTF-8, else cp1252, else latin-1)."""
    parts: list[str] = []
    used: set[str] = set()
    for m in _LINE_BYTES_RE.finditer(data):
        line = m.group()
        if not line:
            continue
        text, encoding = decode_line(line)
        parts.append(text)
        if not line.isascii():
            used.add(encoding)
    if len(used) == 1:
        (label,) = used
    else:
        label = f"{MIXED}({','.join(sorted(used))})"
    return "".join(parts), label


def decode_line(line: bytes) -> tuple[str, str]:
    """One line: UTF-8, else cp1252 (curly quotes, euro sign), else latin-1 (any byte sequence)."""
    try:
        return line.decode("utf-8"), UTF8
    except UnicodeDecodeError:
        pass
    try:
        return line.decode("cp1252"), CP1252
    except UnicodeDecodeError:
        return line.decode("latin-1"), LATIN1


def decode_text(data: bytes) -> tuple[str, str]:
    """(text, encoding) of a whole file's bytes; the encoding is recorded with the dump.

    UTF-8 (a leading BOM removed: "utf-8-sig"); UTF-16 with a BOM, or without one when the NUL
    pattern says so; otherwise line by line (see _decode_lines), which names one legacy encoding
    ("cp1252", "latin-1") or a mix ("mixed(cp1252,utf-8)"). Raises UndecodableError for bytes with
    a UTF-16 BOM that are not UTF-16.
    """
    if data.startswith(_BOMS_UTF16):
        try:
            return data.decode("utf-16"), UTF16
        except UnicodeDecodeError as exc:
            raise UndecodableError(f"UTF-16 BOM but invalid UTF-16: {exc}") from exc
    bom = data.startswith(codecs.BOM_UTF8)
    body = data[3:] if bom else data
    utf16 = sniff_utf16(body)
    if utf16 is not None:
        try:
            return body.decode(utf16), utf16
        except UnicodeDecodeError:
            pass
    try:
        return body.decode("utf-8"), UTF8_BOM if bom else UTF8
    except UnicodeDecodeError:
        return _decode_lines(body)


# ---------------------------------------------------------------- repairs

# Controls that act as line breaks elsewhere (str.splitlines): VT, FF, FS, GS, RS, NEL.
_LINE_BREAK_CONTROLS = "\x0b\x0c\x1c\x1d\x1e\x85"
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# The controls that mark binary data: C0 other than whitespace, and DEL (C1 is common in
# legacy text read as latin-1, so it does not count).
_BINARY_CONTROL_RE = re.compile("[\x00-\x08\x0e-\x1f\x7f]")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
# A UTF-8 lead byte read as latin-1/cp1252 followed by a continuation byte read the same way:
# the signature of mojibake. Lines without it are never handed to ftfy (which is slow).
_CP1252_HIGH = "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ"
_MOJIBAKE_HINT_RE = re.compile(f"[\u00c2-\u00f4][\u0080-\u00bf{_CP1252_HIGH}]")
_LINE_RE = re.compile(r"[^\n]*\n?")


def control_share(text: str) -> float:
    """Share of characters that are C0 control characters other than whitespace, or DEL."""
    if not text:
        return 0.0
    return len(_BINARY_CONTROL_RE.findall(text)) / len(text)


def _ftfy_version() -> str:
    from importlib.metadata import version

    return version("ftfy")


def repair_mojibake(text: str) -> tuple[str, int]:
    """(text, lines changed): each line that shows the mojibake signature, fixed by ftfy.fix_encoding.

    Only ftfy's encoding fixes run (no quote uncurling, no normalisation), line by line, so lines
    without mojibake are left exactly as they were.
    """
    if text.isascii() or not _MOJIBAKE_HINT_RE.search(text):
        return text, 0
    from ftfy import fix_encoding

    parts: list[str] = []
    changed = 0
    for m in _LINE_RE.finditer(text):
        line = m.group()
        if line and len(line) <= MAX_REPAIR_LINE_CHARS and _MOJIBAKE_HINT_RE.search(line):
            fixed = fix_encoding(line)
            if fixed != line:
                line = fixed
                changed += 1
        parts.append(line)
    return "".join(parts), changed


def _replace_control(m: re.Match) -> str:
    return "\n" if m.group() in _LINE_BREAK_CONTROLS else " "


def repair_text(text: str, mojibake: bool = True) -> tuple[str, tuple[str, ...]]:
    """(repaired text, notes): surrogates -> U+FFFD, mojibake fixed, control characters replaced.

    Each note says what was done and how often, e.g. "mojibake-lines=2", "controls=3".
    Surrogate and control replacements keep the length; a mojibake fix shortens its line.
    """
    notes: list[str] = []
    text, n = _SURROGATE_RE.subn("\ufffd", text)
    if n:
        notes.append(f"surrogates={n}")
    if mojibake:
        text, n = repair_mojibake(text)
        if n:
            notes.append(f"mojibake-lines={n};ftfy={_ftfy_version()}")
    text, n = _CONTROL_RE.subn(_replace_control, text)
    if n:
        notes.append(f"controls={n}")
    return text, tuple(notes)


def decoding_note(encoding: str, notes: tuple[str, ...] = ()) -> str:
    """Dump.decoding: the encoding, then the repairs, ";"-separated."""
    return ";".join((encoding, *notes))


def with_decoding_metadata(metadata_json: str, decoding: str) -> str:
    """Metadata with the decoding note added under METADATA_KEY (plain UTF-8 adds nothing).

    A source field of the same name is never overwritten.
    """
    if decoding == UTF8:
        return metadata_json
    obj = json.loads(metadata_json)
    if METADATA_KEY in obj:
        return metadata_json
    obj[METADATA_KEY] = decoding
    return canonical_json(obj)


def _reject(
    reason: str, uri: str, record: int | None, text: str = "", detail: str = "", start=None, end=None
) -> Rejected:
    return Rejected(
        stage=STAGE, reason=reason, uri=uri, record=record, start=start, end=end, text=text, detail=detail
    )


def _parse_constant(name: str) -> str:
    return name  # NaN, Infinity: kept as strings, so the metadata we write stays valid JSON


def parse_jsonl_line(
    line: str,
    uri: str,
    record: int,
    text_field: str = "text",
    decoding: str = UTF8,
    repair: bool = True,
    where: str = "",
) -> Dump | Rejected:
    """One non-empty JSONL line as a Dump, or a Rejected (with the raw line as its text).

    Raw control characters inside JSON strings are accepted (scrapers write them). `where` is
    added to a rejection's detail (e.g. the line's byte offsets).
    """
    suffix = f" [{where}]" if where else ""
    try:
        obj = json.loads(line, strict=False, parse_constant=_parse_constant)
    except (ValueError, RecursionError) as exc:
        return _reject(BAD_JSON, uri, record, line, f"{type(exc).__name__}: {exc}"[:500] + suffix)
    if not isinstance(obj, dict):
        return _reject(NOT_AN_OBJECT, uri, record, line, f"a JSON {type(obj).__name__}{suffix}")
    if text_field not in obj:
        return _reject(MISSING_TEXT_FIELD, uri, record, line, f"no {text_field!r} field{suffix}")
    text = obj[text_field]
    if not isinstance(text, str):
        return _reject(
            TEXT_NOT_A_STRING, uri, record, line, f"{text_field!r} is a {type(text).__name__}{suffix}"
        )
    notes: tuple[str, ...] = ()
    if repair:
        text, notes = repair_text(text)
    elif _SURROGATE_RE.search(text):
        text, n = _SURROGATE_RE.subn("\ufffd", text)
        notes = (f"surrogates={n}",)
    if not text.strip():
        return _reject(EMPTY, uri, record, line, f"{text_field!r} is empty or whitespace{suffix}")
    metadata_json = canonical_json({k: v for k, v in obj.items() if k != text_field})
    metadata_json = _SURROGATE_RE.sub("\ufffd", metadata_json)  # lone surrogates in other fields
    note = decoding_note(decoding, notes)
    return Dump(
        uri=uri,
        record=record,
        text=text,
        metadata_json=with_decoding_metadata(metadata_json, note),
        decoding=note,
    )


def parse_jsonl(
    text: str, uri: str, text_field: str = "text", decoding: str = UTF8, repair: bool = True
) -> Iterator[Dump | Rejected]:
    """A Dump or Rejected for every non-empty line of decoded JSONL text; `record` counts them from 0.

    Lines are split on "\\n" only (JSON may hold a raw U+2028, which str.splitlines would cut);
    a line holding only whitespace is not a record.
    """
    record = 0
    for line in text.split("\n"):
        if not line.strip():
            continue
        yield parse_jsonl_line(line, uri, record, text_field, decoding, repair)
        record += 1
    if record == 0:
        yield _reject(EMPTY, uri, None, text, "no non-empty lines")


# ---------------------------------------------------------------- streaming JSONL lines


class _Line(NamedTuple):
    data: bytes
    offset: int  # decompressed byte offset of the line's first byte


class _LongLine(NamedTuple):
    offset: int
    length: int  # bytes, without the newline


class _Break(NamedTuple):
    error: Exception  # CorruptCompressedError, SourceError, TooLargeError, UndecodableError
    partial: bytes  # the incomplete line read before the break
    offset: int


def iter_jsonl_lines(
    stream, max_line: int, max_total: int, head: bytes = b""
) -> Iterator[_Line | _LongLine | _Break]:
    """The "\\n"-separated lines of a decompressed stream, with bounded memory.

    A line longer than `max_line` is skipped (never held whole) and reported as _LongLine; more
    than `max_total` bytes in all, or a stream error, ends the iteration with a _Break.
    """
    buf = bytearray(head)
    start = 0  # offset of buf[0]
    total = len(head)
    skipping = -1  # offset of a too-long line being skipped, else -1
    skipped = 0
    while True:
        nl = buf.find(b"\n")
        while nl >= 0:
            if skipping >= 0:
                yield _LongLine(skipping, skipped + nl)
                skipping, skipped = -1, 0
            elif nl > max_line:
                yield _LongLine(start, nl)
            else:
                yield _Line(bytes(buf[:nl]), start)
            del buf[: nl + 1]
            start += nl + 1
            nl = buf.find(b"\n")
        if skipping < 0 and len(buf) > max_line:
            skipping, skipped = start, 0
        if skipping >= 0:
            skipped += len(buf)
            start += len(buf)
            buf.clear()
        if total > max_total:
            yield _Break(TooLargeError(f"more than {max_total} bytes after decompression"), bytes(buf), start)
            return
        try:
            chunk = stream.read(CHUNK)
        except (CorruptCompressedError, SourceError, UndecodableError) as exc:
            yield _Break(exc, bytes(buf), skipping if skipping >= 0 else start)
            return
        if not chunk:
            break
        total += len(chunk)
        buf += chunk
    if skipping >= 0:
        yield _LongLine(skipping, skipped)
    elif buf:
        yield _Line(bytes(buf), start)


class _TranscodedStream:
    """A UTF-16 byte stream read as UTF-8 bytes (so JSONL lines can be cut at b"\\n")."""

    def __init__(self, stream, codec: str, head: bytes):
        self._stream = stream
        self._decoder = codecs.getincrementaldecoder(codec)("strict")
        self._head = head
        self._done = False

    def read(self, n: int) -> bytes:
        if self._done:
            return b""
        data, self._head = (self._head, b"") if self._head else (self._stream.read(n), b"")
        try:
            text = self._decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            raise UndecodableError(f"invalid UTF-16: {exc}") from exc
        if not data:
            self._done = True
        return text.encode("utf-8", "surrogatepass") or (b"" if self._done else self.read(n))


# ---------------------------------------------------------------- reading one file


def _where(offset: int, length: int) -> str:
    return f"bytes {offset}-{offset + length} after decompression"


def _salvaged_text(data: bytes) -> str:
    """Best-effort text of bytes read before a failure (kept in the rejection, so nothing is lost)."""
    if not data:
        return ""
    try:
        text, _ = decode_text(data)
    except UndecodableError:
        return ""
    return "" if control_share(text) > BINARY_CONTROL_SHARE else text


def _read_txt(uri: str, stream, config: ReadConfig, stored: int) -> Iterator[ReadItem]:
    data, error = read_at_most(stream, config.max_record_bytes + 1)
    if error is not None:
        reason = EXCEPTION if isinstance(error, SourceError) else CORRUPT_COMPRESSED
        detail = f"{error} (after {len(data)} bytes; the text read so far is kept here)"
        yield ReadItem(
            _reject(reason, uri, 0, _salvaged_text(data[: config.max_record_bytes]), detail), stored
        )
        return
    if len(data) > config.max_record_bytes:
        detail = f"more than --max-record-bytes {config.max_record_bytes} bytes after decompression"
        yield ReadItem(_reject(TOO_LARGE, uri, 0, detail=detail), max(stored, len(data)))
        return
    try:
        text, encoding = decode_text(data)
    except UndecodableError as exc:
        yield ReadItem(_reject(UNDECODABLE, uri, 0, detail=str(exc)), len(data))
        return
    share = control_share(text)
    if share > BINARY_CONTROL_SHARE:
        detail = f"{share:.0%} control characters ({encoding}): binary data, not text"
        yield ReadItem(_reject(BINARY, uri, 0, detail=detail), len(data))
        return
    notes: tuple[str, ...] = ()
    if config.repair:
        text, notes = repair_text(text)
    if not text.strip():
        yield ReadItem(_reject(EMPTY, uri, 0, text, "empty or whitespace-only file"), len(data))
        return
    note = decoding_note(encoding, notes)
    metadata = with_decoding_metadata("{}", note)
    yield ReadItem(Dump(uri=uri, record=0, text=text, metadata_json=metadata, decoding=note), len(data))


def _read_jsonl(uri: str, stream, text_field: str, config: ReadConfig, stored: int) -> Iterator[ReadItem]:
    head, error = read_at_most(stream, SNIFF_BYTES)
    if error is not None and not head:
        reason = EXCEPTION if isinstance(error, SourceError) else CORRUPT_COMPRESSED
        yield ReadItem(_reject(reason, uri, None, detail=str(error)), stored)
        return
    source = stream if error is None else _Failing(error)
    file_encoding = None  # set when the whole file is UTF-16 (read through a transcoder)
    if head.startswith(_BOMS_UTF16) or sniff_utf16(head):
        file_encoding = UTF16 if head.startswith(_BOMS_UTF16) else sniff_utf16(head)
        source, head = _TranscodedStream(source, file_encoding, head), b""
    else:
        if head.startswith(codecs.BOM_UTF8):
            head = head[3:]
        share = control_byte_share(head)
        if share > BINARY_CONTROL_SHARE:
            detail = f"{share:.0%} control bytes in the first {len(head)} bytes: binary data, not JSONL"
            yield ReadItem(_reject(BINARY, uri, None, detail=detail), stored)
            return
    record = 0
    total = 0
    for event in iter_jsonl_lines(source, config.max_record_bytes, config.max_file_bytes, head):
        if isinstance(event, _Line):
            total += len(event.data)
            text, encoding = decode_line(event.data)
            encoding = file_encoding or encoding
            if not text.strip():
                continue
            item = parse_jsonl_line(
                text, uri, record, text_field, encoding, config.repair, _where(event.offset, len(event.data))
            )
            yield ReadItem(item, len(event.data))
            record += 1
        elif isinstance(event, _LongLine):
            total += event.length
            detail = (
                f"a line of {event.length} bytes, more than --max-record-bytes {config.max_record_bytes} "
                f"[{_where(event.offset, event.length)}]"
            )
            yield ReadItem(_reject(TOO_LARGE, uri, record, detail=detail), event.length)
            record += 1
        else:
            err = event.error
            reason = {
                TooLargeError: TOO_LARGE,
                SourceError: EXCEPTION,
                UndecodableError: UNDECODABLE,
            }.get(type(err), CORRUPT_COMPRESSED)
            if reason == TOO_LARGE:
                err = f"more than --max-file-bytes {config.max_file_bytes} bytes after decompression"
            detail = (
                f"{err}; the rest of the file from byte {event.offset} is not read "
                f"({record} records before it were read; an incomplete line, if any, is kept here)"
            )
            partial = _salvaged_text(event.partial[: config.max_record_bytes])
            unread = max(0, stored - stream.source.consumed)  # stored bytes never decompressed
            yield ReadItem(_reject(reason, uri, record, partial, detail), len(event.partial) + unread)
            return
    if record == 0:
        yield ReadItem(_reject(EMPTY, uri, None, detail="no non-empty lines"), total)


class _Failing:
    """A stream that raises the error met while sniffing, once the sniffed head is used up."""

    def __init__(self, error: Exception):
        self._error = error

    def read(self, n: int) -> bytes:
        raise self._error


def read_stream(
    uri: str,
    raw: BinaryIO | None,
    text_field: str = "text",
    config: ReadConfig = ReadConfig(),
    stored_size: int = 0,
) -> Iterator[ReadItem]:
    """Every Dump and Rejected of one input file, read from its raw (possibly compressed) stream.

    `stored_size` is the file's size on disk (used as the input bytes of a file that cannot be read).
    """
    fmt, compression = detect_format(uri)
    if fmt is None or raw is None:
        detail = (
            f"unsupported file name {_basename(uri)!r} (expected .txt or .jsonl, optionally .gz/.bz2/.zst)"
        )
        yield ReadItem(_reject(UNSUPPORTED_FORMAT, uri, None, detail=detail), stored_size)
        return
    stream = DecompressedStream(raw, compression)
    if fmt == JSONL:
        yield from _read_jsonl(uri, stream, text_field, config, stored_size)
    else:
        yield from _read_txt(uri, stream, config, stored_size)


def read_file(
    uri: str, data: bytes, text_field: str = "text", config: ReadConfig = ReadConfig()
) -> Iterator[Dump | Rejected]:
    """Every Dump and Rejected of one input file, given its raw (possibly compressed) bytes."""
    raw = io.BytesIO(data) if detect_format(uri)[0] is not None else None
    for item in read_stream(uri, raw, text_field, config, len(data)):
        yield item.item


# ---------------------------------------------------------------------------------------------
# The Beam stage. Everything above is plain Python; Beam is only needed from here on.
# ---------------------------------------------------------------------------------------------

import apache_beam as beam  # noqa: E402
from apache_beam.io import fileio  # noqa: E402
from apache_beam.io.filesystem import CompressionTypes, FileMetadata  # noqa: E402
from apache_beam.io.filesystems import FileSystems  # noqa: E402

from transforms import counters  # noqa: E402

REJECTED_TAG = "rejected"


class _MatchPatternFn(beam.DoFn):
    """Expand a glob to file paths; a glob matching nothing (or failing) becomes a Rejected."""

    REJECTED = REJECTED_TAG

    def __init__(self):
        self.rejected = counters.counter(counters.READ_REJECTED)
        self.by_reason = {r: counters.counter(counters.read_rejected(r)) for r in (EXCEPTION, NO_MATCH)}

    def process(self, pattern: str):
        try:
            (result,) = FileSystems.match([pattern])
            files = sorted({(m.path, int(m.size_in_bytes or 0)) for m in result.metadata_list})
        except Exception as exc:
            yield self._reject(_reject(EXCEPTION, pattern, None, detail=f"match failed: {exc!r}"))
            return
        if not files:
            yield self._reject(_reject(NO_MATCH, pattern, None, detail="the pattern matches no file"))
        yield from files  # (path, size on disk)

    def _reject(self, r: Rejected):
        self.rejected.inc()
        self.by_reason[r.reason].inc()
        return beam.pvalue.TaggedOutput(self.REJECTED, r)


class _ReadFileFn(beam.DoFn):
    """Read one matched file and emit its Dumps (main) and Rejected (tagged), with byte counters."""

    REJECTED = REJECTED_TAG

    def __init__(self, text_field: str, config: ReadConfig = ReadConfig()):
        self.text_field = text_field
        self.config = config
        self.files = counters.counter(counters.FILES_READ)
        self.dumps = counters.counter(counters.DUMPS_READ)
        self.chars = counters.counter(counters.INPUT_CHARS)
        self.rejected = counters.counter(counters.READ_REJECTED)
        self.legacy = counters.counter(counters.LEGACY_DECODED)
        self.repaired = counters.counter(counters.REPAIRED_DUMPS)
        self.bytes = counters.counter(counters.INPUT_BYTES)
        self.rejected_bytes = counters.counter(counters.READ_REJECTED_BYTES)
        self.rejected_chars = counters.counter(counters.READ_REJECTED_CHARS)
        self.by_reason = {reason: counters.counter(counters.read_rejected(reason)) for reason in REASONS}

    def setup(self):
        from transforms.gc_tuning import tune_for_batch

        tune_for_batch()  # see gc_tuning: the first stage a worker runs, and the learning in it

    def process(self, readable: fileio.ReadableFile):
        uri = readable.metadata.path
        size = int(getattr(readable.metadata, "size_in_bytes", 0) or 0)
        emitted = 0
        try:
            if detect_format(uri)[0] is None:  # don't fetch bytes we cannot use
                for item in read_stream(uri, None, self.text_field, self.config, size):
                    yield self._emit(item)
                return
            # Raw bytes: we decompress ourselves, so a bad archive is a record, not a crash.
            with readable.open(compression_type=CompressionTypes.UNCOMPRESSED) as fh:
                self.files.inc()
                for item in read_stream(uri, fh, self.text_field, self.config, size):
                    emitted += 1
                    yield self._emit(item)
        except Exception as exc:  # one bad file must not fail the job; its record says why
            detail = f"{exc!r} (after {emitted} records of this file)"
            yield self._emit(
                ReadItem(_reject(EXCEPTION, uri, None, detail=detail[:2000]), 0 if emitted else size)
            )

    def _emit(self, read: ReadItem):
        out = read.item
        self.bytes.inc(read.nbytes)
        if isinstance(out, Dump):
            self.dumps.inc()
            self.chars.inc(len(out.text))
            encoding = out.decoding.split(";", 1)[0]
            if encoding in LEGACY_ENCODINGS or encoding.startswith(MIXED):
                self.legacy.inc()
            if ";" in out.decoding:
                self.repaired.inc()
            return out
        self.rejected.inc()
        self.rejected_bytes.inc(read.nbytes)
        self.rejected_chars.inc(len(out.text))
        self.by_reason.get(out.reason, self.by_reason[EXCEPTION]).inc()
        return beam.pvalue.TaggedOutput(self.REJECTED, out)


class ReadDumpsResult(NamedTuple):
    """The outputs of ReadDumps; unpacks as `dumps, rejected = p | ReadDumps(...)`."""

    dumps: beam.PCollection  # of Dump
    rejected: beam.PCollection  # of Rejected (stage "read")


class ReadDumps(beam.PTransform):
    """Pipeline root -> (Dumps, Rejected) from files matching `patterns` on any Beam filesystem.

    Each file is read once even when several patterns match it. Counters: FILES_READ,
    DUMPS_READ, INPUT_CHARS, READ_REJECTED (and one per reason), LEGACY_DECODED (dumps decoded
    by a legacy fallback), REPAIRED_DUMPS, INPUT_BYTES, READ_REJECTED_BYTES, READ_REJECTED_CHARS.
    """

    def __init__(self, patterns: list[str], text_field: str = "text", config: ReadConfig = ReadConfig()):
        super().__init__()
        if isinstance(patterns, str):
            raise TypeError("ReadDumps takes a list of patterns, not one string")
        self.patterns = sorted(set(patterns))
        self.text_field = text_field
        self.config = config

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
            | "Metadata" >> beam.MapTuple(FileMetadata)
            | "Open" >> fileio.ReadMatches(compression=CompressionTypes.UNCOMPRESSED)
            | "Read"
            >> beam.ParDo(_ReadFileFn(self.text_field, self.config)).with_outputs(REJECTED_TAG, main="dumps")
        )
        rejected = (matched[REJECTED_TAG], read[REJECTED_TAG]) | "Rejected" >> beam.Flatten()
        return ReadDumpsResult(dumps=read.dumps, rejected=rejected)
