#!/usr/bin/env python3
"""Fast development loop: split + parse a folder of dumps with the pure functions (no Beam,
no dedup; every story its own cluster) and write contract JSONL for the bench scorer. Each dump
is split alone: what a run learns from the whole corpus (repeated lines, story openings,
continuations) is not applied, so the scores can differ from a pipeline run's.

  python tools/eval_segmentation.py DUMPS_DIR OUT.jsonl
  python ../shared/bench/score.py --gold ../shared/bench/dev --pred OUT.jsonl
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from transforms.parse_teasers import parse_draft  # noqa: E402
from transforms.records import Dump, Rejected, StoryDraft  # noqa: E402
from transforms.split_stories import SplitConfig, drafts_from_split, split_text  # noqa: E402
from transforms.write_corpus import story_to_json  # noqa: E402


def dumps_in(folder: Path):
    for path in sorted(folder.iterdir()):
        uri = f"dumps/{path.name}"
        if path.suffix == ".txt":
            yield Dump(uri, 0, path.read_text(encoding="utf-8"))
        elif path.suffix == ".jsonl":
            lines = [ln for ln in path.read_text(encoding="utf-8").split("\n") if ln.strip()]
            for k, line in enumerate(lines):
                yield Dump(uri, k, json.loads(line)["text"])


CONFIG = SplitConfig(
    topic_penalty=float(os.environ.get("PENALTY", "1.0")), use_topic_shift=os.environ.get("TOPIC", "1") == "1"
)


def main() -> None:
    folder, out = Path(sys.argv[1]), Path(sys.argv[2])
    if os.environ.get("SKIP_DECK") == "1":  # segmentation work while the deck model is refitted
        import transforms.parse_teasers as parse_module

        parse_module.split_deck = lambda text: (None, " ".join(text.split()))
    with out.open("w", encoding="utf-8") as f:
        for dump in dumps_in(folder):
            for item in drafts_from_split(dump, split_text(dump.text, CONFIG)):
                if not isinstance(item, StoryDraft):
                    continue
                story = parse_draft(item)
                if isinstance(story, Rejected):
                    continue
                # Every story its own cluster: this loop skips dedup on purpose.
                rec = story_to_json(dataclasses.replace(story, cluster=story.id)) | {"cue": item.cue}
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
