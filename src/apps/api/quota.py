"""How many lineups a player may submit a minute, single joins and bulk joins alike.

Litestar's rate limiter counts requests per client address: a player entering a
150-entry tournament one lineup at a time tripped it at 30, and a bulk request of 150
lineups would count as one. This counts lineups per player (the authenticated user, so
nobody can spend another's allowance), over a sliding minute, and says how long to wait.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

WINDOW_SECONDS = 60.0


class LineupQuota:
    """At most `per_minute` lineups per player in any 60 seconds. Thread-safe, per process."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute < 1:
            raise ValueError(f"a quota needs at least one lineup a minute, not {per_minute}")
        self.per_minute = per_minute
        self._clock = clock
        self._taken: dict[str, deque[tuple[float, int]]] = {}
        self._lock = threading.Lock()

    def take(self, player: str, lineups: int) -> int | None:
        """Count `lineups` for `player` if the minute allows them: None. Otherwise nothing is
        counted and the answer is the whole seconds to wait (>= 1) before they would fit."""
        if not 1 <= lineups <= self.per_minute:
            raise ValueError(f"{lineups} lineups can never fit a quota of {self.per_minute}")
        now = self._clock()
        with self._lock:
            taken = self._taken.setdefault(player, deque())
            while taken and now - taken[0][0] >= WINDOW_SECONDS:
                taken.popleft()
            used = sum(n for _, n in taken)
            if used + lineups <= self.per_minute:
                taken.append((now, lineups))
                return None
            # Wait until enough of the oldest lineups leave the window.
            excess = used + lineups - self.per_minute
            for at, n in taken:
                excess -= n
                if excess <= 0:
                    return max(1, math.ceil(at + WINDOW_SECONDS - now))
        raise AssertionError("unreachable: the window holds more than the excess")
