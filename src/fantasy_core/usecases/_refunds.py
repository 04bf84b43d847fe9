"""Shared steps of the money paths: collecting a fee and owing it back, inside a unit of work."""

from __future__ import annotations

from fantasy_core.contest import Contest
from fantasy_core.entries import Entry
from fantasy_core.ledger import PostingSet, fee_collected
from fantasy_core.money import Money
from fantasy_core.payments import Refund, refund_key
from fantasy_core.platform import Platform
from fantasy_core.ports import UnitOfWork


def collect_fee(contest: Contest, entry: Entry) -> PostingSet:
    """The entry's fee reached us: the posting set to record (idempotent by the entry's
    fingerprint). The caller records the charge on the entry as it accepts or refunds it."""
    fee = Money(entry.fee_minor, contest.terms.currency)
    return fee_collected("fee:" + entry.fingerprint, contest.contest_id, fee)


def owe_refund(p: Platform, uow: UnitOfWork, entry: Entry) -> Refund | None:
    """Write the refund a just withdrawn or refunded entry is owed; idempotent per entry.

    The refund is written here, before the gateway is called (by `send_refunds`),
    so a crash in between leaves a pending refund, never a forgotten one. An entry
    never charged is owed nothing.
    """
    reason = entry.reason or entry.status.value
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
