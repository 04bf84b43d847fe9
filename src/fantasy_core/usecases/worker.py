"""One pass of the lifecycle worker: everything that moves contests without a person."""

from __future__ import annotations

from attrs import frozen

from fantasy_core.calendar import CalendarOpening
from fantasy_core.lifecycle import ContestState, ContestTransitioned
from fantasy_core.platform import Platform
from fantasy_core.protection.fairplay import BIG_PRIZE_MINOR
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


def _review_winners(p: Platform, settled: list[str]) -> None:
    """The winners of a prize of $1,000 or more in a contest just settled may have become
    highly experienced (fair play): their status is reviewed now, once per such prize."""
    winners: set[str] = set()
    with p.uow() as uow:
        for contest_id in settled:
            winners.update(
                payout.user_id
                for payout in uow.payouts.for_contest(contest_id)
                if payout.amount_minor >= BIG_PRIZE_MINOR
            )
    if winners:
        review_experience(p, winners)


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
        _review_winners(p, [e.contest_id for e in moved if e.target is ContestState.SETTLED])
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
