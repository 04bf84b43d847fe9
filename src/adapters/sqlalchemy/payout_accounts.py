"""Payout accounts in SQL: where each user's prizes are transferred."""

from __future__ import annotations

from sqlalchemy import select

from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.records import (
    account_from_row,
    account_values,
)
from adapters.sqlalchemy.statements import Statements
from fantasy_core.payout_accounts import PayoutAccount


class SqlPayoutAccounts:
    """Winners' connected accounts, by user and by the gateway's account id."""

    def __init__(self, db: Statements) -> None:
        self._db = db

    def get(self, user_id: str) -> PayoutAccount | None:
        query = select(t.payout_accounts).where(t.payout_accounts.c.user_id == user_id)
        row = self._db.execute(query).first()
        return None if row is None else account_from_row(row)

    def lock(self, user_id: str) -> PayoutAccount | None:
        query = (
            select(t.payout_accounts)
            .where(t.payout_accounts.c.user_id == user_id)
            .with_for_update()  # SQLite ignores it: its units of work hold the write lock
        )
        row = self._db.execute(query).first()
        return None if row is None else account_from_row(row)

    def by_account(self, account_id: str) -> PayoutAccount | None:
        query = (
            select(t.payout_accounts)
            .where(t.payout_accounts.c.account_id == account_id)
            .order_by(t.payout_accounts.c.user_id)
            .limit(1)
        )
        row = self._db.execute(query).first()
        return None if row is None else account_from_row(row)

    def save(self, account: PayoutAccount) -> None:
        self._db.execute(self._db.upsert(t.payout_accounts, account_values(account)))
