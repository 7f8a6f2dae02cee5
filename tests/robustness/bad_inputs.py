"""A corpus of bad, odd and hostile inputs, generated at test time (nothing large is committed).

`write_corpus(folder)` writes every case and returns the list of `Case`s: the file(s) it wrote and
what storysift must do with them. Good files (copies of samples/) sit beside the bad ones, so a
test can check they come out exactly as when they run alone. Every text is invented here and
uses its own words, so no case is a near-copy of another or of the samples.

python -m tests.robustness.bad_inputs OUT_DIR   # write the corpus to look at it
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import json
import random
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import zstandard

from transforms import read_dumps as rd

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
GOOD_FILES = ("page-00000.txt", "two-articles.txt", "pages.jsonl", "archive.txt.gz")

# Outcomes of a file.
PROCESSED = "processed"  # read without a read-stage reject: its text is in stories/boilerplate/too-short
REJECTED = "rejected"  # read-stage rejects only, with these reasons (in record order)
PARTIAL = "partial"  # some records read, some rejected


@dataclass(frozen=True)
class Case:
    """One kind of bad input: the file it is in, and what must happen to it."""

    name: str
    file: str
    outcome: str
    reasons: tuple[str, ...] = ()  # read-stage reject reasons, in record order
    dumps: int | None = None  # records read as dumps (None: do not check)
    decoding: str | None = None  # a substring of every dump's decoding note (metadata)
    contains: tuple[str, ...] = ()  # texts that must appear in the file's stories/boilerplate
    absent: tuple[str, ...] = ()  # texts that must not appear in any output text of the file
    note: str = ""


@dataclass
class Corpus:
    folder: Path
    cases: list[Case] = field(default_factory=list)
    good: list[str] = field(default_factory=list)  # file names of the good files

    def write(self, name: str, data: bytes) -> str:
        (self.folder / name).write_bytes(data)
        return name


_SYLLABLES = "ka lo mi ren tas vo shu pel dra min quo zer bel tum fa gri nol sev ast ur".split()


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3)))


def article(seed: int, paragraphs: int = 3, sentences: int = 3) -> str:
    """An invented article with a title and `paragraphs` paragraphs, one per line."""
    rng = random.Random(seed)
    name, place = _word(rng).title(), _word(rng).title()
    title = f"{name} council in {place} approves new {_word(rng)} plan"

    def sentence() -> str:
        words = [_word(rng) for _ in range(rng.randint(10, 16))]
        return f"{name} said the {' '.join(words)} in {place}."

    body = [" ".join(sentence() for _ in range(sentences)) for _ in range(paragraphs)]
    return "\n".join([title, *body]) + "\n"


def _jsonl(*records: object) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")


def _record(seed: int, **extra) -> dict:
    return {"url": f"https://example.invalid/{seed}", **extra, "text": article(seed)}


def write_corpus(folder: Path, big: bool = True) -> Corpus:
    """Write the corpus into `folder` (created); `big=False` leaves out the multi-megabyte cases."""
    folder.mkdir(parents=True, exist_ok=True)
    c = Corpus(folder)
    add = c.cases.append
    for name in GOOD_FILES:
        shutil.copyfile(SAMPLES / name, folder / name)
        c.good.append(name)

    # ---- empty and not text
    add(Case("empty file", c.write("empty.txt", b""), REJECTED, (rd.EMPTY,)))
    add(Case("whitespace-only file", c.write("blank.txt", b"  \n\t\r\n \x0c\n"), REJECTED, (rd.EMPTY,)))
    add(Case("empty JSONL file", c.write("empty.jsonl", b""), REJECTED, (rd.EMPTY,)))
    add(Case("JSONL of blank lines", c.write("blank.jsonl", b"\n  \n\r\n\t\n"), REJECTED, (rd.EMPTY,)))
    rng = random.Random(7)
    noise = bytes(rng.randrange(256) for _ in range(20000))
    add(
        Case(
            "binary file (PNG) named .txt",
            c.write("image.txt", b"\x89PNG\r\n\x1a\n" + noise),
            REJECTED,
            (rd.BINARY,),
        )
    )
    add(Case("binary file named .jsonl", c.write("blob.jsonl", noise), REJECTED, (rd.BINARY,)))
    add(Case("file of NUL bytes", c.write("zeros.txt", b"\x00" * 4096), REJECTED, (rd.BINARY,)))
    add(
        Case(
            "gzip archive named .txt",
            c.write("packed.txt", gzip.compress(article(1).encode() * 50, mtime=0)),
            REJECTED,
            (rd.BINARY,),
        )
    )
    bad16 = codecs.BOM_UTF16_LE + "ok".encode("utf-16-le") + b"\x00\xd8\x41\x00"  # lone high surrogate
    add(Case("invalid UTF-16 after a BOM", c.write("bad-utf16.txt", bad16), REJECTED, (rd.UNDECODABLE,)))
    add(
        Case(
            "unsupported extension (.csv)",
            c.write("notes.csv", b"a,b\n1,2\n"),
            REJECTED,
            (rd.UNSUPPORTED_FORMAT,),
        )
    )
    add(
        Case(
            "JSON file, not JSONL",
            c.write("page.json", json.dumps({"text": "x"}).encode()),
            REJECTED,
            (rd.UNSUPPORTED_FORMAT,),
        )
    )
    add(Case("file without extension", c.write("README", b"read me\n"), REJECTED, (rd.UNSUPPORTED_FORMAT,)))

    # ---- broken archives and bombs
    txt2 = article(2).encode()
    add(
        Case(
            "truncated gzip",
            c.write("cut.txt.gz", gzip.compress(txt2 * 20, mtime=0)[:-40]),
            REJECTED,
            (rd.CORRUPT_COMPRESSED,),
        )
    )
    add(
        Case(
            "not gzip at all",
            c.write("fake.txt.gz", b"this is not gzip data\n"),
            REJECTED,
            (rd.CORRUPT_COMPRESSED,),
        )
    )
    add(
        Case(
            "gzip with trailing junk",
            c.write("junk.txt.gz", gzip.compress(txt2, mtime=0) + b"JUNKJUNK"),
            REJECTED,
            (rd.CORRUPT_COMPRESSED,),
        )
    )
    zc = zstandard.ZstdCompressor()
    two = _jsonl(_record(30), _record(31), _record(32))
    add(
        Case(
            "truncated zstd JSONL (records before the cut are kept)",
            c.write("cut.jsonl.zst", b"".join(zc.compress(_jsonl(_record(n))) for n in (30, 31, 32))[:-25]),
            PARTIAL,
            (rd.CORRUPT_COMPRESSED,),
            dumps=2,  # one zstd frame per record: the first two frames are whole
            contains=(article(30).split("\n")[1][:60], article(31).split("\n")[1][:60]),
            note="records decoded before the cut are dumps; the rest is one corrupt-compressed record",
        )
    )
    add(
        Case(
            "zstd frame then junk",
            c.write("junk.txt.zst", zc.compress(txt2) + b"\x00junk"),
            REJECTED,
            (rd.CORRUPT_COMPRESSED,),
        )
    )
    add(
        Case(
            "truncated bz2",
            c.write("cut.jsonl.bz2", bz2.compress(two)[:-30]),
            REJECTED,
            (rd.CORRUPT_COMPRESSED,),
        )
    )
    add(Case("good bz2 text", c.write("ok.txt.bz2", bz2.compress(article(3).encode())), PROCESSED, dumps=1))
    bomb_size = (rd.DEFAULT_MAX_RECORD_BYTES + 4 * 1024**2) if big else 5 * 1024**2
    add(
        Case(
            "gzip bomb (.txt.gz expanding past --max-record-bytes)",
            c.write("bomb.txt.gz", gzip.compress(b"A" * bomb_size, compresslevel=9, mtime=0)),
            REJECTED,
            (rd.TOO_LARGE,),
        )
    )
    add(
        Case(
            "zstd bomb (one JSONL line past --max-record-bytes)",
            c.write(
                "bomb.jsonl.zst",
                zstandard.ZstdCompressor(level=19).compress(b'{"text": "' + b"B" * bomb_size),
            ),
            REJECTED,
            (rd.TOO_LARGE,),
        )
    )

    # ---- JSONL lines that are not dumps (one file per reason, plus a file mixing good and bad)
    for name, line, reason in [
        ("not JSON", b"{this is not json", rd.BAD_JSON),
        ("JSON cut mid-string", b'{"url": "u", "text": "cut he', rd.BAD_JSON),
        ("JSON nested 100,000 deep", b"[" * 100_000 + b"]" * 100_000, rd.BAD_JSON),
        ("integer of 5,000 digits", b'{"n": ' + b"9" * 5000 + b', "text": "x"}', rd.BAD_JSON),
        ("a JSON array", b"[1, 2, 3]", rd.NOT_AN_OBJECT),
        ("a JSON string", b'"just a string"', rd.NOT_AN_OBJECT),
        ("no text field", b'{"url": "u", "body": "words"}', rd.MISSING_TEXT_FIELD),
        ("text is null", b'{"text": null}', rd.TEXT_NOT_A_STRING),
        ("text is a number", b'{"text": 42}', rd.TEXT_NOT_A_STRING),
        ("text is an object", b'{"text": {"html": "<p>x</p>"}}', rd.TEXT_NOT_A_STRING),
        ("text is whitespace", b'{"text": " \\n\\t "}', rd.EMPTY),
        ("text is only control characters", b'{"text": "\\u0000\\u0007"}', rd.EMPTY),
    ]:
        file = "line-" + "".join(ch if ch.isalnum() else "-" for ch in name.lower()) + ".jsonl"
        add(Case(f"JSONL line: {name}", c.write(file, line + b"\n"), REJECTED, (reason,)))
    long_line = b'{"text": "' + b"x" * (rd.DEFAULT_MAX_RECORD_BYTES + 1) + b'"}'
    if big:
        long_line = b'{"text": "' + b"word " * (50 * 1024**2 // 5) + b'"}'
    mixed = [
        json.dumps(_record(40)).encode(),
        b"{broken",
        json.dumps(_record(41)).encode(),
        long_line,
        b"",
        json.dumps(_record(42)).encode(),
    ]
    add(
        Case(
            "good JSONL records around bad ones and a 50 MB line",
            c.write("mixed.jsonl", b"\n".join(mixed) + b"\n"),
            PARTIAL,
            (rd.BAD_JSON, rd.TOO_LARGE),
            dumps=3,
            contains=(article(40).split("\n")[1][:60], article(42).split("\n")[1][:60]),
        )
    )

    # ---- encodings and repairs: read, repaired, noted
    a5 = article(5)
    add(
        Case(
            "UTF-8 with BOM",
            c.write("bom.txt", codecs.BOM_UTF8 + a5.encode()),
            PROCESSED,
            dumps=1,
            decoding="utf-8-sig",
        )
    )
    a6 = article(6)
    add(
        Case(
            "UTF-16 LE with BOM",
            c.write("utf16.txt", a6.encode("utf-16")),
            PROCESSED,
            dumps=1,
            decoding="utf-16",
            contains=(a6.split("\n")[1][:60],),
        )
    )
    a7 = article(7)
    add(
        Case(
            "UTF-16 BE JSONL without BOM",
            c.write("utf16be.jsonl", json.dumps({"text": a7}).encode("utf-16-be") + "\n".encode("utf-16-be")),
            PROCESSED,
            dumps=1,
            decoding="utf-16-be",
            contains=(a7.split("\n")[1][:60],),
        )
    )
    a8 = article(8).replace(" said the ", " said the “quoted” €5 ", 1)
    add(
        Case(
            "cp1252 legacy page",
            c.write("legacy.txt", a8.encode("cp1252")),
            PROCESSED,
            dumps=1,
            decoding="cp1252",
            contains=("“quoted” €5",),
        )
    )
    a9 = article(9).replace(" said the ", " said the caf\u00e9 \u0081 ", 1)
    add(
        Case(
            "latin-1 page (byte 0x81 undefined in cp1252)",
            c.write("latin1.txt", a9.encode("latin-1")),
            PROCESSED,
            dumps=1,
            decoding="latin-1",
        )
    )
    r10, r11 = _record(10), _record(11)
    r10["text"] = r10["text"].replace(" said the ", " said the naïve “caf\u00e9” ", 1)
    r11["text"] = r11["text"].replace(" said the ", " said the résumé ", 1)
    lines = (
        json.dumps(r10, ensure_ascii=False).encode("utf-8")
        + b"\n"
        + json.dumps(r11, ensure_ascii=False).encode("cp1252")
        + b"\n"
    )
    add(
        Case(
            "mixed encodings in one JSONL file (UTF-8 and cp1252 lines)",
            c.write("mixed-enc.jsonl", lines),
            PROCESSED,
            dumps=2,
            contains=("naïve “café”", "résumé"),
        )
    )
    a12 = article(12).replace(" said the ", " said it’s the ‘best’ café ", 1)
    moji = a12.encode("utf-8").decode("cp1252")  # â€™ and friends (every byte defined in cp1252)
    add(
        Case(
            "mojibake (UTF-8 read as cp1252, saved as UTF-8)",
            c.write("mojibake.txt", moji.encode("utf-8")),
            PROCESSED,
            dumps=1,
            decoding="mojibake-lines=",
            contains=("it’s the ‘best’ café",),
            absent=("â€",),
        )
    )
    a13 = article(13)
    a13 = a13.replace(" said the ", " said\x00 the\x07 ", 1).replace("\n", "\n\x0c", 1)
    add(
        Case(
            "NULs and control characters in text",
            c.write("controls.txt", a13.encode()),
            PROCESSED,
            dumps=1,
            decoding="controls=",
            absent=("\x00", "\x07"),
        )
    )
    add(
        Case(
            "lone surrogate escape in JSON text",
            c.write(
                "surrogate.jsonl",
                b'{"text": "' + json.dumps(article(14))[1:-1].encode() + b' \\ud800 end."}\n',
            ),
            PROCESSED,
            dumps=1,
            decoding="surrogates=1",
        )
    )
    add(
        Case(
            "Windows CRLF line endings",
            c.write("crlf.txt", article(15).replace("\n", "\r\n").encode()),
            PROCESSED,
            dumps=1,
        )
    )
    add(
        Case(
            "old-Mac CR line endings",
            c.write("cr.txt", article(16).replace("\n", "\r").encode()),
            PROCESSED,
            dumps=1,
        )
    )
    crlf = json.dumps(_record(17)).replace("\\n", "\\r\\n")  # CRLF inside the text too
    raw_tab = '{"text": "a raw\ttab inside a JSON string, and enough words to keep the story."}'
    add(
        Case(
            "JSONL with CRLF and raw control characters in strings",
            c.write("crlf.jsonl", (crlf + "\r\n" + raw_tab + "\r\n").encode()),
            PROCESSED,
            dumps=2,
        )
    )
    add(
        Case(
            "NaN and duplicate keys in JSON",
            c.write(
                "nan.jsonl",
                b'{"score": NaN, "url": "a", "url": "b", "text": '
                + json.dumps(article(18)).encode()
                + b"}\n",
            ),
            PROCESSED,
            dumps=1,
        )
    )

    # ---- hostile text: processed, in bounded time
    rng = random.Random(19)
    words = [_word(rng) for _ in range(50)]
    n_lines = 100_000 if big else 5_000
    add(
        Case(
            f"{n_lines:,} one-word lines",
            c.write("one-word-lines.txt", "\n".join(rng.choice(words) for _ in range(n_lines)).encode()),
            PROCESSED,
            dumps=1,
        )
    )
    para = " ".join(_word(random.Random(20)) for _ in range(40)) + "."
    add(
        Case(
            "one paragraph repeated 3,000 times",
            c.write("repeated.txt", ((para + "\n") * 3000).encode()),
            PROCESSED,
            dumps=1,
        )
    )
    add(
        Case(
            "one word repeated 200,000 times on one line",
            c.write("spam.txt", ("spamword " * 200_000).encode()),
            PROCESSED,
            dumps=1,
        )
    )
    hostile = (
        "\n".join(
            [
                "A" * 30000 + ":" + " word" * 10,  # kicker label pattern
                "By " + "Smith " * 5000,  # byline pattern
                "X" * 20000 + " (Reuters) -",  # dateline pattern
                " | ".join(["Home"] * 5000),  # navigation bar pattern
                "." * 30000,  # sentence ends, ellipses
                "Reporting by " + "x" * 30000,  # credit pattern
                "“" * 20000 + "Quote" + "”" * 20000,  # quotes and closers
                "'s " * 20000,  # possessives (names)
                ("Mr. " * 10000) + "Smith went home.",  # abbreviations
                "\t \u00a0 " * 10000 + "spaces",  # odd whitespace
                "Advertisement",
            ]
        )
        + "\n"
    )
    add(
        Case(
            "lines built to make regexes backtrack",
            c.write("hostile.txt", hostile.encode()),
            PROCESSED,
            dumps=1,
        )
    )
    return c


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else Path("bad-corpus")
    corpus = write_corpus(out)
    for case in corpus.cases:
        print(f"{case.file:45} {case.outcome:10} {','.join(case.reasons):30} {case.name}")
    print(f"{len(corpus.cases)} cases, {len(corpus.good)} good files in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
