"""Payouts sent side by side: still each exactly once, and an auth failure still stops them."""

from __future__ import annotations

from datetime import timedelta

import attrs

from fantasy_core.lifecycle import ContestState
from fantasy_core.payments import PayoutStatus
from fantasy_core.payouts import fifty_fifty
from fantasy_core.stats import GameStatus
from support.world import LOCK, World, snapshot

PLAYERS = 12


def settled(senders: int) -> tuple[World, str]:
    """A world whose platform sends `senders` payouts at once, and a contest just SETTLED."""
    world = World()
    world.p = attrs.evolve(world.p, payout_senders=senders)
    contest = world.create(capacity=PLAYERS, payout=fifty_fifty())
    for n in range(PLAYERS):
        world.give_account(f"u{n}")
        assert world.join(contest, f"u{n}", variant=n).accepted
    world.clock.set(LOCK)
    world.run()
    world.feed.publish(snapshot(GameStatus.FINAL, 2))
    world.clock.advance(timedelta(hours=4))
    world.run()
    return world, contest.contest_id


def statuses(world: World, contest_id: str) -> list[PayoutStatus]:
    with world.store.unit_of_work() as uow:
        return [x.status for x in uow.payouts.for_contest(contest_id)]


def state(world: World, contest_id: str) -> ContestState:
    with world.store.unit_of_work() as uow:
        return uow.contests.get(contest_id).state


def test_payouts_sent_side_by_side_are_each_transferred_exactly_once() -> None:
    world, cid = settled(senders=4)
    world.clock.advance(timedelta(hours=2))
    world.run()
    world.run()
    paid = statuses(world, cid)
    assert len(paid) == PLAYERS // 2
    assert set(paid) == {PayoutStatus.CONFIRMED}
    assert len(world.gateway.transfers) == len(paid)
    assert state(world, cid) is ContestState.PAID


def test_a_refused_platform_key_stops_payouts_sent_side_by_side_and_alerts_once() -> None:
    world, cid = settled(senders=4)
    world.gateway.auth_broken = True
    world.clock.advance(timedelta(hours=2))
    world.run()
    assert world.gateway.transfers == {}
    assert world.alerts.raised_keys().count("gateway-auth") == 1
    assert PayoutStatus.CONFIRMED not in statuses(world, cid)
    world.gateway.auth_broken = False
    world.clock.advance(timedelta(hours=2))
    world.run()
    world.run()
    assert state(world, cid) is ContestState.PAID
    assert len(world.gateway.transfers) == PLAYERS // 2
