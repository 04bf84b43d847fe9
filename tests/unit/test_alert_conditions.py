"""Alerts resolve themselves when the condition that raised them clears, and only then."""

from __future__ import annotations

from datetime import timedelta

from fantasy_core.alerting import AlertState
from fantasy_core.stats import FeedSnapshot, GameStatus, StatLine
from fantasy_core.usecases.alerts import list_alerts
from fantasy_core.usecases.stats import ingest
from support.world import SLATE, World, snapshot


def states(world: World) -> dict[str, tuple[AlertState, int]]:
    return {a.key: (a.state, a.incident) for a in list_alerts(world.p)}


def test_the_feed_answering_again_resolves_its_down_alert_and_a_new_outage_is_a_new_incident() -> (
    None
):
    world = World()
    world.feed.publish(snapshot(GameStatus.SCHEDULED, 1))
    world.feed.go_down("provider 503")
    ingest(world.p, SLATE)
    ingest(world.p, SLATE)
    [down] = list_alerts(world.p)
    assert (down.key, down.state, down.count) == (f"feed-down-{SLATE}", AlertState.OPEN, 2)
    world.feed.come_back()
    ingest(world.p, SLATE)
    assert states(world) == {f"feed-down-{SLATE}": (AlertState.RESOLVED, 1)}
    world.feed.go_down("provider 503 again")
    ingest(world.p, SLATE)
    assert states(world) == {f"feed-down-{SLATE}": (AlertState.OPEN, 2)}


def test_invalid_data_stays_alerted_until_valid_data_is_stored() -> None:
    world = World()
    world.feed.publish(snapshot(GameStatus.IN_PROGRESS, 2))
    assert ingest(world.p, SLATE)
    good = snapshot(GameStatus.IN_PROGRESS, 3)
    broken = StatLine.of("KC-WR3", "KC", "g1", {"receptions": -1})
    lines = (*(x for x in good.lines if x.player_id != "KC-WR3"), broken)
    world.feed.publish(FeedSnapshot(good.slate_id, 3, good.games, lines))
    assert not ingest(world.p, SLATE)
    invalid = [k for k, (s, _) in states(world).items() if s is AlertState.OPEN]
    assert invalid
    assert all(k.startswith(f"feed-invalid-{SLATE}-") for k in invalid)
    assert not ingest(world.p, SLATE)  # the feed answers, but the data is still refused
    assert all(states(world)[k][0] is AlertState.OPEN for k in invalid)
    world.feed.publish(snapshot(GameStatus.IN_PROGRESS, 4))
    assert ingest(world.p, SLATE)
    assert all(states(world)[k][0] is AlertState.RESOLVED for k in invalid)


def test_a_confirmed_payout_resolves_its_own_failure_alert_only() -> None:
    world = World()
    contest = world.create()
    for n, user in enumerate(("u1", "u2", "u3", "u4")):
        assert world.join(contest, user, variant=n).accepted
        world.give_account(user)
        world.gateway.disabled_accounts.add(f"acct_{user}")
    world.play_games()  # the gateway refuses every winner's account: each payout is alerted
    refused = sorted(k for k in states(world) if k.startswith("payout-rejected-"))
    assert refused
    with world.store.unit_of_work() as uow:
        winners = {p.fingerprint: p.user_id for p in uow.payouts.for_contest(contest.contest_id)}
    fixed_fingerprint = refused[0].removeprefix("payout-rejected-")
    world.gateway.disabled_accounts.discard(f"acct_{winners[fixed_fingerprint]}")
    world.clock.advance(timedelta(hours=2))
    world.run()
    after = states(world)
    assert after[refused[0]] == (AlertState.RESOLVED, 1)
    assert all(after[k] == (AlertState.OPEN, 1) for k in refused[1:])
