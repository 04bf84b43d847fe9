"""The id-source port's adapters. Ids of one kind sort in creation order."""

from __future__ import annotations

import itertools
import secrets
import threading
import time


class SequentialIds:
    """kind-00000001, kind-00000002, ...: reproducible, for one process."""

    def __init__(self) -> None:
        self._counters: dict[str, itertools.count[int]] = {}
        self._lock = threading.Lock()

    def new_id(self, kind: str) -> str:
        with self._lock:
            counter = self._counters.setdefault(kind, itertools.count(1))
            return f"{kind}-{next(counter):08d}"


class TimeOrderedIds:
    """kind-<16 hex digits of nanoseconds><8 random hex>: unique across processes, time-sorted.

    Within one process the time part is forced strictly increasing.
    """

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def new_id(self, kind: str) -> str:
        with self._lock:
            stamp = max(time.time_ns(), self._last + 1)
            self._last = stamp
        return f"{kind}-{stamp:016x}{secrets.token_hex(4)}"
