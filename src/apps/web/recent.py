"""A value reused for a moment: what many pages read at once is read once a second.

The lobby lists the open contests, and a contest read from the store brings its whole
terms (the slate's pool of hundreds of players): at 32 clients that read was nine tenths
of the lobby's time (bench/web_pages.py). The lobby shows what it read at most a second
ago (it refreshes itself every five): seats and the time to lock are computed per
request from it; nothing a player does (a join, a payment) is decided on it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
T = TypeVar("T")


class Recent(Generic[T]):
    """The last value `load` gave for a source, reused for `seconds` after it was read.

    One caller at a time reads afresh: while it does, the others are answered with the
    value held (older than `seconds` by at most that read's time), so the whole server
    does not read at once when the value expires (bench/web_pages.py: 32 clients meeting
    an expired lobby made a burst of reads that was most of its p99). RecentEach's rule
    for a single key."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._one: RecentEach[None, T] = RecentEach(seconds, 1, clock)

    def held(self, source: object) -> T | None:
        """What `get` would answer without reading (the value held for `source`, fresh or
        being read afresh by another caller), or None when `get` would read: a caller on
        an event loop answers from it and goes to a worker thread only to read."""
        return self._one.held(source, None)

    def get(self, source: object, load: Callable[[], T]) -> T:
        """`load()`'s value, or the one read less than `seconds` ago from the same `source`
        (another source, such as a platform swapped in, always reads afresh), or that one
        while another caller is reading afresh."""
        return self._one.get(source, None, load)


class RecentEach(Generic[K, T]):
    """Recent, for each of the last `size` keys of a source: what `load` gave for a key,
    reused for `seconds` after it was read, or (while one caller reads that key afresh)
    by the others. Another source (a platform swapped in) starts afresh."""

    def __init__(
        self, seconds: float, size: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._seconds = seconds
        self._size = size
        self._clock = clock
        self._lock = threading.Lock()
        self._source: object | None = None
        self._held: dict[K, tuple[float, T]] = {}
        self._reading: set[K] = set()

    def _usable(self, source: object, key: K) -> T | None:
        if self._source is not source:
            return None
        held = self._held.get(key)
        if held is None:
            return None
        read_at, value = held
        if key in self._reading or self._clock() - read_at < self._seconds:
            return value
        return None

    def held(self, source: object, key: K) -> T | None:
        """What `get` would answer without reading, or None when it would read: a caller
        on an event loop answers from it and goes to a worker thread only to read."""
        with self._lock:
            return self._usable(source, key)

    def get(self, source: object, key: K, load: Callable[[], T]) -> T:
        with self._lock:
            value = self._usable(source, key)
            if value is not None:
                return value
            if self._source is not source:
                self._source, self._held, self._reading = source, {}, set()
            self._reading.add(key)
        try:
            value = load()
        except BaseException:
            with self._lock:
                if self._source is source:
                    self._reading.discard(key)
            raise
        with self._lock:
            if self._source is source:
                self._reading.discard(key)
                self._held.pop(key, None)  # re-inserted: the most recently read go last
                self._held[key] = (self._clock(), value)
                while len(self._held) > self._size:
                    del self._held[next(iter(self._held))]  # the longest unread
        return value


class Kept(Generic[T]):
    """Values that never change once made (what a contest's fixed terms render to), kept
    for the last `size` keys of a source; another source (a platform swapped in) starts
    afresh, so equal keys of two platforms never meet."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._source: object | None = None
        self._values: dict[object, T] = {}

    def held(self, source: object, key: object) -> T | None:
        """The value kept for `key`, or None where `get` would make it."""
        with self._lock:
            return self._values.get(key) if self._source is source else None

    def get(self, source: object, key: object, make: Callable[[], T]) -> T:
        with self._lock:
            if self._source is source and key in self._values:
                return self._values[key]
        value = make()
        with self._lock:
            if self._source is not source:
                self._source, self._values = source, {}
            self._values[key] = value
            while len(self._values) > self._size:
                del self._values[next(iter(self._values))]  # the oldest made
        return value
