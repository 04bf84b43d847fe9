"""The watchdogs' decisions, pure: given what was seen and when, is it overdue, and by how much.

Each rule answers None (all is well) or the span by which the thing is late, past its
own deadline; the watchdog use cases (usecases/watchdogs.py) read the store, ask these
rules, and raise or resolve one alert per thing. A rule is alerted from the instant
its deadline is reached (inclusive), so a threshold of zero alerts at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from attrs import field, frozen


def _not_negative(_instance: object, attribute: object, value: timedelta) -> None:
    if value < timedelta(0):
        raise ValueError(f"a watchdog threshold cannot be negative: {value}")


@frozen
class WatchdogThresholds:
    """How long each thing may be late before its watchdog alerts (settings set them)."""

    # A SCHEDULED contest this long past its lock time is stuck (a pass runs every few s).
    lock_overdue: timedelta = field(default=timedelta(minutes=2), validator=_not_negative)
    # A worker that has not completed a pass for this long is stuck or dead.
    worker_silent: timedelta = field(default=timedelta(minutes=5), validator=_not_negative)
    # How long a game lasts from its kickoff (an NFL game: about 3 h 15 min, overtime included).
    game_length: timedelta = field(default=timedelta(hours=4), validator=_not_negative)
    # A LIVE contest this long after its last game's scheduled end is stuck (data not final).
    live_overdue: timedelta = field(default=timedelta(hours=2), validator=_not_negative)
    # A SETTLED contest whose payouts have not moved (none confirmed) for this long.
    payouts_stalled: timedelta = field(default=timedelta(minutes=30), validator=_not_negative)
    # A live slate without valid data from the feed for this long.
    feed_stale: timedelta = field(default=timedelta(minutes=10), validator=_not_negative)


def _late(deadline: datetime, now: datetime) -> timedelta | None:
    return now - deadline if now >= deadline else None


def lock_overdue(lock_at: datetime, now: datetime, t: WatchdogThresholds) -> timedelta | None:
    """A contest still SCHEDULED: how far past its lock time, once `lock_overdue` has passed."""
    late = _late(lock_at + t.lock_overdue, now)
    return None if late is None else late + t.lock_overdue


def worker_silent(last_pass: datetime, now: datetime, t: WatchdogThresholds) -> timedelta | None:
    """A worker's silence since its last completed pass, once it reaches `worker_silent`."""
    late = _late(last_pass + t.worker_silent, now)
    return None if late is None else late + t.worker_silent


def scheduled_end(kickoffs: Iterable[datetime], t: WatchdogThresholds) -> datetime | None:
    """When a slate's last game should be over: its last kickoff plus a game's length
    (None for a slate whose games are not known)."""
    last = max(kickoffs, default=None)
    return None if last is None else last + t.game_length


def live_overdue(end: datetime | None, now: datetime, t: WatchdogThresholds) -> timedelta | None:
    """A LIVE contest: how long after its last game's scheduled `end`, once `live_overdue`
    has passed. Not known (no data yet): not this watchdog's business (the feed's is)."""
    if end is None:
        return None
    late = _late(end + t.live_overdue, now)
    return None if late is None else late + t.live_overdue


def payouts_stalled(
    last_move: datetime, unconfirmed: bool, now: datetime, t: WatchdogThresholds
) -> timedelta | None:
    """A SETTLED contest with payouts still unconfirmed: how long since the last one moved
    (confirmed, or the contest settled), once that reaches `payouts_stalled`."""
    if not unconfirmed:
        return None
    late = _late(last_move + t.payouts_stalled, now)
    return None if late is None else late + t.payouts_stalled


def feed_stale(
    problems_since: Iterable[datetime], now: datetime, t: WatchdogThresholds
) -> timedelta | None:
    """A live slate: how long since the feed last gave valid data, once `feed_stale` has
    passed. `problems_since`: when each of the slate's open feed problems (down,
    unreadable, invalid) was first seen; none open means the data is good."""
    since = min(problems_since, default=None)
    if since is None:
        return None
    late = _late(since + t.feed_stale, now)
    return None if late is None else late + t.feed_stale


def describe(span: timedelta) -> str:
    """A span as a person reads it in an alert: whole minutes, or hours and minutes."""
    minutes = int(span.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"
