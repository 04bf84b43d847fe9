"""The contest calendar: which contests open for which slate, when they lock, and refills.

Pure rules, no ports: the worker's pass (usecases/calendar.py) reads the feed's schedule and
what storage says was opened, asks these functions what is due, and opens it.

- A calendar line names a template of the catalogue and a sport: for every slate of that
  sport, `count` contests of the template open `open_days_before` days before the slate's
  first scheduled kick-off, and stay open until it (they lock at it).
- Each contest a line opens has a calendar key (slate, line, sequence), unique in storage:
  sequences 1..count are the line's regular contests, the next ones its refills.
- Refill (as DraftKings does): for a line marked `refill`, each of its contests on a slate
  that is full brings one more, up to `refill_cap` more per slate. The number of contests due
  is therefore `count + min(full, refill_cap)`, a function of what storage holds: two
  workers seeing one fill compute the same next key, and storage lets one of them open it.
- Lock: at the slate's first scheduled kick-off; when the schedule moves that earlier
  before the contest locked, its lock moves earlier with it, never later.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from attrs import field, frozen

from fantasy_core.errors import DomainError

CALENDAR_ACTOR = "calendar"
MAX_DAYS_BEFORE = 60
MAX_COUNT = 100
_LINE_KEY = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


class InvalidCalendar(DomainError):
    """A calendar (or one of its lines) that cannot be run by."""


class UnknownCalendarLine(DomainError):
    """No line of the calendar has this key."""


def _positive_int(name: str, value: object, top: int, low: int = 1) -> None:
    if type(value) is not int or not low <= value <= top:
        raise InvalidCalendar(f"{name} must be a whole number from {low} to {top}, got {value!r}")


@frozen
class CalendarLine:
    """One line of the calendar (see the module docstring); validated at construction."""

    key: str
    sport: str
    template: str
    open_days_before: int
    count: int = 1
    refill: bool = False
    refill_cap: int = 0

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.key, str) or not _LINE_KEY.fullmatch(self.key):
            raise InvalidCalendar(
                f"a line key is 1-64 of a-z, 0-9, '_' and '-', starting with a letter or "
                f"digit, got {self.key!r}"
            )
        for name in ("sport", "template"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise InvalidCalendar(f"line {self.key}: {name} must be non-empty text")
        _positive_int(f"line {self.key}: open_days_before", self.open_days_before, MAX_DAYS_BEFORE)
        _positive_int(f"line {self.key}: count", self.count, MAX_COUNT)
        if type(self.refill) is not bool:
            raise InvalidCalendar(f"line {self.key}: refill must be true or false")
        _positive_int(f"line {self.key}: refill_cap", self.refill_cap, MAX_COUNT, low=0)
        if self.refill and self.refill_cap == 0:
            raise InvalidCalendar(f"line {self.key}: a refilled line needs a refill_cap >= 1")
        if not self.refill and self.refill_cap:
            raise InvalidCalendar(f"line {self.key}: refill_cap without refill = true")

    @property
    def most_per_slate(self) -> int:
        return self.count + (self.refill_cap if self.refill else 0)


@frozen
class Calendar:
    lines: tuple[CalendarLine, ...] = ()

    def __attrs_post_init__(self) -> None:
        seen: set[str] = set()
        for line in self.lines:
            if line.key in seen:
                raise InvalidCalendar(f"two lines have the key {line.key!r}")
            seen.add(line.key)

    def line(self, key: str) -> CalendarLine:
        for line in self.lines:
            if line.key == key:
                return line
        known = ", ".join(line.key for line in self.lines) or "none"
        raise UnknownCalendarLine(f"the calendar has no line {key!r}; lines: {known}")


def _aware(_: object, __: object, kickoffs: tuple[datetime, ...]) -> None:
    if not kickoffs:
        raise InvalidCalendar("a slate's schedule needs at least one game")
    for kickoff in kickoffs:
        if kickoff.utcoffset() is None:
            raise InvalidCalendar(f"a kick-off must carry a time zone, got {kickoff!r}")


@frozen
class SlateSchedule:
    """A slate as the feed schedules it: its sport and its games' kick-off times."""

    slate_id: str
    sport: str
    kickoffs: tuple[datetime, ...] = field(validator=_aware)

    @property
    def first_kickoff(self) -> datetime:
        return min(self.kickoffs)


@frozen(order=True)
class CalendarKey:
    """Which contest of the calendar: the slate, the line, and its sequence (1, 2, ...)."""

    slate_id: str
    line: str
    sequence: int

    def __attrs_post_init__(self) -> None:
        _positive_int("a calendar key's sequence", self.sequence, 10_000)

    @property
    def text(self) -> str:
        return f"{self.slate_id}/{self.line}/{self.sequence}"


@frozen
class CalendarOpening:
    """What storage holds for a calendar key: the contest it opened, and when."""

    key: CalendarKey
    contest_id: str
    opened_at: datetime


@frozen
class LineState:
    """What the pass knows of one line on one slate: the sequences opened and how many of
    those contests are full."""

    opened: frozenset[int] = frozenset()
    full: int = 0


def opens_at(line: CalendarLine, schedule: SlateSchedule) -> datetime:
    return schedule.first_kickoff - timedelta(days=line.open_days_before)


def lock_time(schedule: SlateSchedule) -> datetime:
    """A calendar contest locks at its slate's first scheduled kick-off."""
    return schedule.first_kickoff


def contests_due(line: CalendarLine, state: LineState) -> int:
    """How many contests of `line` a slate should have: its count, plus one per full
    contest for a refilled line, up to its cap."""
    if not line.refill:
        return line.count
    return line.count + min(state.full, line.refill_cap)


def due_keys(
    calendar: Calendar,
    schedules: Iterable[SlateSchedule],
    now: datetime,
    states: Mapping[tuple[str, str], LineState],
    paused: Iterable[str] = (),
) -> list[CalendarKey]:
    """The calendar keys to open at `now`, in key order: for every line not paused and every
    slate of its sport whose window is open (from `opens_at` until the first kick-off), the
    sequences up to `contests_due` not yet opened. `states` is by (slate id, line key)."""
    stopped = frozenset(paused)
    due: list[CalendarKey] = []
    for schedule in schedules:
        if now >= lock_time(schedule):
            continue
        for line in calendar.lines:
            if line.key in stopped or line.sport != schedule.sport:
                continue
            if now < opens_at(line, schedule):
                continue
            state = states.get((schedule.slate_id, line.key), LineState())
            for sequence in range(1, contests_due(line, state) + 1):
                if sequence not in state.opened:
                    due.append(CalendarKey(schedule.slate_id, line.key, sequence))
    return sorted(due)


def moved_lock(current_lock: datetime, schedule: SlateSchedule, now: datetime) -> datetime | None:
    """The earlier lock a schedule change brings, or None. Only before lock (`now` before
    the current lock: after it, the contest locks at the next tick anyway), and only ever
    earlier. A game moved to a time already past locks the contest at once."""
    first = lock_time(schedule)
    return first if now < current_lock and first < current_lock else None
