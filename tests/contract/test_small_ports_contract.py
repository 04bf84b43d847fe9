"""Contract suites of the small ports (clock, id source, alert sink), run on every adapter."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from adapters.alerts import CollectedAlerts, LoggingAlerts
from adapters.clock import AcceleratedClock, ControllableClock, SystemClock
from adapters.ids import SequentialIds, TimeOrderedIds
from fantasy_core.audit import Alert, Severity
from fantasy_core.ports import AlertSink, Clock, IdSource

START = datetime(2025, 9, 7, 12, tzinfo=UTC)

# ---- clock: aware UTC instants that never go backwards --------------------------------


@pytest.fixture(params=["system", "accelerated", "controllable"])
def clock(request: pytest.FixtureRequest) -> Clock:
    if request.param == "system":
        return SystemClock()
    if request.param == "accelerated":
        return AcceleratedClock(3600, datetime.now(UTC) - timedelta(seconds=1))
    return ControllableClock(START)


def test_an_accelerated_clock_runs_n_times_real_time_from_its_instant() -> None:
    real = ControllableClock(START)
    clock = AcceleratedClock(60, START, real.now)
    assert clock.now() == START
    real.advance(timedelta(seconds=61))
    assert clock.now() == START + timedelta(hours=1, minutes=1)
    # Another process given the same speed and instant reads the same time.
    assert AcceleratedClock(60, START, real.now).now() == clock.now()
    with pytest.raises(ValueError, match="at least at real speed"):
        AcceleratedClock(0.5, START)


def test_a_clock_gives_time_zone_aware_utc_instants(clock: Clock) -> None:
    now = clock.now()
    assert now.tzinfo is not None
    assert now.utcoffset() == timedelta(0)


def test_a_clock_never_goes_backwards_between_readings(clock: Clock) -> None:
    readings = [clock.now() for _ in range(1_000)]
    assert readings == sorted(readings)


# ---- id source: unique, and sorted in creation order within a kind ---------------------

IdFactory = Callable[[], IdSource]


@pytest.fixture(params=[SequentialIds, TimeOrderedIds], ids=["sequential", "time-ordered"])
def ids(request: pytest.FixtureRequest) -> IdSource:
    factory: IdFactory = request.param
    return factory()


def test_ids_of_one_kind_are_unique_and_sort_in_creation_order(ids: IdSource) -> None:
    made = [ids.new_id("entry") for _ in range(2_000)]
    assert len(set(made)) == len(made)
    assert made == sorted(made)
    assert all(i.startswith("entry-") for i in made)


def test_ids_of_interleaved_kinds_each_sort_in_creation_order(ids: IdSource) -> None:
    made: dict[str, list[str]] = {"entry": [], "user": []}
    for n in range(500):
        kind = "entry" if n % 3 else "user"
        made[kind].append(ids.new_id(kind))
    for kind, ordered in made.items():
        assert ordered == sorted(ordered), kind
        assert len(set(ordered)) == len(ordered), kind


def test_ids_made_by_several_threads_at_once_are_all_distinct(ids: IdSource) -> None:
    # Payouts are sent side by side (several threads share one id source).
    per_thread: list[list[str]] = [[] for _ in range(4)]
    start = threading.Barrier(len(per_thread))

    def make(into: list[str]) -> None:
        start.wait()
        into.extend(ids.new_id("payout") for _ in range(1_000))

    threads = [threading.Thread(target=make, args=(out,)) for out in per_thread]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [i for made in per_thread for i in made]
    assert len(set(every)) == len(every) == 4_000
    assert all(made == sorted(made) for made in per_thread)


# ---- alert sink: an alert raised is delivered, whatever its severity -------------------


@pytest.fixture(params=["collected", "logging"])
def alerts(request: pytest.FixtureRequest) -> AlertSink:
    if request.param == "collected":
        return CollectedAlerts()
    return LoggingAlerts()


def _delivered(sink: AlertSink, caplog: pytest.LogCaptureFixture) -> list[str]:
    """The messages of the alerts the sink delivered, as its own channel shows them."""
    if isinstance(sink, CollectedAlerts):
        return [alert.message for alert in sink.alerts]
    return [r.getMessage() for r in caplog.records if r.name == "fantasy.alerts"]


@pytest.mark.parametrize("severity", list(Severity))
def test_an_alert_of_any_severity_is_delivered_with_its_message(
    alerts: AlertSink, severity: Severity, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="fantasy.alerts"):
        alerts.raise_alert(Alert("payouts-stopped", severity, START, "c1", "payouts stopped"))
    delivered = _delivered(alerts, caplog)
    assert len(delivered) == 1
    assert "payouts stopped" in delivered[0]


def test_alerts_with_distinct_keys_are_all_delivered(
    alerts: AlertSink, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="fantasy.alerts"):
        for n in range(3):
            alerts.raise_alert(Alert(f"k{n}", Severity.WARNING, START, None, f"feed slow {n}"))
    delivered = _delivered(alerts, caplog)
    assert len(delivered) == 3
    assert all(f"feed slow {n}" in delivered[n] for n in range(3))
