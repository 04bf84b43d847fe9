"""The test double of the stats feed: tests publish snapshots and pools, or take it down."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from fantasy_core.calendar import SlateSchedule
from fantasy_core.errors import FeedUnavailable, UnknownSlate
from fantasy_core.lineups import PlayerPool
from fantasy_core.stats import FeedSnapshot

_NO_CLOCK = datetime.min.replace(tzinfo=UTC)


class ProgrammableFeed:
    """A StatsFeed whose answers are exactly what the caller published, valid or not.

    `publish(snapshot)` makes a snapshot the slate's current one; with `visible_from` (and a
    clock) it becomes current only once the clock reaches that time, so a whole script of
    snapshots can be laid out in advance (publishing without a time, on a feed with a clock,
    means from the clock's present on). A slate exists for the feed once it has a visible
    snapshot or a pool. The feed checks nothing: it is the tool for feeding the core bad
    data (a regressed version, a final game without lines) as readily as good data.
    """

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self._clock = clock
        # Per slate: (visible from, publication order, snapshot); the latest visible one wins.
        self._script: dict[str, list[tuple[datetime | None, int, FeedSnapshot]]] = {}
        self._pools: dict[str, PlayerPool] = {}
        self._published = 0
        self._down_because: str | None = None

    def publish(self, snapshot: FeedSnapshot, visible_from: datetime | None = None) -> None:
        """Make `snapshot` its slate's current snapshot, now or from `visible_from` on."""
        if visible_from is not None and self._clock is None:
            raise ValueError("a snapshot visible from a later time needs a feed with a clock")
        if visible_from is None and self._clock is not None:
            visible_from = self._clock()
        self._published += 1
        entry = (visible_from, self._published, snapshot)
        self._script.setdefault(snapshot.slate_id, []).append(entry)

    def set_pool(self, pool: PlayerPool) -> None:
        """Make `pool` the answer to player_pool(pool.slate_id)."""
        self._pools[pool.slate_id] = pool

    def go_down(self, reason: str = "the programmable feed was taken down") -> None:
        """From now on every call raises FeedUnavailable(reason), until come_back()."""
        self._down_because = reason

    def come_back(self) -> None:
        self._down_because = None

    def snapshot(self, slate_id: str) -> FeedSnapshot:
        self._check_up()
        current = self._visible(slate_id)
        if current is None:
            raise UnknownSlate(f"the programmable feed has no snapshot of slate {slate_id!r}")
        return current

    def player_pool(self, slate_id: str) -> PlayerPool:
        self._check_up()
        pool = self._pools.get(slate_id)
        if pool is None:
            raise UnknownSlate(f"the programmable feed has no player pool for {slate_id!r}")
        return pool

    def slates(self) -> tuple[str, ...]:
        self._check_up()
        visible = {slate for slate in self._script if self._visible(slate) is not None}
        return tuple(sorted(visible | set(self._pools)))

    def schedules(self) -> tuple[SlateSchedule, ...]:
        """Each slate with a visible snapshot that has games: its games' kick-offs (NFL)."""
        self._check_up()
        found = []
        for slate in sorted(self._script):
            current = self._visible(slate)
            if current is not None and current.games:
                kickoffs = tuple(game.kickoff for game in current.games)
                found.append(SlateSchedule(slate, "nfl", kickoffs))
        return tuple(found)

    def _check_up(self) -> None:
        if self._down_because is not None:
            raise FeedUnavailable(self._down_because)

    def _visible(self, slate_id: str) -> FeedSnapshot | None:
        now = self._clock() if self._clock is not None else None
        shown = [
            (when, order, snapshot)
            for when, order, snapshot in self._script.get(slate_id, [])
            if when is None or (now is not None and when <= now)
        ]
        if not shown:
            return None
        # With a clock every entry has a time: the latest time wins, then the latest publication.
        # Without one, no entry has a time, and the latest publication wins.
        return max(shown, key=lambda entry: (entry[0] or _NO_CLOCK, entry[1]))[2]
