"""The whole contest run of tests/unit/test_usecases_flow.py, on the SQL adapters."""

from __future__ import annotations

from sqlalchemy import text

from contract.backends import Backend
from fantasy_core.snapshot import verify
from fantasy_core.usecases.reports import verify_ledger
from support.sql_world import SqlWorld


def test_a_contest_runs_from_scheduled_to_paid_with_no_operator_on_sql(
    sql_backend: Backend,
) -> None:
    world = SqlWorld(sql_backend.sql, sequential_ids=True)
    contest = world.create()
    for n, user in enumerate(["ann", "bob", "cat", "dan", "eve"]):
        world.give_account(user)
        assert world.join(contest, user, variant=n).accepted
    world.play_games()
    assert world.state(contest) == "PAID"
    report = verify_ledger(world.p)
    assert report.ok, report
    with world.p.uow() as uow:
        document, digest = uow.settlements.get(contest.contest_id) or (b"", "")
        transitions = [r.action for r in uow.audit.for_contest(contest.contest_id)]
    verify(document, digest)
    assert sum(t.amount.minor for t in world.gateway.transfers.values()) == 4_500
    assert [a for a in transitions if a.startswith("contest.")] == [
        "contest.created",
        "contest.locked",
        "contest.live",
        "contest.complete",
        "contest.settled",
        "contest.paid",
    ]


def test_a_ledger_row_edited_in_the_database_is_reported_not_trusted(
    sql_backend: Backend,
) -> None:
    world = SqlWorld(sql_backend.sql, sequential_ids=True)
    contest = world.create()
    world.join(contest, "ann")
    assert verify_ledger(world.p).ok
    with sql_backend.sql.begin() as connection:
        connection.execute(
            text("UPDATE postings SET amount_minor = amount_minor + 1 WHERE position = 0")
        )
    report = verify_ledger(world.p)
    assert not report.ok
    assert len(report.unbalanced) == 1
    assert report.unbalanced[0].startswith("fee:join-")
