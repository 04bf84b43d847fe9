"""Payouts in SQL: written at settlement in bulk, streamed back, locked before a change."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import exists, func, select

from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.collector import garbage_collection_paused
from adapters.sqlalchemy.records import (
    PAYOUT_COLUMNS,
    payout_from_row,
    payout_row,
    payout_values,
)
from adapters.sqlalchemy.statements import STREAM_BATCH, Statements
from fantasy_core.errors import (
    UnknownPayout,
)
from fantasy_core.payments import Payout, PayoutStatus

_PAYOUT_COLUMNS = tuple(t.payouts.c[name] for name in PAYOUT_COLUMNS)


class SqlPayouts:
    """Payouts, written at settlement all at once and then one by one as they are sent."""

    def __init__(self, db: Statements) -> None:
        self._db = db

    def add_all(self, payouts: Sequence[Payout]) -> None:
        """Settlement writes a contest's payouts at once (a fifth of a big contest's entries)."""
        if payouts:
            self._db.insert_many(t.payouts, PAYOUT_COLUMNS, [payout_row(p) for p in payouts])

    def save(self, payout: Payout) -> None:
        self._db.execute(self._db.upsert(t.payouts, payout_values(payout)))

    def for_contest(self, contest_id: str) -> list[Payout]:
        """A big contest has a payout for a fifth of its entries: streamed like entries."""
        query = (
            select(*_PAYOUT_COLUMNS)
            .where(t.payouts.c.contest_id == contest_id)
            .order_by(t.payouts.c.entry_id, t.payouts.c.fingerprint)
        )
        rows = self._db.stream(query, STREAM_BATCH)
        with garbage_collection_paused():
            return [payout_from_row(row) for row in rows]

    def count_by_status(self) -> dict[PayoutStatus, int]:
        c = t.payouts.c
        rows: Iterable[Any] = self._db.execute(select(c.status, func.count()).group_by(c.status))
        return {PayoutStatus(row[0]): int(row[1]) for row in rows}

    def any_unconfirmed(self, contest_id: str) -> bool:
        c = t.payouts.c
        query = select(
            exists().where(c.contest_id == contest_id, c.status != PayoutStatus.CONFIRMED.value)
        )
        return bool(self._db.execute(query).scalar_one())

    def get(self, fingerprint: str) -> Payout:
        return self._read(fingerprint, for_update=False)

    def lock(self, fingerprint: str) -> Payout:
        return self._read(fingerprint, for_update=True)

    def _read(self, fingerprint: str, *, for_update: bool) -> Payout:
        query = select(*_PAYOUT_COLUMNS).where(t.payouts.c.fingerprint == fingerprint)
        if for_update:  # SQLite ignores it: its units of work already hold the write lock
            query = query.with_for_update()
        row = self._db.execute(query).first()
        if row is None:
            raise UnknownPayout(f"no payout {fingerprint}")
        return payout_from_row(row)

    def for_user(self, user_id: str) -> list[Payout]:
        query = (
            select(*_PAYOUT_COLUMNS)
            .where(t.payouts.c.user_id == user_id)
            .order_by(t.payouts.c.contest_id, t.payouts.c.entry_id)
        )
        return [payout_from_row(row) for row in self._db.execute(query)]

    def reopened(self) -> list[Payout]:
        c = t.payouts.c
        query = (
            select(*_PAYOUT_COLUMNS)
            .where(c.reversals > 0, c.status != PayoutStatus.CONFIRMED.value)
            .order_by(c.fingerprint)
        )
        return [payout_from_row(row) for row in self._db.execute(query)]

    def by_transfer(self, transfer_id: str) -> Payout | None:
        query = select(*_PAYOUT_COLUMNS).where(t.payouts.c.transfer_id == transfer_id)
        row = self._db.execute(query).first()
        return None if row is None else payout_from_row(row)

    def big_prizes(self, user_id: str, at_least_minor: int) -> int:
        query = select(func.count()).where(
            t.payouts.c.user_id == user_id, t.payouts.c.amount_minor >= at_least_minor
        )
        return int(self._db.execute(query).scalar_one())
