"""Recovering joins interrupted between the charge and its record (crash, lost reply)."""

from __future__ import annotations

from datetime import timedelta

from fantasy_core.entries import EntryStatus
from fantasy_core.errors import GatewayAuthError, GatewayUnavailable, PaymentOutcomeUnknown
from fantasy_core.payments import ChargeStatus
from fantasy_core.platform import Platform
from fantasy_core.usecases.joining import record_charge
from fantasy_core.usecases.refunds import send_refunds

GRACE = timedelta(minutes=5)
ACTION_WINDOW = timedelta(minutes=15)
"""How long a payment waiting for the player (3-D Secure) holds its seat. A player who
confirms later is charged and refunded at once (record_charge), never entered."""


def resolve_reservations(
    p: Platform, grace: timedelta = GRACE, action_window: timedelta = ACTION_WINDOW
) -> int:
    """Settle every seat reservation left waiting: by asking the gateway what happened.

    A reservation is resolved once its contest stopped taking entries, or it is
    older than `grace` (its client gave up). A charge found is recorded (and
    refunded if the contest no longer takes entries); none found abandons the
    reservation and frees the seat. A payment still waiting for the player's
    confirmation is abandoned, and its seat freed, once it is older than
    `action_window` or the contest locked. Returns how many were resolved.
    """
    now = p.clock.now()
    with p.reading() as uow:
        waiting = uow.entries.with_status([EntryStatus.RESERVED, EntryStatus.PENDING_ACTION])
        stale = [
            e
            for e in waiting
            if now - e.created_at >= grace
            or not uow.contests.get(e.contest_id).accepts_entries(now)
        ]
    resolved = 0
    for entry in stale:
        try:
            outcome = p.gateway.find_charge(entry.fingerprint)
        except (GatewayUnavailable, PaymentOutcomeUnknown, GatewayAuthError):
            continue  # asked again on the next run
        if outcome is not None and not (
            outcome.status is ChargeStatus.REQUIRES_ACTION
            and entry.status is EntryStatus.PENDING_ACTION
        ):
            record_charge(p, entry.entry_id, outcome)
            resolved += 1
            continue
        if _abandon(p, entry.entry_id, action_window):
            resolved += 1
    send_refunds(p)
    return resolved


def _abandon(p: Platform, entry_id: str, action_window: timedelta) -> bool:
    now = p.clock.now()
    with p.uow() as uow:
        entry = uow.entries.get(entry_id)
        contest = uow.contests.lock(entry.contest_id)
        open_ = contest.accepts_entries(now)
        expired = now - entry.created_at >= action_window
        if entry.status is EntryStatus.PENDING_ACTION and open_ and not expired:
            return False  # the player may still confirm
        if entry.status not in (EntryStatus.RESERVED, EntryStatus.PENDING_ACTION):
            return False
        if entry.status is EntryStatus.PENDING_ACTION and open_:
            minutes = int(action_window.total_seconds() // 60)
            reason = f"the payment was not confirmed within {minutes} minutes"
        else:
            reason = "the payment was not completed before the contest locked"
        entry.abandon(reason)
        uow.entries.save(entry)
        p.audit(
            uow,
            "join.abandoned",
            contest_id=entry.contest_id,
            subject=entry_id,
            actor=entry.user_id,
            ok=False,
            detail=reason,
        )
        uow.commit()
    return True
