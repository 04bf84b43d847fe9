"""The audit trail and alerts: what happened, who did it, whether it worked, and why."""

from __future__ import annotations

import enum
from datetime import datetime

from attrs import frozen


class Outcome(enum.Enum):
    SUCCESS = "success"
    FAILURE = "failure"


@frozen
class AuditRecord:
    """One append-only line of the audit trail."""

    at: datetime
    actor: str
    action: str
    contest_id: str | None
    subject: str | None
    outcome: Outcome
    detail: str


class Severity(enum.Enum):
    WARNING = "warning"
    CRITICAL = "critical"


@frozen
class Alert:
    """Something a person must look at; `key` de-duplicates repeats of the same problem."""

    key: str
    severity: Severity
    at: datetime
    contest_id: str | None
    message: str
