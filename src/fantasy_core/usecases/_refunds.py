"""Shared steps of the money paths: collecting a fee and owing it back, inside a unit of work."""

from __future__ import annotations

from fantasy_core.contest import Contest
from fantasy_core.entries import Entry, EntryStatus
from fantasy_core.ledger import PostingSet, fee_collected
from fantasy_core.money import Money
from fantasy_core.payments import Refund, refund_key
from fantasy_core.platform import Platform
from fantasy_core.ports import UnitOfWork


def collect_fee(contest: Contest, entry: Entry, charge_id: str) -> PostingSet:
    """The entry's fee reached us: its charge, and the posting set to record (idempotent by
    the entry's fingerprint)."""
    entry.charge_id = charge_id
    fee = Money(entry.fee_minor, contest.terms.currency)
    return fee_collected("fee:" + entry.fingerprint, contest.contest_id, fee)


def owe_refund(
    p: Platform, uow: UnitOfWork, entry: Entry, status: EntryStatus, reason: str
) -> Refund | None:
    """Mark a charged entry refunded and write the refund to send; idempotent per entry.

    The refund is written here, before the gateway is called (by `send_refunds`),
    so a crash in between leaves a pending refund, never a forgotten one.
    """
    entry.status = status
    entry.reason = reason
    if entry.charge_id is None:
        return None
    refund = Refund(
        key=refund_key(entry.fingerprint),
        contest_id=entry.contest_id,
        entry_id=entry.entry_id,
        charge_id=entry.charge_id,
        amount_minor=entry.fee_minor,
        reason=reason,
        created_at=p.clock.now(),
    )
    if not uow.refunds.add(refund):
        return None
    p.audit(
        uow,
        "refund.owed",
        contest_id=entry.contest_id,
        subject=entry.entry_id,
        detail=f"{entry.fee_minor} owed back: {reason}",
    )
    return refund
