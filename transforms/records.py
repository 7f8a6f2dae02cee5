"""The records that flow between stages: small frozen dataclasses, never mutated.

Offsets (`start`, `end`) are Python code-point offsets into the decoded text of one
record (a whole `.txt` file, or one JSONL line's text field), end exclusive.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

ARTICLE = "article"
TEASER = "teaser"


def record_key(uri: str, record: int | None) -> str:
    """The id of one input record (a whole file's record is None): how stages name a dump."""
    return f"{uri}\n{-1 if record is None else record}"


def story_id(uri: str, record: int, start: int, end: int) -> str:
    """Stable id of a span: a content hash of (source, span), the same on every runner."""
    key = f"{uri}\n{record}\n{start}\n{end}".encode()
    return hashlib.sha1(key).hexdigest()[:32]


@dataclass(frozen=True)
class Dump:
    """One scraped dump: a text file, or one record of a JSONL file."""

    uri: str
    record: int
    text: str
    # Other fields of a JSONL record (url, fetched, ...) as canonical JSON, kept as metadata.
    metadata_json: str = "{}"
    # How the bytes became `text`: the encoding, then any repairs, ";"-separated
    # (e.g. "cp1252", "utf-8;mojibake-lines=2;ftfy=6.3.1;controls=3"; see read_dumps.repair_text).
    decoding: str = "utf-8"


@dataclass(frozen=True)
class Line:
    """One line of a story draft with the role the splitter gave it."""

    start: int
    end: int
    role: str  # see split_stories.ROLE_*


@dataclass(frozen=True)
class StoryDraft:
    """A story span found by the splitter, before its fields are parsed."""

    uri: str
    record: int
    start: int
    end: int
    lines: tuple[Line, ...]
    # dump text[start:end]; line offsets are absolute, so line text = text[l.start - start : l.end - start]
    text: str
    cue: str  # what opened this story (kicker, title, topic-shift, truncation, ...)
    metadata_json: str = "{}"

    def line_text(self, line: Line) -> str:
        return self.text[line.start - self.start : line.end - self.start]


@dataclass(frozen=True)
class Story:
    """A parsed story, as written to the corpus (see write_corpus.story_to_json)."""

    id: str
    uri: str
    record: int
    start: int
    end: int
    text: str  # body only: paragraphs joined by a blank line
    kind: str  # ARTICLE or TEASER
    title: str | None
    kicker: str | None
    deck: str | None
    truncated: bool
    metadata_json: str = "{}"
    cluster: str | None = None
    duplicate_of: str | None = None
    # Why the story joined its cluster: "exact", "near", "contained" (None for a singleton).
    dedup_reason: str | None = None
    similarity: float | None = None


@dataclass(frozen=True)
class Rejected:
    """Anything not kept as a story: boilerplate lines, undecodable input, failed elements."""

    stage: str  # the stage that set it aside (read, split, parse, dedup, write)
    reason: str  # short machine-readable reason, e.g. "boilerplate", "undecodable", "exception"
    uri: str
    record: int | None
    start: int | None
    end: int | None
    text: str
    detail: str = ""
    kind: str = field(default="rejected")  # "boilerplate" for boilerplate lines, else "rejected"

    @property
    def id(self) -> str:
        return story_id(self.uri, -1 if self.record is None else self.record, self.start or 0, self.end or 0)


def canonical_json(obj: object) -> str:
    """JSON with sorted keys and no ASCII escaping: the same bytes on every run."""
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def rejected_from_failure(stage: str, element: object, error: object) -> Rejected:
    """The dead-letter record for an element whose processing raised an exception.

    `error` is what Beam's with_exception_handling gives: (exception type, repr, traceback).
    The element's whole text is kept, so a failure never loses input.
    """
    detail = error[1] if isinstance(error, tuple) and len(error) > 1 else repr(error)
    uri = getattr(element, "uri", "") or ""
    record = getattr(element, "record", None)
    start = getattr(element, "start", None)
    end = getattr(element, "end", None)
    text = getattr(element, "text", None)
    if not isinstance(text, str):
        text = repr(element)
    if start is None and isinstance(element, Dump):
        start, end = 0, len(element.text)
    import logging

    logging.getLogger("storysift").warning(
        "%s failed on %s record %s [%s:%s], written to rejected/: %s",
        stage,
        uri or "?",
        record,
        start,
        end,
        str(detail)[:300],
    )
    return Rejected(stage, "exception", uri, record, start, end, text, str(detail)[:2000])
