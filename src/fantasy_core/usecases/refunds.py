"""Refunds: owed in the unit of work that decides them, then sent once each until confirmed."""

from __future__ import annotations

from fantasy_core.entries import Entry
from fantasy_core.errors import GatewayAuthError, GatewayUnavailable, PaymentOutcomeUnknown
from fantasy_core.ledger import fee_refunded
from fantasy_core.money import Money
from fantasy_core.payments import Refund, RefundStatus, refund_key
from fantasy_core.platform import Platform
from fantasy_core.ports import UnitOfWork
from fantasy_core.usecases.alerts import clear


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


def send_refunds(p: Platform, contest_id: str | None = None) -> int:
    """Send every pending refund (of one contest, or all); returns how many were confirmed.

    The refund's key is the gateway's idempotency key, so sending again after a
    lost reply refunds nothing twice. Failures stay pending and are retried on
    the next run; repeated failures alert.
    """
    with p.reading() as uow:
        pending = [r for r in uow.refunds.pending() if contest_id in (None, r.contest_id)]
        currencies = {r.contest_id: uow.contests.get(r.contest_id).terms.currency for r in pending}
    confirmed = 0
    for refund in pending:
        amount = Money(refund.amount_minor, currencies[refund.contest_id])
        try:
            outcome = p.gateway.refund(refund.key, refund.charge_id, amount)
        except GatewayAuthError as error:
            p.alert("gateway-auth", f"refunds stopped: {error}", critical=True)
            _record_failure(p, refund, str(error))
            break
        except (GatewayUnavailable, PaymentOutcomeUnknown) as error:
            _record_failure(p, refund, str(error))
            continue
        confirm_refund(p, refund.key, outcome.refund_id)
        confirmed += 1
    return confirmed


def confirm_refund(p: Platform, key: str, refund_id: str | None) -> bool:
    """Record a refund as done and post it to the ledger; False if it was already."""
    with p.uow() as uow:
        refund = _locked(uow, key)
        if refund is None or refund.status is RefundStatus.CONFIRMED:
            return False
        refund.confirm(refund_id)
        currency = uow.contests.get(refund.contest_id).terms.currency
        uow.refunds.save(refund)
        uow.ledger.record(
            fee_refunded(
                "refund:" + refund.key, refund.contest_id, Money(refund.amount_minor, currency)
            )
        )
        p.audit(
            uow,
            "refund.confirmed",
            contest_id=refund.contest_id,
            subject=refund.entry_id,
            detail=f"{refund.amount_minor} refunded ({refund_id})",
        )
        # Its failure alert resolves with it; a refund went through, so the gateway's key works.
        clear(p, uow, (f"refund-{refund.key}", "gateway-auth"))
        uow.commit()
    return True


def _record_failure(p: Platform, refund: Refund, error: str) -> None:
    with p.uow() as uow:
        stored = _locked(uow, refund.key)
        if stored is None or stored.status is RefundStatus.CONFIRMED:
            return
        stored.attempt_failed(error)
        uow.refunds.save(stored)
        p.audit(
            uow,
            "refund.failed",
            contest_id=stored.contest_id,
            subject=stored.entry_id,
            ok=False,
            detail=f"attempt {stored.attempts}: {error}",
        )
        uow.commit()
    if stored.attempts >= p.retry.alert_after_attempts:
        p.alert(
            f"refund-{stored.key}",
            f"refund {stored.key} failed {stored.attempts} times: {error}",
            contest_id=stored.contest_id,
        )


def _locked(uow: UnitOfWork, key: str) -> Refund | None:
    """The refund, read again under its contest's lock, which every change to it holds.

    Several workers send the same pending refunds: without the lock, one that read
    it PENDING could write that back over another's confirmation and confirm it again.
    """
    refund = uow.refunds.get(key)
    if refund is None:
        return None
    uow.contests.lock(refund.contest_id)
    return uow.refunds.get(key)
