"""Concurrency on PostgreSQL, with real separate processes sharing one database.

The worker processes are spawned once per session (see `worker_pool` in conftest.py).

1. Several lifecycle workers ticking at once move each contest through each state
   exactly once (row locks plus compare-and-set on the contest's version).
2. More concurrent joins than seats: exactly `capacity` entries, and every charge
   that did not become an entry was refunded (or was never made).
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import attrs

from adapters.sqlalchemy import SqlDatabase
from contract.backends import Backend
from contract.workers import WORKERS, Phase, Workers, joining_process, lifecycle_worker
from fantasy_core.entries import EntryStatus, join_fingerprint
from fantasy_core.lifecycle import ContestState
from fantasy_core.stats import GameStatus
from fantasy_core.usecases.reports import verify_ledger
from support.world import LOCK, World

CONTESTS = 4
STEPS = ["contest.locked", "contest.live", "contest.complete", "contest.settled", "contest.paid"]


def sql_world(backend: Backend) -> World:
    world = World()
    database = SqlDatabase(backend.sql)
    world.store = database  # type: ignore[assignment]
    world.p = attrs.evolve(world.p, uow=database.unit_of_work)
    return world


def test_several_worker_processes_move_each_contest_through_each_state_exactly_once(
    fresh_postgres: Backend, worker_pool: Workers
) -> None:
    world = sql_world(fresh_postgres)
    contests = [world.create(name=f"Race {n}") for n in range(CONTESTS)]
    for contest in contests:
        for n, user in enumerate(["ann", "bob", "cat"]):
            world.give_account(user)
            assert world.join(contest, user, key=contest.contest_id, variant=n).accepted
    phases: list[Phase] = [
        (LOCK, GameStatus.SCHEDULED.value, 1),
        (LOCK + timedelta(minutes=1), GameStatus.IN_PROGRESS.value, 2),
        (LOCK + timedelta(hours=3), GameStatus.FINAL.value, 3),
        (LOCK + timedelta(hours=4, minutes=5), GameStatus.FINAL.value, 3),
    ]
    url = fresh_postgres.url
    reports = worker_pool.run_together(lifecycle_worker, url, phases, 2)

    reported = Counter(move for moved in reports for move in moved)
    with world.p.uow() as uow:
        for contest in contests:
            cid = contest.contest_id
            assert uow.contests.get(cid).state is ContestState.PAID
            actions = Counter(r.action for r in uow.audit.for_contest(cid))
            assert [actions[step] for step in STEPS] == [1] * len(STEPS), actions
            assert [reported[(cid, step.split(".")[1].upper())] for step in STEPS] == [1] * 5
            assert uow.settlements.get(cid) is not None
    assert sum(reported.values()) == CONTESTS * len(STEPS)
    report = verify_ledger(world.p)
    assert report.ok, report


def test_concurrent_joins_beyond_capacity_create_exactly_capacity_entries(
    fresh_postgres: Backend, worker_pool: Workers
) -> None:
    capacity, processes, threads = 5, WORKERS, 6
    world = sql_world(fresh_postgres)
    contest = world.create(capacity=capacity)
    reports = worker_pool.run_together(
        joining_process, fresh_postgres.url, contest.contest_id, threads
    )

    outcomes: dict[str, str] = {}
    charged: list[tuple[str, int, int]] = []
    for process_outcomes, process_charges in reports:
        outcomes |= process_outcomes
        charged += process_charges
    tally = Counter(outcomes.values())
    assert tally == {"active": capacity, "refused:full": processes * threads - capacity}, tally
    with world.p.uow() as uow:
        active = uow.entries.for_contest(contest.contest_id, [EntryStatus.ACTIVE])
        assert len(active) == capacity
        assert uow.entries.seats_taken(contest.contest_id) == capacity
        active_fingerprints = {e.fingerprint for e in active}
        for key, amount, refunded in charged:
            # every charge is an active entry, or was given back in full
            assert key in active_fingerprints or refunded == amount, (key, amount, refunded)
        refused = [u for u, outcome in outcomes.items() if outcome.startswith("refused")]
        for user in refused:
            fingerprint = join_fingerprint(contest.contest_id, user, "key-1")
            assert uow.entries.by_fingerprint(fingerprint) is None
            assert fingerprint not in {key for key, _, _ in charged}  # never charged
    assert len(charged) == capacity
