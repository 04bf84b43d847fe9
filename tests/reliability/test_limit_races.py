"""32 joins of one player racing on PostgreSQL never pass the player's limit together:
the limit is checked under the player's row lock, in the transaction that reserves the
seat, on the single path and on the batch path alike."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

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
