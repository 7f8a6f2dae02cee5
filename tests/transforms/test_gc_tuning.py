"""A process that set up a storysift stage collects garbage less often and ends with its heap
frozen (no last full collection); results never depend on it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def exit_report(body: str) -> str:
    """stdout of a child Python that runs `body`, with an exit hook registered before it that
    prints how many objects gc.freeze had set aside when the process ended (atexit runs hooks
    last-registered first, so this one runs after any hook `body` registers)."""
    code = textwrap.dedent(
        """
        import atexit, gc
        atexit.register(lambda: print("frozen at exit:", gc.get_freeze_count()))
        """
    ) + textwrap.dedent(body)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return done.stdout


def frozen_at_exit(stdout: str) -> int:
    (line,) = [ln for ln in stdout.splitlines() if ln.startswith("frozen at exit:")]
    return int(line.split(":")[1])


def test_a_plain_process_ends_unfrozen():
    assert frozen_at_exit(exit_report("x = [[i] for i in range(1000)]")) == 0


def test_tune_for_batch_raises_the_youngest_threshold_and_freezes_the_heap_at_exit_only():
    out = exit_report(
        """
        import gc
        from transforms.gc_tuning import tune_for_batch
        before = gc.get_threshold()
        tune_for_batch()
        tune_for_batch()  # asked again by another DoFn: still one hook
        print("thresholds:", before, gc.get_threshold())
        print("frozen while running:", gc.get_freeze_count())
        x = [[i] for i in range(1000)]
        """
    )
    assert "thresholds: (700, 10, 10) (10000, 10, 10)" in out
    assert "frozen while running: 0" in out
    assert frozen_at_exit(out) > 1000


def test_stage_setup_asks_for_it():
    out = exit_report(
        """
        from transforms.split_stories import SplitConfig, SplitDumpFn
        SplitDumpFn(SplitConfig()).setup()
        """
    )
    assert frozen_at_exit(out) > 0
