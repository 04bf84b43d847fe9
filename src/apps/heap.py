"""The process's heap after start-up, kept out of the garbage collector's way.

Both processes that serve joins call `freeze_startup_heap` once they are built: the API
process before it serves (`fantasy serve`), and the join lane's child before it answers
(apps.lane).
"""

from __future__ import annotations

import gc

# Tracked objects allocated (net of those freed) between collections of the youngest
# generation, then collections of each generation between two of the next (Python's
# default: 700, 10, 10).
COLLECTION_THRESHOLDS = (50_000, 20, 10)


def freeze_startup_heap() -> None:
    """Call once the process is built, just before it serves: what start-up made
    (settings, services, caches, the OpenAPI models, tens of thousands of objects) is kept
    out of every later garbage collection, which then walks only what requests allocate.

    Collections that walked the whole heap were the slowest requests' pauses: at 32
    clients the join p99 fell from 137-223 ms to 88-104 ms with it (docs/performance.md).
    The youngest generation is collected every 50,000 allocations (COLLECTION_THRESHOLDS)
    rather than every 700: what a request allocates is nearly all freed by reference
    counting, and the frequent collections cost the join server about 6% of its CPU.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*COLLECTION_THRESHOLDS)
