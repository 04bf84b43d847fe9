"""Joins that arrive together, run together: one reservation and one record for all of them.

At a contest's lock most joins arrive in the last minutes. Alone, a join's three steps
(reserve, charge, record: decision 0006) cost about twenty round trips to the database,
and two waits on the contest's row lock. `join_many` applies the same rules, in the
same order, to a batch (decision 0013): one transaction takes each contest's lock once
and reserves every seat; the charges go out each under its own fingerprint (up to
`p.charge_senders` side by side); one transaction records every outcome. Each request
gets the answer `join` would have given it, or the error `join` would have raised.

If a shared transaction fails (the database refused it, say), its requests are run
again one at a time through `join` and `record_charge`, so that one bad request
cannot fail the others: nothing is lost, and a seat reserved is still finished or
freed as after any failed join.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from fantasy_core.contest import Contest
from fantasy_core.entries import Entry, EntryStatus, JoinResult, join_fingerprint
from fantasy_core.errors import (
    IdempotencyKeyReused,
    InvalidLineup,
    JoinRefused,
    PlayRefused,
    UnknownContest,
)
from fantasy_core.ledger import PostingSet
from fantasy_core.payments import ChargeOutcome
from fantasy_core.platform import Platform
from fantasy_core.protection.eligibility import Location
from fantasy_core.usecases.joining import (
    JoinRequest,
    apply_outcome,
    audit_reserved,
    charge_entry,
    check_join,
    check_replay,
    join,
    new_entry,
    record_charge,
    result_of,
)
from fantasy_core.usecases.protecting import (
    JoinCheck,
    Located,
    flag_if_experienced,
    guard_locked,
    locate,
)
from fantasy_core.usecases.refunds import send_refunds

_log = logging.getLogger(__name__)

Joined = tuple[JoinResult, Entry]
"""A join's outcome and its entry as recorded."""


def join_many(p: Platform, requests: Sequence[JoinRequest]) -> list[Joined | Exception]:
    """Run `requests` as `join` would run each; one answer per request, in order.

    An answer is the outcome and the entry, or the exception `join` raises for that
    request (InvalidLineup, JoinRefused, UnknownContest before any money moves;
    GatewayUnavailable or PaymentOutcomeUnknown with the seat still reserved). Two
    requests with one fingerprint are one join: charged once, the same answer.
    """
    fingerprints = [join_fingerprint(r.contest_id, r.user_id, r.client_key) for r in requests]
    located = [locate(p, r.user_id, r.location) for r in requests]
    refused: dict[int, Exception] = {}
    try:
        planned, contests = _reserve_all(p, requests, fingerprints, located, refused)
    except Exception:
        _log.warning(
            "a batch of %d joins could not reserve together; running them one by one",
            len(requests),
            exc_info=True,
        )
        return [_join_alone(p, request) for request in requests]

    flag_if_experienced(p, list(refused.values()), [requests[n].user_id for n in refused])
    distinct = {entry.entry_id: entry for entry in planned.values()}
    charged, failed = _charge_all(
        p, [e for e in distinct.values() if e.status is EntryStatus.RESERVED], contests
    )
    recorded = _record_all(p, charged, {e.entry_id: e.contest_id for e in distinct.values()})
    # Charged too late (the contest locked meanwhile): the fee goes back now, as in `join`.
    late = {
        answer[1].contest_id
        for answer in recorded.values()
        if not isinstance(answer, Exception) and answer[0].status is EntryStatus.REFUNDED
    }
    for contest_id in sorted(late):
        try:
            send_refunds(p, contest_id=contest_id)
        except Exception:  # the refunds stay pending: the worker's next pass sends them
            _log.exception("refunds of %s owed by late charges not sent yet", contest_id)

    answers: list[Joined | Exception] = []
    for n in range(len(requests)):
        if n in refused:
            answers.append(refused[n])
            continue
        entry = planned[n]
        eid = entry.entry_id
        answers.append(
            failed[eid] if eid in failed else recorded.get(eid, (result_of(entry), entry))
        )
    return answers


def _reserve_all(
    p: Platform,
    requests: Sequence[JoinRequest],
    fingerprints: Sequence[str],
    located: Sequence[Located],
    refused: dict[int, Exception],
) -> tuple[dict[int, Entry], dict[str, Contest]]:
    """Reserve the batch's seats in one transaction; the entry of each request not refused
    (a new reservation, or the entry its fingerprint already has), and the contests locked.

    As in `join`, fingerprints are looked up before the locks are taken: if another join
    adds one meanwhile, the unique key refuses this batch's copy, and `join_many` runs the
    batch again one by one. The reads are one call (`read_for_joins`, decision 0074), so
    what depends on an earlier answer is read for every request: the seats and the
    player locks of a replay too.
    """
    planned: dict[int, Entry] = {}
    with p.uow() as uow:
        read = uow.read_for_joins(
            fingerprints,
            (r.contest_id for r in requests),
            ((r.contest_id, r.user_id) for r in requests),
            (r.user_id for r in requests) if p.protection is not None else (),
        )
        found, contests = read.found, read.contests
        for n, request in enumerate(requests):
            if request.contest_id not in contests:
                refused[n] = UnknownContest(f"no contest {request.contest_id}")
        asked = [n for n in range(len(requests)) if n not in refused]
        held = read.held
        seats = {cid: uow.entries.seats_taken(cid) for cid in contests}
        now = p.clock.now()
        protection = guard_locked(p, uow, read.profiles, now)
        made: dict[str, Entry] = {}
        where: dict[str, Location | None] = {}
        for n in asked:
            request, fingerprint = requests[n], fingerprints[n]
            entry = found.get(fingerprint, made.get(fingerprint))
            if entry is not None:
                try:
                    check_replay(entry, request)
                except IdempotencyKeyReused as error:
                    refused[n] = error
                    continue
            else:
                cid, uid = request.contest_id, request.user_id
                try:
                    check_join(contests[cid], request, now, seats[cid], held[cid, uid])
                except (InvalidLineup, JoinRefused) as error:
                    refused[n] = error
                    continue
                terms = contests[cid].terms
                try:
                    location = protection.check(
                        JoinCheck(uid, terms.entry_fee.minor, located[n], terms.fair_play)
                    )
                except PlayRefused as error:
                    refused[n] = error
                    continue
                entry = made[fingerprint] = new_entry(p, contests[cid], request, fingerprint, now)
                where[entry.entry_id] = location
                seats[cid] += 1
                held[cid, uid] += 1
            planned[n] = entry
        uow.entries.add_all(list(made.values()))
        for entry in made.values():
            audit_reserved(p, uow, contests[entry.contest_id], entry, where[entry.entry_id])
        uow.commit()
    return planned, contests


def _charge_all(
    p: Platform, reserved: list[Entry], contests: dict[str, Contest]
) -> tuple[dict[str, ChargeOutcome], dict[str, Exception]]:
    """Charge each reserved entry: up to `p.charge_senders` at once. The outcomes, and the
    errors (the seat stays reserved: a retry with the key, or the worker, ends it)."""

    def charge(entry: Entry) -> ChargeOutcome | Exception:
        try:
            return charge_entry(p, contests[entry.contest_id], entry)
        except Exception as error:
            return error

    senders = min(p.charge_senders, len(reserved))
    if senders <= 1:
        answers = [charge(entry) for entry in reserved]
    else:
        with ThreadPoolExecutor(senders, thread_name_prefix="fantasy-charge") as pool:
            answers = list(pool.map(charge, reserved))
    charged: dict[str, ChargeOutcome] = {}
    failed: dict[str, Exception] = {}
    for entry, answer in zip(reserved, answers, strict=True):
        if isinstance(answer, Exception):
            failed[entry.entry_id] = answer
        else:
            charged[entry.entry_id] = answer
    return charged, failed


def _record_all(
    p: Platform, charged: dict[str, ChargeOutcome], contest_of: dict[str, str]
) -> dict[str, Joined | Exception]:
    """Record every charge's outcome in one transaction (each alone if that one fails);
    the contests are locked before the entries are read, so what is read is current."""
    if not charged:
        return {}
    try:
        with p.uow() as uow:
            locked, entries = uow.lock_for_record(
                (contest_of[entry_id] for entry_id in charged), sorted(charged)
            )
            fees: list[PostingSet] = []
            recorded: dict[str, Joined | Exception] = {
                e.entry_id: (
                    apply_outcome(p, uow, locked[e.contest_id], e, charged[e.entry_id], fees),
                    e,
                )
                for e in entries
            }
            uow.entries.save_all(entries)
            uow.ledger.record_all(fees)
            uow.commit()
        return recorded
    except Exception:
        _log.warning(
            "the outcomes of %d charges could not be recorded together; recording them one by one",
            len(charged),
            exc_info=True,
        )
    return {eid: _record_alone(p, eid, outcome) for eid, outcome in charged.items()}


def _join_alone(p: Platform, request: JoinRequest) -> Joined | Exception:
    try:
        result = join(p, request)
        with p.uow() as uow:
            return result, uow.entries.get(result.entry_id)
    except Exception as error:
        return error


def _record_alone(p: Platform, entry_id: str, outcome: ChargeOutcome) -> Joined | Exception:
    try:
        result = record_charge(p, entry_id, outcome)
        with p.uow() as uow:
            return result, uow.entries.get(entry_id)
    except Exception as error:  # the seat stays reserved: the worker resolves it by its key
        return error
