"""Stored alerts on SQL: one row per alert key, locked (FOR UPDATE) while it changes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Row, bindparam, select

from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.statements import Statements
from fantasy_core.alerting import AlertState, StoredAlert
from fantasy_core.audit import Severity

_GET = select(t.alerts).where(t.alerts.c.key == bindparam("key"))
_LOCK = _GET.with_for_update()
# In key order, as every locker of several rows must take them (no deadlock).
_LOCK_UNRESOLVED = (
    select(t.alerts)
    .where(
        t.alerts.c.key.in_(bindparam("keys", expanding=True)),
        t.alerts.c.state != AlertState.RESOLVED.value,
    )
    .order_by(t.alerts.c.key)
    .with_for_update()
)
_ORDER = (t.alerts.c.first_at, t.alerts.c.key)


def alert_values(alert: StoredAlert) -> dict[str, object]:
    return {
        "key": alert.key,
        "incident": alert.incident,
        "severity": alert.severity.value,
        "message": alert.message,
        "contest_id": alert.contest_id,
        "sightings": alert.count,
        "first_at": alert.first_at,
        "last_at": alert.last_at,
        "state": alert.state.value,
        "acknowledged_by": alert.acknowledged_by,
        "acknowledged_at": alert.acknowledged_at,
        "resolved_by": alert.resolved_by,
        "resolved_at": alert.resolved_at,
    }


def alert_from_row(row: Row[Any]) -> StoredAlert:
    return StoredAlert(
        key=row.key,
        incident=int(row.incident),
        severity=Severity(row.severity),
        message=row.message,
        contest_id=row.contest_id,
        count=int(row.sightings),
        first_at=row.first_at,
        last_at=row.last_at,
        state=AlertState(row.state),
        acknowledged_by=row.acknowledged_by,
        acknowledged_at=row.acknowledged_at,
        resolved_by=row.resolved_by,
        resolved_at=row.resolved_at,
    )


class SqlAlerts:
    def __init__(self, db: Statements) -> None:
        self._db = db

    def lock(self, key: str) -> StoredAlert | None:
        row = self._db.execute(_LOCK, {"key": key}).first()
        return None if row is None else alert_from_row(row)

    def add(self, alert: StoredAlert) -> None:
        # A duplicate key is a unique violation, which Statements turns into DuplicateRecord.
        self._db.execute(t.alerts.insert().values(alert_values(alert)))

    def save(self, alert: StoredAlert) -> None:
        values = alert_values(alert)
        del values["key"]
        self._db.execute(t.alerts.update().where(t.alerts.c.key == alert.key).values(values))

    def get(self, key: str) -> StoredAlert | None:
        row = self._db.execute(_GET, {"key": key}).first()
        return None if row is None else alert_from_row(row)

    def listed(self, states: Iterable[AlertState] | None = None) -> list[StoredAlert]:
        query = select(t.alerts).order_by(*_ORDER)
        if states is not None:
            query = query.where(t.alerts.c.state.in_([s.value for s in states]))
        return [alert_from_row(row) for row in self._db.execute(query)]

    def lock_unresolved(self, keys: Iterable[str]) -> list[StoredAlert]:
        wanted = sorted(set(keys))
        if not wanted:
            return []
        return [alert_from_row(row) for row in self._db.execute(_LOCK_UNRESOLVED, {"keys": wanted})]

    def unresolved_keys(self, prefix: str) -> list[str]:
        # startswith(autoescape): a key's own % or _ are not wildcards.
        query = (
            select(t.alerts.c.key)
            .where(
                t.alerts.c.key.startswith(prefix, autoescape=True),
                t.alerts.c.state != AlertState.RESOLVED.value,
            )
            .order_by(t.alerts.c.key)
        )
        return [row.key for row in self._db.execute(query)]
