"""Backup withholding, decided once per prize before its first transfer attempt (decision 0042).

A winner with no W-9 on file whose net winnings of the year reach the year's reporting
threshold has 24% of the prize withheld (`protection.tax.withholding_due`). The decision is
stored on the payout and posted to the ledger (prizes payable -> tax:backup_withholding) in
the transaction that marks the first send, so every later send (a retry, a restart, a send
again after a reversal) transfers the same rest, and a W-9 given later changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from fantasy_core.entries import EntryStatus
from fantasy_core.ledger import prize_withheld
from fantasy_core.lifecycle import ContestState
from fantasy_core.money import Money
from fantasy_core.payments import Payout
from fantasy_core.platform import Platform
from fantasy_core.ports import UnitOfWork
from fantasy_core.protection.tax import (
    BACKUP_WITHHOLDING_PERCENT,
    REPORTING_THRESHOLDS,
    reporting_threshold,
    withholding_due,
)


def withheld_key(payout: Payout) -> str:
    """The ledger key of a prize's withholding: one per prize, whatever its sends."""
    return "withheld:" + payout.fingerprint


def net_winnings_of_year(
    uow: UnitOfWork, user_id: str, year: int, payouts: Sequence[Payout] | None = None
) -> int:
    """A player's net winnings in the contests whose games completed in `year`, as the
    records say now: every prize awarded to them (paid or not yet: earned) less the fees
    they kept (entries still active). `payouts`: the player's, if read already."""
    mine = uow.payouts.for_user(user_id) if payouts is None else payouts
    completed: dict[str, datetime | None] = {}

    def in_year(contest_id: str) -> bool:
        if contest_id not in completed:
            contest = uow.contests.get(contest_id)
            cancelled = contest.state is ContestState.CANCELLED
            completed[contest_id] = None if cancelled else contest.completed_at
        at = completed[contest_id]
        return at is not None and at.year == year

    prizes = sum(x.amount_minor for x in mine if in_year(x.contest_id))
    fees = sum(
        e.fee_minor
        for e in uow.entries.for_user(user_id)
        if e.status is EntryStatus.ACTIVE and in_year(e.contest_id)
    )
    return prizes - fees


def decide_withholding(p: Platform, uow: UnitOfWork, payout: Payout) -> None:
    """In `uow`, on a locked payout never sent: decide and record what is withheld from it.

    A platform without player protection (embedders with no player records) withholds
    nothing; it still records the decision, so that nothing is sent undecided.
    """
    if p.protection is None:
        payout.decide_withholding(0)
        return
    # The cheap answers first: a W-9 on file (one read), or prizes of all time under the
    # lowest threshold of any year (the player's payouts, by an index): nothing withheld,
    # no contest read. Net winnings of a year never exceed the prizes of all time.
    if uow.tax_details.get(payout.user_id) is not None:
        payout.decide_withholding(0)
        return
    payouts = uow.payouts.for_user(payout.user_id)
    if sum(x.amount_minor for x in payouts) < min(REPORTING_THRESHOLDS.values()):
        payout.decide_withholding(0)
        return
    contest = uow.contests.get(payout.contest_id)
    year = (contest.completed_at or p.clock.now()).year
    threshold = reporting_threshold(year)
    net = net_winnings_of_year(uow, payout.user_id, year, payouts)
    withheld = withholding_due(payout.amount_minor, net, threshold, w9=False)
    payout.decide_withholding(withheld)
    if withheld == 0:
        return
    uow.ledger.record(
        prize_withheld(withheld_key(payout), payout.contest_id, Money(withheld, payout.currency))
    )
    p.audit(
        uow,
        "payout.withheld",
        contest_id=payout.contest_id,
        subject=payout.entry_id,
        detail=(
            f"{withheld} of {payout.amount_minor} withheld from {payout.user_id} "
            f"({BACKUP_WITHHOLDING_PERCENT}% backup withholding: no W-9 on file, net winnings "
            f"of {year} {net} at or over the threshold {threshold}); "
            f"{payout.transfer_minor} to transfer"
        ),
    )
