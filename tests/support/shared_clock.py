"""A controllable clock several processes share: the time is read from a file a test advances.

Worker processes are separate programs: the in-process ControllableClock cannot be
moved from outside them. Each `FileClock` reads the instant from one small file on
every `now()`; the test moves time for all of them at once with `FileClock.set`,
which replaces the file atomically (a reader never sees half a timestamp).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path


class FileClock:
    """Clock port: now is the ISO instant stored in `path`; never goes backwards."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def now(self) -> datetime:
        return datetime.fromisoformat(self.path.read_text(encoding="ascii").strip())

    def set(self, to: datetime) -> datetime:
        if to.tzinfo is None:
            raise ValueError("the clock needs a time-zone aware instant")
        target = to.astimezone(UTC)
        if self.path.exists() and target < self.now():
            raise ValueError(f"the clock never goes backwards ({target} < {self.now()})")
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        temporary.write_text(target.isoformat(), encoding="ascii")
        temporary.replace(self.path)
        return target

    def advance(self, by: timedelta) -> datetime:
        return self.set(self.now() + by)
