"""What the small adapters do beyond their ports' contracts (tests/contract), and the backoff."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from adapters.alerts import CollectedAlerts, LoggingAlerts
from adapters.clock import ControllableClock
from fantasy_core.audit import Alert, Severity
from fantasy_core.platform import RetryPolicy

START = datetime(2025, 9, 7, 12, tzinfo=UTC)


def test_backoff_doubles_from_the_first_delay_and_stops_at_the_cap() -> None:
    policy = RetryPolicy(first_delay=timedelta(minutes=1), max_delay=timedelta(minutes=10))
    assert [policy.delay(n) for n in (1, 2, 3, 4, 5, 50)] == [
        timedelta(minutes=m) for m in (1, 2, 4, 8, 10, 10)
    ]


def test_a_controllable_clock_never_goes_backwards() -> None:
    clock = ControllableClock(START)
    assert clock.advance(timedelta(hours=1)) == START + timedelta(hours=1)
    with pytest.raises(ValueError, match="backwards"):
        clock.set(START)
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(timedelta(seconds=-1))
    with pytest.raises(ValueError, match="time-zone"):
        ControllableClock(START.replace(tzinfo=None))


def test_alerts_are_collected_in_order_and_logged_by_severity(
    caplog: pytest.LogCaptureFixture,
) -> None:
    alert = Alert("k1", Severity.CRITICAL, START, "c1", "payouts stopped")
    collected = CollectedAlerts()
    collected.raise_alert(alert)
    collected.raise_alert(Alert("k2", Severity.WARNING, START, None, "feed slow"))
    assert collected.raised_keys() == ["k1", "k2"]
    with caplog.at_level(logging.WARNING, logger="fantasy.alerts"):
        LoggingAlerts().raise_alert(alert)
    assert caplog.records[-1].levelno == logging.CRITICAL
    assert "payouts stopped" in caplog.records[-1].getMessage()
