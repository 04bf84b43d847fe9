"""Executing payouts: each prize transferred exactly once, unknown outcomes looked up first."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from fantasy_core.errors import (
    GatewayAuthError,
    GatewayUnavailable,
    PaymentOutcomeUnknown,
    PayoutRejected,
)
from fantasy_core.ledger import prize_paid
from fantasy_core.lifecycle import ContestState
from fantasy_core.money import Money
from fantasy_core.payments import Payout, PayoutStatus, TransferOutcome
from fantasy_core.payout_accounts import PayoutAccount
from fantasy_core.platform import Platform
from fantasy_core.ports import UnitOfWork
from fantasy_core.usecases.alerts import clear
from fantasy_core.usecases.withholding import decide_withholding

GATEWAY_AUTH_ALERT = "gateway-auth"

# What the worker sends. An OWED prize waits for its winner's account to be enabled, a
# REVERSED one for the account to be fixed; either is released (PENDING) then.
DUE_STATUSES = frozenset({PayoutStatus.PENDING, PayoutStatus.SENDING, PayoutStatus.FAILED})


_log = logging.getLogger("fantasy.payouts")


def _logged(payout: Payout, what: str, *, ok: bool = True) -> None:
    """One log line for a payout step that has committed, with its ids as fields."""
    _log.log(
        logging.INFO if ok else logging.WARNING,
        "payout %s: %s",
        payout.fingerprint,
        what,
        extra={
            "contest_id": payout.contest_id,
            "entry_id": payout.entry_id,
            "payout_id": payout.fingerprint,
            "user_id": payout.user_id,
        },
    )


def execute_payouts(p: Platform) -> int:
    """Send every due payout of every SETTLED contest; returns how many were confirmed.

    A payout is marked SENDING (committed) before the gateway is called. A payout
    attempted before (an interrupted send, a timeout, a crash, a failure) is
    looked up first, and sent again only if the gateway has no such transfer:
    Stripe forgets idempotency keys after a day, metadata it keeps. The
    fingerprint is the idempotency key, so even a resend after a lost reply moves
    no money twice. A refused payout waits with backoff and alerts; an
    authentication failure stops all payouts for this run and alerts once.
    Up to `p.payout_senders` payouts are in flight at once (one: strictly in turn).
    """
    with p.reading() as uow:
        contests = uow.contests.ids_in_states([ContestState.SETTLED])
        now = p.clock.now()
        found = [payout for cid in contests for payout in uow.payouts.for_contest(cid)]
        # A prize reversed after its contest was PAID is owed again: sent like the others.
        seen = {payout.fingerprint for payout in found}
        found += [x for x in uow.payouts.reopened() if x.fingerprint not in seen]
        due = [
            payout
            for payout in found
            if payout.status in DUE_STATUSES and (payout.retry_at is None or payout.retry_at <= now)
        ]
    if p.payout_senders <= 1 or len(due) <= 1:
        return _send_in_turn(p, due)
    return _send_side_by_side(p, due, p.payout_senders)


def _send_in_turn(p: Platform, due: list[Payout]) -> int:
    confirmed = 0
    for payout in due:
        try:
            if _pay(p, payout):
                confirmed += 1
        except GatewayAuthError as error:
            _stop(p, payout, error, alert=True)
            break
    return confirmed


def _send_side_by_side(p: Platform, due: list[Payout], senders: int) -> int:
    """`senders` payouts in flight at once, each still sent exactly as `_pay` sends it.

    One at a time, a payout's own round trips (two transactions and the gateway call)
    bound the rate below what the gateway allows; the gateway adapter paces requests
    to its limit. Payouts are independent (each locks its own row). Once one meets an
    authentication failure or any unexpected error, no further payout is started; those
    in flight finish, and the first error is raised as the loop in turn would raise it.
    """
    stopped = threading.Event()
    first_refusal = threading.Lock()

    def send(payout: Payout) -> bool:
        if stopped.is_set():
            return False
        try:
            return _pay(p, payout)
        except GatewayAuthError as error:
            alert = first_refusal.acquire(blocking=False)  # one alert per run
            stopped.set()
            _stop(p, payout, error, alert=alert)
            return False
        except BaseException:
            stopped.set()
            raise

    with ThreadPoolExecutor(max_workers=senders, thread_name_prefix="payout-sender") as pool:
        return sum(pool.map(send, due))


def _stop(p: Platform, payout: Payout, error: GatewayAuthError, *, alert: bool) -> None:
    _fail(p, payout.fingerprint, f"platform payment account refused: {error}")
    if alert:
        p.alert(GATEWAY_AUTH_ALERT, f"payouts stopped: {error}", critical=True)


def _pay(p: Platform, payout: Payout) -> bool:
    with p.uow() as uow:
        current = uow.payouts.lock(payout.fingerprint)
        if current.transferred or current.status not in DUE_STATUSES:
            return False
        account = uow.accounts.get(current.user_id)
        if not _can_receive(account) and current.status is not PayoutStatus.SENDING:
            # Nothing of this send reached the gateway: owed, no call, no alert (the
            # player is told what is missing; enabling the account releases it).
            _owe(p, uow, current, account)
            uow.commit()
            return False
        if current.withheld_minor is None:
            # Never sent: the backup withholding is decided now, once, and committed with
            # the send's mark; every send of this prize transfers the same rest.
            decide_withholding(p, uow, current)
        # Any earlier attempt may have reached the gateway: look before sending again.
        look_first = current.attempts > 0
        current.start_attempt()
        uow.payouts.save(current)
        p.audit(
            uow,
            "payout.sending",
            contest_id=current.contest_id,
            subject=current.entry_id,
            detail=f"attempt {current.attempts} of {current.transfer_minor}"
            + _withheld_note(current)
            + f" ({current.fingerprint})",
        )
        uow.commit()
    _logged(current, f"sending {current.transfer_minor}, attempt {current.attempts}")
    group = current.contest_id
    key = current.transfer_key
    try:
        found = p.gateway.find_transfer(key, group) if look_first else None
        if found is None:
            if account is None or account.account_id is None or not account.payouts_enabled:
                return _owe_unsent(p, current.fingerprint)
            found = p.gateway.transfer(
                key,
                account.account_id,
                Money(current.transfer_minor, current.currency),
                group,
                {
                    "payout_fingerprint": key,
                    "contest_id": current.contest_id,
                    "entry_id": current.entry_id,
                    "user_id": current.user_id,
                },
            )
    except PayoutRejected as error:
        _fail(p, current.fingerprint, str(error))
        p.alert(
            payout_rejected_alert(current.fingerprint),
            f"payout of {current.transfer_minor} to {current.user_id} in "
            f"{current.contest_id} refused: {error}",
            contest_id=current.contest_id,
        )
        return False
    except (GatewayUnavailable, PaymentOutcomeUnknown) as error:
        # Unsent for certain only if nothing was ever sent and this send was refused.
        unsent = isinstance(error, GatewayUnavailable) and not look_first
        _unknown(p, current.fingerprint, str(error), definitely_not_sent=unsent)
        return False
    return confirm_payout(p, current.fingerprint, found, key)


def _withheld_note(payout: Payout) -> str:
    withheld = payout.withheld_minor
    return f" ({withheld} of {payout.amount_minor} withheld)" if withheld else ""


def _can_receive(account: PayoutAccount | None) -> bool:
    return account is not None and account.payouts_enabled


def _owe(p: Platform, uow: UnitOfWork, payout: Payout, account: PayoutAccount | None) -> None:
    """In `uow`: the prize is owed to its winner until their account is enabled."""
    if payout.status is PayoutStatus.OWED:
        return  # owed already: nothing to write on every pass
    state = "no payout account" if account is None else f"payout account {account.state.value}"
    payout.owe(f"owed: {state}")
    uow.payouts.save(payout)
    p.audit(
        uow,
        "payout.owed",
        contest_id=payout.contest_id,
        subject=payout.entry_id,
        detail=f"{payout.amount_minor} owed to {payout.user_id}: {state}",
    )


def _owe_unsent(p: Platform, fingerprint: str) -> bool:
    """An attempt looked its transfer up, found none, and may not send: owed."""
    with p.uow() as uow:
        payout = uow.payouts.lock(fingerprint)
        if payout.transferred:
            return False  # another sender's transfer went through
        _owe(p, uow, payout, uow.accounts.get(payout.user_id))
        uow.commit()
    return False


def payout_rejected_alert(fingerprint: str) -> str:
    return f"payout-rejected-{fingerprint}"


def payout_stuck_alert(fingerprint: str) -> str:
    return f"payout-stuck-{fingerprint}"


def payout_reversed_alert(fingerprint: str) -> str:
    return f"payout-reversed-{fingerprint}"


def confirm_payout(p: Platform, fingerprint: str, transfer: TransferOutcome, key: str) -> bool:
    """Record a payout as paid and post it to the ledger; False if it was already.

    `key` is the transfer key the transfer was made under: a transfer of an earlier
    send, reversed since, confirms nothing.

    The payout's own failure alerts resolve with it, and so does the gateway's
    authentication alert (a transfer went through: the platform's key works).
    """
    with p.uow() as uow:
        payout = uow.payouts.lock(fingerprint)
        if payout.transferred or key != payout.transfer_key:
            return False  # confirmed already, or a send reversed since: a stale report
        record_confirmation(uow, payout, transfer.transfer_id)
        p.audit(
            uow,
            "payout.confirmed",
            contest_id=payout.contest_id,
            subject=payout.entry_id,
            detail=f"{payout.transfer_minor} to {payout.user_id}: {transfer.transfer_id}"
            + _withheld_note(payout),
        )
        clear(
            p,
            uow,
            (
                payout_rejected_alert(fingerprint),
                payout_stuck_alert(fingerprint),
                payout_reversed_alert(fingerprint),
                GATEWAY_AUTH_ALERT,
            ),
        )
        uow.commit()
    _logged(payout, f"confirmed, transfer {transfer.transfer_id}")
    return True


def record_confirmation(uow: UnitOfWork, payout: Payout, transfer_id: str) -> None:
    """In `uow`, on a locked payout not yet transferred: paid by `transfer_id`, on the ledger.

    Each send is paid under its own key, so a prize sent again after a reversal is a
    second payment (the reversal having taken the first back), never the first again.
    """
    payout.confirm(transfer_id)
    uow.payouts.save(payout)
    uow.ledger.record(
        prize_paid(
            "paid:" + payout.ledger_key,
            payout.contest_id,
            Money(payout.transfer_minor, payout.currency),
        )
    )


def _fail(p: Platform, fingerprint: str, reason: str) -> None:
    with p.uow() as uow:
        payout = uow.payouts.lock(fingerprint)
        if payout.transferred:
            return  # another sender's transfer went through: this report is stale
        retry_at = p.clock.now() + p.retry.delay(payout.attempts)
        payout.fail(reason, retry_at)
        uow.payouts.save(payout)
        p.audit(
            uow,
            "payout.failed",
            contest_id=payout.contest_id,
            subject=payout.entry_id,
            ok=False,
            detail=f"attempt {payout.attempts}: {reason}; retry at {retry_at.isoformat()}",
        )
        uow.commit()
    _logged(payout, f"failed: {reason}", ok=False)


def _unknown(p: Platform, fingerprint: str, reason: str, *, definitely_not_sent: bool) -> None:
    with p.uow() as uow:
        payout = uow.payouts.lock(fingerprint)
        if payout.transferred:
            return  # another sender's transfer went through: this report is stale
        # Not sent for certain: back to PENDING. Unknown: stay SENDING, so the next
        # run looks the transfer up before sending again.
        retry_at = p.clock.now() + p.retry.delay(payout.attempts)
        if definitely_not_sent:
            payout.not_sent(reason, retry_at)
        else:
            payout.outcome_unknown(reason, retry_at)
        uow.payouts.save(payout)
        p.audit(
            uow,
            "payout.unknown" if not definitely_not_sent else "payout.unavailable",
            contest_id=payout.contest_id,
            subject=payout.entry_id,
            ok=False,
            detail=f"attempt {payout.attempts}: {reason}",
        )
        uow.commit()
    _logged(payout, f"not confirmed ({reason})", ok=False)
    if payout.attempts >= p.retry.alert_after_attempts:
        p.alert(
            payout_stuck_alert(fingerprint),
            f"payout {fingerprint} not confirmed after {payout.attempts} attempts: {reason}",
            contest_id=payout.contest_id,
        )
