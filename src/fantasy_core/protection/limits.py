"""Limits a player sets on their own play, and the check every paid join passes.

Four limits: entry fees per day, week and month (minor units) and entries per week.
Periods are UTC calendar periods: a day from midnight, a week from Monday's midnight,
a month from the 1st. There are no deposits here: a fee is charged to the player's
card when they join, so the fee limits are the deposit limits too (decision 0040).

A tighter limit applies at once; a looser one (a higher value, or none) only after
LOOSENING_DELAY, and the player sees when (Massachusetts 940 CMR 34.10). What counts
against a limit is every fee of an entry made in the period that holds a seat or was
collected and kept: a declined, refunded or withdrawn entry gives its room back.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

from attrs import field, frozen

from fantasy_core.errors import InvalidProtectionRequest, LimitReached

LOOSENING_DELAY = timedelta(days=90)
# The largest limit a player may set: $1,000,000 a month, a million entries a week.
MAX_LIMIT = 100_000_000


class Period(enum.Enum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class LimitKind(enum.Enum):
    """A limit's name, as the API and the refusals say it; its period and what it counts."""

    FEES_DAY = "fees_day"
    FEES_WEEK = "fees_week"
    FEES_MONTH = "fees_month"
    ENTRIES_WEEK = "entries_week"

    @property
    def period(self) -> Period:
        return {
            LimitKind.FEES_DAY: Period.DAY,
            LimitKind.FEES_WEEK: Period.WEEK,
            LimitKind.FEES_MONTH: Period.MONTH,
            LimitKind.ENTRIES_WEEK: Period.WEEK,
        }[self]

    @property
    def counts_fees(self) -> bool:
        return self is not LimitKind.ENTRIES_WEEK


def period_start(period: Period, at: datetime) -> datetime:
    """The UTC instant `period` began that contains `at`."""
    utc = at.astimezone(UTC)
    day = utc.replace(hour=0, minute=0, second=0, microsecond=0)
    if period is Period.DAY:
        return day
    if period is Period.WEEK:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def period_end(period: Period, at: datetime) -> datetime:
    """The UTC instant the period containing `at` ends (the next one begins)."""
    start = period_start(period, at)
    if period is Period.DAY:
        return start + timedelta(days=1)
    if period is Period.WEEK:
        return start + timedelta(days=7)
    if start.month == 12:
        return start.replace(year=start.year + 1, month=1)
    return start.replace(month=start.month + 1)


def earliest_start(at: datetime) -> datetime:
    """The earliest start of any limit's period containing `at`: what a join must read back to."""
    return min(period_start(period, at) for period in Period)


def _check_values(_: object, __: object, values: Mapping[LimitKind, int]) -> None:
    for kind, value in values.items():
        if not isinstance(kind, LimitKind):
            raise InvalidProtectionRequest("unknown_limit", f"no limit named {kind!r}")
        if type(value) is not int or not 0 <= value <= MAX_LIMIT:
            raise InvalidProtectionRequest(
                "bad_value", f"{kind.value} must be a whole number 0..{MAX_LIMIT}, got {value!r}"
            )


def _frozen(values: Mapping[LimitKind, int]) -> Mapping[LimitKind, int]:
    return MappingProxyType(dict(values))


@frozen
class Limits:
    """The limits in force: a value per limit kind set (absent: no limit of that kind)."""

    values: Mapping[LimitKind, int] = field(
        factory=dict, converter=_frozen, validator=_check_values
    )

    def get(self, kind: LimitKind) -> int | None:
        return self.values.get(kind)


def _frozen_pending(
    values: Mapping[LimitKind, PendingChange],
) -> Mapping[LimitKind, PendingChange]:
    return MappingProxyType(dict(values))


@frozen
class PendingChange:
    """A loosening waiting out its delay: `value` None lifts the limit."""

    value: int | None
    effective_at: datetime


@frozen
class LimitSchedule:
    """A player's limits: those set, and loosenings waiting to take effect."""

    limits: Limits = field(factory=Limits)
    pending: Mapping[LimitKind, PendingChange] = field(factory=dict, converter=_frozen_pending)

    def in_force(self, now: datetime) -> Limits:
        """The limits that apply at `now`: pending loosenings whose time has come applied."""
        values = dict(self.limits.values)
        for kind, change in self.pending.items():
            if change.effective_at <= now:
                _put(values, kind, change.value)
        return Limits(values)

    def settled(self, now: datetime) -> LimitSchedule:
        """The same schedule with the loosenings due by `now` folded into the limits."""
        waiting = {k: c for k, c in self.pending.items() if c.effective_at > now}
        return LimitSchedule(self.in_force(now), waiting)

    def request(self, requested: Mapping[LimitKind, int | None], now: datetime) -> LimitSchedule:
        """The schedule after the player asks for `requested` (None: no limit) at `now`.

        Kinds not named keep their value. Tighter (or equal) values apply at once and drop
        any loosening waiting for that kind; looser ones wait LOOSENING_DELAY from now (a
        loosening to the value already waiting keeps its earlier date).
        """
        base = self.settled(now)
        values = dict(base.limits.values)
        pending = dict(base.pending)
        for kind, value in requested.items():
            _check_values(None, None, {kind: value} if value is not None else {})
            current = values.get(kind)
            if value is not None and (current is None or value <= current):
                values[kind] = value
                pending.pop(kind, None)
                continue
            if value == current:
                pending.pop(kind, None)
                continue
            waiting = pending.get(kind)
            if waiting is None or waiting.value != value:
                pending[kind] = PendingChange(value, now + LOOSENING_DELAY)
        return LimitSchedule(Limits(values), pending)


def _put(values: dict[LimitKind, int], kind: LimitKind, value: int | None) -> None:
    if value is None:
        values.pop(kind, None)
    else:
        values[kind] = value


@frozen
class Spend:
    """One paid join as the limits count it: when it was made and its fee (minor units)."""

    at: datetime
    fee_minor: int


def check_limits(limits: Limits, spent: Iterable[Spend], fee_minor: int, now: datetime) -> None:
    """LimitReached, naming the limit and what is left of it, if a join at `now` with fee
    `fee_minor` would take the player over a limit; `spent` is what counts already (any
    joins made before the earliest period start are ignored)."""
    history = list(spent)
    for kind in LimitKind:
        limit = limits.get(kind)
        if limit is None:
            continue
        start = period_start(kind.period, now)
        inside = [s for s in history if s.at >= start]
        used = sum(s.fee_minor for s in inside) if kind.counts_fees else len(inside)
        wanted = fee_minor if kind.counts_fees else 1
        if used + wanted > limit:
            left = max(0, limit - used)
            resets = period_end(kind.period, now)
            what = f"{left} cents" if kind.counts_fees else f"{left} entries"
            raise LimitReached(
                kind.value,
                left,
                resets,
                f"this join would pass your {kind.value} limit ({limit}): {what} left "
                f"until {resets.isoformat()}",
            )
