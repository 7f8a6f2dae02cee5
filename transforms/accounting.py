"""Accounting: prove that every character of every dump ends somewhere in the output.

The definition, per dump (a `.txt` file or one JSONL record) with decoded text T:

- a *content line* is a maximal run of characters other than "\\r" and "\\n", without its
  leading and trailing whitespace (`str.strip`), when anything is left: exactly the lines the
  splitter works on;
- the output *claims* spans of T: kept stories (`clean/`), dropped copies (`duplicates/`),
  boilerplate lines and rejected spans (`rejected/`: too short, failed elements);
- each character of T is counted once, in the first of these that claims it: boilerplate (a
  boilerplate line inside a story span is boilerplate), kept, duplicate, rejected; a character
  no span claims is *whitespace* when it lies outside every content line (newlines, blank
  lines, the indentation and trailing spaces the splitter strips) and *lost* otherwise;
- so len(T) = kept + duplicate + boilerplate + rejected + whitespace + lost, and the dump
  balances when lost = 0 and no character is claimed twice (two stories, two boilerplate lines;
  `overlap`) or lies beyond the text (`out_of_range`).

Summed over all dumps these are Beam counters (`account.*`); the CLI compares them with the
characters ReadDumps decoded (`read.input_chars`) and writes the result in report.json.
Read-stage rejects (a bad JSON line, a corrupt archive) have no dump: their bytes are counted by
ReadDumps (`read.rejected_bytes`), and the text they carry by `read.rejected_chars`.

The rules are plain functions at the top of the module; the Beam stage is at the bottom.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

KEPT = "kept"
DUPLICATE = "duplicate"
BOILERPLATE = "boilerplate"
REJECTED = "rejected"
# Which category a character claimed by several spans counts in (boilerplate first: a boilerplate
# line inside a story's span is expected). Claims beyond the first are `overlap`, except
# boilerplate inside one story span.
PRIORITY = (BOILERPLATE, KEPT, DUPLICATE, REJECTED)
STORY_CATEGORIES = (KEPT, DUPLICATE, REJECTED)

_LINE_RE = re.compile(r"[^\r\n]+")


def content_lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of every content line: non-blank, stripped (split_stories.text_lines' rule)."""
    out = []
    for m in _LINE_RE.finditer(text):
        raw = m.group()
        stripped = raw.strip()
        if stripped:
            start = m.start() + (len(raw) - len(raw.lstrip()))
            out.append((start, start + len(stripped)))
    return out


@dataclass(frozen=True)
class Account:
    """Where the characters of one dump (or of many, summed) went."""

    input_chars: int
    kept: int = 0
    duplicate: int = 0
    boilerplate: int = 0
    rejected: int = 0
    whitespace: int = 0
    lost: int = 0
    overlap: int = 0
    out_of_range: int = 0

    @property
    def accounted(self) -> int:
        return self.kept + self.duplicate + self.boilerplate + self.rejected + self.whitespace + self.lost

    @property
    def balanced(self) -> bool:
        return (
            self.lost == 0
            and self.overlap == 0
            and self.out_of_range == 0
            and self.accounted == self.input_chars
        )

    def as_dict(self) -> dict:
        return {**asdict(self), "balanced": self.balanced}


def account_record(
    length: int, lines: Sequence[tuple[int, int]], spans: Iterable[tuple[int, int, str]]
) -> Account:
    """The Account of one dump of `length` characters, given its content lines and claimed spans.

    `spans` are (start, end, category) with category in PRIORITY. Linear after a sort.
    """
    events: dict[int, list[tuple[str, int]]] = {}
    out_of_range = 0

    def add(pos: int, kind: str, delta: int) -> None:
        events.setdefault(pos, []).append((kind, delta))

    for start, end in lines:
        add(start, "line", 1)
        add(end, "line", -1)
    for start, end, category in spans:
        if category not in PRIORITY:
            raise ValueError(f"unknown category {category!r}")
        s, e = max(0, start), min(length, end)
        out_of_range += max(0, end - start) - max(0, e - s)
        if s < e:
            add(s, category, 1)
            add(e, category, -1)
    add(0, "line", 0)
    add(length, "line", 0)
    counts = dict.fromkeys((*PRIORITY, "line"), 0)
    totals = dict.fromkeys((*PRIORITY, "whitespace", "lost", "overlap"), 0)
    prev = None
    for pos in sorted(events):
        if prev is not None and pos > prev:
            width = pos - prev
            bp = counts[BOILERPLATE]
            stories = sum(counts[c] for c in STORY_CATEGORIES)
            if bp:
                totals[BOILERPLATE] += width
                totals["overlap"] += width * ((bp - 1) + max(0, stories - 1))
            elif stories:
                first = next(c for c in STORY_CATEGORIES if counts[c])
                totals[first] += width
                totals["overlap"] += width * (stories - 1)
            elif counts["line"]:
                totals["lost"] += width
            else:
                totals["whitespace"] += width
        for kind, delta in events[pos]:
            counts[kind] += delta
        prev = pos
    return Account(
        input_chars=length,
        kept=totals[KEPT],
        duplicate=totals[DUPLICATE],
        boilerplate=totals[BOILERPLATE],
        rejected=totals[REJECTED],
        whitespace=totals["whitespace"],
        lost=totals["lost"],
        overlap=totals["overlap"],
        out_of_range=out_of_range,
    )


def account_text(text: str, spans: Iterable[tuple[int, int, str]]) -> Account:
    """account_record for a dump whose text is at hand."""
    return account_record(len(text), content_lines(text), spans)


def lost_spans(text: str, spans: Iterable[tuple[int, int, str]]) -> list[tuple[int, int]]:
    """The parts of content lines no span claims (for error messages and tests)."""
    claimed = sorted((s, e) for s, e, _ in spans)
    out = []
    for start, end in content_lines(text):
        pos = start
        for s, e in claimed:
            if e <= pos or s >= end:
                continue
            if s > pos:
                out.append((pos, s))
            pos = max(pos, e)
        if pos < end:
            out.append((pos, end))
    return out


def sum_accounts(accounts: Iterable[Account]) -> Account:
    total = dict.fromkeys(asdict(Account(0)), 0)
    for a in accounts:
        for k, v in asdict(a).items():
            total[k] += v
    return Account(**total)


# ---------------------------------------------------------------- the run-level check


def accounting_report(metrics: dict[str, float]) -> dict:
    """The `accounting` section of report.json, from the run's counters (names in counters.py).

    `balanced` is None when the runner reported no metrics (nothing could be checked).
    """
    from transforms import counters as c

    def get(name: str) -> int:
        return int(metrics.get(name, 0) or 0)

    section = {
        "definition": (
            "per dump: input_chars = kept + duplicate + boilerplate + rejected + whitespace + lost "
            "(each character once; whitespace = outside every stripped non-blank line and every "
            "span); balanced when lost = overlap = 0 and the sums agree with what ReadDumps read"
        ),
        "input_chars": get(c.INPUT_CHARS),
        "dumps": get(c.DUMPS_READ),
        "kept_chars": get(c.ACCOUNT_KEPT_CHARS),
        "duplicate_chars": get(c.ACCOUNT_DUPLICATE_CHARS),
        "boilerplate_chars": get(c.ACCOUNT_BOILERPLATE_CHARS),
        "rejected_chars": get(c.ACCOUNT_REJECTED_CHARS),
        "whitespace_chars": get(c.ACCOUNT_WHITESPACE_CHARS),
        "lost_chars": get(c.ACCOUNT_LOST_CHARS),
        "overlap_chars": get(c.ACCOUNT_OVERLAP_CHARS),
        "unbalanced_dumps": get(c.ACCOUNT_UNBALANCED_DUMPS),
        "orphan_spans": get(c.ACCOUNT_ORPHAN_SPANS),
        "accounted_dumps": get(c.ACCOUNT_DUMPS),
        "accounted_input_chars": get(c.ACCOUNT_INPUT_CHARS),
        "read_rejected_chars": get(c.READ_REJECTED_CHARS),
    }
    if not metrics:
        section["balanced"] = None
        section["problems"] = ["the runner reported no metrics: nothing was checked"]
        return section
    parts = sum(
        section[k]
        for k in (
            "kept_chars",
            "duplicate_chars",
            "boilerplate_chars",
            "rejected_chars",
            "whitespace_chars",
            "lost_chars",
        )
    )
    problems = []
    if section["accounted_dumps"] != section["dumps"]:
        problems.append(f"{section['dumps']} dumps read but {section['accounted_dumps']} accounted for")
    if section["accounted_input_chars"] != section["input_chars"]:
        problems.append(
            f"{section['input_chars']} characters read but {section['accounted_input_chars']} accounted for"
        )
    if parts != section["accounted_input_chars"]:
        problems.append(f"the categories sum to {parts}, not {section['accounted_input_chars']}")
    for key in ("lost_chars", "overlap_chars", "unbalanced_dumps", "orphan_spans"):
        if section[key]:
            problems.append(f"{key} = {section[key]}")
    section["balanced"] = not problems
    section["problems"] = problems
    return section


def reject_fraction_report(metrics: dict[str, float], max_fraction: float) -> dict:
    """The `bad_input` section of report.json: how much of the input (bytes) could not be used.

    rejected bytes = bytes of read-stage rejects + UTF-8 bytes of dumps a later stage failed on;
    input bytes = bytes after decompression (size on disk for a file that cannot be decompressed).
    """
    from transforms import counters as c

    input_bytes = int(metrics.get(c.INPUT_BYTES, 0) or 0)
    rejected = int(metrics.get(c.READ_REJECTED_BYTES, 0) or 0) + int(
        metrics.get(c.ACCOUNT_FAILED_BYTES, 0) or 0
    )
    fraction = rejected / input_bytes if input_bytes else (1.0 if rejected else 0.0)
    return {
        "unit": "bytes",
        "input_bytes": input_bytes,
        "rejected_bytes": rejected,
        "reject_fraction": round(fraction, 6),
        "max_reject_fraction": max_fraction,
        "exceeded": bool(metrics) and fraction > max_fraction,
        "rejected_records_by_reason": {
            name.rsplit(".", 1)[-1]: int(v)
            for name, v in sorted(metrics.items())
            if name.startswith(c.read_rejected("")) and v
        },
    }


@dataclass(frozen=True)
class RunChecks:
    """What the CLI does after a run: the report sections, the status, and whether it failed."""

    status: str  # "done", "failed: too much bad input", "failed: accounting does not balance"
    failure: str | None  # None, "bad-input" or "unbalanced"
    problems: tuple[str, ...]
    sections: dict

    @property
    def ok(self) -> bool:
        return self.failure is None


def run_checks(metrics: dict[str, float], max_reject_fraction: float) -> RunChecks:
    """The accounting and reject-fraction checks of a finished run (an unbalanced account wins)."""
    accounting = accounting_report(metrics)
    bad_input = reject_fraction_report(metrics, max_reject_fraction)
    sections = {"accounting": accounting, "bad_input": bad_input}
    if accounting["balanced"] is False:
        problems = tuple(f"accounting does not balance: {p}" for p in accounting["problems"])
        return RunChecks("failed: accounting does not balance", "unbalanced", problems, sections)
    if bad_input["exceeded"]:
        problem = (
            f"{bad_input['reject_fraction']:.1%} of the input bytes ({bad_input['rejected_bytes']:,} of "
            f"{bad_input['input_bytes']:,}) could not be used, more than --max-reject-fraction "
            f"{max_reject_fraction}; see rejected/ and report.json's bad_input"
        )
        return RunChecks("failed: too much bad input", "bad-input", (problem,), sections)
    return RunChecks("done", None, (), sections)


# ---------------------------------------------------------------------------------------------
# The Beam stage. Everything above is plain Python; Beam is only needed from here on.
# ---------------------------------------------------------------------------------------------

import logging  # noqa: E402

import apache_beam as beam  # noqa: E402

from transforms import counters  # noqa: E402
from transforms.records import Dump, Rejected, Story, record_key  # noqa: E402

LOG = logging.getLogger("storysift")
_DUMP = "dump"
_SPAN = "span"
MAX_LOGGED = 20  # unbalanced dumps logged per worker (all are counted)


def dump_entry(dump: Dump) -> tuple[str, tuple]:
    """(key, ("dump", length, content lines packed as int64 pairs)): no text is shuffled."""
    flat = array("q", [p for line in content_lines(dump.text) for p in line])
    return record_key(dump.uri, dump.record), (_DUMP, len(dump.text), flat.tobytes())


def story_entry(story: Story, category: str) -> tuple[str, tuple]:
    return record_key(story.uri, story.record), (_SPAN, story.start, story.end, category)


def rejected_entries(r: Rejected) -> Iterable[tuple[str, tuple]]:
    """Spans of rejects from the stages after ReadDumps (read-stage rejects have no dump)."""
    if r.stage == "read":
        return
    category = BOILERPLATE if r.kind == BOILERPLATE else REJECTED
    # A failed element without a span (start None) stands for its whole dump.
    yield record_key(r.uri, r.record), (_SPAN, r.start, r.end, category)


class _AccountDumpFn(beam.DoFn):
    """(key, entries) -> the dump's Account, added to the account.* counters."""

    def __init__(self):
        names = {
            "input_chars": counters.ACCOUNT_INPUT_CHARS,
            KEPT: counters.ACCOUNT_KEPT_CHARS,
            DUPLICATE: counters.ACCOUNT_DUPLICATE_CHARS,
            BOILERPLATE: counters.ACCOUNT_BOILERPLATE_CHARS,
            REJECTED: counters.ACCOUNT_REJECTED_CHARS,
            "whitespace": counters.ACCOUNT_WHITESPACE_CHARS,
            "lost": counters.ACCOUNT_LOST_CHARS,
            "overlap": counters.ACCOUNT_OVERLAP_CHARS,
        }
        self.counters = {field: counters.counter(name) for field, name in names.items()}
        self.dumps = counters.counter(counters.ACCOUNT_DUMPS)
        self.unbalanced = counters.counter(counters.ACCOUNT_UNBALANCED_DUMPS)
        self.orphans = counters.counter(counters.ACCOUNT_ORPHAN_SPANS)
        self.logged = 0

    def process(self, element):
        key, entries = element
        dumps = [e for e in entries if e[0] == _DUMP]
        spans = [e for e in entries if e[0] == _SPAN]
        if not dumps:
            self.orphans.inc(len(spans))
            self._log(key, f"{len(spans)} output spans of a dump that was never read")
            return
        self.dumps.inc(len(dumps))
        _, length, packed = dumps[0]
        flat = array("q")
        flat.frombytes(packed)
        lines = list(zip(flat[0::2], flat[1::2], strict=True))
        claimed = [
            (0 if start is None else start, length if start is None else end, category)
            for _, start, end, category in spans
        ]
        account = account_record(length, lines, claimed)
        for field, counter in self.counters.items():
            value = getattr(account, field)
            if value:
                counter.inc(value)
        if not account.balanced or len(dumps) > 1:
            self.unbalanced.inc()
            self._log(key, f"{account.as_dict()} ({len(dumps)} dumps under this key)")
        yield key, account

    def _log(self, key: str, message: str) -> None:
        if self.logged < MAX_LOGGED:
            self.logged += 1
            uri, _, record = key.rpartition("\n")
            LOG.error("accounting: %s record %s does not balance: %s", uri, record, message)


def _failed_bytes(r: Rejected) -> int:
    return (
        len(r.text.encode("utf-8", "surrogatepass")) if r.stage != "read" and r.reason == "exception" else 0
    )


class _CountFailedFn(beam.DoFn):
    def __init__(self):
        self.failed = counters.counter(counters.ACCOUNT_FAILED_BYTES)

    def process(self, r: Rejected):
        n = _failed_bytes(r)
        if n:
            self.failed.inc(n)
        return ()


class AccountCharacters(beam.PTransform):
    """{"dumps", "clean", "duplicates", "rejected"} -> PCollection of (record key, Account).

    Shuffles only offsets (never text), grouped by dump. Counters: ACCOUNT_* (see counters.py).
    """

    def expand(self, pcolls):
        dumps = pcolls["dumps"] | "DumpLines" >> beam.Map(dump_entry)
        kept = pcolls["clean"] | "KeptSpans" >> beam.Map(story_entry, KEPT)
        dropped = pcolls["duplicates"] | "DuplicateSpans" >> beam.Map(story_entry, DUPLICATE)
        rejected = pcolls["rejected"] | "RejectedSpans" >> beam.FlatMap(rejected_entries)
        _ = pcolls["rejected"] | "FailedBytes" >> beam.ParDo(_CountFailedFn())
        return (
            (dumps, kept, dropped, rejected)
            | "AllEntries" >> beam.Flatten()
            | "ByDump" >> beam.GroupByKey()
            | "Account" >> beam.ParDo(_AccountDumpFn())
        )
