"""Atomic output: a run writes into a staging folder and moves into place only at the end.

During a run WriteCorpus writes under `OUTPUT/_storysift_staging-<id>/`. When the pipeline has
finished, `commit` removes `OUTPUT/_SUCCESS` and the previous run's outputs, moves every staged
file to the same path under OUTPUT and deletes the staging folder; the CLI then writes the report
and, last, `OUTPUT/_SUCCESS` (only for a run that passed its checks). So:

- an interrupted or failed run never leaves a `clean/` that looks complete: its files are still
  under the staging folder (deleted when the pipeline fails, left behind when the process is
  killed; `--overwrite` removes such leftovers, and without it the CLI refuses the folder);
- with `--overwrite` the previous output stays whole until the new one is ready;
- a reader checks `_SUCCESS` (`is_complete`) before trusting an output folder.

Works on any Beam filesystem: files are renamed one by one (object stores have no folders).
"""

from __future__ import annotations

import datetime
import logging
import uuid
from collections.abc import Sequence

from apache_beam.io.filesystems import FileSystems

LOG = logging.getLogger("storysift")

STAGING_PREFIX = "_storysift_staging-"
SUCCESS = "_SUCCESS"


def new_staging_dir(output_dir: str) -> str:
    """A fresh staging folder path under `output_dir` (created by the first file written to it)."""
    return FileSystems.join(output_dir, f"{STAGING_PREFIX}{uuid.uuid4().hex[:16]}")


def _files_under(folder: str) -> list[str]:
    try:
        (result,) = FileSystems.match([FileSystems.join(folder, "**")])
    except Exception:  # noqa: BLE001 - a folder that does not exist holds nothing
        return []
    return sorted(m.path for m in result.metadata_list)


def staging_dirs(output_dir: str) -> list[str]:
    """Staging folders left in `output_dir` (by a running, failed or killed run)."""
    found = set()
    for path in _files_under(FileSystems.join(output_dir, f"{STAGING_PREFIX}*")):
        rel = path[len(output_dir) :].lstrip("/")
        first = rel.split("/", 1)[0]
        if first.startswith(STAGING_PREFIX):
            found.add(FileSystems.join(output_dir, first))
    return sorted(found)


def remove(paths: Sequence[str]) -> None:
    """Delete files or folders that exist; others are ignored."""
    existing = [p for p in paths if FileSystems.exists(p)]
    if existing:
        FileSystems.delete(existing)


def _ensure_parent(path: str) -> None:
    parent = FileSystems.split(path)[0]
    try:
        FileSystems.mkdirs(parent)
    except Exception:  # noqa: BLE001 - it exists already (or the filesystem has no folders)
        pass


def commit(staging: str, output_dir: str, replaced: Sequence[str]) -> int:
    """Move the staged output into `output_dir`; returns the number of files moved.

    First `_SUCCESS` and the entries named in `replaced` (the previous output) are removed, so
    the folder never mixes two runs while looking complete.
    """
    remove([FileSystems.join(output_dir, SUCCESS)])
    remove([FileSystems.join(output_dir, name) for name in replaced])
    files = _files_under(staging)
    for source in files:
        rel = source[len(staging) :].lstrip("/")
        destination = FileSystems.join(output_dir, rel)
        _ensure_parent(destination)
        FileSystems.rename([source], [destination])
    remove([staging])
    return len(files)


def discard(staging: str) -> None:
    """Best-effort removal of a failed run's staging folder."""
    try:
        remove([staging])
    except Exception:  # noqa: BLE001 - leftovers are refused or removed by the next run
        LOG.warning("could not remove the staging folder %s", staging, exc_info=True)


def write_success(output_dir: str, status: str = "done") -> str:
    """Write `_SUCCESS` (last of all): the output folder is complete."""
    path = FileSystems.join(output_dir, SUCCESS)
    stamp = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    with FileSystems.create(path, mime_type="text/plain") as f:
        f.write(f"{status} {stamp}\n".encode())
    return path


def is_complete(output_dir: str) -> bool:
    """Whether `output_dir` holds a finished storysift run that passed its checks."""
    return FileSystems.exists(FileSystems.join(output_dir, SUCCESS))
