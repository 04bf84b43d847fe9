"""What an operator's console reads: the board of contests with their deadlines, and the
audit trail found by contest, player, payout or charge.

Read-only. Each contest on the board says what it waits for next and by when; a
deadline past its watchdog's threshold is `overdue` (the watchdog has raised, or is
about to raise, its alert: the same rules decide).
"""

from __future__ import annotations

from datetime import datetime

from attrs import frozen

from fantasy_core import watchdog_rules as rules
from fantasy_core.audit import AuditRecord
from fantasy_core.contest import Contest
from fantasy_core.errors import UnknownEntry
from fantasy_core.lifecycle import ContestState
from fantasy_core.platform import Platform
from fantasy_core.ports import UnitOfWork
from fantasy_core.usecases.watchdogs import PAYOUT_MOVES
from fantasy_core.watchdog_rules import WatchdogThresholds


@frozen
class BoardRow:
    """One contest on the board: where it is, what it waits for, and by when."""

    contest_id: str
    name: str
    state: ContestState
    slate_id: str
    seats_taken: int
    capacity: int
    lock_at: datetime
    # What moves it on, in a few words ("locks", "games end", "settles", "payouts confirmed").
    waiting_for: str | None
    # When that is due (None: not known yet, or nothing left to wait for).
    deadline: datetime | None
    overdue: bool
    # SETTLED: whether prizes are still unpaid.
    payouts_outstanding: bool = False


def contest_board(
    p: Platform, thresholds: WatchdogThresholds, states: set[ContestState] | None = None
) -> list[BoardRow]:
    """Every contest (in `states` when given), by state in lifecycle order, then by deadline."""
    now = p.clock.now()
    wanted = [s for s in ContestState if states is None or s in states]
    rows: list[BoardRow] = []
    with p.reading() as uow:
        for contest_id in uow.contests.ids_in_states(wanted):
            rows.append(_row(uow, uow.contests.get(contest_id), now, thresholds))
    order = {s: n for n, s in enumerate(ContestState)}
    far = datetime.max.replace(tzinfo=now.tzinfo)
    return sorted(rows, key=lambda r: (order[r.state], r.deadline or far, r.contest_id))


def _row(uow: UnitOfWork, contest: Contest, now: datetime, t: WatchdogThresholds) -> BoardRow:
    terms, cid = contest.terms, contest.contest_id
    waiting: str | None = None
    deadline: datetime | None = None
    overdue = False
    outstanding = False
    if contest.state is ContestState.SCHEDULED:
        waiting, deadline = "locks", terms.lock_at
        overdue = rules.lock_overdue(terms.lock_at, now, t) is not None
    elif contest.state is ContestState.LOCKED:
        waiting, deadline = "first game starts", terms.lock_at
    elif contest.state is ContestState.LIVE:
        latest = uow.stats.latest(terms.slate_id)
        kickoffs = () if latest is None else [g.kickoff for g in latest.games]
        waiting, deadline = "games end", rules.scheduled_end(kickoffs, t)
        overdue = rules.live_overdue(deadline, now, t) is not None
    elif contest.state is ContestState.COMPLETE:
        waiting = "settles"
        if contest.completed_at is not None:
            deadline = contest.completed_at + terms.correction_window
    elif contest.state is ContestState.SETTLED:
        outstanding = uow.payouts.any_unconfirmed(cid)
        last_move = uow.audit.last_at(cid, PAYOUT_MOVES)
        waiting = "payouts confirmed"
        if last_move is not None:
            deadline = last_move + t.payouts_stalled
            overdue = rules.payouts_stalled(last_move, outstanding, now, t) is not None
    return BoardRow(
        contest_id=cid,
        name=terms.name,
        state=contest.state,
        slate_id=terms.slate_id,
        seats_taken=uow.entries.seats_taken(cid),
        capacity=terms.capacity,
        lock_at=terms.lock_at,
        waiting_for=waiting,
        deadline=deadline,
        overdue=overdue,
        payouts_outstanding=outstanding,
    )


def audit_of_payout(p: Platform, payout: str) -> list[AuditRecord]:
    """Every record about one payout, found by its fingerprint or its gateway transfer id:
    its attempts (the contest's payout.* records of its entry) and its alerts. Raises
    UnknownPayout when there is no such payout."""
    with p.reading() as uow:
        found = uow.payouts.by_transfer(payout)
        if found is None:
            found = uow.payouts.get(payout)  # raises UnknownPayout
        fingerprint, entry_id = found.fingerprint, found.entry_id
        trail = uow.audit.for_contest(found.contest_id)
    return [
        r
        for r in trail
        if (r.subject == entry_id and r.action.startswith("payout."))
        or (r.subject is not None and fingerprint in r.subject)
    ]


def audit_of_charge(p: Platform, charge_id: str) -> list[AuditRecord]:
    """Every record about the entry a charge paid for (its join, refund, withdrawal,
    lineup changes). Raises UnknownEntry when no entry was charged with it."""
    with p.reading() as uow:
        entry = uow.entries.by_charge(charge_id)
        if entry is None:
            raise UnknownEntry(f"no entry was charged with {charge_id!r}")
        trail = uow.audit.for_contest(entry.contest_id)
    return [r for r in trail if r.subject == entry.entry_id]
