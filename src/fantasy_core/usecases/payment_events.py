"""Applying asynchronous payment outcomes (webhooks): each event once, in any order."""

from __future__ import annotations

from fantasy_core.ledger import CASH, Movement, PostingSet, payable_account, transfer
from fantasy_core.lifecycle import ContestState
from fantasy_core.money import Money
from fantasy_core.payments import (
    ChargeOutcome,
    ChargeStatus,
    PaymentEvent,
    PaymentEventKind,
    PayoutAccount,
    PayoutStatus,
    refund_key,
)
from fantasy_core.platform import Platform
from fantasy_core.ports import UnitOfWork
from fantasy_core.usecases.joining import record_charge
from fantasy_core.usecases.refunds import confirm_refund, send_refunds


def apply_payment_event(p: Platform, event: PaymentEvent) -> bool:
    """Apply a payment event exactly once; False when it was seen before or concerns nothing.

    An event is marked applied (and audited) only once its change is made, so a
    failure part-way (the database lost, the process killed) leaves it unmarked and
    Stripe's redelivery applies it. A change that fits in one transaction (a reversed
    transfer, a disabled account) is made in the transaction that marks the event. A
    charge's outcome and a refund's confirmation go through their own use cases, which
    are idempotent: they run first and the event is marked after, so applying one of
    them again after a failure between the two changes nothing.
    """
    if _seen(p, event.event_id):
        return False
    kind = event.kind
    if kind is PaymentEventKind.TRANSFER_REVERSED:
        return _reversed(p, event)
    if kind is PaymentEventKind.ACCOUNT_PAYOUTS_DISABLED:
        return _account_disabled(p, event)
    if kind is PaymentEventKind.CHARGE_SUCCEEDED:
        outcome = ChargeOutcome(ChargeStatus.SUCCEEDED, event.reference)
        applied = _charge_outcome(p, event, outcome)
    elif kind is PaymentEventKind.CHARGE_FAILED:
        outcome = ChargeOutcome(
            ChargeStatus.DECLINED,
            event.reference,
            "payment_failed",
            event.reason or "the payment failed",
        )
        applied = _charge_outcome(p, event, outcome)
    elif kind is PaymentEventKind.CHARGE_REFUNDED:
        applied = _refunded(p, event)
    else:
        p.alert(
            f"payout-failed-{event.reference}",
            f"a payout from connected account {event.reference} to its bank failed: {event.reason}",
        )
        applied = True
    with p.uow() as uow:
        if not _mark(p, uow, event):
            return False  # a duplicate delivered at the same moment marked it first
        uow.commit()
    return applied


def _seen(p: Platform, event_id: str) -> bool:
    """Whether the event was marked applied; marks nothing (the unit of work rolls back)."""
    with p.uow() as uow:
        return not uow.events.first_time(event_id)


def _mark(p: Platform, uow: UnitOfWork, event: PaymentEvent) -> bool:
    """Mark the event applied and audit it, in `uow`; False if it was marked already."""
    if not uow.events.first_time(event.event_id):
        return False
    p.audit(
        uow,
        "payment_event." + event.kind.value,
        subject=event.reference,
        detail=f"event {event.event_id}: {event.reason or ''}",
    )
    return True


def _charge_outcome(p: Platform, event: PaymentEvent, outcome: ChargeOutcome) -> bool:
    with p.uow() as uow:
        entry = uow.entries.by_charge(event.reference)
    if entry is None:
        p.alert(
            f"unknown-charge-{event.reference}",
            f"payment event {event.event_id} names charge {event.reference}, unknown here",
        )
        return False
    record_charge(p, entry.entry_id, outcome)
    send_refunds(p, contest_id=entry.contest_id)
    return True


def _refunded(p: Platform, event: PaymentEvent) -> bool:
    with p.uow() as uow:
        entry = uow.entries.by_charge(event.reference)
    if entry is None:
        return False
    return confirm_refund(p, refund_key(entry.fingerprint), None)


def _reversed(p: Platform, event: PaymentEvent) -> bool:
    with p.uow() as uow:
        if not _mark(p, uow, event):
            return False
        found = uow.payouts.by_transfer(event.reference)
        payout = None if found is None else uow.payouts.lock(found.fingerprint)
        if payout is None or payout.status is not PayoutStatus.CONFIRMED:
            uow.commit()  # received, and concerns no paid prize of ours
            return False
        why = event.reason or "transfer reversed"
        payout.reverse(why)
        uow.payouts.save(payout)
        uow.ledger.record(
            _reversal(
                payout.fingerprint, payout.contest_id, Money(payout.amount_minor, payout.currency)
            )
        )
        p.audit(
            uow,
            "payout.reversed",
            contest_id=payout.contest_id,
            subject=payout.entry_id,
            ok=False,
            detail=why,
        )
        uow.commit()
    p.alert(
        f"payout-reversed-{payout.fingerprint}",
        f"the transfer {event.reference} of {payout.amount_minor} to {payout.user_id} "
        f"was reversed: {why}",
        contest_id=payout.contest_id,
        critical=True,
    )
    return True


def _reversal(fingerprint: str, contest_id: str, amount: Money) -> PostingSet:
    # The money is back at Stripe and owed to the winner again.
    return transfer(
        "reversed:" + fingerprint,
        contest_id,
        Movement.PRIZE_REVERSED,
        CASH,
        payable_account(contest_id),
        amount,
    )


def _account_disabled(p: Platform, event: PaymentEvent) -> bool:
    with p.uow() as uow:
        if not _mark(p, uow, event):
            return False
        account = uow.accounts.by_account(event.reference)
        if account is None:
            uow.commit()  # received, and concerns no account of ours
            return False
        account.payouts_enabled = False
        uow.accounts.save(account)
        p.audit(uow, "account.payouts_disabled", subject=account.user_id, detail=event.reason or "")
        uow.commit()
    p.alert(
        f"account-disabled-{account.user_id}",
        f"payouts to {account.user_id} ({event.reference}) are disabled: {event.reason}",
    )
    return True


def set_payout_account(p: Platform, user_id: str, account_id: str, enabled: bool = True) -> None:
    """Record a user's connected account; payouts that failed for want of it retry at once."""
    with p.uow() as uow:
        uow.accounts.save(PayoutAccount(user_id, account_id, enabled))
        p.audit(
            uow,
            "account.updated",
            subject=user_id,
            actor=user_id,
            detail=f"{account_id}, payouts {'enabled' if enabled else 'disabled'}",
        )
        uow.commit()
    if enabled:
        _retry_now(p, user_id)


def _retry_now(p: Platform, user_id: str) -> None:
    with p.uow() as uow:
        for cid in uow.contests.ids_in_states([ContestState.SETTLED]):
            for payout in uow.payouts.for_contest(cid):
                if payout.user_id == user_id and payout.status is PayoutStatus.FAILED:
                    payout.retry_now()
                    uow.payouts.save(payout)
        uow.commit()
