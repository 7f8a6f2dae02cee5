"""Fuzz targets over the reader, splitter and parser: no exception may escape, nothing may be lost.

The targets are plain functions; tests/robustness/test_fuzz.py drives them with hypothesis for a
bounded number of examples in CI. For a longer hunt:

python -m tests.robustness.fuzz --seconds 600   # random inputs until the time is up
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import time

from tests.robustness.strategies import BOILERPLATE_LINES, KICKERS, NAMES, WORDS, split_and_parse
from transforms.accounting import account_text, lost_spans
from transforms.read_dumps import ReadConfig, parse_jsonl_line, read_stream
from transforms.records import Dump, Rejected

# Characters the patterns and rules care about, plus some that break naive code.
HOSTILE = list(":.!?…,;-–—|•·'’‘\"“”()[]&@#%$€£0123456789 \t\r\n\x0c\x0b\x85\u2028\u2029\u00a0\u200b\ufeff")
HOSTILE += list("AaBbZzÃâ€™é\u0301\x00\x1b\ud7ff\U0001f600")


def target_split_parse(text: str) -> None:
    """split+parse one dump: every character accounted for, offsets exact."""
    out = split_and_parse(text)
    spans = out.spans()
    account = account_text(text, spans)
    if not account.balanced:
        raise AssertionError(f"unbalanced {account}: lost {lost_spans(text, spans)[:5]}")
    for draft in out.drafts:
        if draft.text != text[draft.start : draft.end]:
            raise AssertionError(f"draft text differs from its span {draft.start}:{draft.end}")


def target_read(data: bytes, name: str) -> None:
    """read_stream on arbitrary bytes: only Dumps and Rejected come out, never an exception."""
    config = ReadConfig(max_record_bytes=4096, max_file_bytes=1 << 20)
    for item in read_stream(name, io.BytesIO(data), "text", config, len(data)):
        if not isinstance(item.item, Dump | Rejected) or item.nbytes < 0:
            raise AssertionError(f"bad item {item!r}")
        if isinstance(item.item, Dump):
            item.item.text.encode("utf-8")


def target_jsonl_line(line: str) -> None:
    out = parse_jsonl_line(line, "f.jsonl", 0)
    if not isinstance(out, Dump | Rejected):
        raise AssertionError(f"bad output {out!r}")


def random_dump(rng: random.Random) -> str:
    """A page-like text with hostile characters sprinkled in (for the time-bounded loop)."""
    parts = []
    for _ in range(rng.randint(1, 12)):
        kind = rng.random()
        if kind < 0.15:
            parts.append(rng.choice(BOILERPLATE_LINES))
        elif kind < 0.3:
            words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 40)))
            parts.append(f"{rng.choice(KICKERS)}: {words}")
        else:
            words = [rng.choice(WORDS + NAMES) for _ in range(rng.randint(1, 60))]
            parts.append(" ".join(words) + rng.choice(["", ".", ".", "?", "…"]))
    text = rng.choice(["\n", "\r\n", "\n\n", "\r"]).join(parts)
    chars = list(text)
    for _ in range(rng.randint(0, 30)):
        pos = rng.randint(0, len(chars))
        chars[pos:pos] = rng.choice(HOSTILE) * rng.choice([1, 1, 1, 2, 50, 500])
    return "".join(chars)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    deadline = time.monotonic() + args.seconds
    runs = 0
    while time.monotonic() < deadline:
        text = random_dump(rng)
        try:
            target_split_parse(text)
            data = text.encode(rng.choice(["utf-8", "utf-16", "cp1252"]), "replace")
            target_read(data, rng.choice(["x.txt", "x.jsonl"]))
        except Exception:
            print(f"failure on input {text!r}", file=sys.stderr)
            raise
        runs += 1
    print(f"{runs} inputs, no failure")
    return 0


if __name__ == "__main__":
    sys.exit(main())
