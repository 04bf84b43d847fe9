"""Watchdogs raise their own alert while the condition holds and resolve it once it is gone."""

from __future__ import annotations

from datetime import timedelta

import attrs

from fantasy_core.alerting import AlertState, StoredAlert
from fantasy_core.lifecycle import ContestState
from fantasy_core.stats import FeedSnapshot, GameStatus, StatLine
from fantasy_core.usecases.alerts import list_alerts
from fantasy_core.usecases.payment_events import set_payout_account
from fantasy_core.usecases.watchdogs import (
    LEDGER,
    WatchdogThresholds,
    feed_stale_alert,
    forget_worker,
    live_overdue_alert,
    lock_overdue_alert,
    payouts_stalled_alert,
    record_pass,
    watch,
    watch_feeds,
    watch_ledger,
    watch_live,
    watch_locks,
    watch_payouts,
    watch_workers,
    worker_silence,
    worker_silent_alert,
)
from support.world import KICKOFF, LOCK, SLATE, World, snapshot

THRESHOLDS = WatchdogThresholds(lock_overdue=timedelta(minutes=2))


def test_a_contest_past_its_lock_time_still_scheduled_is_alerted_until_it_locks() -> None:
    world = World()
    contest = world.create()
    world.clock.set(LOCK + timedelta(minutes=1))
    assert watch_locks(world.p, THRESHOLDS) == []  # late, but within the threshold
    world.clock.set(LOCK + timedelta(minutes=3))
    key = lock_overdue_alert(contest.contest_id)
    assert watch_locks(world.p, THRESHOLDS) == [key]
    [alert] = list_alerts(world.p)
    assert (alert.key, alert.state, alert.contest_id) == (key, AlertState.OPEN, contest.contest_id)
    assert "still SCHEDULED 3 min after its lock time" in alert.message
    world.run()  # the lifecycle catches up: the contest locks (or is cancelled)
    assert watch_locks(world.p, THRESHOLDS) == []
    [alert] = list_alerts(world.p)
    assert (alert.state, alert.resolved_by) == (AlertState.RESOLVED, "system")


def test_a_contest_before_its_lock_time_is_never_alerted() -> None:
    world = World()
    world.create()
    world.clock.set(LOCK - timedelta(seconds=1))
    assert watch_locks(world.p, THRESHOLDS) == []
    assert list_alerts(world.p) == []


def test_a_silent_worker_is_alerted_by_the_others_and_resolved_when_it_passes_again() -> None:
    world = World()
    thresholds = WatchdogThresholds(worker_silent=timedelta(minutes=5))
    record_pass(world.p, "w1")
    record_pass(world.p, "w2")
    world.clock.advance(timedelta(minutes=4))
    record_pass(world.p, "w2")
    assert watch_workers(world.p, thresholds, "w2") == []
    world.clock.advance(timedelta(minutes=2))  # w1: 6 minutes without a pass
    record_pass(world.p, "w2")
    assert watch_workers(world.p, thresholds, "w2") == [worker_silent_alert("w1")]
    silence = worker_silence(world.p, thresholds)
    assert list(silence.silent) == ["w1"]
    assert silence.last_pass == world.clock.now()
    record_pass(world.p, "w1")
    assert watch_workers(world.p, thresholds, "w2") == []
    [alert] = list_alerts(world.p)
    assert (alert.key, alert.state) == (worker_silent_alert("w1"), AlertState.RESOLVED)


def test_a_worker_that_stops_cleanly_is_not_waited_for() -> None:
    world = World()
    thresholds = WatchdogThresholds(worker_silent=timedelta(minutes=5))
    record_pass(world.p, "w1")
    forget_worker(world.p, "w1")
    world.clock.advance(timedelta(hours=1))
    assert watch_workers(world.p, thresholds, "w2") == []
    assert worker_silence(world.p, thresholds).last_pass is None


USERS = ("u1", "u2", "u3", "u4")


def the_alert(world: World, key: str) -> StoredAlert:
    [alert] = [a for a in list_alerts(world.p) if a.key == key]
    return alert


def live_contest(world: World, accounts: bool = True) -> str:
    """A full contest, locked, its games under way (LIVE)."""
    contest = world.create()
    for n, user in enumerate(USERS):
        if accounts:
            world.give_account(user)
        assert world.join(contest, user, variant=n).accepted
    world.clock.set(LOCK)
    world.run()
    world.feed.publish(snapshot(GameStatus.IN_PROGRESS, 2))
    world.clock.advance(timedelta(minutes=1))
    world.run()
    assert world.state(contest) == ContestState.LIVE.value
    return contest.contest_id


def test_a_contest_live_long_after_its_last_game_should_have_ended_is_alerted_until_complete() -> (
    None
):
    world = World()
    cid = live_contest(world)
    t = WatchdogThresholds(game_length=timedelta(hours=4), live_overdue=timedelta(hours=2))
    world.clock.set(KICKOFF + timedelta(hours=5, minutes=59))
    assert watch_live(world.p, t) == []
    world.clock.set(KICKOFF + timedelta(hours=6, minutes=30))
    assert watch_live(world.p, t) == [live_overdue_alert(cid)]
    alert = the_alert(world, live_overdue_alert(cid))
    assert (alert.state, alert.contest_id) == (AlertState.OPEN, cid)
    assert "still LIVE 2 h 30 min after the last game of slate test-slate" in alert.message
    world.feed.publish(snapshot(GameStatus.FINAL, 3))
    world.run()  # the data is final: the contest completes
    assert watch_live(world.p, t) == []
    assert the_alert(world, live_overdue_alert(cid)).resolved_by == "system"


def test_a_live_slate_without_valid_data_is_alerted_after_its_threshold_until_it_comes() -> None:
    world = World()
    live_contest(world)
    t = WatchdogThresholds(feed_stale=timedelta(minutes=10))
    world.feed.go_down("provider 503")
    world.run()  # the feed's own alert opens now
    world.clock.advance(timedelta(minutes=9))
    world.run()
    assert watch_feeds(world.p, t) == []
    world.clock.advance(timedelta(minutes=2))
    world.run()
    assert watch_feeds(world.p, t) == [feed_stale_alert(SLATE)]
    alert = the_alert(world, feed_stale_alert(SLATE))
    assert "no valid data from the feed for live slate test-slate for 11 min" in alert.message
    assert "provider 503" in alert.message
    world.feed.come_back()
    world.run()
    assert watch_feeds(world.p, t) == []
    assert the_alert(world, feed_stale_alert(SLATE)).state is AlertState.RESOLVED


def test_invalid_data_counts_as_no_valid_data() -> None:
    world = World()
    live_contest(world)
    t = WatchdogThresholds(feed_stale=timedelta(minutes=10))
    good = snapshot(GameStatus.IN_PROGRESS, 3)
    broken = StatLine.of("KC-WR3", "KC", "g1", {"receptions": -1})
    lines = (*(x for x in good.lines if x.player_id != "KC-WR3"), broken)
    world.feed.publish(FeedSnapshot(good.slate_id, 3, good.games, lines))
    world.run()
    assert any(a.key.startswith(f"feed-invalid-{SLATE}-") for a in list_alerts(world.p))
    world.clock.advance(timedelta(minutes=10))
    world.run()  # the feed answers, with the same refused data
    assert watch_feeds(world.p, t) == [feed_stale_alert(SLATE)]
    world.feed.publish(snapshot(GameStatus.IN_PROGRESS, 4))
    world.run()
    assert watch_feeds(world.p, t) == []


def test_settled_payouts_that_stop_moving_are_alerted_until_they_move_again() -> None:
    world = World()
    contest = world.create()
    for n, user in enumerate(USERS):
        assert world.join(contest, user, variant=n).accepted
    cid = contest.contest_id
    world.play_games()  # nobody has a payout account: every transfer is refused
    assert world.state(contest) == ContestState.SETTLED.value
    t = WatchdogThresholds(payouts_stalled=timedelta(minutes=30))
    assert watch_payouts(world.p, t) == []
    world.clock.advance(timedelta(minutes=31))
    assert watch_payouts(world.p, t) == [payouts_stalled_alert(cid)]
    assert "no payout of it has been confirmed for 31 min" in (
        the_alert(world, payouts_stalled_alert(cid)).message
    )
    for user in USERS:
        set_payout_account(world.p, user, f"acct_{user}")
    world.clock.advance(timedelta(hours=2))
    world.run()
    assert world.state(contest) == ContestState.PAID.value
    assert watch_payouts(world.p, t) == []
    assert the_alert(world, payouts_stalled_alert(cid)).state is AlertState.RESOLVED


def test_a_payout_confirmed_recently_means_payouts_are_moving() -> None:
    world = World()
    contest = world.create()
    for n, user in enumerate(USERS):
        assert world.join(contest, user, variant=n).accepted
    world.play_games()  # settled; every transfer refused
    with world.store.unit_of_work() as uow:
        first, *others = sorted({p.user_id for p in uow.payouts.for_contest(contest.contest_id)})
    assert others  # some stay unpaid after the first is
    t = WatchdogThresholds(payouts_stalled=timedelta(minutes=30))
    world.clock.advance(timedelta(hours=2))
    set_payout_account(world.p, first, f"acct_{first}")
    world.run()  # the first winner's payout is retried and confirmed now
    world.clock.advance(timedelta(minutes=29))
    assert watch_payouts(world.p, t) == []
    world.clock.advance(timedelta(minutes=1))
    assert watch_payouts(world.p, t) == [payouts_stalled_alert(contest.contest_id)]


def test_a_ledger_changed_behind_its_back_is_alerted_until_it_balances_again() -> None:
    world = World()
    contest = world.create()
    for n, user in enumerate(USERS):
        world.give_account(user)
        assert world.join(contest, user, variant=n).accepted
    world.play_games()
    assert watch_ledger(world.p) == []
    # The stored rows, changed behind the ledger's back (each commit stores new tables).
    key, original = next(iter(world.store._tables.ledger.items()))
    with attrs.validators.disabled():
        world.store._tables.ledger[key] = attrs.evolve(original, postings=original.postings[:1])
    assert watch_ledger(world.p) == [LEDGER]
    assert f"posting set {key} does not balance" in the_alert(world, LEDGER).message
    world.store._tables.ledger[key] = original
    assert watch_ledger(world.p) == []
    assert the_alert(world, LEDGER).state is AlertState.RESOLVED


def test_a_pass_of_the_watchdogs_on_a_healthy_platform_raises_nothing() -> None:
    world = World()
    live_contest(world)
    record_pass(world.p, "w1")
    assert watch(world.p, WatchdogThresholds(), "w1") == []
    assert list_alerts(world.p) == []
