"""Joins in batches: each request gets what `join` gives it, with a batch's fewer transactions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.memory import store as memory_store
from adapters.sandbox.gateway import DECLINE, REQUIRES_ACTION, SUCCEED, TIMEOUT_AFTER_SUCCESS
from fantasy_core.entries import SEAT_HOLDING, EntryStatus
from fantasy_core.entry_limits import MaxEntries
from fantasy_core.errors import (
    DuplicateRecord,
    IdempotencyKeyReused,
    JoinRefused,
    PaymentOutcomeUnknown,
)
from fantasy_core.lifecycle import ContestState
from fantasy_core.lineups import Lineup
from fantasy_core.usecases import joining_batch
from fantasy_core.usecases.joining import JoinRequest, join
from fantasy_core.usecases.joining_batch import Joined, join_many
from fantasy_core.usecases.recovery import resolve_reservations
from support.world import LOCK, World, lineup

BAD_LINEUP = Lineup((("QB", "KC-QB0"),))


def answer_of(outcome: Joined | Exception) -> tuple[Any, ...]:
    if isinstance(outcome, Exception):
        return (type(outcome).__name__, str(outcome))
    result, entry = outcome
    assert entry.entry_id == result.entry_id
    assert entry.status is result.status
    return (result.entry_id, result.status, result.reason, result.decline_code)


def alone(world: World, request: JoinRequest) -> tuple[Any, ...]:
    try:
        result = join(world.p, request)
    except Exception as error:
        return (type(error).__name__, str(error))
    return (result.entry_id, result.status, result.reason, result.decline_code)


def stored(world: World) -> tuple[Any, ...]:
    with world.store.unit_of_work() as uow:
        entries = sorted(
            (e.entry_id, e.contest_id, e.user_id, e.status, e.charge_id, e.fingerprint)
            for e in uow.entries.with_status(EntryStatus)
        )
        seats = {c: uow.entries.seats_taken(c) for c in {e[1] for e in entries}}
        ledger = sorted(s.key for s in uow.ledger.all())
    charged = sorted(k for k in world.gateway.charges if world.gateway.charged_total(k))
    return entries, seats, ledger, charged


# A request: (contest 0/1 or an unknown one, user, client key, lineup variant or invalid, card).
requests_strategy = st.lists(
    st.tuples(
        st.sampled_from([0, 0, 1, 2]),
        st.sampled_from(["ann", "bob", "cy"]),
        st.sampled_from(["k1", "k2", "k3"]),
        st.sampled_from([0, 1, 2, -1]),
        st.sampled_from([SUCCEED, SUCCEED, REQUIRES_ACTION]),
    ),
    min_size=1,
    max_size=14,
)


def build(world: World, specs: list[tuple[int, str, str, int, str]]) -> list[JoinRequest]:
    ids = [world.create(capacity=4).contest_id, world.create(capacity=9).contest_id, "nope"]
    return [
        JoinRequest(ids[c], user, key, BAD_LINEUP if variant < 0 else lineup(variant), card)
        for c, user, key, variant, card in specs
    ]


@settings(max_examples=150, deadline=None)
@given(requests_strategy)
def test_a_batch_answers_and_stores_exactly_what_the_same_joins_one_by_one_do(
    specs: list[tuple[int, str, str, int, str]],
) -> None:
    # No card declines here: a decline frees its seat only once recorded, so alone a later
    # join may take it where in the batch (all reserved first, as concurrent joins) it can't.
    one_by_one, batched = World(), World()
    singles = [alone(one_by_one, r) for r in build(one_by_one, specs)]
    answers = [answer_of(a) for a in join_many(batched.p, build(batched, specs))]
    assert answers == singles
    assert stored(batched) == stored(one_by_one)


@settings(max_examples=150, deadline=None)
@given(
    requests_strategy,
    st.lists(st.sampled_from([SUCCEED, DECLINE, TIMEOUT_AFTER_SUCCESS, REQUIRES_ACTION])),
)
def test_any_batch_never_oversells_charges_once_and_replays_to_the_same_answers(
    specs: list[tuple[int, str, str, int, str]], cards: list[str]
) -> None:
    specs = [(*s[:4], cards[n] if n < len(cards) else s[4]) for n, s in enumerate(specs)]
    world = World()
    requests = build(world, specs)
    first = [answer_of(a) for a in join_many(world.p, requests)]
    with world.store.unit_of_work() as uow:
        for contest in (uow.contests.get(c) for c in uow.contests.ids_in_states(ContestState)):
            held = uow.entries.count(contest.contest_id, SEAT_HOLDING)
            assert held == uow.entries.seats_taken(contest.contest_id) <= contest.terms.capacity
        entries = uow.entries.with_status(EntryStatus)
    # One charge attempt per entry (its fingerprint), never one without an entry.
    fingerprints = {e.fingerprint for e in entries}
    assert set(world.gateway.charges) <= fingerprints
    assert len(world.gateway.charges) == len(set(world.gateway.charges))
    # A replay of the batch, or of any request alone, answers a join that made an entry as
    # the first time did, except a join whose charge reply was lost: its replay finishes it.
    # (A refusal is no join: a seat freed by a decline may take the replay. A replayed
    # decline says declined and why, not the bank's code: `join` does not keep it either.)
    lost = {n for n, a in enumerate(first) if a[0] == PaymentOutcomeUnknown.__name__}
    made = {n for n, a in enumerate(first) if a[0].startswith("entry-")}
    again = [answer_of(a) for a in join_many(world.p, requests)]
    assert [again[n][:3] for n in sorted(made)] == [first[n][:3] for n in sorted(made)]
    assert all(again[n][1] is EntryStatus.ACTIVE for n in lost)
    charges_after = dict(world.gateway.charges)
    made_again = [n for n, a in enumerate(again) if a[0].startswith("entry-")]
    assert [alone(world, requests[n])[:3] for n in made_again] == [again[n][:3] for n in made_again]
    assert world.gateway.charges == charges_after


def test_a_batch_holds_a_player_to_the_entry_limit_as_joins_one_by_one_do() -> None:
    world = World()
    contest = world.create(entry_limit=MaxEntries(2))
    requests = [
        JoinRequest(contest.contest_id, "ann", f"k{n}", lineup(n), SUCCEED) for n in range(3)
    ]
    first, second, third = join_many(world.p, requests)
    assert not isinstance(first, Exception)
    assert not isinstance(second, Exception)
    assert (first[0].status, second[0].status) == (EntryStatus.ACTIVE, EntryStatus.ACTIVE)
    assert isinstance(third, JoinRefused)
    assert third.reason == "entry_limit"
    assert len(world.gateway.charges) == 2


def test_two_requests_with_one_key_in_a_batch_are_one_join_charged_once() -> None:
    world = World()
    contest = world.create()
    request = JoinRequest(contest.contest_id, "ann", "k1", lineup(0), SUCCEED)
    first, second = join_many(world.p, [request, request])
    assert answer_of(first) == answer_of(second)
    assert [c for c, _ in world.gateway.calls] == ["charge"]


def test_a_key_reused_with_another_request_in_a_batch_is_refused_and_the_first_charged_once() -> (
    None
):
    world = World()
    contest = world.create()
    request = JoinRequest(contest.contest_id, "ann", "k1", lineup(0), SUCCEED)
    other_lineup = attrs.evolve(request, lineup=lineup(1))
    other_card = attrs.evolve(request, payment_method="pm_card_mastercard")
    first, second, third, replay = join_many(world.p, [request, other_lineup, other_card, request])
    assert answer_of(first) == answer_of(replay)
    for refused, what in ((second, "lineup"), (third, "payment method")):
        assert isinstance(refused, IdempotencyKeyReused)
        assert refused.key == "k1"
        assert f"with another {what};" in str(refused)
    assert [c for c, _ in world.gateway.calls] == ["charge"]
    (again,) = join_many(world.p, [other_lineup])
    assert isinstance(again, IdempotencyKeyReused)


def test_a_lost_charge_reply_fails_only_its_request_and_the_worker_finishes_it() -> None:
    world = World()
    contest = world.create()
    requests = [
        JoinRequest(contest.contest_id, "ann", "k1", lineup(0), SUCCEED),
        JoinRequest(contest.contest_id, "bob", "k1", lineup(1), TIMEOUT_AFTER_SUCCESS),
        JoinRequest(contest.contest_id, "cy", "k1", lineup(2), DECLINE),
    ]
    ann, bob, cy = join_many(world.p, requests)
    assert isinstance(bob, PaymentOutcomeUnknown)
    assert not isinstance(ann, Exception)
    assert ann[0].status is EntryStatus.ACTIVE
    assert not isinstance(cy, Exception)
    assert cy[0].decline_code == "generic_decline"
    with world.store.unit_of_work() as uow:
        assert uow.entries.seats_taken(contest.contest_id) == 2  # ann's, and bob's reserved
    assert resolve_reservations(world.p, grace=timedelta(0)) == 1
    assert alone(world, requests[1])[1] is EntryStatus.ACTIVE


def test_when_the_shared_reservation_fails_each_join_runs_alone_and_none_is_lost(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    specs = [(0, "ann", "k1", 0, SUCCEED), (0, "bob", "k1", 1, SUCCEED)]
    reference = World()
    expected = [alone(reference, r) for r in build(reference, specs)]
    world = World()
    requests = build(world, specs)
    add_all = memory_store._Entries.add_all
    failures = [DuplicateRecord("the database refused the batch")]

    def refuse_once(self: Any, entries: Any) -> None:
        if failures:
            raise failures.pop()
        add_all(self, entries)

    monkeypatch.setattr(memory_store._Entries, "add_all", refuse_once)
    answers = [answer_of(a) for a in join_many(world.p, requests)]
    # The same outcomes (the failed attempt used up entry ids: those differ).
    assert [a[1:] for a in answers] == [e[1:] for e in expected]
    entries, seats, ledger, charged = stored(world)
    entries_alone, seats_alone, ledger_alone, charged_alone = stored(reference)
    assert [e[1:] for e in entries] == [e[1:] for e in entries_alone]
    assert (seats, ledger, charged) == (seats_alone, ledger_alone, charged_alone)
    assert "running them one by one" in caplog.text


def test_charges_sent_side_by_side_end_as_the_same_answers_and_books() -> None:
    specs = [
        (n % 2, f"user{n}", "k1", n % 3, [SUCCEED, DECLINE, REQUIRES_ACTION][n % 3])
        for n in range(12)
    ]
    in_turn, side_by_side = World(), World()
    side_by_side.p = attrs.evolve(side_by_side.p, charge_senders=4)
    first = [answer_of(a) for a in join_many(in_turn.p, build(in_turn, specs))]
    second = [answer_of(a) for a in join_many(side_by_side.p, build(side_by_side, specs))]
    assert second == first
    # The same books but the sandbox's charge ids, numbered in the order the charges came.
    entries, *rest = stored(side_by_side)
    entries_in_turn, *rest_in_turn = stored(in_turn)
    assert [e[:4] + e[5:] for e in entries] == [e[:4] + e[5:] for e in entries_in_turn]
    assert rest == rest_in_turn


def test_charged_after_the_lock_a_batch_refunds_and_a_failed_send_leaves_the_refunds_pending(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    world = World()
    contest = world.create()
    requests = [
        JoinRequest(contest.contest_id, user, "k1", lineup(n), SUCCEED)
        for n, user in enumerate(["ann", "bob"])
    ]
    world.gateway.after_call = lambda call, key: world.clock.set(LOCK)  # locks meanwhile

    def refunds_unsent(*_: Any, **__: Any) -> int:
        raise RuntimeError("the database went away while sending")

    monkeypatch.setattr(joining_batch, "send_refunds", refunds_unsent)
    answers = [answer_of(a) for a in join_many(world.p, requests)]
    assert [a[1] for a in answers] == [EntryStatus.REFUNDED, EntryStatus.REFUNDED]
    with world.store.unit_of_work() as uow:
        assert len(uow.refunds.pending()) == 2  # written before sending: the worker sends them
    assert "not sent yet" in caplog.text
