"""The clock port's adapters."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ControllableClock:
    """A clock that only moves when told to, never backwards."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the clock needs a time-zone aware start")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, by: timedelta) -> datetime:
        if by < timedelta(0):
            raise ValueError(f"the clock never goes backwards (asked to move {by})")
        with self._lock:
            self._now += by
            return self._now

    def set(self, to: datetime) -> datetime:
        with self._lock:
            target = to.astimezone(UTC)
            if target < self._now:
                raise ValueError(f"the clock never goes backwards ({target} < {self._now})")
            self._now = target
            return self._now
