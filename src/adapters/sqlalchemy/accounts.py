"""The AccountStore port in the platform's database (SQLite or PostgreSQL), shared by processes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, delete, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from adapters.sqlalchemy.engine import READING
from adapters.sqlalchemy.errors import store_unavailable, unreachable
from adapters.sqlalchemy.lists import list_query
from adapters.sqlalchemy.statements import Caches, Prepared, Run, Statements
from adapters.sqlalchemy.tables import revoked_tokens, user_accounts
from fantasy_core.accounts import Account, Role, default_display_name
from fantasy_core.errors import DuplicateRecord


class SqlAccountStore:
    """The AccountStore on the `user_accounts` (migrations 0002, 0007) and `revoked_tokens`
    (0008) tables."""

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
                        display_name=account.display_name,
                        token_generation=account.token_generation,
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
        with _reading(self._engine) as connection:
            rows = _statements(connection).run(_BY_IDS, {"ids": wanted})
            return {row.user_id: _account(row) for row in rows}

    def replace_password(
        self, user_id: str, password_hash: str, *, if_generation: int | None = None
    ) -> Account | None:
        return self._next_generation(user_id, if_generation, password_hash=password_hash)

    def next_token_generation(self, user_id: str) -> Account | None:
        return self._next_generation(user_id, None)

    def _next_generation(
        self, user_id: str, if_generation: int | None, **changes: str
    ) -> Account | None:
        # One statement: two changes racing each move the generation on, neither is lost,
        # and of two racing from `if_generation` only the first finds it still there.
        where = user_accounts.c.user_id == user_id
        if if_generation is not None:
            where = where & (user_accounts.c.token_generation == if_generation)
        statement = (
            update(user_accounts)
            .where(where)
            .values(token_generation=user_accounts.c.token_generation + 1, **changes)
            .returning(*_COLUMNS)
        )
        with _translating(), self._engine.begin() as connection:
            row = connection.execute(statement).first()
        return None if row is None else _account(row)

    def revoke_token(
        self, token_id: str, user_id: str, expires_at: datetime, now: datetime
    ) -> None:
        with _translating(), self._engine.begin() as connection:
            # Tokens expired by now are refused anyway: their revocations need no keeping.
            connection.execute(delete(revoked_tokens).where(revoked_tokens.c.expires_at < now))
            known = connection.execute(
                select(revoked_tokens.c.token_id).where(revoked_tokens.c.token_id == token_id)
            ).first()
            if known is None:
                connection.execute(
                    revoked_tokens.insert().values(
                        token_id=token_id, user_id=user_id, expires_at=expires_at
                    )
                )

    def revoked(self, token_ids: Iterable[str]) -> set[str]:
        wanted = sorted(set(token_ids))
        if not wanted:
            return set()
        with _reading(self._engine) as connection:
            rows = _statements(connection).run(_REVOKED, {"ids": wanted})
            return {row.token_id for row in rows}

    def token_checks(
        self, user_ids: Iterable[str], token_ids: Iterable[str]
    ) -> tuple[dict[str, Account], set[str]]:
        users, tokens = sorted(set(user_ids)), sorted(set(token_ids))
        found: dict[str, Account] = {}
        revoked: set[str] = set()
        if not users and not tokens:
            return found, revoked
        # Both reads on one connection, in one round trip on PostgreSQL (a pipeline): a
        # request's token check is one of them, and neither waits for the other's answer.
        runs: list[Run] = []
        if users:
            runs.append((_BY_IDS, {"ids": users}))
        if tokens:
            runs.append((_REVOKED, {"ids": tokens}))
        with _reading(self._engine) as connection:
            answers = iter(_statements(connection).run_all(runs))
        if users:
            found = {row.user_id: _account(row) for row in next(answers)}
        if tokens:
            revoked = {row.token_id for row in next(answers)}
        return found, revoked

    def _one(self, condition: ColumnElement[bool]) -> Account | None:
        with _reading(self._engine) as connection:
            row = connection.execute(select(*_COLUMNS).where(condition)).first()
        return None if row is None else _account(row)


@contextmanager
def _reading(engine: Engine) -> Iterator[Connection]:
    """A connection for reads, which take no lock: on PostgreSQL each statement on its own
    (at READ COMMITTED a transaction gives each statement its own snapshot anyway, and
    its BEGIN and ROLLBACK were two round trips a token check); on SQLite a deferred
    transaction, a snapshot that waits for no writer (BEGIN IMMEDIATE would queue every
    request's token check behind the writes)."""
    with _translating(), engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execution_options(isolation_level="AUTOCOMMIT")
        else:
            connection.execution_options(**{READING: True})
        yield connection


def _statements(connection: Connection) -> Statements:
    return Statements(connection, _NO_TERMS)


_NO_TERMS = Caches(size=1)  # (accounts read no contest terms)


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
    user_accounts.c.display_name,
    user_accounts.c.token_generation,
)
# The token check of every request, batched (apps.api.auth): built once.
# Every request's token check runs these two (decision 0070: on libpq, on PostgreSQL).
_BY_IDS = Prepared(
    list_query(lambda one_of: select(*_COLUMNS).where(one_of(user_accounts.c.user_id, "ids")))
)
_REVOKED = Prepared(
    list_query(
        lambda one_of: select(revoked_tokens.c.token_id).where(
            one_of(revoked_tokens.c.token_id, "ids")
        )
    )
)


def _account(row: Any) -> Account:
    """The account of a row of `_COLUMNS` (SQLAlchemy's or a `Prepared` statement's)."""
    return Account(
        user_id=row.user_id,
        email=row.email,
        password_hash=row.password_hash,
        role=Role(row.role),
        created_at=row.created_at,
        # NULL: registered before display names (migration 0007); the name is derived.
        display_name=row.display_name or default_display_name(row.user_id),
        token_generation=row.token_generation,
    )
