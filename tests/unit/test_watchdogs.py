"""Watchdogs raise their own alert while the condition holds and resolve it once it is gone."""

from __future__ import annotations

from datetime import timedelta

from fantasy_core.alerting import AlertState
from fantasy_core.usecases.alerts import list_alerts
from fantasy_core.usecases.watchdogs import (
    WatchdogThresholds,
    forget_worker,
    lock_overdue_alert,
    record_pass,
    watch_locks,
    watch_workers,
    worker_silence,
    worker_silent_alert,
)
from support.world import LOCK, World

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
