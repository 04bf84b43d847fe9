"""Joining and withdrawing: a seat is reserved, the fee charged once, and the outcome kept."""

from __future__ import annotations

from datetime import datetime

from attrs import frozen

from fantasy_core.contest import Contest
from fantasy_core.entries import Entry, EntryStatus, JoinResult, join_fingerprint
from fantasy_core.errors import (
    IdempotencyKeyReused,
    JoinRefused,
    NotYourEntry,
    TierRefused,
    WithdrawRefused,
)
from fantasy_core.ledger import PostingSet, fee_collected
from fantasy_core.lineups import Lineup, sport_template, validate_lineup
from fantasy_core.money import Money
from fantasy_core.payments import ChargeOutcome, ChargeStatus
from fantasy_core.platform import Platform
from fantasy_core.ports import UnitOfWork
from fantasy_core.protection.eligibility import Location
from fantasy_core.usecases.protecting import (
    JoinCheck,
    Located,
    flag_if_experienced,
    guard_joins,
    locate,
    located_detail,
)
from fantasy_core.usecases.refunds import owe_refund, send_refunds

LOCKED_WHILE_PAYING = "the contest locked while the payment was being processed"
# Statuses an entry reaches only once its fee was collected (and possibly refunded).
FEE_COLLECTED = frozenset({EntryStatus.ACTIVE, EntryStatus.REFUNDED, EntryStatus.WITHDRAWN})


@frozen
class JoinRequest:
    contest_id: str
    user_id: str
    client_key: str
    lineup: Lineup
    payment_method: str
    # Where the request says the player is (a US state code), for the locator to check.
    location: str | None = None


def result_of(entry: Entry, decline_code: str | None = None) -> JoinResult:
    return JoinResult(entry.entry_id, entry.status, entry.reason, decline_code)


def join(p: Platform, request: JoinRequest) -> JoinResult:
    """Join a contest: reserve a seat, charge the fee once, and record what happened.

    Raises InvalidLineup (which rule, which player), JoinRefused (locked, full,
    entry_limit) or a PlayRefused of player protection (age, jurisdiction, limit, a
    break from play: usecases.protecting) before any money moves. A replay of the same
    fingerprint returns the first outcome and charges nothing (IdempotencyKeyReused if
    the key comes back with another lineup or payment method); a replay of a join interrupted after
    its reservation finishes it with the same idempotency key. GatewayUnavailable
    and PaymentOutcomeUnknown propagate with the seat still reserved: the client
    retries with the same key.
    """
    fingerprint = join_fingerprint(request.contest_id, request.user_id, request.client_key)
    located = locate(p, request.user_id, request.location)
    try:
        with p.uow() as uow:
            entry = uow.entries.by_fingerprint(fingerprint)
            if entry is None:
                contest = uow.contests.lock(request.contest_id)
                entry = _reserve(p, uow, contest, request, fingerprint, located)
                uow.commit()
            elif check_replay(entry, request) and entry.status is not EntryStatus.RESERVED:
                return result_of(entry)
            else:
                contest = uow.contests.get(request.contest_id)
    except TierRefused as refused:
        # Refused for being highly experienced: the status is the platform's to record
        # (permanent), in a transaction of its own since this one rolled back.
        flag_if_experienced(p, [refused], [request.user_id])
        raise
    outcome = charge_entry(p, contest, entry)
    result = record_charge(p, entry.entry_id, outcome)
    if result.status is EntryStatus.REFUNDED:
        # Charged too late (the contest locked meanwhile): give the fee back now rather
        # than at the worker's next pass. Other joins owe nothing, and skip the look-up.
        send_refunds(p, contest_id=request.contest_id)
    return result


def check_replay(entry: Entry, request: JoinRequest) -> bool:
    """True when `request` is the one that made `entry` (its key's first request) again;
    IdempotencyKeyReused when the key comes back with another lineup or payment method.

    The lineup compared is the one the entry was joined with: an edit made since is the
    player's later request, and does not make the first one a different request."""
    changed = [
        what
        for what, same in (
            ("lineup", entry.lineup_joined_with == request.lineup),
            ("payment method", entry.payment_method == request.payment_method),
        )
        if not same
    ]
    if changed:
        raise IdempotencyKeyReused(
            request.client_key,
            f"idempotency key {request.client_key!r} was first used for entry "
            f"{entry.entry_id} with another {' and '.join(changed)}; "
            "send a new key for a new request",
        )
    return True


def pending_payment(p: Platform, entry: Entry) -> ChargeOutcome | None:
    """What the player's client needs to finish an entry's payment (3-D Secure): the
    gateway's answer for it (with the client secret) while it waits; None otherwise."""
    if entry.status is not EntryStatus.PENDING_ACTION:
        return None
    outcome = p.gateway.find_charge(entry.fingerprint)
    if outcome is None or outcome.status is not ChargeStatus.REQUIRES_ACTION:
        return None
    return outcome


def _reserve(
    p: Platform,
    uow: UnitOfWork,
    contest: Contest,
    request: JoinRequest,
    fingerprint: str,
    located: Located,
) -> Entry:
    """Hold a seat in `contest`, which the caller has locked in this unit of work; the
    player's protection checked under their lock, in this same transaction."""
    now = p.clock.now()
    cid = contest.contest_id
    seats_taken = uow.entries.seats_taken(cid)
    check_join(contest, request, now, seats_taken, uow.entries.seats_of_user(cid, request.user_id))
    guard = guard_joins(p, uow, [request.user_id], now)
    terms = contest.terms
    check = JoinCheck(request.user_id, terms.entry_fee.minor, located, terms.fair_play)
    location = guard.check(check)
    entry = new_entry(p, contest, request, fingerprint, now)
    uow.entries.add(entry)
    audit_reserved(p, uow, contest, entry, location)
    return entry


def check_join(
    contest: Contest,
    request: JoinRequest,
    now: datetime,
    seats_taken: int,
    seats_of_user: int,
) -> None:
    """The rules of a join, in order: the lineup, the contest's state, its capacity (seats
    taken) and the player's entry limit (the seats this player holds in it)."""
    terms = contest.terms
    validate_lineup(sport_template(terms.sport_template), terms.pool, request.lineup)
    if not contest.accepts_entries(now):
        raise JoinRefused("locked", f"contest {contest.contest_id} is {contest.state.value}")
    if seats_taken >= terms.capacity:
        raise JoinRefused("full", f"contest {contest.contest_id} is full ({terms.capacity})")
    limit = terms.max_entries_per_player
    if seats_of_user >= limit:
        raise JoinRefused(
            "entry_limit", f"{request.user_id} already holds {limit} entries, the limit here"
        )


def new_entry(
    p: Platform, contest: Contest, request: JoinRequest, fingerprint: str, now: datetime
) -> Entry:
    return Entry(
        entry_id=p.ids.new_id("entry"),
        contest_id=contest.contest_id,
        user_id=request.user_id,
        fingerprint=fingerprint,
        lineup=request.lineup,
        payment_method=request.payment_method,
        fee_minor=contest.terms.entry_fee.minor,
        created_at=now,
    )


def audit_reserved(
    p: Platform, uow: UnitOfWork, contest: Contest, entry: Entry, location: Location | None
) -> None:
    """The reservation's record, with where the player was (the locator's answer)."""
    p.audit(
        uow,
        "join.reserved",
        contest_id=contest.contest_id,
        subject=entry.entry_id,
        actor=entry.user_id,
        detail=f"seat reserved, fee {contest.terms.entry_fee}{located_detail(location)}",
    )


def charge_entry(p: Platform, contest: Contest, entry: Entry) -> ChargeOutcome:
    """Charge a reserved entry's fee, its fingerprint the idempotency key."""
    return p.gateway.charge(
        entry.fingerprint,
        Money(entry.fee_minor, contest.terms.currency),
        entry.payment_method,
        {"contest_id": entry.contest_id, "user_id": entry.user_id, "entry_id": entry.entry_id},
    )


def record_charge(p: Platform, entry_id: str, outcome: ChargeOutcome) -> JoinResult:
    """Record the gateway's answer for an entry; also used by payment events and recovery.

    A charge that succeeded for an entry no longer waiting for it (the contest
    locked, the reservation was abandoned or declined meanwhile) is collected
    and refunded at once: every charge is either an entry or a refund.
    """
    with p.uow() as uow:
        entry = uow.entries.get(entry_id)
        contest = uow.contests.lock(entry.contest_id)
        fees: list[PostingSet] = []
        result = apply_outcome(p, uow, contest, entry, outcome, fees)
        for fee in fees:
            uow.ledger.record(fee)
        uow.entries.save(entry)
        uow.commit()
    return result


def apply_outcome(
    p: Platform,
    uow: UnitOfWork,
    contest: Contest,
    entry: Entry,
    outcome: ChargeOutcome,
    fees: list[PostingSet],
) -> JoinResult:
    """Apply the gateway's answer to `entry` (the caller saves it); a fee collected is
    appended to `fees` for the caller to record in this unit of work."""
    waiting = entry.status in (EntryStatus.RESERVED, EntryStatus.PENDING_ACTION)
    cid, eid = contest.contest_id, entry.entry_id
    if outcome.status is ChargeStatus.DECLINED:
        if waiting:
            entry.decline(outcome.reason or "the payment was declined")
            p.audit(
                uow,
                "join.declined",
                contest_id=cid,
                subject=eid,
                actor=entry.user_id,
                ok=False,
                detail=f"{outcome.decline_code}: {entry.reason}",
            )
        return result_of(entry, outcome.decline_code)
    if outcome.charge_id is None:
        raise ValueError(f"a {outcome.status.value} charge needs a charge id")
    if outcome.status is ChargeStatus.REQUIRES_ACTION:
        if entry.status is EntryStatus.RESERVED:
            entry.await_action(outcome.charge_id)
            p.audit(
                uow,
                "join.pending_action",
                contest_id=cid,
                subject=eid,
                actor=entry.user_id,
                detail="the payment needs the user's confirmation",
            )
        return result_of(entry)
    if entry.status in FEE_COLLECTED:
        return result_of(entry)  # this charge was recorded already
    fees.append(collect_fee(contest, entry))
    if waiting and contest.accepts_entries(p.clock.now()):
        entry.accept(outcome.charge_id)
        p.audit(
            uow,
            "join.accepted",
            contest_id=cid,
            subject=eid,
            actor=entry.user_id,
            detail=f"charge {outcome.charge_id}",
        )
    else:
        reason = LOCKED_WHILE_PAYING if waiting else f"the entry was already {entry.status.value}"
        entry.refund(reason, charge_id=outcome.charge_id)
        owe_refund(p, uow, entry)
        p.audit(
            uow,
            "join.refunded",
            contest_id=cid,
            subject=eid,
            actor=entry.user_id,
            ok=False,
            detail=reason,
        )
    return result_of(entry)


def withdraw(p: Platform, contest_id: str, entry_id: str, user_id: str) -> JoinResult:
    """Withdraw an entry before the cut-off; the fee is refunded. Idempotent."""
    with p.uow() as uow:
        contest = uow.contests.lock(contest_id)
        entry = uow.entries.get(entry_id)
        if entry.user_id != user_id:
            raise NotYourEntry(f"entry {entry_id} is not {user_id}'s: only its owner withdraws it")
        if entry.contest_id != contest_id:
            raise WithdrawRefused(f"entry {entry_id} is not an entry of {contest_id}")
        if entry.status is EntryStatus.WITHDRAWN:
            return result_of(entry)
        if entry.status is not EntryStatus.ACTIVE:
            raise WithdrawRefused(f"entry {entry_id} is {entry.status.value}, not active")
        now = p.clock.now()
        deadline = contest.terms.withdraw_deadline()
        if not contest.accepts_entries(now) or now >= deadline:
            raise WithdrawRefused(f"withdrawals for {contest_id} closed at {deadline}")
        entry.withdraw("withdrawn by the user")
        owe_refund(p, uow, entry)
        uow.entries.save(entry)
        p.audit(uow, "entry.withdrawn", contest_id=contest_id, subject=entry_id, actor=user_id)
        uow.commit()
        result = result_of(entry)
    send_refunds(p, contest_id=contest_id)
    return result


def collect_fee(contest: Contest, entry: Entry) -> PostingSet:
    """The entry's fee reached us: the posting set to record (idempotent by the entry's
    fingerprint). The caller records the charge on the entry as it accepts or refunds it."""
    fee = Money(entry.fee_minor, contest.terms.currency)
    return fee_collected("fee:" + entry.fingerprint, contest.contest_id, fee)
