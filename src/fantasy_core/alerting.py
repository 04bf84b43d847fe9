"""Stored alerts: one per dedup key, counted, acknowledged, resolved, re-opened as a new incident.

The rules are pure: each method changes the alert and says which change a person
must be told about (`AlertChange`), or None when nothing they need to hear changed
(a repeat of an open alert is counted, not announced again).
"""

from __future__ import annotations

import enum
from datetime import datetime

from attrs import define

from fantasy_core.audit import Alert, Severity
from fantasy_core.errors import OperatorActionRefused


class AlertState(enum.Enum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class AlertChange(enum.Enum):
    """A change of an alert's state: what the delivery channels announce (trigger/ack/resolve)."""

    OPENED = "opened"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


_RANK = {Severity.WARNING: 0, Severity.CRITICAL: 1}


@define
class StoredAlert:
    """The current incident of one dedup key.

    `incident` counts incidents of the key: a repeat after resolution opens incident
    n + 1 (its count and first sighting start again). Earlier incidents live on in the
    audit trail.
    """

    key: str
    incident: int
    severity: Severity
    message: str
    contest_id: str | None
    count: int
    first_at: datetime
    last_at: datetime
    state: AlertState = AlertState.OPEN
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None

    @classmethod
    def opened(cls, alert: Alert, incident: int = 1) -> StoredAlert:
        return cls(
            key=alert.key,
            incident=incident,
            severity=alert.severity,
            message=alert.message,
            contest_id=alert.contest_id,
            count=1,
            first_at=alert.at,
            last_at=alert.at,
        )

    @property
    def unresolved(self) -> bool:
        return self.state is not AlertState.RESOLVED

    @property
    def incident_key(self) -> str:
        """The key of this incident, the same everywhere it is announced (`key#incident`)."""
        return f"{self.key}#{self.incident}"

    def repeated(self, alert: Alert) -> None:
        """The same problem seen again while unresolved: counted, its newest message kept.

        Severity only rises: a critical repeat makes the alert critical, a warning
        does not calm a critical one. An acknowledged alert stays acknowledged (the
        person who took it is on it); nothing new is announced.
        """
        if not self.unresolved:
            raise ValueError(f"alert {self.key} is resolved: a repeat opens a new incident")
        self.count += 1
        self.last_at = max(self.last_at, alert.at)
        self.message = alert.message
        if _RANK[alert.severity] > _RANK[self.severity]:
            self.severity = alert.severity
        if alert.contest_id is not None:
            self.contest_id = alert.contest_id

    def acknowledge(self, by: str, at: datetime) -> AlertChange | None:
        """A person takes the alert; None when it was already acknowledged.

        A resolved alert cannot be acknowledged: there is nothing left to take.
        """
        if self.state is AlertState.RESOLVED:
            raise OperatorActionRefused(f"alert {self.key} is resolved: nothing to acknowledge")
        if self.state is AlertState.ACKNOWLEDGED:
            return None
        self.state = AlertState.ACKNOWLEDGED
        self.acknowledged_by = by
        self.acknowledged_at = at
        return AlertChange.ACKNOWLEDGED

    def resolve(self, by: str, at: datetime) -> AlertChange | None:
        """The condition cleared (`by` "system") or a person closed it; None if already resolved."""
        if self.state is AlertState.RESOLVED:
            return None
        self.state = AlertState.RESOLVED
        self.resolved_by = by
        self.resolved_at = at
        return AlertChange.RESOLVED


def raised(current: StoredAlert | None, alert: Alert) -> tuple[StoredAlert, AlertChange | None]:
    """The key's alert after `alert` was raised, and the change to announce (if any).

    Never raised, or resolved: a new incident opens (OPENED). Unresolved: a repeat.
    """
    if current is None:
        return StoredAlert.opened(alert), AlertChange.OPENED
    if not current.unresolved:
        return StoredAlert.opened(alert, current.incident + 1), AlertChange.OPENED
    current.repeated(alert)
    return current, None
