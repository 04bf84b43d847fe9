"""The audit trail and alerts: what happened, who did it, whether it worked, and why."""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterable
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


_log = logging.getLogger("fantasy.audit")


def log_committed(records: Iterable[AuditRecord]) -> None:
    """Log audit records whose transaction has committed: one line each, ids as fields.

    Called by the unit of work after a commit, never before, so the log says only what
    the audit trail holds. The subject becomes `entry_id` or `slate_id` when it is one.
    """
    for record in records:
        fields: dict[str, str] = {"action": record.action, "actor": record.actor}
        if record.contest_id is not None:
            fields["contest_id"] = record.contest_id
        subject = record.subject
        if subject is not None:
            if subject.startswith("entry-"):
                fields["entry_id"] = subject
            elif record.action.startswith("stats."):
                fields["slate_id"] = subject
            else:
                fields["subject"] = subject
        ok = record.outcome is Outcome.SUCCESS
        _log.log(
            logging.INFO if ok else logging.WARNING,
            "%s%s: %s",
            record.action,
            f" {subject}" if subject else "",
            record.detail or record.outcome.value,
            extra=fields,
        )
