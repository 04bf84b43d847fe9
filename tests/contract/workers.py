"""Code run in separate worker processes by the concurrency tests (spawned, so importable).

Each task builds its own platform: its own engine (connection pool), its own sandbox
gateway, feed and clock; only the database is shared, as between machines (and the
payment account, which `SharedAccountSandbox` stands in for). The processes of a pool
share one barrier, handed to each when it starts (`share_barrier`), so that the tasks
of one test run at the same moment.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from multiprocessing.pool import Pool
from multiprocessing.synchronize import Barrier as ProcessBarrier
from typing import Any, TypeVar

import attrs
from sqlalchemy import Engine

from adapters.alerts import CollectedAlerts
from adapters.clock import ControllableClock
from adapters.ids import TimeOrderedIds
from adapters.sandbox import SandboxGateway
from adapters.sqlalchemy import SqlDatabase, make_engine
from fantasy_core.errors import JoinRefused
from fantasy_core.money import Money
from fantasy_core.payments import ChargeOutcome, ChargeStatus, RefundOutcome, TransferOutcome
from fantasy_core.platform import Platform
from fantasy_core.stats import GameStatus
from fantasy_core.usecases.joining import JoinRequest, join
from fantasy_core.usecases.worker import run_once
from support.programmable_feed import ProgrammableFeed
from support.world import POOL, START, lineup, snapshot

# (clock instant, status of every game, feed version): what the world looks like in a phase.
Phase = tuple[datetime, str, int]

T = TypeVar("T")

SPAWN = multiprocessing.get_context("spawn")
WORKERS = 3

_barrier: list[ProcessBarrier] = []


@attrs.frozen
class Workers:
    """Spawned worker processes. Starting one costs seconds, so a session keeps them."""

    pool: Pool
    barrier: ProcessBarrier

    @classmethod
    def start(cls) -> Workers:
        barrier = SPAWN.Barrier(WORKERS)
        return cls(SPAWN.Pool(WORKERS, initializer=share_barrier, initargs=(barrier,)), barrier)

    def run_together(self, task: Callable[..., T], *args: Any) -> list[T]:
        """Run `task(*args)` once in every worker process, all at once; their results.

        A busy worker takes no other task, so the tasks land on distinct processes.
        """
        self.barrier.reset()
        pending = [self.pool.apply_async(task, args) for _ in range(WORKERS)]
        return [result.get(timeout=120) for result in pending]

    def stop(self) -> None:
        self.pool.terminate()
        self.pool.join()


def share_barrier(barrier: ProcessBarrier) -> None:
    """Pool initializer: synchronisation objects can only be inherited at process start."""
    _barrier[:] = [barrier]


def _all_together() -> None:
    _barrier[0].wait(timeout=60)


def _object_id(prefix: str, key: str) -> str:
    return f"{prefix}_{hashlib.sha256(key.encode()).hexdigest()[:24]}"


class SharedAccountSandbox:
    """The sandbox, answering with ids derived from idempotency keys, as one Stripe account does.

    Each process has its own in-process sandbox, whose ids are a counter: two processes
    would name different objects alike. Stripe gives one object per key to every client,
    so here the same key gives the same id in every process.
    """

    def __init__(self) -> None:
        self.inner = SandboxGateway()
        self._charge_ids: dict[str, str] = {}  # our id -> the inner sandbox's

    def _charge(self, key: str, outcome: ChargeOutcome | None) -> ChargeOutcome | None:
        if outcome is None or outcome.charge_id is None:
            return outcome
        public = _object_id("pi", key)
        self._charge_ids[public] = outcome.charge_id
        return attrs.evolve(outcome, charge_id=public)

    def charge(
        self, key: str, amount: Money, payment_method: str, metadata: Mapping[str, str]
    ) -> ChargeOutcome:
        outcome = self._charge(key, self.inner.charge(key, amount, payment_method, metadata))
        assert outcome is not None
        return outcome

    def find_charge(self, key: str) -> ChargeOutcome | None:
        return self._charge(key, self.inner.find_charge(key))

    def refund(self, key: str, charge_id: str, amount: Money) -> RefundOutcome:
        self.inner.refund(key, self._charge_ids.get(charge_id, charge_id), amount)
        return RefundOutcome(_object_id("re", key))

    def transfer(
        self, key: str, destination: str, amount: Money, group: str, metadata: Mapping[str, str]
    ) -> TransferOutcome:
        self.inner.transfer(key, destination, amount, group, metadata)
        return TransferOutcome(_object_id("tr", key))

    def find_transfer(self, key: str, group: str) -> TransferOutcome | None:
        found = self.inner.find_transfer(key, group)
        return None if found is None else TransferOutcome(_object_id("tr", key))

    def check(self) -> None:
        self.inner.check()


def platform(
    url: str, gateway: SharedAccountSandbox, clock: ControllableClock
) -> tuple[Platform, Engine]:
    engine = make_engine(url)
    feed = ProgrammableFeed(clock.now)
    feed.set_pool(POOL)
    p = Platform(
        uow=SqlDatabase(engine).unit_of_work,
        gateway=gateway,
        feed=feed,
        clock=clock,
        alerts=CollectedAlerts(),
        ids=TimeOrderedIds(),
    )
    return p, engine


def lifecycle_worker(url: str, phases: list[Phase], passes: int) -> list[tuple[str, str]]:
    """Run the lifecycle worker through each phase, in step with the other processes.

    Returns the (contest, new state) of every transition this process made.
    """
    clock = ControllableClock(START)
    p, engine = platform(url, SharedAccountSandbox(), clock)
    assert isinstance(p.feed, ProgrammableFeed)
    moved: list[tuple[str, str]] = []
    try:
        for at, status, version in phases:
            clock.set(at)
            p.feed.publish(snapshot(GameStatus(status), version))
            _all_together()  # every worker ticks this phase at the same time
            for _ in range(passes):
                report = run_once(p)
                moved += [(e.contest_id, e.target.value) for e in report.transitions]
            _all_together()
    except BaseException:
        _barrier[0].abort()
        raise
    finally:
        engine.dispose()
    return moved


def joining_process(
    url: str, contest_id: str, threads: int
) -> tuple[dict[str, str], list[tuple[str, int, int]]]:
    """Join one contest from `threads` threads at once, each as a user of its own.

    Returns each user's outcome, and (key, amount, refunded) of every charge made.
    """
    users = [f"user-{os.getpid()}-{n}" for n in range(threads)]
    gateway = SharedAccountSandbox()
    p, engine = platform(url, gateway, ControllableClock(START))
    outcomes: dict[str, str] = {}
    start = threading.Barrier(len(users))

    def join_as(user: str) -> None:
        request = JoinRequest(contest_id, user, "key-1", lineup(len(user)), "pm_card_visa")
        start.wait(timeout=60)
        try:
            outcomes[user] = join(p, request).status.value
        except JoinRefused as refused:
            outcomes[user] = "refused:" + refused.reason

    try:
        _all_together()
        threads = [threading.Thread(target=join_as, args=(user,)) for user in users]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    except BaseException:
        _barrier[0].abort()
        raise
    finally:
        engine.dispose()
    charged = [
        (c.key, c.amount.minor, c.refunded)
        for c in gateway.inner.charges.values()
        if c.status is ChargeStatus.SUCCEEDED
    ]
    return outcomes, charged
