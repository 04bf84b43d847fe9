"""Refunds in SQL: one per entry at most, pending until the gateway confirms it."""

from __future__ import annotations

from sqlalchemy import select

from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.records import (
    refund_from_row,
    refund_values,
)
from adapters.sqlalchemy.statements import Statements
from fantasy_core.errors import (
    UnknownEntry,
)
from fantasy_core.payments import Refund, RefundStatus


class SqlRefunds:
    """Refunds owed and made; a refund's key is its idempotency key."""

    def __init__(self, db: Statements) -> None:
        self._db = db

    def add(self, refund: Refund) -> bool:
        result = self._db.execute(
            self._db.insert_new(t.refunds),
            refund_values(refund),
            missing_parent=UnknownEntry(f"no entry {refund.entry_id} in {refund.contest_id}"),
        )
        return result.rowcount == 1

    def save(self, refund: Refund) -> None:
        self._db.execute(
            self._db.upsert(t.refunds, refund_values(refund)),
            missing_parent=UnknownEntry(f"no entry {refund.entry_id} in {refund.contest_id}"),
        )

    def get(self, key: str) -> Refund | None:
        row = self._db.execute(select(t.refunds).where(t.refunds.c.key == key)).first()
        return None if row is None else refund_from_row(row)

    def pending(self) -> list[Refund]:
        query = (
            select(t.refunds)
            .where(t.refunds.c.status == RefundStatus.PENDING.value)
            .order_by(t.refunds.c.created_at, t.refunds.c.key)
        )
        return [refund_from_row(row) for row in self._db.execute(query)]

    def for_contest(self, contest_id: str) -> list[Refund]:
        query = (
            select(t.refunds)
            .where(t.refunds.c.contest_id == contest_id)
            .order_by(t.refunds.c.entry_id, t.refunds.c.key)
        )
        return [refund_from_row(row) for row in self._db.execute(query)]
