"""The alert outbox, on every adapter of the repository port: each change of an alert is
queued once per channel in the change's own transaction, delivered once, retried with
backoff while its channel fails, and a channel failing too long is alerted elsewhere."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import attrs

from adapters.alerts import CollectedAlerts
from adapters.clock import ControllableClock
from adapters.ids import SequentialIds
from adapters.sandbox import SandboxGateway
from contract.backends import Backend
from fantasy_core.alerting import AlertState
from fantasy_core.outbox import DeliveryPolicy
from fantasy_core.platform import Platform
from fantasy_core.usecases.alerts import (
    acknowledge_alert,
    channel_down_alert,
    clear,
    list_alerts,
    resolve_alert,
)
from fantasy_core.usecases.delivery import channel_health, deliver_notices
from support.channels import RecordingChannel
from support.programmable_feed import ProgrammableFeed

START = datetime(2025, 9, 7, 12, tzinfo=UTC)
POLICY = DeliveryPolicy(
    first_delay=timedelta(seconds=10),
    max_delay=timedelta(minutes=2),
    channel_down_after=timedelta(minutes=5),
)


def platform_on(backend: Backend, *channels: RecordingChannel) -> Platform:
    clock = ControllableClock(START)
    return Platform(
        uow=backend.uow,
        gateway=SandboxGateway(),
        feed=ProgrammableFeed(clock.now),
        clock=clock,
        alerts=CollectedAlerts(),
        ids=SequentialIds(),
        channels=channels,
        delivery=POLICY,
    )


def advance(p: Platform, by: timedelta) -> None:
    assert isinstance(p.clock, ControllableClock)
    p.clock.advance(by)


def test_each_change_is_announced_once_on_each_channel(backend: Backend) -> None:
    hook, pager = RecordingChannel("webhook"), RecordingChannel("pagerduty")
    p = platform_on(backend, hook, pager)
    p.alert("k", "broken")
    p.alert("k", "broken")  # a repeat: counted, not announced
    acknowledge_alert(p, "k", "op-1")
    acknowledge_alert(p, "k", "op-1")  # no change
    resolve_alert(p, "k", "op-1")
    for _ in range(3):  # later passes find nothing more to send
        deliver_notices(p)
        advance(p, timedelta(minutes=5))
    expected = ["k#1/opened/{}", "k#1/acknowledged/{}", "k#1/resolved/{}"]
    assert sorted(hook.ids()) == sorted(e.format("webhook") for e in expected)
    assert sorted(pager.ids()) == sorted(e.format("pagerduty") for e in expected)
    with p.uow() as uow:
        assert uow.outbox.backlog() == {}
        assert all(n.delivered_at is not None for n in uow.outbox.for_key("k"))


def test_a_change_rolled_back_queues_nothing(backend: Backend) -> None:
    hook = RecordingChannel("webhook")
    p = platform_on(backend, hook)
    p.alert("k", "broken")
    deliver_notices(p)
    with p.uow() as uow:
        clear(p, uow, ["k"])  # not committed: the payout it went with did not happen
    deliver_notices(p)
    assert hook.ids() == ["k#1/opened/webhook"]
    [alert] = list_alerts(p)
    assert alert.state is AlertState.OPEN


def test_a_channel_that_is_down_loses_nothing_and_is_retried_with_backoff(
    backend: Backend,
) -> None:
    hook = RecordingChannel("webhook")
    p = platform_on(backend, hook)
    hook.down = True
    p.alert("k", "broken")
    attempts_at: list[int] = []
    for _ in range(16):  # 16 passes 5 s apart: attempts at 0, 10, 30, 70 s (backoff doubles)
        deliver_notices(p)
        attempts_at.append(hook.attempts)
        advance(p, timedelta(seconds=5))
    assert hook.attempts == 4
    assert [attempts_at.index(n) * 5 for n in range(1, 5)] == [0, 10, 30, 70]
    with p.uow() as uow:
        [waiting] = uow.outbox.for_key("k")
    assert waiting.delivered_at is None
    assert waiting.last_error == "webhook: receiver down"
    hook.down = False
    advance(p, timedelta(minutes=3))
    deliver_notices(p)
    assert hook.ids() == ["k#1/opened/webhook"]


def test_a_channel_failing_too_long_is_alerted_on_the_others_and_resolved_when_back(
    backend: Backend,
) -> None:
    hook, mail = RecordingChannel("webhook"), RecordingChannel("email")
    p = platform_on(backend, hook, mail)
    hook.down = True
    p.alert("k", "broken")
    deliver_notices(p)
    advance(p, timedelta(minutes=4))
    deliver_notices(p)
    assert [h.down for h in channel_health(p)] == [False, False]  # email, webhook: not yet
    advance(p, timedelta(minutes=2))
    deliver_notices(p)  # the webhook has failed for 6 minutes: the other channels hear it
    assert [(h.name, h.down) for h in channel_health(p)] == [("email", False), ("webhook", True)]
    deliver_notices(p)
    down = channel_down_alert("webhook")
    assert f"{down}#1/opened/email" in mail.ids()
    with p.uow() as uow:
        assert [n.channel for n in uow.outbox.for_key(down)] == ["email"]  # not to itself
    hook.down = False
    advance(p, timedelta(minutes=5))
    deliver_notices(p)  # the backlog goes out, and then the down alert resolves
    deliver_notices(p)
    assert hook.ids() == ["k#1/opened/webhook"]
    assert f"{down}#1/resolved/email" in mail.ids()
    assert {a.key: a.state for a in list_alerts(p)}[down] is AlertState.RESOLVED


def test_two_deliverers_at_once_send_each_notice_once(sql_backend: Backend) -> None:
    hook = RecordingChannel("webhook")
    p = platform_on(sql_backend, hook)
    for n in range(20):
        p.alert(f"k{n}", "broken")
    workers = [attrs.evolve(p) for _ in range(3)]
    threads = [threading.Thread(target=deliver_notices, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(hook.ids()) == sorted(f"k{n}#1/opened/webhook" for n in range(20))


def test_notices_of_a_channel_this_process_lacks_wait_for_a_process_that_has_it(
    backend: Backend,
) -> None:
    hook, pager = RecordingChannel("webhook"), RecordingChannel("pagerduty")
    p = platform_on(backend, hook, pager)
    p.alert("k", "broken")
    webhook_only = attrs.evolve(p, channels=(hook,))
    deliver_notices(webhook_only)
    assert pager.ids() == []
    deliver_notices(p)
    assert pager.ids() == ["k#1/opened/pagerduty"]
    assert hook.ids() == ["k#1/opened/webhook"]


def test_an_incidents_changes_arrive_in_order_even_when_the_first_is_retried(
    backend: Backend,
) -> None:
    pager = RecordingChannel("pagerduty")
    p = platform_on(backend, pager)
    pager.down = True
    p.alert("k", "broken")
    deliver_notices(p)  # the trigger fails and waits out its backoff
    acknowledge_alert(p, "k", "op-1")
    pager.down = False
    deliver_notices(p)  # the acknowledgement is due, the trigger is not: nothing goes
    assert pager.ids() == []
    advance(p, timedelta(seconds=10))
    deliver_notices(p)
    assert pager.ids() == ["k#1/opened/pagerduty", "k#1/acknowledged/pagerduty"]
