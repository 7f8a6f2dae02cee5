"""Hostile text: every pattern and per-line rule stays linear on long runs of the characters it
is sensitive to, and the splitter stays linear on a dump of 100,000 lines.

Each input is long enough (100,000-200,000 characters) that a quadratic rule would need minutes
to hours where the linear one needs milliseconds. `no_hang` is a guard against such hangs (its
limit is far above the linear cost, even on a loaded machine), not a timing measurement: how fast
things run is measured in benchmarks/robustness.py.
"""

from __future__ import annotations

import contextlib
import signal

import pytest

from transforms import (
    accounting,
    deck_split,
    deduplicate,
    line_cues,
    read_dumps,
    repeated_lines,
    sentences,
    split_stories,
    topic_shift,
)

N = 200_000
GUARD_SECONDS = 60


class Hang(Exception):
    pass


@contextlib.contextmanager
def no_hang(seconds: int = GUARD_SECONDS):
    """Raise Hang if the body runs longer than `seconds` (the regex engine checks for signals)."""

    def _raise(signum, frame):
        raise Hang(f"still running after {seconds}s: super-linear on this input")

    previous = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def runs(units: str | list[str], n: int = N, tails: tuple[str, ...] = ("", "!x", " x")) -> list[str]:
    """Long runs of each unit, each with endings that make anchored patterns fail at the very end."""
    units = list(units) if isinstance(units, str) else units
    return [(u * (n // len(u) + 1))[:n] + tail for u in units for tail in tails]


# (what, function, inputs): the line-level rules get one long line each.
LINE_CASES = [
    (
        "boilerplate_kind",
        line_cues.boilerplate_kind,
        runs(["A", "a", " ", "|", " | x", "•", "(", ")", "-", ":", "."]),
    ),
    (
        "boilerplate_kind",
        line_cues.boilerplate_kind,
        runs(["By A ", "Reporting by ", "A (Reuters) -", "Home | "]),
    ),
    ("match_kicker", line_cues.match_kicker, runs(["A", "A ", "A.", "A-", "A’", "A&", "1", "AB: ", "A :"])),
    ("looks_like_title", line_cues.looks_like_title, runs(["A", "A ", "“", ",", "…"])),
    ("classify_line", split_stories.classify_line, runs(["A", "Aa ", "BY ", "Share ", "| "])),
    ("content_terms", topic_shift.content_terms, runs(["a", "Ab ", "1a", "_a"], n=50_000)),
    ("names", topic_shift._names, runs(["A", "Aa", "Aa's ", "Aa’s", ". A", "! Aa "])),
    ("ends_sentence", sentences.ends_sentence, runs([".", ". ", "..", "a.,", "A.", "”", "…", "!"])),
    ("ends_sentence_simple", line_cues.ends_sentence_simple, runs(["”", ".”", "…", "'"])),
    ("sentence_spans", sentences.sentence_spans, runs(["A. ", ". "], n=10_000, tails=("!x",))),
    ("line_key", repeated_lines.line_key, runs(["A ", "\t"])),
    (
        "repair_text",
        read_dumps.repair_text,
        runs(["Ã", "Ã©", "â€™", "\x00", "\ud800", "é", "\x85"], n=90_000),
    ),
    ("control_share", read_dumps.control_share, runs(["\x00", "\x01a"])),
    ("content_lines", accounting.content_lines, runs(["\r", "\n", "\r\n", " \n", "a\r"])),
    ("text_lines", split_stories.text_lines, runs(["\r", "\n", "\r\n", " \n", "a\r", "\n\n"], n=50_000)),
    ("normalise_for_hash", deduplicate.normalise_for_hash, runs([" ", "a ", "\t\n"])),
    ("shingle_list", lambda t: deduplicate.shingle_list(t, 5), runs(["a ", "_", "ab"], n=50_000)),
    ("split_deck", deck_split.split_deck, runs(["A ", "Aa ", "a. ", "“A ", "A: ", "A"], n=50_000)),
]


@pytest.mark.parametrize("what, func, inputs", LINE_CASES, ids=[c[0] for c in LINE_CASES])
def test_rules_are_linear_on_long_runs(what, func, inputs):
    with no_hang():
        for text in inputs:
            func(text)


def test_bytes_decoding_is_linear_on_long_runs():
    with no_hang():
        n = N // 4
        for data in (b"\xff\n" * n, b"\r" * n, b"\xe9\r\n" * n, b"\x00a" * n, b"\xef\xbb\xbf" + b"\n" * n):
            try:
                read_dumps.decode_text(data)
            except read_dumps.UndecodableError:
                pass
        lines = list(read_dumps.iter_jsonl_lines(_Bytes(b"\n" * N + b"x" * N), 1000, 10 * N))
        assert len(lines) == N + 1


class _Bytes:
    def __init__(self, data: bytes):
        self._data, self._pos = data, 0

    def read(self, n: int) -> bytes:
        out = self._data[self._pos : self._pos + n]
        self._pos += len(out)
        return out


def test_the_splitter_is_linear_on_100000_lines():
    kinds = ["alpha", "Beta", "Advertisement", "Advertisement", "Title Line Here", "Gamma delta"]
    # Bylines (story starts) and prose are rare: the topic model's cost per paragraph is linear
    # but large (benchmarks/robustness.py), and blocks past MAX_TOPIC_UNITS skip it.
    rare = {
        0: "A paragraph that goes on and on without a full stop at all here and then some",
        1: "By Jane Smith",
    }
    text = "\n".join(
        rare[i // 4999 % 2] if i % 4999 == 0 else kinds[(i * 7) % 11 % len(kinds)] for i in range(100_000)
    )
    text += "\nAdvertisement" * 5000
    with no_hang(120):
        result = split_stories.split_text(text)
    covered = {i for story in result.stories for i in story} | set(result.boilerplate)
    assert covered == set(range(len(result.lines)))  # every line is in a story or boilerplate
    assert len(result.lines) == 105_000


def test_the_topic_model_is_linear_up_to_its_cap():
    texts = [
        f"Paragraph {i} on the {('harbour', 'budget', 'match')[i % 3]} and the rain." for i in range(1000)
    ]
    with no_hang():
        topic_shift.scored_boundaries(texts)


def test_a_huge_block_is_not_topic_segmented():
    """Beyond MAX_TOPIC_UNITS paragraphs between cues, the topic model is skipped (linear guard)."""
    n = split_stories.MAX_TOPIC_UNITS + 1
    text = "\n".join(f"Paragraph {i} about the harbour and the river and the rain." for i in range(n))
    result = split_stories.split_text(text)
    assert result.cues == (split_stories.CUE_START,)
