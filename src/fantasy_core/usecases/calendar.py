"""The calendar in the worker's pass: open the contests it says are due, move locks earlier
when the schedule does, and let an operator pause or resume a line.

Idempotent and safe to run on many workers at once: each contest is opened in one unit of
work together with its calendar key, and storage lets one unit of work claim a key. A worker
killed before committing opened nothing; the next pass opens it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import timedelta

from attrs import frozen

from fantasy_core.calendar import (
    CALENDAR_ACTOR,
    CalendarKey,
    CalendarOpening,
    LineState,
    SlateSchedule,
    due_keys,
    lock_time,
    moved_lock,
)
from fantasy_core.contest import Contest
from fantasy_core.errors import FeedUnavailable, UnknownSlate
from fantasy_core.lifecycle import ContestState
from fantasy_core.platform import Platform
from fantasy_core.usecases.alerts import clear_now
from fantasy_core.usecases.queries import SlateForContests, slate_for_contests

SCHEDULE_DOWN_ALERT = "calendar-schedule-unavailable"
# How long after a slate's first kick-off the pass still looks at it: a game moved earlier
# into the past (the schedule learnt late) must still lock its contests at once.
RECENT = timedelta(days=7)


@frozen
class CalendarReport:
    opened: tuple[CalendarOpening, ...] = ()
    locks_moved: int = 0


def run_calendar(p: Platform) -> CalendarReport:
    """Open every calendar contest due now, and move earlier the lock of every calendar
    contest whose slate's first kick-off moved earlier; nothing when the calendar is empty."""
    if not p.calendar.lines or p.catalogue is None:
        return CalendarReport()
    try:
        schedules = p.feed.schedules()
    except FeedUnavailable as error:
        p.alert(SCHEDULE_DOWN_ALERT, f"the calendar cannot read the feed's schedule: {error}")
        return CalendarReport()
    clear_now(p, [SCHEDULE_DOWN_ALERT])
    now = p.clock.now()
    sports = {line.sport for line in p.calendar.lines}
    # Slates whose contests may open (ahead), or whose locks may still have to move.
    recent = {
        s.slate_id: s for s in schedules if s.sport in sports and now < s.first_kickoff + RECENT
    }
    with p.reading() as uow:
        openings = uow.calendar.opened(recent)
        paused = uow.calendar.paused_lines()
    states = _line_states(p, openings)
    moved = _move_locks(p, openings, recent)
    opened: list[CalendarOpening] = []
    slates: dict[str, SlateForContests] = {}
    for key in due_keys(p.calendar, recent.values(), now, states, paused):
        opening = _open(p, key, recent[key.slate_id], slates)
        if opening is not None:
            opened.append(opening)
    return CalendarReport(tuple(opened), moved)


def _line_states(
    p: Platform, openings: Iterable[CalendarOpening]
) -> dict[tuple[str, str], LineState]:
    """What each (slate, line) holds: the sequences opened and, for refilled lines, how many
    of those contests are full (every seat held)."""
    refilled = {line.key for line in p.calendar.lines if line.refill}
    opened: dict[tuple[str, str], set[int]] = defaultdict(set)
    full: dict[tuple[str, str], int] = defaultdict(int)
    with p.reading() as uow:
        for opening in openings:
            where = (opening.key.slate_id, opening.key.line)
            opened[where].add(opening.key.sequence)
            if opening.key.line in refilled:
                contest = uow.contests.get(opening.contest_id)
                if uow.entries.seats_taken(contest.contest_id) >= contest.terms.capacity:
                    full[where] += 1
    return {where: LineState(frozenset(seqs), full[where]) for where, seqs in opened.items()}


def _open(
    p: Platform, key: CalendarKey, schedule: SlateSchedule, slates: dict[str, SlateForContests]
) -> CalendarOpening | None:
    """Open the contest of `key` unless another worker did first; the opening, or None."""
    catalogue = p.catalogue
    assert catalogue is not None  # run_calendar checked
    line = p.calendar.line(key.line)
    try:
        # The pool and every game's kick-off (late swap reads them), as an operator's.
        slate = slates.get(key.slate_id) or slates.setdefault(
            key.slate_id, slate_for_contests(p, key.slate_id)
        )
    except (FeedUnavailable, UnknownSlate) as error:
        p.alert(
            f"calendar-pool-{key.slate_id}",
            f"the calendar cannot open {key.text}: no player pool: {error}",
        )
        return None
    lock_at = lock_time(schedule)
    pool, kickoffs = slate.pool, slate.kickoffs
    terms = catalogue.terms(line.template, pool, lock_at, kickoffs=kickoffs)
    if key.sequence > 1:
        name = f"{terms.name} #{key.sequence}"
        terms = catalogue.terms(line.template, pool, lock_at, name, kickoffs=kickoffs)
    contest = Contest(contest_id=p.ids.new_id("contest"), terms=terms)
    opening = CalendarOpening(key, contest.contest_id, p.clock.now())
    with p.uow() as uow:
        uow.contests.add(contest)
        if not uow.calendar.claim(opening):
            return None  # another worker opened it: leaving without commit drops ours
        p.audit(
            uow,
            "contest.created",
            contest_id=contest.contest_id,
            actor=CALENDAR_ACTOR,
            detail=f"{terms.name}: rules {terms.rules.name} {terms.rules.fingerprint}, "
            f"fee {terms.entry_fee}, capacity {terms.capacity}",
        )
        p.audit(
            uow,
            "calendar.opened",
            contest_id=contest.contest_id,
            subject=key.text,
            actor=CALENDAR_ACTOR,
            detail=f"line {line.key} (template {line.template}) opened sequence "
            f"{key.sequence} on {key.slate_id}, locking at the first kick-off {lock_at}",
        )
        uow.commit()
    return opening


def _move_locks(
    p: Platform, openings: Iterable[CalendarOpening], schedules: dict[str, SlateSchedule]
) -> int:
    moved = 0
    now = p.clock.now()
    for opening in openings:
        schedule = schedules[opening.key.slate_id]
        with p.uow() as uow:
            contest = uow.contests.get(opening.contest_id)
            if contest.state is not ContestState.SCHEDULED:
                continue
            if moved_lock(contest.terms.lock_at, schedule, now) is None:
                continue
            contest = uow.contests.lock(opening.contest_id)
            earlier = moved_lock(contest.terms.lock_at, schedule, now)
            if contest.state is not ContestState.SCHEDULED or earlier is None:
                continue  # another worker moved it, or it locked meanwhile
            previous = contest.move_lock_earlier(earlier)
            uow.contests.save_terms(contest)
            p.audit(
                uow,
                "contest.lock_moved",
                contest_id=contest.contest_id,
                subject=opening.key.text,
                actor=CALENDAR_ACTOR,
                detail=f"the slate's first kick-off moved earlier: lock {previous} -> {earlier}",
            )
            uow.commit()
            moved += 1
    return moved


def paused_lines(p: Platform) -> set[str]:
    """The calendar lines an operator paused."""
    with p.reading() as uow:
        return uow.calendar.paused_lines()


def set_line_paused(p: Platform, line: str, paused: bool, actor: str) -> bool:
    """An operator pauses (or resumes) a calendar line; audited. True when it changed;
    contests already opened keep running either way."""
    known = p.calendar.line(line)  # raises UnknownCalendarLine
    with p.uow() as uow:
        changed = uow.calendar.set_paused(known.key, paused)
        if changed:
            p.audit(
                uow,
                "calendar.paused" if paused else "calendar.resumed",
                subject=known.key,
                actor=actor,
                detail=f"calendar line {known.key} (template {known.template}) "
                + ("paused: it opens no new contest" if paused else "resumed"),
            )
        uow.commit()
    return changed
