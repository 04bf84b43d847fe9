"""Request quotas in constant memory: lineups per player, logins per address.

Litestar's rate limiter kept the time of every request of the last minute per client
address (memory growing with the load) and counted requests, not lineups: a player
entering a 150-entry tournament one lineup at a time tripped it at 30, and a bulk join
of 150 lineups would have counted as one. A `Quota` is a sliding-window counter: per key,
the count of the current fixed minute and of the one before, the earlier one weighted by
how much of it the sliding minute still covers (the estimate Cloudflare and others use).
Three numbers a key whatever the rate, and keys idle for two minutes are dropped.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from attrs import define
from litestar.status_codes import HTTP_429_TOO_MANY_REQUESTS

from apps.api.problems import Problem

WINDOW_SECONDS = 60.0
SWEEP_EVERY = 1_024  # takes between two sweeps of idle keys


@define
class _Window:
    start: float  # the current fixed window's start
    current: int
    previous: int


class Quota:
    """At most `per_minute` units per key in any sliding minute (estimated as above).
    Thread-safe, per process."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute < 1:
            raise ValueError(f"a quota needs at least one unit a minute, not {per_minute}")
        self.per_minute = per_minute
        self._clock = clock
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()
        self._takes = 0

    def __len__(self) -> int:
        """How many keys are held (idle ones go at the next sweep)."""
        return len(self._windows)

    def take(self, key: str, units: int = 1) -> int | None:
        """Count `units` for `key` if the sliding minute allows them: None. Otherwise nothing
        is counted and the answer is the whole seconds to wait (>= 1) before they fit."""
        if not 1 <= units <= self.per_minute:
            raise ValueError(f"{units} units can never fit a quota of {self.per_minute}")
        now = self._clock()
        with self._lock:
            self._takes += 1
            if self._takes % SWEEP_EVERY == 0:
                self._sweep(now)
            window = self._windows.get(key)
            if window is None:
                window = self._windows[key] = _Window(now, 0, 0)
            _advance(window, now)
            fraction = (now - window.start) / WINDOW_SECONDS
            if window.previous * (1 - fraction) + window.current + units <= self.per_minute:
                window.current += units
                return None
            return max(1, math.ceil(self._wait(window, fraction, units)))

    def _wait(self, window: _Window, fraction: float, units: int) -> float:
        """Seconds until `units` more fit, if nothing else is counted meanwhile."""
        room = self.per_minute - units
        if window.current <= room:
            # The earlier window must fade: previous * (1 - f) <= room - current.
            needed = 1 - (room - window.current) / window.previous
            return (needed - fraction) * WINDOW_SECONDS
        # This window's count becomes the earlier one at the next start, then fades.
        needed_next = 1 - room / window.current
        return (1 - fraction + needed_next) * WINDOW_SECONDS

    def _sweep(self, now: float) -> None:
        idle = [k for k, w in self._windows.items() if now - w.start >= 2 * WINDOW_SECONDS]
        for key in idle:
            del self._windows[key]


def _advance(window: _Window, now: float) -> None:
    """Move `window` on to the fixed minute holding `now`."""
    elapsed = int((now - window.start) // WINDOW_SECONDS)
    if elapsed >= 1:
        window.previous = window.current if elapsed == 1 else 0
        window.current = 0
        window.start += elapsed * WINDOW_SECONDS


def spend(quota: Quota | None, key: str, units: int, what: str) -> None:
    """Count `units` of `what` for `key`, or refuse with a 429 problem and Retry-After."""
    if quota is None:
        return
    wait = quota.take(key, units)
    if wait is not None:
        raise Problem(
            HTTP_429_TOO_MANY_REQUESTS,
            "rate-limited",
            f"Too many {what}",
            f"at most {quota.per_minute} {what} a minute; {units} more fit in {wait} s",
            headers={"Retry-After": str(wait)},
        )
