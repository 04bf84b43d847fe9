"""The alert outbox: each change of an alert's state, announced once on each channel.

A notice is written in the transaction that changes the alert, one per configured
channel, under a unique id (incident, change, channel): a change can be announced at
most once per channel, and a channel that is down loses nothing - its notices wait,
retried with exponential backoff, until it answers.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from attrs import define, frozen

from fantasy_core.alerting import AlertChange, StoredAlert
from fantasy_core.audit import Severity

_RANK = {AlertChange.OPENED: 0, AlertChange.ACKNOWLEDGED: 1, AlertChange.RESOLVED: 2}


@frozen
class DeliveryPolicy:
    """How notices are retried, and when a failing channel is itself alerted."""

    first_delay: timedelta = timedelta(seconds=10)
    max_delay: timedelta = timedelta(minutes=10)
    # A channel whose oldest undelivered notice first failed this long ago is "down".
    channel_down_after: timedelta = timedelta(minutes=5)
    # Notices one delivery run sends at most (the rest wait for the next pass).
    batch: int = 100

    def delay(self, attempts: int) -> timedelta:
        """The wait before attempt `attempts + 1`, doubling from `first_delay`, capped."""
        exponent = max(0, min(attempts - 1, 20))
        return min(self.first_delay * (1 << exponent), self.max_delay)


@define
class AlertNotice:
    """One announcement of one change of one alert incident on one channel (an outbox row).

    `attempts` counts deliveries started; `next_attempt_at` is when it may be tried
    again (a delivery in flight pushes it out, so that no other worker starts the same
    one); `first_failure_at` is when it first failed, which says how long its channel
    has been failing.
    """

    notice_id: str
    channel: str
    key: str
    incident: int
    change: AlertChange
    severity: Severity
    summary: str
    contest_id: str | None
    created_at: datetime
    next_attempt_at: datetime
    attempts: int = 0
    first_failure_at: datetime | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None

    @classmethod
    def of(cls, alert: StoredAlert, change: AlertChange, channel: str, at: datetime) -> AlertNotice:
        return cls(
            notice_id=f"{alert.incident_key}/{change.value}/{channel}",
            channel=channel,
            key=alert.key,
            incident=alert.incident,
            change=change,
            severity=alert.severity,
            summary=alert.message,
            contest_id=alert.contest_id,
            created_at=at,
            next_attempt_at=at,
        )

    @property
    def dedup_key(self) -> str:
        """The incident's key on every channel (PagerDuty's dedup_key): `key#incident`."""
        return f"{self.key}#{self.incident}"

    @property
    def delivered(self) -> bool:
        return self.delivered_at is not None

    @property
    def sequence(self) -> tuple[str, int, int]:
        """The order an incident's notices must arrive in on a channel: opened, then
        acknowledged, then resolved (PagerDuty drops an acknowledge of an incident it
        has not seen triggered)."""
        return (self.key, self.incident, _RANK[self.change])

    def waits_for(self, other: AlertNotice) -> bool:
        """Whether `other` must be delivered before this notice: an earlier change of
        the same incident on the same channel, not yet delivered."""
        return (
            other.channel == self.channel
            and other.key == self.key
            and other.incident == self.incident
            and _RANK[other.change] < _RANK[self.change]
            and not other.delivered
        )

    def text(self) -> str:
        """One line a person reads: what changed, how bad, which alert, what it says."""
        what = {
            AlertChange.OPENED: f"[{self.severity.value.upper()}]",
            AlertChange.ACKNOWLEDGED: "[ACKNOWLEDGED]",
            AlertChange.RESOLVED: "[RESOLVED]",
        }[self.change]
        where = f" (contest {self.contest_id})" if self.contest_id else ""
        return f"{what} {self.dedup_key}{where}: {self.summary}"

    def started(self, at: datetime, policy: DeliveryPolicy) -> None:
        """A delivery begins: counted, and nobody else starts one before the backoff ends."""
        self.attempts += 1
        self.next_attempt_at = at + policy.delay(self.attempts)

    def failed(self, at: datetime, error: str) -> None:
        self.last_error = error
        if self.first_failure_at is None:
            self.first_failure_at = at

    def succeeded(self, at: datetime) -> None:
        self.delivered_at = at
        self.last_error = None


def trial_notice(channel: str, at: datetime) -> AlertNotice:
    """The notice `fantasy alerts test` sends straight through a channel (never stored)."""
    stamp = at.strftime("%Y%m%dT%H%M%S")
    return AlertNotice(
        notice_id=f"alerts-test-{stamp}#1/opened/{channel}",
        channel=channel,
        key=f"alerts-test-{stamp}",
        incident=1,
        change=AlertChange.OPENED,
        severity=Severity.WARNING,
        summary="a test alert: this channel works (fantasy alerts test)",
        contest_id=None,
        created_at=at,
        next_attempt_at=at,
    )
