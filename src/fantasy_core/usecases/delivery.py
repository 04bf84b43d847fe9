"""Delivering the alert outbox: each notice sent on its channel, retried with backoff.

A notice is claimed before it is sent (its attempt counted and its next attempt
pushed past the backoff, committed), so two workers never send it at once; it is
marked delivered after the channel accepted it. A crash between the two leaves it
claimed: it is sent again once the backoff ends, with the same notice id, which the
receivers may use to drop the repeat (PagerDuty does, by dedup key and action).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from attrs import frozen

from fantasy_core.errors import AlertDeliveryFailed
from fantasy_core.outbox import AlertNotice, trial_notice
from fantasy_core.platform import Platform
from fantasy_core.ports import AlertChannel, Clock
from fantasy_core.usecases.alerts import channel_down_alert, clear_now


@frozen
class DeliveryReport:
    delivered: int
    failed: int


@frozen
class ChannelHealth:
    """A configured channel's state: undelivered notices, and since when it has been failing."""

    name: str
    backlog: int
    failing_since: datetime | None
    down: bool


def deliver_notices(p: Platform) -> DeliveryReport:
    """Send every due notice of the channels this process has; then watch the channels."""
    channels = {c.name: c for c in p.channels}
    if not channels:
        return DeliveryReport(0, 0)
    with p.reading() as uow:
        due = uow.outbox.due(p.clock.now(), p.delivery.batch, sorted(channels))
    delivered = failed = 0
    # An incident's changes in the order they happened (they may fall due together).
    for notice in sorted(due, key=lambda n: n.sequence):
        claimed = _claim(p, notice.notice_id)
        if claimed is None:
            continue  # another worker has it, or delivered it already
        if _send(p, channels[claimed.channel], claimed):
            delivered += 1
        else:
            failed += 1
    watch_channels(p)
    return DeliveryReport(delivered, failed)


def _claim(p: Platform, notice_id: str) -> AlertNotice | None:
    with p.uow() as uow:
        notice = uow.outbox.lock(notice_id)
        now = p.clock.now()
        if notice is None or notice.delivered or notice.next_attempt_at > now:
            return None
        if any(notice.waits_for(other) for other in uow.outbox.for_key(notice.key)):
            return None  # an earlier change of the incident is still on its way
        notice.started(now, p.delivery)
        uow.outbox.save(notice)
        uow.commit()
    return notice


def _send(p: Platform, channel: AlertChannel, notice: AlertNotice) -> bool:
    try:
        channel.deliver(notice)
    except AlertDeliveryFailed as error:
        with p.uow() as uow:
            stored = uow.outbox.lock(notice.notice_id)
            if stored is not None and not stored.delivered:
                stored.failed(p.clock.now(), str(error))
                uow.outbox.save(stored)
                uow.commit()
        return False
    with p.uow() as uow:
        stored = uow.outbox.lock(notice.notice_id)
        if stored is not None:
            stored.succeeded(p.clock.now())
            uow.outbox.save(stored)
            uow.commit()
    return True


def channel_health(p: Platform) -> list[ChannelHealth]:
    """Each configured channel's backlog and failure, by name."""
    with p.reading() as uow:
        failing = uow.outbox.failing_since()
        backlog = uow.outbox.backlog()
    now = p.clock.now()
    return [
        ChannelHealth(
            name,
            backlog.get(name, 0),
            failing.get(name),
            name in failing and now - failing[name] >= p.delivery.channel_down_after,
        )
        for name in sorted(c.name for c in p.channels)
    ]


def watch_channels(p: Platform) -> None:
    """Alert (on the other channels) each channel failing longer than the policy allows;
    resolve that alert once the channel has delivered everything it failed to."""
    healthy: list[str] = []
    for health in channel_health(p):
        if health.down and health.failing_since is not None:
            p.alert(
                channel_down_alert(health.name),
                f"alert channel {health.name} has failed to deliver since "
                f"{health.failing_since.isoformat()}; {health.backlog} notices wait for it",
                critical=True,
            )
        elif health.failing_since is None:
            healthy.append(channel_down_alert(health.name))
    if healthy:
        clear_now(p, healthy)


def try_channels(channels: Iterable[AlertChannel], clock: Clock) -> dict[str, str | None]:
    """Send one test notice straight through every channel (no outbox, no retry, no
    store needed): by channel name, None when it was accepted, else why not."""
    results: dict[str, str | None] = {}
    for channel in channels:
        try:
            channel.deliver(trial_notice(channel.name, clock.now()))
        except AlertDeliveryFailed as error:
            results[channel.name] = str(error)
        else:
            results[channel.name] = None
    return results
