"""A contest runs from creation to PAID with no operator, driven by time, data and payments."""

from __future__ import annotations

from fantasy_core.snapshot import verify
from fantasy_core.usecases.reports import verify_ledger
from support.world import World


def test_a_contest_runs_from_scheduled_to_paid_with_no_operator() -> None:
    world = World()
    contest = world.create()
    for n, user in enumerate(["ann", "bob", "cat", "dan", "eve"]):
        world.give_account(user)
        assert world.join(contest, user, variant=n).accepted
    world.play_games()
    assert world.state(contest) == "PAID"
    report = verify_ledger(world.p)
    assert report.ok, report
    with world.store.unit_of_work() as uow:
        document, digest = uow.settlements.get(contest.contest_id) or (b"", "")
    verify(document, digest)
    assert sum(t.amount.minor for t in world.gateway.transfers.values()) == 4_500
