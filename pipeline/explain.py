"""`storysift explain FILE`: show, line by line, how one dump is split and parsed.

For every line: the story it went to (or `-` for boilerplate), its role, and at each story
start the cue that opened it with its score; after each story, the parsed kind, title,
kicker, deck and truncation. No Beam pipeline runs: it calls the stages' pure functions, on
the one dump alone, so what a run learns from the whole corpus (repeated lines, story openings,
continuations) is not applied: a line or boundary that evidence decides may differ in a run.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from transforms.parse_teasers import parse_fields
from transforms.read_dumps import read_file
from transforms.records import Dump, Rejected, StoryDraft
from transforms.split_stories import SplitConfig, drafts_from_split, split_text
from transforms.topic_shift import DEFAULT_PENALTY

PREVIEW = 90


def _preview(text: str, width: int = PREVIEW) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def explain_dump(dump: Dump, config: SplitConfig = SplitConfig()) -> Iterator[str]:
    """Lines of the explanation of one dump."""
    result = split_text(dump.text, config)
    story_of: dict[int, int] = {}
    for n, story in enumerate(result.stories):
        for i in story:
            story_of[i] = n
    drafts = [d for d in drafts_from_split(dump, result) if isinstance(d, StoryDraft)]
    yield f"== {dump.uri} record {dump.record}: {len(result.lines)} lines, {len(result.stories)} stories"
    for i, line in enumerate(result.lines):
        n = story_of.get(i)
        opens = n is not None and result.stories[n][0] == i
        if opens:
            yield f"-- story {n + 1}: opened by {result.cues[n]} (score {result.scores[n]:.3f})"
        story = "-" if n is None else str(n + 1)
        role = line.role if n is not None or line.role != "paragraph" else "outside"
        yield f"{i + 1:>5} {story:>4} {role:<11} {_preview(line.text)}"
        if n is not None and result.stories[n][-1] == i:
            fields = parse_fields(drafts[n])
            deck = None if fields.deck is None else _preview(fields.deck, 70)
            yield (
                f"      => {fields.kind}, truncated={fields.truncated}, title={fields.title!r}, "
                f"kicker={fields.kicker!r}, deck={deck!r}"
            )


def explain_file(path: str, text_field: str, record: int | None, config: SplitConfig) -> Iterator[str]:
    data = Path(path).read_bytes()
    for item in read_file(path, data, text_field):
        if isinstance(item, Rejected):
            if record is None or item.record == record:
                yield f"== {item.uri} record {item.record}: rejected ({item.reason}) {item.detail}"
            continue
        if record is None or item.record == record:
            yield from explain_dump(item, config)


def run_explain(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="storysift explain",
        description="Show how storysift splits and parses one dump file, line by line.",
    )
    parser.add_argument("file", help="a .txt or .jsonl dump (optionally .gz/.bz2/.zst)")
    parser.add_argument("--record", type=int, default=None, help="only this JSONL record (0-based)")
    parser.add_argument("--text-field", dest="text_field", default="text", help="JSONL field with the text")
    parser.add_argument(
        "--topic-penalty", dest="topic_penalty", type=float, default=DEFAULT_PENALTY, help="as for a run"
    )
    args = parser.parse_args(list(argv))
    if not Path(args.file).is_file():
        print(f"storysift explain: error: no such file: {args.file}", file=sys.stderr)
        return 2
    for line in explain_file(
        args.file, args.text_field, args.record, SplitConfig(topic_penalty=args.topic_penalty)
    ):
        print(line)
    return 0
