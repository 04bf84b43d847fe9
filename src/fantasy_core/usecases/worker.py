"""One pass of the lifecycle worker: everything that moves contests without a person."""

from __future__ import annotations

from attrs import frozen

from fantasy_core.calendar import CalendarOpening
from fantasy_core.lifecycle import ContestState, ContestTransitioned
from fantasy_core.platform import Platform
from fantasy_core.protection.fairplay import BIG_PRIZE_MINOR, EXPERIENCED_CONTESTS
from fantasy_core.usecases.calendar import run_calendar
from fantasy_core.usecases.delivery import deliver_notices
from fantasy_core.usecases.lifecycle import tick
from fantasy_core.usecases.paying import execute_payouts
from fantasy_core.usecases.protecting import review_experience, withdraw_restricted_entries
from fantasy_core.usecases.recovery import resolve_reservations
from fantasy_core.usecases.refunds import send_refunds
from fantasy_core.usecases.stats import ingest, slates_to_watch


@frozen
class PassReport:
    transitions: tuple[ContestTransitioned, ...]
    slates_ingested: int
    reservations_resolved: int
    payouts_confirmed: int
    refunds_confirmed: int
    notices_delivered: int = 0
    calendar_opened: tuple[CalendarOpening, ...] = ()
    locks_moved: int = 0


def _review_players(p: Platform, settled: list[str]) -> None:
    """Players of a contest just settled may have become highly experienced (fair play):
    the winners of a prize of $1,000 or more (more than 3 such prizes), and the entrants
    with more than 1,000 contests entered (one statement per contest), not flagged yet.
    Their status is reviewed now, so that it shows on their profile and leaderboard rows
    before any rule depends on it (decision 0044)."""
    candidates: set[str] = set()
    with p.reading() as uow:
        for contest_id in settled:
            candidates.update(
                payout.user_id
                for payout in uow.payouts.for_contest(contest_id)
                if payout.amount_minor >= BIG_PRIZE_MINOR
            )
            candidates.update(uow.entries.entrants_over(contest_id, EXPERIENCED_CONTESTS))
    if candidates:
        review_experience(p, candidates)


def run_once(p: Platform) -> PassReport:
    """Open the calendar's contests, ingest, recover, advance, pay, advance again, announce
    alerts; each step in its own transactions.

    Every step is idempotent, so a pass interrupted anywhere is finished by the next.
    """
    calendar = run_calendar(p)
    ingested = sum(1 for slate in slates_to_watch(p) if ingest(p, slate))
    resolved = resolve_reservations(p)
    if p.protection is not None:
        # Entries paid after their player began a break from play (a late 3-D Secure
        # confirmation): withdrawn and refunded before their contest can lock.
        withdraw_restricted_entries(p)
    moved = tick(p)
    # A contest that just went live may need its first data straight away.
    ingested += sum(1 for slate in slates_to_watch(p) if ingest(p, slate))
    moved += tick(p)
    paid = execute_payouts(p)
    moved += tick(p)
    if p.protection is not None:
        _review_players(p, [e.contest_id for e in moved if e.target is ContestState.SETTLED])
    refunded = send_refunds(p)
    announced = deliver_notices(p).delivered
    return PassReport(
        tuple(moved),
        ingested,
        resolved,
        paid,
        refunded,
        announced,
        calendar.opened,
        calendar.locks_moved,
    )
