"""Creating and cancelling contests."""

from __future__ import annotations

from fantasy_core.contest import Contest, ContestTerms
from fantasy_core.entries import EntryStatus
from fantasy_core.errors import IllegalTransition, OperatorActionRefused
from fantasy_core.platform import Platform
from fantasy_core.ports import UnitOfWork
from fantasy_core.usecases.refunds import owe_refund, send_refunds


def create_contest(p: Platform, terms: ContestTerms, actor: str) -> Contest:
    """Create a SCHEDULED contest; its terms (rules fingerprint included) never change after."""
    if terms.lock_at <= p.clock.now():
        raise OperatorActionRefused(f"lock time {terms.lock_at} is already past")
    contest = Contest(contest_id=p.ids.new_id("contest"), terms=terms)
    with p.uow() as uow:
        uow.contests.add(contest)
        p.audit(
            uow,
            "contest.created",
            contest_id=contest.contest_id,
            actor=actor,
            detail=f"{terms.name}: rules {terms.rules.name} {terms.rules.fingerprint}, "
            f"fee {terms.entry_fee}, capacity {terms.capacity}",
        )
        uow.commit()
    return contest


def refund_active_entries(p: Platform, uow: UnitOfWork, contest: Contest, reason: str) -> int:
    """Owe a refund to every active entry of a contest being cancelled; returns how many."""
    count = 0
    for entry in uow.entries.for_contest(contest.contest_id, [EntryStatus.ACTIVE]):
        entry.refund(f"contest cancelled: {reason}")
        owe_refund(p, uow, entry)
        uow.entries.save(entry)
        count += 1
    return count


def cancel_contest(p: Platform, contest_id: str, reason: str, actor: str) -> int:
    """Cancel a contest before any live data of its slate is accepted, and refund every
    paid entry; idempotent.

    Returns the number of refunds owed by this call (0 on a repeat). Entries whose
    payment was still in flight are refunded by the reservation recovery.
    """
    with p.uow() as uow:
        contest = uow.contests.lock(contest_id)
        if contest.cancel_reason is not None:
            return 0
        latest = uow.stats.latest(contest.terms.slate_id)
        try:
            contest.cancel_by_operator(
                p.clock.now(),
                reason,
                actor,
                live_data_accepted=latest is not None and bool(latest.lines),
            )
        except IllegalTransition as error:
            raise OperatorActionRefused(str(error)) from error
        for event in contest.take_events():
            p.audit(
                uow,
                "contest.cancelled",
                contest_id=contest_id,
                actor=actor,
                detail=f"{event.source.value} -> CANCELLED: {reason}",
            )
        owed = refund_active_entries(p, uow, contest, reason)
        uow.contests.save(contest)
        uow.commit()
    send_refunds(p, contest_id=contest_id)
    return owed
