"""A payment event interrupted part-way (database lost, process killed) is applied on redelivery.

Stripe redelivers an event until it is acknowledged with a 2xx. Found by the
webhook campaign's reasoning about outages: the event id used to be marked
"processed" in a transaction of its own, before its change was made in another;
a failure between the two left it marked but never applied, and every redelivery
was answered "seen already". A reversed transfer was then lost for good: the
payout stayed CONFIRMED, the ledger said the winner was paid.

Each test fails the n-th unit of work of the first delivery, for every n the
delivery uses, then redelivers: the end state must be the same as with no failure.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import attrs
import pytest

from fantasy_core.entries import EntryStatus, join_fingerprint
from fantasy_core.payments import PaymentEvent, PaymentEventKind, PayoutStatus
from fantasy_core.ports import UnitOfWork
from fantasy_core.usecases.payment_events import apply_payment_event
from support.world import World

THREE_D_SECURE = "pm_card_authenticationRequired"


class DatabaseLost(ConnectionError):
    pass


class _Unreachable:
    def __enter__(self) -> Any:
        raise DatabaseLost("the database went away")

    def __exit__(self, *exc: object) -> None:
        return None


class FailingOnce:
    """A unit-of-work factory whose `fail_at`-th unit of work cannot reach the database."""

    def __init__(self, inner: Callable[[], UnitOfWork], fail_at: int) -> None:
        self.inner = inner
        self.fail_at = fail_at
        self.calls = 0

    def __call__(self) -> Any:
        self.calls += 1
        return _Unreachable() if self.calls == self.fail_at else self.inner()


def deliver_with_failure(world: World, event: PaymentEvent, fail_at: int) -> bool:
    """The first delivery, failing at its `fail_at`-th unit of work; True if it got through."""
    failing = attrs.evolve(world.p, uow=FailingOnce(world.store.unit_of_work, fail_at))
    try:
        apply_payment_event(failing, event)
    except DatabaseLost:
        return False
    return True


def audited(world: World, event_id: str) -> int:
    with world.store.unit_of_work() as uow:
        return sum(
            1
            for r in uow.audit.for_actor("system")
            if r.action.startswith("payment_event.") and f"event {event_id}:" in r.detail
        )


def paid_world() -> tuple[World, str, str]:
    world = World()
    contest = world.create()
    for n, user in enumerate(("ann", "bob", "cat")):
        world.give_account(user)
        assert world.join(contest, user, variant=n).accepted
    world.play_games()
    with world.store.unit_of_work() as uow:
        payout = uow.payouts.for_contest(contest.contest_id)[0]
    assert payout.transfer_id is not None
    return world, payout.fingerprint, payout.transfer_id


@pytest.mark.parametrize("fail_at", [1, 2, 3])
def test_a_transfer_reversal_interrupted_part_way_is_applied_when_redelivered(
    fail_at: int,
) -> None:
    world, fingerprint, transfer_id = paid_world()
    event = PaymentEvent(
        "evt_rev", PaymentEventKind.TRANSFER_REVERSED, transfer_id, datetime.now(UTC), "fraud"
    )

    deliver_with_failure(world, event, fail_at)
    apply_payment_event(world.p, event)  # Stripe's redelivery
    apply_payment_event(world.p, event)  # and another, for good measure

    with world.store.unit_of_work() as uow:
        payout = uow.payouts.get(fingerprint)
        ledger = Counter(s.key for s in uow.ledger.all())
    assert payout.status is PayoutStatus.REVERSED
    assert ledger["reversed:" + fingerprint] == 1
    assert audited(world, "evt_rev") == 1


@pytest.mark.parametrize("fail_at", [1, 2, 3, 4])
def test_a_confirmed_payment_interrupted_part_way_activates_the_entry_when_redelivered(
    fail_at: int,
) -> None:
    world = World()
    contest = world.create()
    pending = world.join(contest, "ann", key="3ds", card=THREE_D_SECURE)
    assert pending.status is EntryStatus.PENDING_ACTION
    key = join_fingerprint(contest.contest_id, "ann", "3ds")
    event = world.gateway.complete_action(key, succeeded=True, event_id="evt_ok")

    deliver_with_failure(world, event, fail_at)
    apply_payment_event(world.p, event)
    apply_payment_event(world.p, event)

    with world.store.unit_of_work() as uow:
        entry = uow.entries.get(pending.entry_id)
        collected = [s for s in uow.ledger.all() if s.key.startswith("fee:")]
    assert entry.status is EntryStatus.ACTIVE
    assert len(collected) == 1
    assert audited(world, "evt_ok") == 1


@pytest.mark.parametrize("fail_at", [1, 2])
def test_a_disabled_account_interrupted_part_way_is_disabled_when_redelivered(
    fail_at: int,
) -> None:
    world = World()
    world.give_account("ann")
    world.gateway.disabled_accounts.add("acct_ann")  # Stripe says so when it is read
    event = PaymentEvent(
        "evt_acct", PaymentEventKind.ACCOUNT_UPDATED, "acct_ann", datetime.now(UTC)
    )

    deliver_with_failure(world, event, fail_at)
    apply_payment_event(world.p, event)

    with world.store.unit_of_work() as uow:
        account = uow.accounts.get("ann")
    assert account is not None
    assert not account.payouts_enabled
    assert audited(world, "evt_acct") == 1
