"""Write deploy/flex-template/metadata.json from the CLI's own argument parser.

    python deploy/flex-template/make_metadata.py > deploy/flex-template/metadata.json

Every option of `storysift` becomes a template parameter named as Beam names options (snake
case; the CLI accepts both spellings), with the CLI's help text; tests/deploy checks that the
committed file is exactly what this prints.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

REQUIRED = {"input", "output"}
NOTES = {
    "input": " The template takes one glob (the command line takes --input several times).",
    "detach": " The template always detaches: its launcher must exit once the job is submitted.",
}


def parameters() -> list[dict]:
    from pipeline.cli import build_parser

    params = []
    for action in build_parser()._actions:
        longs = [s for s in action.option_strings if s.startswith("--")]
        if not longs or action.dest == "help":
            continue
        name = longs[0][2:].replace("-", "_")
        help_text = " ".join((action.help or "").replace("%%", "%").split())
        if action.default not in (None, False) and "default" not in help_text.lower():
            help_text += f" Default: {action.default}."
        param = {
            "name": name,
            "label": longs[0][2:].replace("-", " ").capitalize(),
            "helpText": help_text + NOTES.get(name, ""),
            "isOptional": name not in REQUIRED,
        }
        if action.choices:
            param["regexes"] = ["^(" + "|".join(sorted(map(str, action.choices))) + ")$"]
        elif action.nargs == 0:  # a flag: the launcher passes true/false
            param["regexes"] = ["^(true|false)$"]
        elif action.type is int:
            param["regexes"] = ["^[0-9]+$"]
        elif action.type is float:
            param["regexes"] = ["^[0-9]*\\.?[0-9]+$"]
        params.append(param)
    return params


def metadata() -> dict:
    return {
        "name": "storysift",
        "description": "Turn scraped news dumps into a clean, deduplicated story corpus (sharded JSONL, "
        "Dolma documents or Parquet) with a run report. Any Dataflow option can be given as well.",
        "parameters": parameters(),
    }


if __name__ == "__main__":
    print(json.dumps(metadata(), indent=2, ensure_ascii=False))
