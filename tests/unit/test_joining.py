"""Joining: one charge per fingerprint, a clear outcome every time, refunds when too late."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.sandbox.gateway import (
    DECLINE,
    INSUFFICIENT_FUNDS,
    REQUIRES_ACTION,
    TIMEOUT_AFTER_SUCCESS,
)
from fantasy_core.entries import EntryStatus, join_fingerprint
from fantasy_core.errors import (
    GatewayUnavailable,
    IdempotencyKeyReused,
    InvalidLineup,
    JoinRefused,
    NotYourEntry,
    PaymentOutcomeUnknown,
    WithdrawRefused,
)
from fantasy_core.lineups import Lineup
from fantasy_core.usecases.joining import JoinRequest, join, withdraw
from fantasy_core.usecases.payment_events import apply_payment_event
from fantasy_core.usecases.recovery import ACTION_WINDOW, resolve_reservations
from support.world import LOCK, World


def charges(world: World) -> int:
    return sum(world.gateway.charged_total(k) for k in world.gateway.charges) // 1_000


def test_a_paid_join_becomes_an_active_entry_and_a_ledger_posting() -> None:
    world = World()
    contest = world.create()
    result = world.join(contest, "ann")
    assert result.status is EntryStatus.ACTIVE
    assert charges(world) == 1
    with world.store.unit_of_work() as uow:
        assert [s.key for s in uow.ledger.all()] == [
            "fee:" + join_fingerprint(contest.contest_id, "ann", "k1")
        ]


def test_a_replayed_join_returns_the_first_outcome_and_charges_nothing() -> None:
    world = World()
    contest = world.create()
    first = world.join(contest, "ann")
    again = world.join(contest, "ann")
    assert again == first
    assert charges(world) == 1
    assert [c for c, _ in world.gateway.calls] == ["charge"]


@pytest.mark.parametrize(
    ("variant", "card", "changed"),
    [(1, "pm_card_visa", "lineup"), (0, "pm_card_mastercard", "payment method"),
     (1, "pm_card_mastercard", "lineup and payment method")],
)  # fmt: skip
def test_a_key_reused_with_another_request_is_refused_naming_the_key(
    variant: int, card: str, changed: str
) -> None:
    world = World()
    contest = world.create()
    first = world.join(contest, "ann", key="tap")
    with pytest.raises(IdempotencyKeyReused, match=f"'tap' was first used .* another {changed};"):
        world.join(contest, "ann", key="tap", variant=variant, card=card)
    assert world.join(contest, "ann", key="tap") == first
    assert charges(world) == 1


@pytest.mark.parametrize(
    ("card", "code"), [(DECLINE, "generic_decline"), (INSUFFICIENT_FUNDS, "insufficient_funds")]
)
def test_a_declined_join_leaves_no_entry_and_owes_nothing(card: str, code: str) -> None:
    world = World()
    contest = world.create(capacity=2)
    result = world.join(contest, "ann", card=card)
    assert result.status is EntryStatus.DECLINED
    assert result.decline_code == code
    assert result.reason
    with world.store.unit_of_work() as uow:
        assert uow.entries.seats_taken(contest.contest_id) == 0
        assert uow.ledger.all() == []
    assert world.join(contest, "ann", key="k1", card=card).status is EntryStatus.DECLINED  # replay
    assert world.join(contest, "ann", key="k2").accepted  # a new attempt is a new join


def test_an_invalid_lineup_is_refused_before_any_charge() -> None:
    world = World()
    contest = world.create()
    bad = Lineup((("QB", "KC-QB0"),))
    with pytest.raises(InvalidLineup) as refused:
        join(world.p, JoinRequest(contest.contest_id, "ann", "k", bad, "pm_card_visa"))
    assert refused.value.rule == "slot_count"
    assert world.gateway.calls == []


def test_a_full_contest_refuses_joins_before_charging() -> None:
    world = World()
    contest = world.create(capacity=2)
    world.join(contest, "ann")
    world.join(contest, "bob")
    with pytest.raises(JoinRefused) as refused:
        world.join(contest, "cat")
    assert refused.value.reason == "full"
    assert charges(world) == 2


def test_the_per_player_entry_limit_is_enforced() -> None:
    world = World()
    contest = world.create()  # MaxEntries(3)
    for n in range(3):
        world.join(contest, "ann", key=f"k{n}", variant=n)
    with pytest.raises(JoinRefused) as refused:
        world.join(contest, "ann", key="k9")
    assert refused.value.reason == "entry_limit"


def test_a_locked_contest_refuses_joins() -> None:
    world = World()
    contest = world.create()
    world.clock.set(LOCK)
    with pytest.raises(JoinRefused) as refused:
        world.join(contest, "ann")
    assert refused.value.reason == "locked"


def test_a_charge_that_lands_after_lock_is_refunded_and_the_player_told_why() -> None:
    world = World()
    contest = world.create()
    world.clock.set(LOCK - timedelta(seconds=1))
    world.gateway.lose_next_replies = 1
    with pytest.raises(PaymentOutcomeUnknown):
        world.join(contest, "ann")
    world.clock.set(LOCK)
    result = world.join(contest, "ann")  # the client retries with the same key
    assert result.status is EntryStatus.REFUNDED
    assert result.reason is not None
    assert "locked" in result.reason
    assert charges(world) == 1
    assert len(world.gateway.refunds) == 1


def test_a_lost_reply_then_a_replay_charges_once() -> None:
    world = World()
    contest = world.create()
    with pytest.raises(PaymentOutcomeUnknown):
        world.join(contest, "ann", card=TIMEOUT_AFTER_SUCCESS)
    assert world.join(contest, "ann", card=TIMEOUT_AFTER_SUCCESS).accepted
    assert charges(world) == 1


def test_an_unreachable_gateway_keeps_the_seat_for_a_retry_with_the_same_key() -> None:
    world = World()
    contest = world.create(capacity=2)
    world.gateway.unavailable = True
    with pytest.raises(GatewayUnavailable):
        world.join(contest, "ann")
    world.gateway.unavailable = False
    assert world.join(contest, "ann").accepted
    assert charges(world) == 1


def test_an_abandoned_reservation_frees_its_seat() -> None:
    world = World()
    contest = world.create(capacity=2)
    world.gateway.unavailable = True
    with pytest.raises(GatewayUnavailable):
        world.join(contest, "ann")
    world.gateway.unavailable = False
    world.clock.advance(timedelta(minutes=6))
    assert resolve_reservations(world.p) == 1
    with world.store.unit_of_work() as uow:
        assert uow.entries.seats_taken(contest.contest_id) == 0


def test_a_charge_needing_action_completes_by_the_payment_event() -> None:
    world = World()
    contest = world.create()
    pending = world.join(contest, "ann", card=REQUIRES_ACTION)
    assert pending.status is EntryStatus.PENDING_ACTION
    key = join_fingerprint(contest.contest_id, "ann", "k1")
    event = world.gateway.complete_action(key, succeeded=True, event_id="evt_1")
    assert apply_payment_event(world.p, event)
    assert not apply_payment_event(world.p, event)  # the same event again changes nothing
    assert world.join(contest, "ann", card=REQUIRES_ACTION).status is EntryStatus.ACTIVE
    assert charges(world) == 1


def test_a_failed_action_declines_the_entry() -> None:
    world = World()
    contest = world.create()
    world.join(contest, "ann", card=REQUIRES_ACTION)
    key = join_fingerprint(contest.contest_id, "ann", "k1")
    apply_payment_event(world.p, world.gateway.complete_action(key, False, "evt_1"))
    assert world.join(contest, "ann", card=REQUIRES_ACTION).status is EntryStatus.DECLINED


def test_a_payment_completed_after_lock_is_refunded() -> None:
    world = World()
    contest = world.create()
    world.join(contest, "ann", card=REQUIRES_ACTION)
    world.join(contest, "bob", variant=1)
    world.join(contest, "cat", variant=2)
    world.clock.set(LOCK)
    world.run()
    assert world.join(contest, "ann", card=REQUIRES_ACTION).status is EntryStatus.ABANDONED
    key = join_fingerprint(contest.contest_id, "ann", "k1")
    apply_payment_event(world.p, world.gateway.complete_action(key, True, "evt_late"))
    assert world.join(contest, "ann", card=REQUIRES_ACTION).status is EntryStatus.REFUNDED
    assert len(world.gateway.refunds) == 1


def test_a_payment_left_unconfirmed_gives_its_seat_back_after_the_action_window() -> None:
    world = World()
    contest = world.create(capacity=2)
    world.join(contest, "ann", card=REQUIRES_ACTION)
    assert world.join(contest, "bob", variant=1).accepted
    world.clock.advance(ACTION_WINDOW - timedelta(seconds=1))
    world.run()
    pending = world.join(contest, "ann", card=REQUIRES_ACTION)
    assert pending.status is EntryStatus.PENDING_ACTION  # the player may still confirm
    with pytest.raises(JoinRefused, match="full"):
        world.join(contest, "cat", variant=2)  # ann's payment still holds her seat
    world.clock.advance(timedelta(seconds=1))
    world.run()
    abandoned = world.join(contest, "ann", card=REQUIRES_ACTION)
    assert abandoned.status is EntryStatus.ABANDONED
    assert abandoned.reason == "the payment was not confirmed within 15 minutes"
    assert world.join(contest, "dan", variant=3).accepted  # the seat is free again
    key = join_fingerprint(contest.contest_id, "ann", "k1")
    apply_payment_event(world.p, world.gateway.complete_action(key, True, "evt_late"))
    assert world.join(contest, "ann", card=REQUIRES_ACTION).status is EntryStatus.REFUNDED
    assert len(world.gateway.refunds) == 1
    assert world.gateway.charged_total(key) == world.gateway.charges[key].refunded


def test_withdrawing_before_the_cut_off_refunds_once() -> None:
    world = World()
    contest = world.create()
    entry = world.join(contest, "ann")
    first = withdraw(world.p, contest.contest_id, entry.entry_id, "ann")
    again = withdraw(world.p, contest.contest_id, entry.entry_id, "ann")
    assert first.status is again.status is EntryStatus.WITHDRAWN
    assert len(world.gateway.refunds) == 1


def test_withdrawing_after_the_cut_off_is_refused() -> None:
    world = World()
    contest = world.create()
    entry = world.join(contest, "ann")
    world.clock.set(LOCK - timedelta(minutes=15))
    with pytest.raises(WithdrawRefused, match="closed"):
        withdraw(world.p, contest.contest_id, entry.entry_id, "ann")


def test_only_the_owner_can_withdraw_an_entry() -> None:
    world = World()
    contest = world.create()
    entry = world.join(contest, "ann")
    with pytest.raises(NotYourEntry):
        withdraw(world.p, contest.contest_id, entry.entry_id, "bob")
    other = world.create()
    with pytest.raises(WithdrawRefused, match="not an entry of"):
        withdraw(world.p, other.contest_id, entry.entry_id, "ann")
