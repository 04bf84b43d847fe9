"""The AccountStore port in the platform's database (SQLite or PostgreSQL), shared by processes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC
from typing import Any

from sqlalchemy import ColumnElement, Engine, Row, bindparam, select
from sqlalchemy.exc import DBAPIError, IntegrityError

from adapters.sqlalchemy.errors import store_unavailable, unreachable
from adapters.sqlalchemy.tables import user_accounts
from fantasy_core.accounts import Account, Role
from fantasy_core.errors import DuplicateRecord


class SqlAccountStore:
    """The AccountStore on the `user_accounts` table (migration 0002)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, account: Account) -> None:
        try:
            with _translating(), self._engine.begin() as connection:
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
            raise DuplicateRecord(f"{account.email} is already registered") from error

    def by_email(self, email: str) -> Account | None:
        return self._one(user_accounts.c.email == email)

    def get(self, user_id: str) -> Account | None:
        return self.get_many([user_id]).get(user_id)

    def get_many(self, user_ids: Iterable[str]) -> dict[str, Account]:
        wanted = sorted(set(user_ids))
        if not wanted:
            return {}
        with _translating(), self._engine.connect() as connection:
            rows = connection.execute(_BY_IDS, {"ids": wanted})
            return {row.user_id: _account(row) for row in rows}

    def _one(self, condition: ColumnElement[bool]) -> Account | None:
        with _translating(), self._engine.connect() as connection:
            row = connection.execute(select(*_COLUMNS).where(condition)).first()
        return None if row is None else _account(row)


@contextmanager
def _translating() -> Iterator[None]:
    """A database that cannot be reached is StoreUnavailable, as in a unit of work; any
    other database error is left as it is (`add` says what its IntegrityError means)."""
    try:
        yield
    except DBAPIError as error:
        if not unreachable(error):
            raise
        raise store_unavailable(error.orig or error) from error


_COLUMNS = (
    user_accounts.c.user_id,
    user_accounts.c.email,
    user_accounts.c.password_hash,
    user_accounts.c.role,
    user_accounts.c.created_at,
)
# The token check of every request, batched (apps.api.auth): built once.
_BY_IDS = select(*_COLUMNS).where(user_accounts.c.user_id.in_(bindparam("ids", expanding=True)))


def _account(row: Row[Any, Any, Any, Any, Any]) -> Account:
    return Account(row.user_id, row.email, row.password_hash, Role(row.role), row.created_at)
