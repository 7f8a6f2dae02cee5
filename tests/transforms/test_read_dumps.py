"""ReadDumps: the pure decoding/parsing rules, then the Beam stage on real files in tmp_path."""

from __future__ import annotations

import bz2
import codecs
import gzip
import json
from types import SimpleNamespace

import apache_beam as beam
import pytest
import zstandard
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.testing.util import assert_that, equal_to
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import offline_test_pipeline
from transforms import counters
from transforms.read_dumps import (
    BAD_JSON,
    BINARY,
    CORRUPT_COMPRESSED,
    EMPTY,
    MISSING_TEXT_FIELD,
    NO_MATCH,
    NOT_AN_OBJECT,
    TEXT_NOT_A_STRING,
    UNDECODABLE,
    UNSUPPORTED_FORMAT,
    CorruptCompressedError,
    ReadDumps,
    UndecodableError,
    decode_text,
    decompress,
    detect_format,
    parse_jsonl,
    read_file,
    repair_text,
)
from transforms.records import Dump, Rejected, canonical_json

PAYLOAD = "Première ligne.\r\nSecond line — “quoted”.\n".encode()


# ---- pure functions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, expected",
    [
        ("a/page.txt", ("txt", None)),
        ("gs://b/x/batch.JSONL", ("jsonl", None)),
        ("page.txt.gz", ("txt", "gzip")),
        ("batch.jsonl.bz2", ("jsonl", "bz2")),
        ("s3://b/batch.jsonl.zst", ("jsonl", "zstd")),
        ("notes.json", (None, None)),
        ("archive.tar.gz", (None, "gzip")),
        (".txt", (None, None)),
    ],
)
def test_detect_format(name, expected):
    assert detect_format(name) == expected


@pytest.mark.parametrize(
    "name, compress",
    [
        ("x.txt.gz", gzip.compress),
        ("x.txt.bz2", bz2.compress),
        ("x.txt.zst", lambda b: zstandard.ZstdCompressor().compress(b)),
    ],
)
def test_decompress_round_trip(name, compress):
    assert decompress(compress(PAYLOAD), name) == PAYLOAD


def test_decompress_uncompressed_is_identity():
    assert decompress(PAYLOAD, "x.txt") == PAYLOAD


def test_decompress_concatenated_members_and_frames():
    assert decompress(gzip.compress(b"ab") + gzip.compress(b"cd"), "x.jsonl.gz") == b"abcd"
    zc = zstandard.ZstdCompressor()
    assert decompress(zc.compress(b"ab") + zc.compress(b"cd"), "x.jsonl.zst") == b"abcd"


def test_decompress_streamed_zstd_without_content_size():
    frame = zstandard.ZstdCompressor(write_content_size=False).compress(PAYLOAD)
    assert decompress(frame, "x.txt.zst") == PAYLOAD


@pytest.mark.parametrize(
    "name, blob",
    [
        ("x.txt.gz", gzip.compress(PAYLOAD)[:-6]),
        ("x.txt.gz", b"not gzip at all"),
        ("x.txt.bz2", bz2.compress(PAYLOAD)[:-4]),
        ("x.txt.zst", zstandard.ZstdCompressor().compress(PAYLOAD)[:-3]),
        ("x.txt.zst", zstandard.ZstdCompressor().compress(PAYLOAD) + b"junk"),
        ("x.txt.zst", b"\x00\x01\x02"),
    ],
)
def test_decompress_corrupt_raises_one_error_type(name, blob):
    with pytest.raises(CorruptCompressedError):
        decompress(blob, name)


def test_decode_utf8():
    assert decode_text("café “x”".encode()) == ("café “x”", "utf-8")


def test_decode_strips_utf8_bom():
    text, encoding = decode_text(b"\xef\xbb\xbfhello\r\nworld")
    assert (text, encoding) == ("hello\r\nworld", "utf-8-sig")


def test_decode_cp1252_fallback():
    assert decode_text(b"caf\xe9 \x93quoted\x94") == ("café “quoted”", "cp1252")


def test_decode_latin1_when_cp1252_fails():
    # 0x81 is undefined in cp1252; latin-1 maps every byte.
    assert decode_text(b"caf\xe9 \x81") == ("café \x81", "latin-1")


def test_decode_utf16_with_bom():
    assert decode_text("héllo".encode("utf-16")) == ("héllo", "utf-16")


def test_decode_invalid_utf16_is_undecodable():
    with pytest.raises(UndecodableError):
        decode_text(codecs.BOM_UTF16_LE + b"o\x00k\x00\x00\xd8A\x00")  # a lone high surrogate


def test_decode_keeps_newlines_and_unicode_forms():
    decomposed = "cafe\u0301\r\nx\ry"  # NFD e + combining accent, CRLF and CR
    assert decode_text(decomposed.encode()) == (decomposed, "utf-8")


@given(st.text())
def test_decode_utf8_round_trip_loses_nothing(text):
    decoded, encoding = decode_text(text.encode("utf-8", "surrogatepass"))
    if encoding == "utf-8":
        assert decoded == text


def _jsonl(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def test_parse_jsonl_records_count_non_empty_lines():
    text = _jsonl(
        json.dumps({"url": "u0", "text": "zero"}),
        "",
        "   ",
        json.dumps({"text": "one", "fetched": "2005-01-01", "n": 0, "flag": False}),
    )
    out = list(parse_jsonl(text, "b.jsonl"))
    assert out == [
        Dump("b.jsonl", 0, "zero", canonical_json({"url": "u0"})),
        Dump("b.jsonl", 1, "one", canonical_json({"fetched": "2005-01-01", "n": 0, "flag": False})),
    ]


def test_parse_jsonl_other_text_field_keeps_text_in_metadata():
    (dump,) = parse_jsonl(json.dumps({"body": "b", "text": "t"}), "b.jsonl", text_field="body")
    assert (dump.text, json.loads(dump.metadata_json)) == ("b", {"text": "t"})


def test_parse_jsonl_keeps_text_exactly():
    text = "Line one\r\nLine\u2028two\n\nthree  "
    (dump,) = parse_jsonl(json.dumps({"text": text}, ensure_ascii=False), "b.jsonl")
    assert dump.text == text


@pytest.mark.parametrize(
    "line, reason",
    [
        ('{"text": "unterminated', BAD_JSON),
        ("[1, 2]", NOT_AN_OBJECT),
        ('"just a string"', NOT_AN_OBJECT),
        ('{"url": "u"}', MISSING_TEXT_FIELD),
        ('{"text": 42}', TEXT_NOT_A_STRING),
        ('{"text": null}', TEXT_NOT_A_STRING),
        ('{"text": "  \\n "}', EMPTY),
        ('{"text": "\\u0000\\u0007"}', EMPTY),  # control characters only: nothing left after repair
        ('{"text": "cut', BAD_JSON),
        ("[" * 50_000 + "]" * 50_000, BAD_JSON),  # RecursionError, not a crash
        ('{"n": ' + "9" * 5000 + ', "text": "x"}', BAD_JSON),  # beyond Python's int digit limit
    ],
)
def test_parse_jsonl_failures_become_rejected_with_raw_line(line, reason):
    good = json.dumps({"text": "ok"})
    out = list(parse_jsonl(_jsonl(good, line, good), "b.jsonl"))
    assert [o.record for o in out] == [0, 1, 2]
    assert isinstance(out[0], Dump) and isinstance(out[2], Dump)
    bad = out[1]
    assert isinstance(bad, Rejected)
    assert (bad.stage, bad.reason, bad.uri, bad.record, bad.text) == ("read", reason, "b.jsonl", 1, line)
    assert bad.detail


def test_parse_jsonl_without_records_is_empty():
    (rej,) = parse_jsonl("\n  \n", "b.jsonl")
    assert (rej.reason, rej.record) == (EMPTY, None)


def test_read_file_txt_keeps_decoded_text():
    (dump,) = read_file("p.txt", PAYLOAD)
    assert dump == Dump("p.txt", 0, PAYLOAD.decode("utf-8"), "{}", "utf-8")


def test_read_file_records_legacy_decoding():
    (dump,) = read_file("p.txt.gz", gzip.compress(b"caf\xe9 \x93quoted\x94"))
    assert (dump.text, dump.decoding) == ("café “quoted”", "cp1252")


@pytest.mark.parametrize(
    "uri, data, reason, record",
    [
        ("p.txt", b" \n\t\r\n", EMPTY, 0),
        ("p.txt", b"", EMPTY, 0),
        ("p.txt.gz", b"garbage", CORRUPT_COMPRESSED, 0),
        ("p.txt", b"\x00\x01\xff\xfe\x00", BINARY, 0),
        ("p.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff" * 10, BINARY, 0),
        ("p.txt", b"\x00" * 1000, BINARY, 0),  # valid UTF-8, but not text
        ("p.jsonl", bytes(range(256)) * 40, BINARY, None),
        ("p.txt", codecs.BOM_UTF16_BE + b"\xd8\x00", UNDECODABLE, 0),
        ("p.pdf", b"%PDF", UNSUPPORTED_FORMAT, None),
        ("p.jsonl", b"", EMPTY, None),
    ],
)
def test_read_file_rejects(uri, data, reason, record):
    (rej,) = read_file(uri, data)
    assert (rej.stage, rej.reason, rej.uri, rej.record) == ("read", reason, uri, record)


# ---- the Beam stage ---------------------------------------------------------------------------

TXT = "Title line\r\n\r\nFirst paragraph.\nSecond — paragraph.\n"
GZ_TXT = "Gzipped page.\n\nBody text."
RECORDS = [
    {"url": "http://a/1", "fetched": "2005-01-01T00:00:00", "text": "Record zero.\n\nMore."},
    {"url": "http://a/2", "fetched": None, "text": "Record one."},
    {"url": "http://a/3", "fetched": "2005-01-03T00:00:00", "text": "Record two, café."},
]
ZST_RECORDS = [{"url": "http://z/1", "text": "Zstd zero."}, {"url": "http://z/2", "text": "Zstd one."}]


def _meta(record: dict) -> str:
    return canonical_json({k: v for k, v in record.items() if k != "text"})


@pytest.fixture
def dumps_dir(tmp_path):
    d = tmp_path / "dumps"
    d.mkdir()
    (d / "page-00001.txt").write_bytes(TXT.encode())
    lines = [json.dumps(RECORDS[0]), "", json.dumps(RECORDS[1]), "{not json", json.dumps(RECORDS[2])]
    (d / "batch-01.jsonl").write_bytes(("\n".join(lines) + "\n").encode())
    (d / "page-00002.txt.gz").write_bytes(gzip.compress(GZ_TXT.encode("cp1252"), mtime=0))
    zst = "".join(json.dumps(r) + "\n" for r in ZST_RECORDS).encode()
    (d / "batch-02.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(zst))
    (d / "page-00003.txt.bz2").write_bytes(b"this is not bz2")
    (d / "notes.csv").write_text("a,b\n")
    return d


def _summary(dump: Dump) -> tuple:
    return (dump.uri.rsplit("/", 1)[-1], dump.record, dump.text, dump.metadata_json, dump.decoding)


def _rejected_summary(r: Rejected) -> tuple:
    return (r.uri.rsplit("/", 1)[-1], r.stage, r.reason, r.record, r.text)


def test_read_dumps_pipeline(dumps_dir):
    missing = str(dumps_dir / "nothing-*.jsonl")
    p = offline_test_pipeline()
    # The second pattern matches files again: each must still be read once.
    dumps, rejected = p | ReadDumps([str(dumps_dir / "*"), str(dumps_dir / "*.txt"), missing])
    assert_that(
        dumps | "SumDumps" >> beam.Map(_summary),
        equal_to(
            [
                ("page-00001.txt", 0, TXT, "{}", "utf-8"),
                ("page-00002.txt.gz", 0, GZ_TXT, "{}", "utf-8"),
                ("batch-01.jsonl", 0, RECORDS[0]["text"], _meta(RECORDS[0]), "utf-8"),
                ("batch-01.jsonl", 1, RECORDS[1]["text"], _meta(RECORDS[1]), "utf-8"),
                ("batch-01.jsonl", 3, RECORDS[2]["text"], _meta(RECORDS[2]), "utf-8"),
                ("batch-02.jsonl.zst", 0, "Zstd zero.", _meta(ZST_RECORDS[0]), "utf-8"),
                ("batch-02.jsonl.zst", 1, "Zstd one.", _meta(ZST_RECORDS[1]), "utf-8"),
            ]
        ),
        label="Dumps",
    )
    assert_that(
        rejected | "SumRejected" >> beam.Map(_rejected_summary),
        equal_to(
            [
                ("batch-01.jsonl", "read", BAD_JSON, 2, "{not json"),
                ("page-00003.txt.bz2", "read", CORRUPT_COMPRESSED, 0, ""),
                ("notes.csv", "read", UNSUPPORTED_FORMAT, None, ""),
                ("nothing-*.jsonl", "read", NO_MATCH, None, ""),
            ]
        ),
        label="Rejected",
    )
    result = p.run()
    result.wait_until_finish()
    jsonl_lines = [json.dumps(r) for r in RECORDS + ZST_RECORDS]
    assert _counters(result) == {
        counters.FILES_READ: 5,  # notes.csv is rejected by name, without reading it
        counters.DUMPS_READ: 7,
        counters.INPUT_CHARS: len(TXT) + len(GZ_TXT) + sum(len(r["text"]) for r in RECORDS + ZST_RECORDS),
        counters.READ_REJECTED: 4,
        counters.LEGACY_DECODED: 0,
        counters.REPAIRED_DUMPS: 0,
        # decompressed bytes of what was read; size on disk for the corrupt bz2 and the .csv
        counters.INPUT_BYTES: len(TXT.encode())
        + len(GZ_TXT)
        + sum(map(len, jsonl_lines))
        + len("{not json")
        + len(b"this is not bz2")
        + len("a,b\n"),
        counters.READ_REJECTED_BYTES: len("{not json") + len(b"this is not bz2") + len("a,b\n"),
        counters.READ_REJECTED_CHARS: len("{not json"),
        counters.read_rejected(BAD_JSON): 1,
        counters.read_rejected(CORRUPT_COMPRESSED): 1,
        counters.read_rejected(UNSUPPORTED_FORMAT): 1,
        counters.read_rejected(NO_MATCH): 1,
    }


def test_read_dumps_legacy_and_undecodable(tmp_path):
    (tmp_path / "legacy.txt").write_bytes(b"caf\xe9 \x93quoted\x94")
    (tmp_path / "binary.txt").write_bytes(b"\x00\xff\x00\xfe\x01\x02" * 8)  # not UTF-8, mostly controls
    p = offline_test_pipeline()
    dumps, rejected = p | ReadDumps([str(tmp_path / "*.txt")])
    assert_that(
        dumps | "SumDumps" >> beam.Map(_summary),
        equal_to([("legacy.txt", 0, "café “quoted”", '{"storysift_decoding":"cp1252"}', "cp1252")]),
        label="Dumps",
    )
    assert_that(
        rejected | "SumRejected" >> beam.Map(_rejected_summary),
        equal_to([("binary.txt", "read", BINARY, 0, "")]),
        label="Rejected",
    )
    result = p.run()
    result.wait_until_finish()
    assert _counters(result)[counters.LEGACY_DECODED] == 1


def test_read_dumps_result_has_named_outputs(tmp_path):
    (tmp_path / "a.txt").write_text("hello")
    p = offline_test_pipeline()
    result = p | ReadDumps([str(tmp_path / "a.txt")])
    assert_that(
        result.dumps | beam.Map(_summary), equal_to([("a.txt", 0, "hello", "{}", "utf-8")]), label="Dumps"
    )
    assert_that(result.rejected, equal_to([]), label="Rejected")
    p.run().wait_until_finish()


def test_read_dumps_rejects_a_single_string():
    with pytest.raises(TypeError):
        ReadDumps("dumps/*.txt")


def _counters(result) -> dict[str, int]:
    query = result.metrics().query(MetricsFilter().with_namespace(counters.NAMESPACE))
    names = (counters.FILES_READ, counters.DUMPS_READ, counters.INPUT_CHARS)
    names += (counters.READ_REJECTED, counters.LEGACY_DECODED, counters.REPAIRED_DUMPS)
    names += (counters.INPUT_BYTES, counters.READ_REJECTED_BYTES, counters.READ_REJECTED_CHARS)
    totals = dict.fromkeys(names, 0)  # a counter never incremented is not reported at all
    for c in query["counters"]:  # one entry per step using the counter
        totals[c.key.metric.name] = totals.get(c.key.metric.name, 0) + c.committed
    return totals


class _BrokenFile:
    """A ReadableFile stand-in whose bytes cannot be fetched."""

    metadata = SimpleNamespace(path="gs://bucket/page.txt")

    def open(self, *args, **kwargs):
        raise ConnectionError("network down")


def test_read_fn_turns_an_unexpected_exception_into_a_rejected():
    from transforms.read_dumps import _ReadFileFn

    (out,) = list(_ReadFileFn("text").process(_BrokenFile()))
    assert out.tag == "rejected"
    assert (out.value.reason, out.value.uri, out.value.record) == ("exception", "gs://bucket/page.txt", None)
    assert "ConnectionError('network down')" in out.value.detail


@settings(deadline=None)  # the first call imports ftfy
@given(st.lists(st.text(), max_size=5))
def test_parse_jsonl_loses_no_character(texts):
    lines = [json.dumps({"text": t}, ensure_ascii=False) for t in texts]
    out = list(parse_jsonl("\n".join(lines), "b.jsonl"))
    if not texts:
        assert [o.reason for o in out] == [EMPTY]
        return
    assert [o.record for o in out] == list(range(len(texts)))
    for o, t in zip(out, texts, strict=True):
        repaired, _ = repair_text(t)
        if repaired.strip():
            assert isinstance(o, Dump) and o.text == repaired
        else:
            assert isinstance(o, Rejected) and o.reason == EMPTY


# ---- bounded decompression, streaming and salvage ----------------------------------------------

from transforms.read_dumps import (  # noqa: E402
    MIXED,
    TOO_LARGE,
    ReadConfig,
    TooLargeError,
    read_stream,
    sniff_utf16,
)

ZC = zstandard.ZstdCompressor()


def _items(uri: str, data: bytes, config: ReadConfig | None = None):
    import io

    return list(read_stream(uri, io.BytesIO(data), "text", config or ReadConfig(), len(data)))


@pytest.mark.parametrize(
    "name, compress",
    [
        ("bomb.txt.gz", lambda b: gzip.compress(b, mtime=0)),
        ("bomb.txt.bz2", bz2.compress),
        ("bomb.txt.zst", lambda b: zstandard.ZstdCompressor(level=19).compress(b)),
    ],
)
def test_decompression_stops_at_the_limit(name, compress):
    blob = compress(b"\0" * (8 * 1024**2))  # 8 MiB of zeros in a few kilobytes
    assert len(blob) < 100_000
    with pytest.raises(TooLargeError):
        decompress(blob, name, limit=1024**2)
    assert len(decompress(blob, name, limit=8 * 1024**2)) == 8 * 1024**2
    (item,) = _items(name, blob, ReadConfig(max_record_bytes=1024**2))
    assert (item.item.reason, item.item.record, item.item.text) == (TOO_LARGE, 0, "")
    assert item.nbytes == 1024**2 + 1  # what was read before stopping, not the bomb's full size


def test_zstd_frames_before_a_truncated_frame_are_kept():
    records = [{"text": f"Record number {i} with words."} for i in range(3)]
    frames = b"".join(ZC.compress((json.dumps(r) + "\n").encode()) for r in records)
    items = _items("b.jsonl.zst", frames[:-5])
    assert [type(i.item).__name__ for i in items] == ["Dump", "Dump", "Rejected"]
    assert [i.item.text for i in items[:2]] == [r["text"] for r in records[:2]]
    tail = items[2].item
    assert (tail.reason, tail.record) == (CORRUPT_COMPRESSED, 2)
    assert "rest of the file from byte" in tail.detail


def test_truncated_gzip_text_is_kept_in_its_rejection():
    text = "A line of a page that was cut short by a failed download.\n" * 500
    (item,) = _items("p.txt.gz", gzip.compress(text.encode(), mtime=0)[:-50])
    r = item.item
    assert (r.reason, r.record) == (CORRUPT_COMPRESSED, 0)
    assert r.text and text.startswith(r.text)  # nothing invented, the salvaged prefix is kept
    assert item.nbytes == len(gzip.compress(text.encode(), mtime=0)[:-50])  # size on disk


def test_a_jsonl_line_over_the_limit_is_skipped_and_the_rest_read():
    lines = [
        json.dumps({"text": "first record"}),
        json.dumps({"text": "x" * 5000}),
        "",
        json.dumps({"text": "third record"}),
    ]
    data = ("\n".join(lines) + "\n").encode()
    items = _items("b.jsonl", data, ReadConfig(max_record_bytes=1000))
    assert [(type(i.item).__name__, i.item.record) for i in items] == [
        ("Dump", 0),
        ("Rejected", 1),
        ("Dump", 2),
    ]
    big = items[1]
    assert big.item.reason == TOO_LARGE and big.nbytes == len(lines[1])
    start = len(lines[0]) + 1
    assert f"bytes {start}-{start + len(lines[1])} after decompression" in big.item.detail


def test_a_jsonl_file_over_the_file_limit_stops_with_one_rejection():
    data = "".join(json.dumps({"text": f"record {i}"}) + "\n" for i in range(100)).encode()
    items = _items("b.jsonl", data, ReadConfig(max_file_bytes=CHUNK_FOR_TESTS))
    dumps = [i for i in items if isinstance(i.item, Dump)]
    (tail,) = [i.item for i in items if isinstance(i.item, Rejected)]
    assert tail.reason == TOO_LARGE and tail.record == len(dumps)
    assert "max-file-bytes" in tail.detail


CHUNK_FOR_TESTS = 1  # any limit below one read chunk stops after the first chunk


def test_jsonl_bytes_are_accounted_per_record():
    lines = [json.dumps({"text": "good"}), "{bad", json.dumps({"text": "  "})]
    data = ("\n".join(lines) + "\n\n").encode()
    items = _items("b.jsonl", data)
    assert [i.nbytes for i in items] == [len(line) for line in lines]


# ---- encodings ---------------------------------------------------------------------------------


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_jsonl_with_or_without_bom(codec):
    records = [{"url": "u0", "text": "Première ligne — “x”."}, {"text": "Second record."}]
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode(codec)
    items = _items("b.jsonl", data)
    assert [i.item.text for i in items] == [r["text"] for r in records]
    assert {i.item.decoding for i in items} == {codec}


def test_utf16_text_without_bom_is_sniffed():
    text = "A page saved as UTF-16 by an old tool.\r\nSecond line."
    assert decode_text(text.encode("utf-16-le")) == (text, "utf-16-le")
    assert sniff_utf16(bytes(range(256)) * 4) is None
    assert sniff_utf16(b"\x00\xff\x00\xfe\x01\x02" * 20) is None  # NUL pattern, but not text


def test_one_jsonl_file_may_mix_encodings_line_by_line():
    lines = [
        json.dumps({"text": "UTF-8: café “x”"}, ensure_ascii=False).encode("utf-8"),
        json.dumps({"text": "cp1252: café “x”"}, ensure_ascii=False).encode("cp1252"),
        json.dumps({"text": "latin-1: café \x81"}, ensure_ascii=False).encode("latin-1"),
        json.dumps({"text": "ascii only"}).encode(),
    ]
    items = _items("b.jsonl", b"\n".join(lines))
    assert [i.item.text for i in items] == [
        "UTF-8: café “x”",
        "cp1252: café “x”",
        "latin-1: café  ",
        "ascii only",
    ]
    assert [i.item.decoding.split(";")[0] for i in items] == ["utf-8", "cp1252", "latin-1", "utf-8"]
    assert json.loads(items[1].item.metadata_json) == {"storysift_decoding": "cp1252"}
    assert items[0].item.metadata_json == "{}"  # plain UTF-8 adds nothing


def test_a_text_file_with_mixed_lines_is_decoded_line_by_line():
    data = "UTF-8 line: café\n".encode() + "cp1252 line: café “x”\r\n".encode("cp1252")
    assert decode_text(data) == ("UTF-8 line: café\ncp1252 line: café “x”\r\n", f"{MIXED}(cp1252,utf-8)")


def test_whitespace_only_jsonl_lines_are_not_records():
    data = b'{"text": "a"}\n\xc2\xa0\n  \t\n{"text": "b"}\n'  # a no-break space alone is blank too
    assert [i.item.record for i in _items("b.jsonl", data)] == [0, 1]


# ---- repairs -----------------------------------------------------------------------------------


def test_mojibake_is_repaired_line_by_line_and_noted():
    good = "It’s a ‘test’ — café."
    broken = good.encode("utf-8").decode("cp1252")  # Itâ€™s a â€˜testâ€™ â€” cafÃ©.
    text = f"Clean line stays exactly as it is: naïve.\n{broken}\n"
    fixed, notes = repair_text(text)
    assert fixed == f"Clean line stays exactly as it is: naïve.\n{good}\n"
    assert notes[0].startswith("mojibake-lines=1;ftfy=")


def test_legit_accents_are_not_touched():
    for text in ["São Paulo é ótimo", "Größe — “quotes”", "price: 5€", "1°C ± 2", "Ñandú, Ærø, Œuvre"]:
        assert repair_text(text) == (text, ())


def test_control_characters_become_spaces_or_newlines_keeping_length():
    text = "a\x00b\x07c\x0cd\x1ee\x85f\x7fg\x9fh\tx\r\ny"
    fixed, notes = repair_text(text)
    assert fixed == "a b c\nd\ne\nf g h\tx\r\ny"
    assert len(fixed) == len(text) and notes == ("controls=7",)


def test_lone_surrogates_become_replacement_characters():
    (dump,) = parse_jsonl('{"text": "bad \\ud800 end", "title": "t \\udfff"}', "b.jsonl")
    assert dump.text == "bad \ufffd end"
    assert json.loads(dump.metadata_json) == {"title": "t \ufffd", "storysift_decoding": "utf-8;surrogates=1"}
    dump.text.encode("utf-8")  # encodable now


def test_a_source_field_named_like_the_note_is_kept():
    (dump,) = parse_jsonl('{"text": "x\\u0000y", "storysift_decoding": "mine"}', "b.jsonl")
    assert json.loads(dump.metadata_json) == {"storysift_decoding": "mine"}
    assert dump.decoding == "utf-8;controls=1"


def test_nan_and_infinity_stay_valid_json_in_metadata():
    (dump,) = parse_jsonl('{"text": "x", "score": NaN, "max": Infinity}', "b.jsonl")
    assert json.loads(dump.metadata_json) == {"score": "NaN", "max": "Infinity"}


def test_raw_control_characters_inside_json_strings_are_accepted():
    (dump,) = parse_jsonl('{"text": "a\tb"}', "b.jsonl")
    assert dump.text == "a\tb"


@settings(deadline=None, max_examples=200)
@given(st.text())
def test_repair_is_idempotent(text):
    once, _ = repair_text(text)
    twice, notes = repair_text(once)
    assert twice == once or notes and notes[0].startswith("mojibake")  # ftfy may fix a fix


@settings(deadline=None, max_examples=300)
@given(
    st.binary(max_size=300),
    st.sampled_from(["a.txt", "a.jsonl", "a.txt.gz", "a.jsonl.zst", "a.txt.bz2", "a.csv"]),
)
def test_reading_never_raises_and_accounts_every_item(data, name):
    items = _items(name, data, ReadConfig(max_record_bytes=100))
    assert items
    for item in items:
        assert item.nbytes >= 0
        assert isinstance(item.item, Dump | Rejected)
        if isinstance(item.item, Dump):
            assert item.item.text.strip()
            item.item.text.encode("utf-8")  # always encodable
            json.loads(item.item.metadata_json)
