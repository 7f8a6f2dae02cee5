"""ReadDumps: the pure decoding/parsing rules, then the Beam stage on real files in tmp_path."""

from __future__ import annotations

import bz2
import gzip
import json
from types import SimpleNamespace

import apache_beam as beam
import pytest
import zstandard
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.testing.util import assert_that, equal_to
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import offline_test_pipeline
from transforms import counters
from transforms.read_dumps import (
    BAD_JSON,
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


def test_decode_binary_is_undecodable():
    with pytest.raises(UndecodableError):
        decode_text(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff")


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
        ('{"text": "bad \\ud800 surrogate"}', UNDECODABLE),
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
        ("p.txt.gz", b"garbage", CORRUPT_COMPRESSED, None),
        ("p.txt", b"\x00\x01\xff\xfe\x00", UNDECODABLE, None),
        ("p.pdf", b"%PDF", UNSUPPORTED_FORMAT, None),
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
                ("page-00003.txt.bz2", "read", CORRUPT_COMPRESSED, None, ""),
                ("notes.csv", "read", UNSUPPORTED_FORMAT, None, ""),
                ("nothing-*.jsonl", "read", NO_MATCH, None, ""),
            ]
        ),
        label="Rejected",
    )
    result = p.run()
    result.wait_until_finish()
    assert _counters(result) == {
        counters.FILES_READ: 5,  # notes.csv is rejected by name, without reading it
        counters.DUMPS_READ: 7,
        counters.INPUT_CHARS: len(TXT) + len(GZ_TXT) + sum(len(r["text"]) for r in RECORDS + ZST_RECORDS),
        counters.READ_REJECTED: 4,
        counters.LEGACY_DECODED: 0,
    }


def test_read_dumps_legacy_and_undecodable(tmp_path):
    (tmp_path / "legacy.txt").write_bytes(b"caf\xe9 \x93quoted\x94")
    (tmp_path / "binary.txt").write_bytes(b"\x00\xff\x00\xfe")
    p = offline_test_pipeline()
    dumps, rejected = p | ReadDumps([str(tmp_path / "*.txt")])
    assert_that(
        dumps | "SumDumps" >> beam.Map(_summary),
        equal_to([("legacy.txt", 0, "café “quoted”", "{}", "cp1252")]),
        label="Dumps",
    )
    assert_that(
        rejected | "SumRejected" >> beam.Map(_rejected_summary),
        equal_to([("binary.txt", "read", UNDECODABLE, None, "")]),
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
    names += (counters.READ_REJECTED, counters.LEGACY_DECODED)
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


@given(st.lists(st.text(), max_size=5))
def test_parse_jsonl_loses_no_character(texts):
    lines = [json.dumps({"text": t}, ensure_ascii=False) for t in texts]
    out = list(parse_jsonl("\n".join(lines), "b.jsonl"))
    if not texts:
        assert [o.reason for o in out] == [EMPTY]
        return
    assert [o.record for o in out] == list(range(len(texts)))
    for o, t in zip(out, texts, strict=True):
        if t.strip():
            assert isinstance(o, Dump) and o.text == t
        else:
            assert isinstance(o, Rejected) and o.reason == EMPTY
