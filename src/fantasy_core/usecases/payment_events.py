"""Applying asynchronous payment outcomes (webhooks): each event once, in any order."""

from __future__ import annotations

from collections.abc import Callable

from fantasy_core.errors import (
    GatewayUnavailable,
    PaymentOutcomeUnknown,
    PayoutRejected,
    UnknownPayout,
)
from fantasy_core.ledger import CASH, Movement, PostingSet, payable_account, transfer
from fantasy_core.money import Money
from fantasy_core.payments import (
    ChargeOutcome,
    ChargeStatus,
    PaymentEvent,
    PaymentEventKind,
    Payout,
    PayoutStatus,
    refund_key,
)
from fantasy_core.payout_accounts import AccountStatus, PayoutAccount, PayoutAccountState
from fantasy_core.platform import Platform
from fantasy_core.ports import UnitOfWork
from fantasy_core.usecases.alerts import clear
from fantasy_core.usecases.joining import record_charge
from fantasy_core.usecases.paying import payout_reversed_alert, record_confirmation
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
    if kind is PaymentEventKind.ACCOUNT_UPDATED:
        return account_updated(p, event)
    if kind is PaymentEventKind.PAYOUT_FAILED:
        return bank_payout_failed(p, event)
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
    else:
        applied = _refunded(p, event)
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
        payout = _reversed_payout(uow, event)
        if payout is None:
            uow.commit()  # received, and concerns no paid send of ours
            return False
        why = event.reason or "transfer reversed"
        alert = put_back_to_owed(p, uow, payout, event.reference, why)
        uow.commit()
    alert()
    return True


def _reversed_payout(uow: UnitOfWork, event: PaymentEvent) -> Payout | None:
    """The payout whose current send is the reversed transfer, locked; None if none is.

    A reversal may arrive before the worker recorded the transfer's confirmation (the
    worker was slow or crashed after the gateway answered): the transfer's metadata names
    the send's key, and the transfer, made, is confirmed first so that it can be reversed.
    A transfer of an earlier send (reversed and sent again since) concerns nothing.
    """
    found = uow.payouts.by_transfer(event.reference)
    if found is not None:
        payout = uow.payouts.lock(found.fingerprint)
        if payout.transfer_id == event.reference and payout.transferred:
            return payout
        return None
    key = event.transfer_key
    if key is None:
        return None
    try:
        payout = uow.payouts.lock(key.split("/", 1)[0])
    except UnknownPayout:
        return None
    if payout.transferred or payout.transfer_key != key:
        return None
    record_confirmation(uow, payout, event.reference)
    return payout


def put_back_to_owed(
    p: Platform, uow: UnitOfWork, payout: Payout, transfer_id: str, why: str
) -> Callable[[], None]:
    """In `uow`, on a locked confirmed payout: its transfer was reversed; the prize is owed.

    The money is back at the platform (the ledger's reversal of this send's payment),
    and the winner's account is disabled until the gateway says otherwise (sending to it
    again at once could be reversed again). Returns the alert to raise once `uow` commits.
    """
    reversal = _reversal(
        payout.ledger_key, payout.contest_id, Money(payout.transfer_minor, payout.currency)
    )
    payout.reverse(why)
    uow.payouts.save(payout)
    uow.ledger.record(reversal)
    p.audit(
        uow,
        "payout.reversed",
        contest_id=payout.contest_id,
        subject=payout.entry_id,
        ok=False,
        detail=f"{payout.transfer_minor} to {payout.user_id}, {transfer_id}: {why}; owed again",
    )
    account = uow.accounts.lock(payout.user_id)
    if account is not None and account.payouts_enabled:
        account.transfer_reversed(why)
        uow.accounts.save(account)
    key = payout_reversed_alert(payout.fingerprint)
    message = (
        f"the transfer {transfer_id} of {payout.transfer_minor} to {payout.user_id} "
        f"was reversed: {why}; the prize is owed again and is sent once the account is "
        "enabled again"
    )
    contest_id = payout.contest_id
    return lambda: p.alert(key, message, contest_id=contest_id, critical=True)


def _reversal(ledger_key: str, contest_id: str, amount: Money) -> PostingSet:
    # The money is back at Stripe and owed to the winner again.
    return transfer(
        "reversed:" + ledger_key,
        contest_id,
        Movement.PRIZE_REVERSED,
        CASH,
        payable_account(contest_id),
        amount,
    )


def account_updated(p: Platform, event: PaymentEvent) -> bool:
    """The gateway says a connected account changed: read what it says of it now, apply it.

    The account is read from the gateway, not from the event, so deliveries in any order
    (an old event after a newer one) leave the account as the gateway has it now. When
    payouts became enabled, the player's owed prizes are due at once.
    """
    with p.uow() as uow:
        ours = uow.accounts.by_account(event.reference) is not None
    # Read before the unit of work that marks the event: no transaction waits on the gateway.
    status = p.gateway.account_status(event.reference) if ours else None
    with p.uow() as uow:
        if not _mark(p, uow, event):
            return False
        found = uow.accounts.by_account(event.reference)
        if found is None or status is None:
            uow.commit()  # received, and concerns no account of ours
            return False
        then = apply_account_status(p, uow, found.user_id, status)
        uow.commit()
    if then is None:
        return False
    then()
    return True


def apply_account_status(
    p: Platform, uow: UnitOfWork, user_id: str, status: AccountStatus
) -> Callable[[], None] | None:
    """In `uow`: the user's account as the gateway reports it; owed prizes released when
    payouts became enabled. None if the user has no such account; else what to do once
    `uow` commits (raise the alert when payouts stopped: an alert has its own unit of work).
    """
    account = uow.accounts.lock(user_id)
    if account is None or account.account_id != status.account_id:
        return None
    was = account.state
    enabled_now = account.reported(status)
    uow.accounts.save(account)
    missing = ", ".join(account.missing()) or "nothing"
    p.audit(
        uow,
        "account.updated",
        subject=user_id,
        detail=f"{status.account_id}: {was.value} -> {account.state.value}; missing: {missing}",
    )
    if enabled_now:
        released = release_owed(uow, user_id)
        p.audit(uow, "account.enabled", subject=user_id, detail=f"{released} owed prizes due")
        clear(p, uow, (account_disabled_alert(user_id),))
    if was is PayoutAccountState.ENABLED and not account.payouts_enabled:
        key = account_disabled_alert(user_id)
        message = f"payouts to {user_id} ({status.account_id}) are disabled: {missing}"
        return lambda: p.alert(key, message)
    return lambda: None


def account_disabled_alert(user_id: str) -> str:
    return f"account-disabled-{user_id}"


def bank_payout_failed(p: Platform, event: PaymentEvent) -> bool:
    """A connected account's payout to its bank failed: the prizes it carried are owed again.

    The money is back in the connected account's balance, not the platform's: sending the
    prizes again would pay them twice. So the account is disabled (its bank details need
    fixing), and the platform takes back the latest transfers to it that the failed amount
    covers (newest first, each whole), each reversal putting its prize back to owed; they
    are sent again once the gateway reports the account enabled. Which transfers are taken
    back is decided once, when the event is marked applied, and named in the alert.
    """
    reason = event.reason or "the bank payout failed"
    with p.uow() as uow:
        if not _mark(p, uow, event):
            return False
        found = uow.accounts.by_account(event.reference)
        account = None if found is None else uow.accounts.lock(found.user_id)
        chosen: list[Payout] = []
        if account is not None:
            account.bank_payout_failed(reason)
            uow.accounts.save(account)
            chosen = _carried(uow.payouts.for_user(account.user_id), event.amount_minor or 0)
            taken = ", ".join(f"{x.transfer_id} ({x.transfer_minor})" for x in chosen)
            p.audit(
                uow,
                "account.bank_payout_failed",
                subject=account.user_id,
                ok=False,
                detail=f"{event.reference}: {reason}; taking back {taken or 'nothing'}",
            )
        uow.commit()
    if account is None:  # another account (or the platform's own): nothing of ours
        p.alert(
            f"payout-failed-{event.reference}",
            f"a payout of {event.reference} to its bank failed: {reason}",
        )
        return False
    p.alert(
        f"payout-failed-{event.reference}",
        f"a payout of {event.amount_minor} from {event.reference} ({account.user_id}) to its "
        f"bank failed: {reason}; taking back {len(chosen)} transfers to owe them again",
    )
    for payout in chosen:
        try:
            _take_back(p, payout, reason)
        except (GatewayUnavailable, PaymentOutcomeUnknown, PayoutRejected) as error:
            # Not taken back: the prize stays paid (its money in the player's balance, paid
            # out by the gateway once the bank is fixed); a person decides.
            p.alert(
                f"take-back-failed-{payout.fingerprint}",
                f"could not take back {payout.transfer_id} ({payout.transfer_minor}) from "
                f"{event.reference} after its bank payout failed: {error}",
                contest_id=payout.contest_id,
                critical=True,
            )
    return True


def _carried(payouts: list[Payout], amount: int) -> list[Payout]:
    """The confirmed payouts, newest first, whose whole amounts fit in `amount`."""
    chosen: list[Payout] = []
    left = amount
    for payout in sorted(payouts, key=lambda x: (x.contest_id, x.entry_id), reverse=True):
        if payout.transferred and payout.transfer_id is not None and payout.transfer_minor <= left:
            chosen.append(payout)
            left -= payout.transfer_minor
    return chosen


def _take_back(p: Platform, payout: Payout, reason: str) -> None:
    """Reverse one send's transfer at the gateway, then owe the prize (once, by its key)."""
    assert payout.transfer_id is not None
    p.gateway.reverse_transfer("reverse-" + payout.transfer_key, payout.transfer_id)
    with p.uow() as uow:
        current = uow.payouts.lock(payout.fingerprint)
        if not (current.transferred and current.transfer_id == payout.transfer_id):
            return  # reversed already (its transfer.reversed event was applied first)
        why = f"bank payout failed: {reason}"
        alert = put_back_to_owed(p, uow, current, payout.transfer_id, why)
        uow.commit()
    alert()


def set_payout_account(p: Platform, user_id: str, account_id: str) -> None:
    """Attach a known, enabled connected account (test environments only: a production
    account is created by the platform and enabled by the gateway, see connect.py);
    the user's owed prizes are due at once."""
    with p.uow() as uow:
        account = uow.accounts.lock(user_id) or PayoutAccount(user_id)
        if account.state is PayoutAccountState.DISABLED or account.account_id != account_id:
            account = PayoutAccount(user_id)
        account.attached(account_id)
        uow.accounts.save(account)
        p.audit(
            uow,
            "account.attached",
            subject=user_id,
            actor=user_id,
            detail=f"{account_id}, payouts enabled (test environment)",
        )
        release_owed(uow, user_id)
        uow.commit()


def release_owed(uow: UnitOfWork, user_id: str) -> int:
    """In `uow`: every prize owed to the user (or waiting on a backoff) is due at once."""
    released = 0
    for found in uow.payouts.for_user(user_id):
        if found.status in (PayoutStatus.OWED, PayoutStatus.REVERSED, PayoutStatus.FAILED):
            payout = uow.payouts.lock(found.fingerprint)
            if payout.status in (PayoutStatus.OWED, PayoutStatus.REVERSED, PayoutStatus.FAILED):
                payout.release()
                uow.payouts.save(payout)
                released += 1
    return released
