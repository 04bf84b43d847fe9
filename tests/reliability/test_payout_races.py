"""Two workers paying the same prize at once, on PostgreSQL, interleaved on purpose.

Found by the several-workers campaign's audit counts: a worker that read a payout
just before another confirmed it wrote its stale copy back over the confirmation
(SENDING again, no transfer id), then confirmed it a second time. No money moved
twice (the transfer's idempotency key and the lookup saw to that), but the audit
trail said "paid" twice, and a crash in between would have left a PAID contest
with a payout SENDING forever. The same read-modify-write without a lock existed
for refunds. Each test forces the one interleaving that exposes it.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import pytest

from fantasy_core.contest import Contest
from fantasy_core.errors import GatewayUnavailable
from fantasy_core.money import Money
from fantasy_core.payments import PayoutStatus, RefundOutcome, RefundStatus, TransferOutcome
from fantasy_core.payouts import winner_take_all
from fantasy_core.platform import Platform
from fantasy_core.ports import PaymentGateway, UnitOfWork
from fantasy_core.usecases.contests import cancel_contest
from fantasy_core.usecases.paying import execute_payouts
from fantasy_core.usecases.refunds import send_refunds
from support.sql_world import SqlWorld

WAIT = 5.0
# Races need a database with row locks: each test's world is on a PostgreSQL schema of its own.
pytestmark = pytest.mark.parametrize("world", ["postgresql"], indirect=True)


class PausingRepository:
    """Delegates to a repository; the first `get` or `lock` pauses after reading, until released."""

    def __init__(self, inner: Any, read: threading.Event, go: threading.Event) -> None:
        self._inner = inner
        self._read = read
        self._go = go

    def _pause(self, found: Any) -> Any:
        if not self._read.is_set():
            self._read.set()
            self._go.wait(WAIT)
        return found

    def get(self, key: str) -> Any:
        return self._pause(self._inner.get(key))

    def lock(self, key: str) -> Any:
        return self._pause(self._inner.lock(key))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class PausingUnitOfWork:
    """A unit of work whose `repository` pauses once right after its first read."""

    def __init__(
        self, inner: UnitOfWork, repository: str, read: threading.Event, go: threading.Event
    ) -> None:
        self._inner = inner
        self._repository = repository
        self._read = read
        self._go = go

    def __enter__(self) -> PausingUnitOfWork:
        self._inner.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._inner.__exit__(*exc)  # type: ignore[arg-type]

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._inner, name)
        if name == self._repository:
            return PausingRepository(value, self._read, self._go)
        return value


class HeldGateway:
    """Delegates to the world's sandbox; `transfer` and `refund` wait until released."""

    def __init__(self, inner: PaymentGateway) -> None:
        self._inner = inner
        self.calling = threading.Event()
        self.release = threading.Event()

    def _hold(self) -> None:
        self.calling.set()
        self.release.wait(WAIT)

    def transfer(
        self, key: str, destination: str, amount: Money, group: str, metadata: Mapping[str, str]
    ) -> TransferOutcome:
        self._hold()
        return self._inner.transfer(key, destination, amount, group, metadata)

    def refund(self, key: str, charge_id: str, amount: Money) -> RefundOutcome:
        self._hold()
        return self._inner.refund(key, charge_id, amount)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _Unreachable:
    """Delegates to the sandbox, but no refund gets through (they stay pending)."""

    def __init__(self, inner: PaymentGateway) -> None:
        self._inner = inner

    def refund(self, key: str, charge_id: str, amount: Money) -> RefundOutcome:
        raise GatewayUnavailable("the test keeps this refund pending")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _paused(world: SqlWorld, repository: str) -> tuple[Platform, threading.Event, threading.Event]:
    read, go = threading.Event(), threading.Event()

    def unit_of_work() -> PausingUnitOfWork:
        return PausingUnitOfWork(world.db.unit_of_work(), repository, read, go)

    return attrs.evolve(world.p, uow=unit_of_work), read, go


def _interleave(
    first: Callable[[], object],
    second: Callable[[], object],
    held: HeldGateway,
    read: threading.Event,
    go: threading.Event,
) -> None:
    """`first` reaches the gateway and waits; `second` reads the record and waits; then
    `first` finishes (recording the outcome) before `second` writes what it read."""
    a = threading.Thread(target=first)
    a.start()
    assert held.calling.wait(WAIT)
    b = threading.Thread(target=second)
    b.start()
    assert read.wait(WAIT)
    held.release.set()
    a.join(timeout=1.0)  # done, or (correctly) waiting for the second's lock
    go.set()
    a.join(timeout=WAIT)
    b.join(timeout=WAIT)
    assert not a.is_alive()
    assert not b.is_alive()


def _settled(world: SqlWorld) -> Contest:
    contest = world.create(payout=winner_take_all())
    for n, user in enumerate(("ann", "bob")):
        world.give_account(user)
        assert world.join(contest, user, variant=n).accepted
    world.settle_without_paying()
    return contest


def test_a_payout_confirmed_by_one_worker_is_not_reopened_by_another(world: SqlWorld) -> None:
    contest = _settled(world)
    held = HeldGateway(world.gateway)
    first = attrs.evolve(world.p, gateway=held)
    second, read, go = _paused(world, "payouts")

    _interleave(lambda: execute_payouts(first), lambda: execute_payouts(second), held, read, go)

    with world.p.uow() as uow:
        (payout,) = uow.payouts.for_contest(contest.contest_id)
        actions = Counter(r.action for r in uow.audit.for_contest(contest.contest_id))
    assert payout.status is PayoutStatus.CONFIRMED
    assert payout.transfer_id is not None
    assert actions["payout.confirmed"] == 1
    assert len(world.gateway.transfers) == 1


def test_a_refund_confirmed_by_one_worker_is_not_confirmed_again_by_another(
    world: SqlWorld,
) -> None:
    contest = world.create()
    for n, user in enumerate(("ann", "bob")):
        assert world.join(contest, user, variant=n).accepted
    held = HeldGateway(world.gateway)
    first = attrs.evolve(world.p, gateway=held)
    # Cancelled without sending the refunds: both workers find them pending.
    unreachable = attrs.evolve(world.p, gateway=_Unreachable(world.gateway))
    cancel_contest(unreachable, contest.contest_id, "a test", actor="operator")
    second, read, go = _paused(world, "refunds")

    _interleave(lambda: send_refunds(first), lambda: send_refunds(second), held, read, go)

    with world.p.uow() as uow:
        refunds = uow.refunds.for_contest(contest.contest_id)
        actions = Counter(r.action for r in uow.audit.for_contest(contest.contest_id))
    assert {r.status for r in refunds} == {RefundStatus.CONFIRMED}
    assert actions["refund.confirmed"] == 2  # one per refund, not per worker
    assert len(world.gateway.refunds) == 2
