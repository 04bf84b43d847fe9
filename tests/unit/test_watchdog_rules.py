"""The watchdogs' pure decisions: nothing is late before its deadline, everything is from it on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fantasy_core import watchdog_rules as rules
from fantasy_core.watchdog_rules import WatchdogThresholds

T0 = datetime(2025, 9, 7, 17, 0, tzinfo=UTC)
T = WatchdogThresholds(
    lock_overdue=timedelta(minutes=2),
    worker_silent=timedelta(minutes=5),
    game_length=timedelta(hours=4),
    live_overdue=timedelta(hours=2),
    payouts_stalled=timedelta(minutes=30),
    feed_stale=timedelta(minutes=10),
)
spans = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3))


def test_a_lock_is_overdue_from_its_threshold_and_says_how_late_it_is() -> None:
    assert rules.lock_overdue(T0, T0 + timedelta(minutes=1, seconds=59), T) is None
    assert rules.lock_overdue(T0, T0 + timedelta(minutes=2), T) == timedelta(minutes=2)
    assert rules.lock_overdue(T0, T0 + timedelta(minutes=7), T) == timedelta(minutes=7)
    assert rules.lock_overdue(T0, T0 - timedelta(hours=1), T) is None


def test_a_worker_is_silent_from_its_threshold() -> None:
    assert rules.worker_silent(T0, T0 + timedelta(minutes=4, seconds=59), T) is None
    assert rules.worker_silent(T0, T0 + timedelta(minutes=5), T) == timedelta(minutes=5)


def test_a_slate_ends_a_game_length_after_its_last_kickoff() -> None:
    kickoffs = [T0 + timedelta(hours=3), T0, T0 + timedelta(hours=1)]
    assert rules.scheduled_end(kickoffs, T) == T0 + timedelta(hours=7)
    assert rules.scheduled_end([], T) is None


def test_live_is_overdue_from_the_scheduled_end_plus_its_threshold_and_unknown_is_not() -> None:
    end = T0 + timedelta(hours=4)
    assert rules.live_overdue(end, end + timedelta(hours=1, minutes=59), T) is None
    assert rules.live_overdue(end, end + timedelta(hours=2), T) == timedelta(hours=2)
    assert rules.live_overdue(None, T0 + timedelta(days=30), T) is None


def test_payouts_stall_only_while_some_are_unconfirmed() -> None:
    later = T0 + timedelta(minutes=45)
    assert rules.payouts_stalled(T0, True, later, T) == timedelta(minutes=45)
    assert rules.payouts_stalled(T0, False, later, T) is None  # all paid: nothing to move
    assert rules.payouts_stalled(T0, True, T0 + timedelta(minutes=29), T) is None


def test_a_feed_is_stale_from_its_oldest_open_problem_and_never_without_one() -> None:
    problems = [T0 + timedelta(minutes=5), T0, T0 + timedelta(minutes=8)]
    assert rules.feed_stale(problems, T0 + timedelta(minutes=9), T) is None
    assert rules.feed_stale(problems, T0 + timedelta(minutes=10), T) == timedelta(minutes=10)
    assert rules.feed_stale([], T0 + timedelta(days=1), T) is None


def test_a_negative_threshold_is_refused_naming_it() -> None:
    with pytest.raises(ValueError, match="cannot be negative"):
        WatchdogThresholds(feed_stale=timedelta(seconds=-1))


@pytest.mark.parametrize(
    ("span", "text"),
    [
        (timedelta(seconds=59), "0 min"),
        (timedelta(minutes=59, seconds=59), "59 min"),
        (timedelta(hours=2, minutes=5), "2 h 05 min"),
    ],
)
def test_a_span_reads_in_minutes_then_hours(span: timedelta, text: str) -> None:
    assert rules.describe(span) == text


@given(since=spans, elapsed=spans, threshold=spans)
def test_every_rule_is_late_exactly_from_its_deadline_by_the_time_elapsed(
    since: timedelta, elapsed: timedelta, threshold: timedelta
) -> None:
    t = WatchdogThresholds(
        lock_overdue=threshold,
        worker_silent=threshold,
        live_overdue=threshold,
        payouts_stalled=threshold,
        feed_stale=threshold,
    )
    start = T0 + since
    now = start + elapsed
    expected = elapsed if elapsed >= threshold else None
    assert rules.lock_overdue(start, now, t) == expected
    assert rules.worker_silent(start, now, t) == expected
    assert rules.live_overdue(start, now, t) == expected
    assert rules.payouts_stalled(start, True, now, t) == expected
    assert rules.feed_stale([start, start + elapsed + timedelta(seconds=1)], now, t) == expected


@given(elapsed=spans, later=spans)
def test_once_late_a_thing_stays_late_until_its_condition_changes(
    elapsed: timedelta, later: timedelta
) -> None:
    now = T0 + elapsed
    if rules.feed_stale([T0], now, T) is not None:
        assert rules.feed_stale([T0], now + later, T) is not None
    if rules.payouts_stalled(T0, True, now, T) is not None:
        assert rules.payouts_stalled(T0, True, now + later, T) is not None
