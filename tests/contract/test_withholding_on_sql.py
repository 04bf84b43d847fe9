"""Backup withholding on SQLite and PostgreSQL (decision 0042): the worker dies after the
withholding was decided and before the transfer, or after the transfer and before its
record; a W-9 arrives before the restart. The prize is still the one transfer plus the
withholding decided first, stored and posted once."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from contract.backends import Backend
from fantasy_core.ledger import Movement
from fantasy_core.money import Money
from fantasy_core.payouts import winner_take_all
from fantasy_core.protection.tax import backup_withholding
from fantasy_core.usecases.paying import execute_payouts
from fantasy_core.usecases.reports import verify_ledger
from fantasy_core.usecases.tax import submit_tax_details
from support.crashing_store import SimulatedCrash
from support.protection import register, taxed
from support.sql_world import SqlWorld

PLAYERS = ("p0", "p1", "p2", "p3")


class DiesAroundTheTransfer:
    """The gateway, and a process that dies just before or just after one transfer."""

    def __init__(self, inner: Any, when: str) -> None:
        self.inner = inner
        self.when = when

    def transfer(self, *args: Any) -> Any:
        when, self.when = self.when, ""
        if when == "before":
            raise SimulatedCrash("died after the withholding was decided, before the transfer")
        made = self.inner.transfer(*args)
        if when == "after":
            raise SimulatedCrash("died after the transfer, before its record")
        return made

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_withholding_decided_before_a_crash_is_the_one_paid_on_sql(
    sql_backend: Backend, when: str
) -> None:
    world = SqlWorld(sql_backend.sql, sequential_ids=True)
    taxed(world)
    for player in PLAYERS:
        register(world, player)
        world.give_account(player)
    contest = world.create(entry_fee=Money(50_001, "usd"), payout=winner_take_all())
    for n, player in enumerate(PLAYERS):
        assert world.join(contest, player, variant=n).accepted
    world.settle_without_paying()
    sandbox = world.p.gateway
    world.p = attrs.evolve(world.p, gateway=DiesAroundTheTransfer(sandbox, when))
    with pytest.raises(SimulatedCrash):
        execute_payouts(world.p)
    with world.p.uow() as uow:
        (decided,) = uow.payouts.for_contest(contest.contest_id)
    assert decided.withheld_minor == backup_withholding(180_004) == 43_201
    for player in PLAYERS:  # too late for this prize
        submit_tax_details(world.p, player, "A Player", "1 Main St", "123-45-6789")
    world.p = attrs.evolve(world.p, gateway=sandbox)
    world.clock.advance(world.p.retry.delay(1))
    assert execute_payouts(world.p) == 1
    with world.p.uow() as uow:
        (paid,) = uow.payouts.for_contest(contest.contest_id)
        sets = uow.ledger.for_contest(contest.contest_id)
    assert (paid.withheld_minor, paid.transfer_minor) == (43_201, 136_803)
    assert [t.amount.minor for t in world.gateway.transfers.values()] == [136_803]
    by_movement = {s.movement: s.amount for s in sets if s.key.endswith(paid.fingerprint)}
    assert by_movement == {Movement.PRIZE_WITHHELD: 43_201, Movement.PRIZE_PAID: 136_803}
    world.run()
    assert world.state(contest) == "PAID"
    report = verify_ledger(world.p)
    assert report.ok, report
    (money,) = report.closed_contests
    assert (money.paid_out, money.withheld, money.owed) == (136_803, 43_201, 0)
    world.close()
