"""Dataflow Flex Template entry point: the storysift CLI, submitted without waiting.

The Flex Template launcher runs `python launch.py --name=value ...`, one argument per template
parameter (metadata.json). Booleans arrive as `--overwrite=true`; the launcher must exit once
the job is submitted, so `--detach` is always added (run `storysift report OUTPUT` after the job
to fill report.json/report.html). Everything else goes to the CLI as it is.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

FLAGS = {"overwrite", "detach"}  # our store_true options
TRUE = {"true", "1", "yes", "on"}


def template_args(argv: Sequence[str]) -> list[str]:
    """`--overwrite=true` -> `--overwrite`, `--overwrite=false` -> nothing; then `--detach` once."""
    out: list[str] = []
    for arg in argv:
        name, sep, value = arg.partition("=")
        if sep and name.startswith("--") and name[2:].replace("-", "_") in FLAGS:
            if value.strip().lower() in TRUE:
                out.append(name)
            continue
        out.append(arg)
    if "--detach" not in out:
        out.append("--detach")
    return out


def main() -> None:
    from pipeline.cli import run

    sys.exit(run(template_args(sys.argv[1:])))


if __name__ == "__main__":
    main()
