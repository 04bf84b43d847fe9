"""Accounts in the platform's database (SQLite or PostgreSQL), shared by every API process."""

from __future__ import annotations

from datetime import UTC

from sqlalchemy import ColumnElement, Engine, select
from sqlalchemy.exc import IntegrityError

from adapters.sqlalchemy.tables import user_accounts
from apps.accounts import Account, AccountError, Role


class SqlAccountStore:
    """The AccountStore on the `user_accounts` table (migration 0002)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, account: Account) -> None:
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    user_accounts.insert().values(
                        user_id=account.user_id,
                        email=account.email,
                        password_hash=account.password_hash,
                        role=account.role.value,
                        created_at=account.created_at.astimezone(UTC),
                    )
                )
        except IntegrityError as error:
            raise AccountError("email_taken", f"{account.email} is already registered") from error

    def by_email(self, email: str) -> Account | None:
        return self._one(user_accounts.c.email == email)

    def get(self, user_id: str) -> Account | None:
        return self._one(user_accounts.c.user_id == user_id)

    def _one(self, condition: ColumnElement[bool]) -> Account | None:
        c = user_accounts.c
        query = select(c.user_id, c.email, c.password_hash, c.role, c.created_at).where(condition)
        with self._engine.connect() as connection:
            row = connection.execute(query).first()
        if row is None:
            return None
        return Account(row.user_id, row.email, row.password_hash, Role(row.role), row.created_at)
