"""Garbage-collector settings for a storysift process: a batch job's, not an interactive one's.

CPython's cyclic collector collects its youngest generation every 700 new container objects,
and after ten of those the middle one, and after ten of those (once enough objects have grown
old) the oldest: a walk over every object alive. A storysift worker keeps large memos
(paragraph features, deck splits, sketches) and makes few reference cycles (its records are
freed by reference counting), so those walks are long and find little: in a plain loop of
split, parse and sketch over the 50 MB bench crawl the collector took 3.6 of 63 CPU seconds
(2.7 s in 12 full walks); with the youngest generation collected every 10,000 objects, 1.4 s
and one full walk.

And when CPython exits it runs one more full collection. In a worker (Beam, numpy, nltk and
scipy loaded, plus a run's memos and side inputs) that took 0.4 s on the samples and about
0.9 s on the 50 MB crawl, and the local runner closes its workers one after another, waiting
for each process to end. Freezing the heap at exit (gc.freeze) leaves those objects out of that
last collection. Nothing is lost by it: every file a stage writes is closed before its bundle
ends, and the operating system frees the memory of an ending process anyway.
"""

from __future__ import annotations

import atexit
import functools
import gc

YOUNGEST_GENERATION_THRESHOLD = 10_000  # CPython's default: 700


@functools.cache
def tune_for_batch() -> None:
    """Once per process (however many DoFns ask): collect the youngest generation every
    YOUNGEST_GENERATION_THRESHOLD new objects, and freeze the heap at exit so the interpreter's
    final collection skips it."""
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNGEST_GENERATION_THRESHOLD, middle, oldest)
    atexit.register(gc.freeze)
