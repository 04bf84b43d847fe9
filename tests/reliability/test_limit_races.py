"""32 joins of one player racing on PostgreSQL never pass the player's limit together:
the limit is checked under the player's row lock, in the transaction that reserves the
seat, on the single path and on the batch path alike."""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import attrs
import pytest

from fantasy_core.entries import EntryStatus
from fantasy_core.errors import LimitReached
from fantasy_core.protection.limits import LimitKind
from fantasy_core.usecases.joining import JoinRequest, join
from fantasy_core.usecases.joining_batch import join_many
from fantasy_core.usecases.protecting import set_limits
from support.protection import protect, register
from support.sql_world import SqlWorld
from support.world import lineup

RACERS = 32
pytestmark = pytest.mark.parametrize("world", ["postgresql"], indirect=True)


def _charged(world: SqlWorld) -> int:
    return sum(1 for key in world.gateway.charges if world.gateway.charged_total(key))


def test_32_racing_joins_of_one_player_never_pass_the_weekly_fee_limit(world: SqlWorld) -> None:
    protect(world)
    register(world, "ann")
    set_limits(world.p, "ann", {LimitKind.FEES_WEEK: 5_000})  # five joins of 1,000
    # One contest per join (their own row locks): only the player's lock serialises them.
    contests = [world.create(capacity=2) for _ in range(RACERS)]
    start = threading.Barrier(RACERS)

    def racer(n: int) -> EntryStatus | str:
        request = JoinRequest(contests[n].contest_id, "ann", f"k{n}", lineup(n), "pm_card_visa")
        start.wait()
        try:
            return join(world.p, request).status
        except LimitReached as refused:
            return refused.reason

    with ThreadPoolExecutor(RACERS) as pool:
        outcomes = list(pool.map(racer, range(RACERS)))
    assert outcomes.count(EntryStatus.ACTIVE) == 5
    assert outcomes.count("limit") == RACERS - 5
    assert _charged(world) == 5


def test_racing_batches_of_one_player_never_pass_the_weekly_entry_limit(world: SqlWorld) -> None:
    protect(world)
    register(world, "ann")
    set_limits(world.p, "ann", {LimitKind.ENTRIES_WEEK: 3})
    contests = [world.create(capacity=2) for _ in range(RACERS)]
    start = threading.Barrier(4)

    def batch(b: int) -> list[object]:
        requests = [
            JoinRequest(contests[n].contest_id, "ann", f"k{n}", lineup(n), "pm_card_visa")
            for n in range(b * 8, b * 8 + 8)
        ]
        start.wait()
        return list(join_many(world.p, requests))

    with ThreadPoolExecutor(4) as pool:
        answers = [a for answers in pool.map(batch, range(4)) for a in answers]
    refused = [a for a in answers if isinstance(a, LimitReached)]
    assert len(refused) == RACERS - 3
    assert _charged(world) == 3


WAIT = 3.0


class _PausingEntries:
    """Delegates to the entry repository; `spend_since` pauses once after reading."""

    def __init__(self, inner: Any, read: threading.Event, go: threading.Event) -> None:
        self._inner = inner
        self._read = read
        self._go = go

    def spend_since(self, user_ids: Any, since: Any) -> Any:
        found = self._inner.spend_since(user_ids, since)
        if not self._read.is_set():
            self._read.set()
            self._go.wait(WAIT)  # the other batch runs meanwhile, or waits for our locks
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _PausingUnitOfWork:
    """A unit of work whose `entries.spend_since` pauses once after reading."""

    def __init__(self, inner: Any, read: threading.Event, go: threading.Event) -> None:
        self._inner = inner
        self._read = read
        self._go = go

    def __enter__(self) -> _PausingUnitOfWork:
        self._inner.__enter__()
        self.entries = _PausingEntries(self._inner.entries, self._read, self._go)
        return self

    def __exit__(self, *exc: object) -> None:
        self._inner.__exit__(*exc)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_a_batch_that_read_the_players_spend_holds_the_next_one_until_it_commits(
    world: SqlWorld,
) -> None:
    """The interleaving that would pass a limit twice: batch A has read what the player
    spent and not yet reserved; batch B reads the same. B must wait for A's player lock."""
    protect(world)
    register(world, "ann")
    set_limits(world.p, "ann", {LimitKind.ENTRIES_WEEK: 1})
    first, second = world.create(capacity=2), world.create(capacity=2)
    read, go = threading.Event(), threading.Event()
    plain = world.p.uow
    pausing = attrs.evolve(world.p, uow=lambda: _PausingUnitOfWork(plain(), read, go))

    def batch(p: Any, contest_id: str, key: str) -> list[object]:
        return list(join_many(p, [JoinRequest(contest_id, "ann", key, lineup(0), "pm_card_visa")]))

    with ThreadPoolExecutor(2) as pool:
        a = pool.submit(batch, pausing, first.contest_id, "a")
        assert read.wait(WAIT)
        b = pool.submit(batch, world.p, second.contest_id, "b")
        _wait_a_little(b)  # B gets its chance to read the player's spend while A pauses
        go.set()
        answers = a.result() + b.result()
    refused = [x for x in answers if isinstance(x, LimitReached)]
    assert len(refused) == 1
    assert _charged(world) == 1


def _wait_a_little(future: Any) -> None:
    """Up to a second for `future` (without the player's lock, B finishes in that time;
    with it, B waits for A's commit, which waits for us)."""
    with contextlib.suppress(TimeoutError):
        future.result(timeout=1.0)
