"""The stored alerts' contract, on every adapter of the repository port (memory, SQLite,
PostgreSQL): one row per key, shared by every unit of work, changed under a lock,
every change audited, and a repeat after resolution a new incident."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from adapters.alerts import CollectedAlerts
from adapters.clock import ControllableClock
from adapters.ids import SequentialIds
from adapters.sandbox import SandboxGateway
from contract.backends import Backend
from fantasy_core.alerting import AlertState, StoredAlert
from fantasy_core.audit import Severity
from fantasy_core.errors import DuplicateRecord, OperatorActionRefused, UnknownAlert
from fantasy_core.platform import Platform
from fantasy_core.usecases.alerts import (
    acknowledge_alert,
    clear,
    clear_now,
    list_alerts,
    resolve_alert,
)
from support.programmable_feed import ProgrammableFeed

START = datetime(2025, 9, 7, 12, tzinfo=UTC)


def platform_on(backend: Backend) -> Platform:
    clock = ControllableClock(START)
    return Platform(
        uow=backend.uow,
        gateway=SandboxGateway(),
        feed=ProgrammableFeed(clock.now),
        clock=clock,
        alerts=CollectedAlerts(),
        ids=SequentialIds(),
    )


def later(p: Platform, minutes: int = 1) -> None:
    clock = p.clock
    assert isinstance(clock, ControllableClock)
    clock.advance(timedelta(minutes=minutes))


def test_an_alert_is_stored_and_seen_by_every_later_unit_of_work(backend: Backend) -> None:
    p = platform_on(backend)
    p.alert("feed-down-s1", "feed refused", contest_id="c-1")
    [stored] = list_alerts(p)
    assert stored.key == "feed-down-s1"
    assert stored.incident == 1
    assert stored.state is AlertState.OPEN
    assert stored.severity is Severity.WARNING
    assert stored.contest_id == "c-1"
    assert (stored.count, stored.first_at, stored.last_at) == (1, START, START)
    assert p.alerts.raised_keys() == ["feed-down-s1"]  # type: ignore[attr-defined]


def test_repeats_are_counted_with_first_and_last_sighting(backend: Backend) -> None:
    p = platform_on(backend)
    p.alert("k", "first")
    later(p, 5)
    p.alert("k", "second", critical=True)
    later(p, 5)
    p.alert("k", "third")
    [stored] = list_alerts(p)
    assert stored.count == 3
    assert stored.first_at == START
    assert stored.last_at == START + timedelta(minutes=10)
    assert stored.message == "third"
    assert stored.severity is Severity.CRITICAL  # severity only rises
    assert stored.incident == 1


def test_acknowledging_records_who_and_when_and_survives_repeats(backend: Backend) -> None:
    p = platform_on(backend)
    p.alert("k", "broken")
    later(p)
    acknowledged = acknowledge_alert(p, "k", "op-1")
    assert acknowledged.state is AlertState.ACKNOWLEDGED
    assert acknowledged.acknowledged_by == "op-1"
    assert acknowledged.acknowledged_at == START + timedelta(minutes=1)
    p.alert("k", "still broken")
    [stored] = list_alerts(p)
    assert stored.state is AlertState.ACKNOWLEDGED
    assert stored.count == 2
    assert list_alerts(p, [AlertState.OPEN]) == []


def test_a_repeat_after_resolution_opens_a_new_incident(backend: Backend) -> None:
    p = platform_on(backend)
    p.alert("k", "broken")
    p.alert("k", "broken")
    later(p)
    resolved = resolve_alert(p, "k", "op-1")
    assert resolved.state is AlertState.RESOLVED
    assert (resolved.resolved_by, resolved.resolved_at) == ("op-1", START + timedelta(minutes=1))
    later(p)
    p.alert("k", "broken again")
    [stored] = list_alerts(p)
    assert stored.incident == 2
    assert stored.state is AlertState.OPEN
    assert stored.count == 1
    assert stored.first_at == START + timedelta(minutes=2)
    assert stored.acknowledged_by is None
    assert stored.resolved_by is None


def test_the_condition_clearing_resolves_only_unresolved_alerts_of_its_keys(
    backend: Backend,
) -> None:
    p = platform_on(backend)
    p.alert("payout-rejected-f1", "refused")
    p.alert("payout-rejected-f2", "refused")
    assert clear_now(p, ["payout-rejected-f1", "never-raised"]) == ["payout-rejected-f1"]
    assert clear_now(p, ["payout-rejected-f1"]) == []  # resolved once, not again
    states = {a.key: (a.state, a.resolved_by) for a in list_alerts(p)}
    assert states == {
        "payout-rejected-f1": (AlertState.RESOLVED, "system"),
        "payout-rejected-f2": (AlertState.OPEN, None),
    }


def test_clearing_by_prefix_takes_only_keys_with_that_prefix(backend: Backend) -> None:
    p = platform_on(backend)
    for key in ("feed-invalid-s1-a", "feed-invalid-s1-b", "feed-invalid-s10-a", "feed%s1"):
        p.alert(key, "bad")
    assert clear_now(p, prefix="feed-invalid-s1-") == ["feed-invalid-s1-a", "feed-invalid-s1-b"]
    with p.uow() as uow:
        assert uow.alerts.unresolved_keys("feed") == ["feed%s1", "feed-invalid-s10-a"]
        assert uow.alerts.unresolved_keys("feed%") == ["feed%s1"]  # % is no wildcard


def test_clearing_in_a_unit_of_work_that_rolls_back_resolves_nothing(backend: Backend) -> None:
    p = platform_on(backend)
    p.alert("k", "broken")
    with p.uow() as uow:
        assert clear(p, uow, ["k"]) == ["k"]
        # no commit: the confirmation it went with did not happen, nor did the resolution
    [stored] = list_alerts(p)
    assert stored.state is AlertState.OPEN


def test_every_change_is_audited_under_the_incident(backend: Backend) -> None:
    p = platform_on(backend)
    p.alert("k", "broken", contest_id="c-1")
    p.alert("k", "broken", contest_id="c-1")
    acknowledge_alert(p, "k", "op-1")
    resolve_alert(p, "k", "op-1")
    p.alert("k", "again", contest_id="c-1")
    clear_now(p, ["k"])
    with p.uow() as uow:
        trail = [(r.action, r.subject, r.actor) for r in uow.audit.for_contest("c-1")]
    assert trail == [
        ("alert.opened", "k#1", "system"),
        ("alert.repeated", "k#1", "system"),
        ("alert.acknowledged", "k#1", "op-1"),
        ("alert.resolved", "k#1", "op-1"),
        ("alert.opened", "k#2", "system"),
        ("alert.resolved", "k#2", "system"),
    ]


def test_operators_act_only_on_alerts_that_exist_and_are_not_resolved(backend: Backend) -> None:
    p = platform_on(backend)
    with pytest.raises(UnknownAlert):
        acknowledge_alert(p, "nothing", "op-1")
    with pytest.raises(UnknownAlert):
        resolve_alert(p, "nothing", "op-1")
    p.alert("k", "broken")
    resolve_alert(p, "k", "op-1")
    with pytest.raises(OperatorActionRefused):
        acknowledge_alert(p, "k", "op-1")
    assert resolve_alert(p, "k", "op-2").resolved_by == "op-1"  # resolving again changes nothing


def test_a_key_is_stored_once(backend: Backend) -> None:
    p = platform_on(backend)
    alert = StoredAlert("k", 1, Severity.WARNING, "m", None, 1, START, START)
    with p.uow() as uow:
        uow.alerts.add(alert)
        uow.commit()
    with p.uow() as uow, pytest.raises(DuplicateRecord):
        uow.alerts.add(alert)


def test_alerts_are_listed_by_first_sighting_then_key(backend: Backend) -> None:
    p = platform_on(backend)
    p.alert("b", "m")
    p.alert("a", "m")
    later(p)
    p.alert("0", "m")
    assert [a.key for a in list_alerts(p)] == ["a", "b", "0"]
    resolve_alert(p, "a", "op-1")
    assert [a.key for a in list_alerts(p, [AlertState.RESOLVED])] == ["a"]
    assert [a.key for a in list_alerts(p, [AlertState.OPEN])] == ["b", "0"]


def test_concurrent_raises_of_a_new_key_make_one_alert_counting_all(sql_backend: Backend) -> None:
    p = platform_on(sql_backend)
    errors: list[BaseException] = []

    def raise_some() -> None:
        try:
            for _ in range(5):
                p.alert("race", "m")
        except BaseException as error:  # reported below: a thread's error must not vanish
            errors.append(error)

    threads = [threading.Thread(target=raise_some) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    [stored] = list_alerts(p)
    assert (stored.count, stored.incident) == (20, 1)
