"""The lifecycle tick: advance every due contest, one state per transaction, each audited."""

from __future__ import annotations

from datetime import datetime

from fantasy_core.contest import Contest
from fantasy_core.entries import EntryStatus
from fantasy_core.errors import ConcurrentUpdate
from fantasy_core.lifecycle import ContestState, ContestTransitioned
from fantasy_core.platform import Platform
from fantasy_core.ports import UnitOfWork
from fantasy_core.usecases.contests import refund_active_entries
from fantasy_core.usecases.refunds import send_refunds
from fantasy_core.usecases.settling import settle
from fantasy_core.usecases.stats import slate_data_valid

OPEN = (
    ContestState.SCHEDULED,
    ContestState.LOCKED,
    ContestState.LIVE,
    ContestState.COMPLETE,
    ContestState.SETTLED,
)


def tick(p: Platform) -> list[ContestTransitioned]:
    """Advance every due contest by as many single steps as are due, each in its own unit of work.

    Safe to run from several workers at once: each step locks the contest and
    re-checks its guard, so a step another worker took is not taken again.
    """
    with p.reading() as uow:
        ids = uow.contests.ids_in_states(OPEN)
    moved: list[ContestTransitioned] = []
    for contest_id in ids:
        while True:
            try:
                events = _step(p, contest_id)
            except ConcurrentUpdate:
                continue  # another worker moved it first; look again
            if not events:
                break
            moved.extend(events)
    send_refunds(p)
    return moved


def _step(p: Platform, contest_id: str) -> list[ContestTransitioned]:
    with p.uow() as uow:
        contest = uow.contests.lock(contest_id)
        now = p.clock.now()
        if not _advance(p, uow, contest, now):
            return []
        events = contest.take_events()
        for event in events:
            p.audit(
                uow,
                "contest." + event.target.value.lower(),
                contest_id=contest_id,
                actor=event.actor,
                detail=f"{event.source.value} -> {event.target.value}: {event.reason}",
            )
        uow.contests.save(contest)
        uow.commit()
    return events


def _advance(p: Platform, uow: UnitOfWork, contest: Contest, now: datetime) -> bool:
    """Take the one step that is due, if any; False when nothing is due."""
    state = contest.state
    cid = contest.contest_id
    if state is ContestState.SCHEDULED:
        if now < contest.terms.lock_at:
            return False
        active = uow.entries.count(cid, [EntryStatus.ACTIVE])
        contest.lock(now, active)
        if contest.state is ContestState.CANCELLED:
            refund_active_entries(p, uow, contest, contest.cancel_reason or "cancelled at lock")
        return True
    if state is ContestState.SETTLED:
        if uow.payouts.any_unconfirmed(cid):
            return False
        contest.mark_paid(now, 0)
        return True
    if state is ContestState.COMPLETE:
        due = contest.settle_due_at()
        if due is None or now < due or not slate_data_valid(uow, contest.terms.slate_id):
            return False  # late data that failed validation holds settlement until fixed
        settle(p, uow, contest, now)
        return True
    snapshot = uow.stats.latest(contest.terms.slate_id)
    if snapshot is None:
        return False
    if state is ContestState.LOCKED and snapshot.any_started(now):
        contest.go_live(now)
        return True
    if (
        state is ContestState.LIVE
        and snapshot.all_final_or_off()
        and not (snapshot.any_postponed() and contest.terms.waits_for_postponed(now))
        and slate_data_valid(uow, contest.terms.slate_id)
    ):
        contest.complete(now)
        return True
    return False
