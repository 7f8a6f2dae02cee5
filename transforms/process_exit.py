"""Let a process end without the interpreter's last full garbage collection.

When CPython exits it runs one more cyclic collection over every object still alive. In a
storysift worker (Beam, numpy, nltk and scipy loaded, plus a run's memos and side inputs) that
took 0.4 s on the samples and about 0.9 s on a 50 MB crawl, and the local runner closes its
workers one after another, waiting for each process to end: two workers cost a run 1 to 1.8 s
of doing nothing. Freezing the heap first (gc.freeze) leaves those objects out of that last
collection. Nothing is lost by it: every file a stage writes is closed before its bundle ends,
and the operating system frees the memory of an ending process anyway.
"""

from __future__ import annotations

import atexit
import functools
import gc


@functools.cache
def skip_final_collection() -> None:
    """At exit, freeze the heap before the interpreter's final collection (registered once per
    process, however many DoFns ask)."""
    atexit.register(gc.freeze)
