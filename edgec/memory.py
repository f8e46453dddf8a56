"""Keeping Python's cyclic garbage collector off the large data edgec builds.

Loading and compiling a 10,000-host estate allocates over a million small dicts, lists and tuples.
Every few hundred allocations the cyclic collector runs, and its periodic full passes re-scan
everything built so far: about 40% of the time of `edgec validate` at that size, and more after it
(a compile re-scanned the validated spec again and again). What edgec builds there holds no
reference cycles (plain data, freed by reference counting when no longer used), so the collector is
paused while it is built, and what was built is then frozen out of later collections (gc.freeze).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()  # what was built and lives on is never re-scanned by later collections either
        if enabled:
            gc.enable()
