"""Bringing a database to the latest schema, and the environment label it carries for life.

A database is labelled 'test' or 'production' by the first migration run that
creates it, in the same transaction; it never changes afterwards. Opening or
upgrading a database with another environment's configuration fails before
anything is read or written.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from sqlalchemy import Connection, Engine, inspect, select, text

from adapters.sqlalchemy.engine import describe, make_engine
from adapters.sqlalchemy.tables import ENVIRONMENTS, platform_meta

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported inside the functions that use it: a process that only opens units
# of work (a worker, a CLI command) should not pay half a second to import it.

Environment = Literal["test", "production"]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Any constant: PostgreSQL's advisory lock serialises concurrent upgrades of one database.
_UPGRADE_LOCK = 0x66616E74


class DatabaseError(Exception):
    """The database cannot be used as configured; the message says what to do."""


class DatabaseEnvironmentMismatch(DatabaseError):
    """The database is labelled for another environment than the configuration's."""


class DatabaseNotReady(DatabaseError):
    """The database has no schema yet, or an older one than this code needs."""


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, built in code: no alembic.ini is needed at run time."""
    from alembic.config import Config  # noqa: PLC0415 (lazy: see above)

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory  # noqa: PLC0415 (lazy: see above)

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise DatabaseNotReady(f"no migrations found in {MIGRATIONS}")
    return head


def _check_environment(environment: str) -> Environment:
    if environment == "test":
        return "test"
    if environment == "production":
        return "production"
    raise ValueError(f"environment must be one of {ENVIRONMENTS}, got {environment!r}")


def read_label(connection: Connection) -> str | None:
    """The environment the database is labelled with, or None for an unlabelled database."""
    if not inspect(connection).has_table(platform_meta.name):
        return None
    label = connection.execute(select(platform_meta.c.environment)).scalar()
    return None if label is None else str(label)


def _refuse_other_environment(where: str, label: str | None, environment: str) -> None:
    if label is not None and label != environment:
        raise DatabaseEnvironmentMismatch(
            f"database at {where} is labelled {label}; this configuration is {environment}"
        )


@contextmanager
def _engine_for(target: Engine | str) -> Iterator[Engine]:
    if isinstance(target, Engine):
        yield target
        return
    engine = make_engine(target)
    try:
        yield engine
    finally:
        engine.dispose()


def upgrade(target: Engine | str, environment: str) -> None:
    """Bring the database to the latest revision, labelling it with `environment` if new.

    Everything happens in one transaction (PostgreSQL and SQLite both have
    transactional DDL): a failed migration leaves the database as it was.
    """
    _upgrade_to_head(target, _check_environment(environment))


def _upgrade_to_head(target: Engine | str, wanted: Environment) -> None:
    from alembic import command  # noqa: PLC0415 (lazy: see above)

    with _engine_for(target) as engine, engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _UPGRADE_LOCK})
        label = read_label(connection)
        _refuse_other_environment(describe(engine.url), label, wanted)
        command.upgrade(alembic_config(connection), "head")
        if label is None:
            connection.execute(
                platform_meta.insert().values(
                    id=1, environment=wanted, labelled_at=datetime.now(UTC)
                )
            )


def current_revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext  # noqa: PLC0415 (lazy: see above)

    return MigrationContext.configure(connection).get_current_revision()


def open_database(url: str, environment: str, *, upgrade: bool = False) -> Engine:
    """An engine on a database of this environment at the latest revision, or a clear error.

    With `upgrade`, migrate (and label a new database) first; without it, a
    database with no schema or an old one is refused with the command to run.
    """
    wanted = _check_environment(environment)
    engine = make_engine(url)
    where = describe(engine.url)
    try:
        if upgrade:
            _upgrade_to_head(engine, wanted)
        with engine.connect() as connection:
            label = read_label(connection)
            revision = current_revision(connection)
        _refuse_other_environment(where, label, wanted)
        if label is None:
            raise DatabaseNotReady(
                f"database at {where} has no schema: run `fantasy db upgrade` first"
            )
        head = head_revision()
        if revision != head:
            raise DatabaseNotReady(
                f"database at {where} is at revision {revision}, this code needs {head}: "
                "run `fantasy db upgrade`"
            )
    except BaseException:
        engine.dispose()
        raise
    return engine
