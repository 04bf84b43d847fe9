"""The alert outbox on SQL: one row per notice, its id the unique key that stops a change
being announced twice on a channel."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, func, select

from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.statements import Statements
from fantasy_core.alerting import AlertChange
from fantasy_core.audit import Severity
from fantasy_core.outbox import AlertNotice

_N = t.alert_notices.c
_LOCK = select(t.alert_notices).where(_N.notice_id == bindparam("id")).with_for_update()
_DUE = (
    select(t.alert_notices)
    .where(
        _N.delivered_at.is_(None),
        _N.next_attempt_at <= bindparam("now"),
        _N.channel.in_(bindparam("channels", expanding=True)),
    )
    .order_by(_N.next_attempt_at, _N.notice_id)
    .limit(bindparam("limit"))
)
_FAILING = (
    select(_N.channel, func.min(_N.first_failure_at).label("since"))
    .where(_N.delivered_at.is_(None), _N.first_failure_at.is_not(None))
    .group_by(_N.channel)
)
_BACKLOG = (
    select(_N.channel, func.count().label("waiting"))
    .where(_N.delivered_at.is_(None))
    .group_by(_N.channel)
)


def notice_values(notice: AlertNotice) -> dict[str, object]:
    return {
        "notice_id": notice.notice_id,
        "channel": notice.channel,
        "key": notice.key,
        "incident": notice.incident,
        "change": notice.change.value,
        "severity": notice.severity.value,
        "summary": notice.summary,
        "contest_id": notice.contest_id,
        "created_at": notice.created_at,
        "next_attempt_at": notice.next_attempt_at,
        "attempts": notice.attempts,
        "first_failure_at": notice.first_failure_at,
        "last_error": notice.last_error,
        "delivered_at": notice.delivered_at,
    }


def notice_from_row(row: Row[Any]) -> AlertNotice:
    return AlertNotice(
        notice_id=row.notice_id,
        channel=row.channel,
        key=row.key,
        incident=int(row.incident),
        change=AlertChange(row.change),
        severity=Severity(row.severity),
        summary=row.summary,
        contest_id=row.contest_id,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        attempts=int(row.attempts),
        first_failure_at=row.first_failure_at,
        last_error=row.last_error,
        delivered_at=row.delivered_at,
    )


class SqlOutbox:
    def __init__(self, db: Statements) -> None:
        self._db = db

    def add(self, notice: AlertNotice) -> bool:
        statement = self._db.insert_new(t.alert_notices).values(notice_values(notice))
        return self._db.execute(statement).rowcount == 1

    def lock(self, notice_id: str) -> AlertNotice | None:
        row = self._db.execute(_LOCK, {"id": notice_id}).first()
        return None if row is None else notice_from_row(row)

    def save(self, notice: AlertNotice) -> None:
        values = notice_values(notice)
        del values["notice_id"]
        self._db.execute(
            t.alert_notices.update().where(_N.notice_id == notice.notice_id).values(values)
        )

    def due(self, now: datetime, limit: int, channels: Sequence[str]) -> list[AlertNotice]:
        if not channels:
            return []
        rows = self._db.execute(_DUE, {"now": now, "limit": limit, "channels": list(channels)})
        return [notice_from_row(row) for row in rows]

    def for_key(self, key: str) -> list[AlertNotice]:
        query = select(t.alert_notices).where(_N.key == key).order_by(_N.created_at, _N.notice_id)
        return [notice_from_row(row) for row in self._db.execute(query)]

    def failing_since(self) -> dict[str, datetime]:
        return {row.channel: row.since for row in self._db.execute(_FAILING)}

    def backlog(self) -> dict[str, int]:
        return {row.channel: int(row.waiting) for row in self._db.execute(_BACKLOG)}
