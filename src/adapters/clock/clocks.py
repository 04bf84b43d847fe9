"""The clock port's adapters."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class AcceleratedClock:
    """Real time run `speed` times faster from the real instant `since`: at `since` it
    reads `since`, and every real second after moves it `speed` seconds on.

    For watching a contest go through its whole life in minutes in a test environment.
    It is a function of the real time, so every process given the same `speed` and
    `since` reads the same instant at the same moment: an API and a separate worker
    agree on what time it is.
    """

    def __init__(
        self,
        speed: float,
        since: datetime,
        real: Callable[[], datetime] | None = None,
    ) -> None:
        if not speed >= 1:  # also refuses nan
            raise ValueError(f"an accelerated clock runs at least at real speed, not {speed}")
        if since.tzinfo is None:
            raise ValueError("the clock needs a time-zone aware instant to run from")
        self.speed = speed
        self.since = since.astimezone(UTC)
        self._real = real or SystemClock().now

    def now(self) -> datetime:
        return self.since + (self._real() - self.since) * self.speed


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
