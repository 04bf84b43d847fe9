"""Engines for the two supported databases: SQLite (embedded default) and PostgreSQL (psycopg 3).

SQLite runs with a single writer: every transaction starts with BEGIN IMMEDIATE, so
the write lock is taken before the first read and two units of work never interleave
(a second waits up to the busy timeout). That is what makes `contests.lock` and the
compare-and-set on contest versions hold on SQLite. WAL lets readers outside the
platform (backups, reports) read while a unit of work writes.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

SQLITE_BUSY_TIMEOUT_SECONDS = 30
# Page cache per connection, in KiB (SQLite's default is 2 MiB): a big contest's indexes
# outgrow the default at once, and settling it then spends its time paging.
SQLITE_CACHE_KIB = 64 * 1024
DEFAULT_SQLITE_PATH = Path("var") / "fantasy.db"

_POSTGRES_SCHEMES = {"postgres", "postgresql", "postgresql+psycopg"}

# A pooled PostgreSQL connection is pinged before use only when it sat in the pool longer
# than this (decision 0072): one used this recently was answering a moment ago.
PING_AFTER_IDLE_SECONDS = 1.0
_RETURNED = "fantasy_returned_at"  # in the pool entry's info: when it was last in use
_now = time.monotonic  # the listeners' clock (tests move it)


class UnsupportedDatabase(ValueError):
    """A database URL this adapter cannot serve (another engine or driver)."""


def default_sqlite_url(directory: Path | None = None) -> str:
    """A SQLite file under `./var/` (or `directory`), creating the directory."""
    path = (DEFAULT_SQLITE_PATH if directory is None else directory / "fantasy.db").resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def database_url(url: str | URL) -> URL:
    """The URL normalised to a driver we support: plain postgresql:// goes to psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in _POSTGRES_SCHEMES:
        return parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        return parsed
    raise UnsupportedDatabase(
        f"unsupported database URL scheme {parsed.drivername!r}: "
        "use sqlite:///path/to/file.db or postgresql://user@host/db"
    )


def describe(url: str | URL) -> str:
    """The URL as safe to print (no password)."""
    return make_url(url).render_as_string(hide_password=True)


def make_engine(url: str | URL) -> Engine:
    """An engine for `url`, configured as the adapter needs (see the module docstring)."""
    parsed = database_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    # Sessions in UTC: instants come back in UTC, as from SQLite, with nothing to convert.
    # Every run of a prepared statement planned for its values: a generic plan is kept for
    # the connection's life, and one made while a table was small (a sequential scan of
    # the entries) would stay as the table grew (decision 0064).
    # (connect_args override the URL's own options, so those are kept in front.)
    settings = "-c TimeZone=UTC -c plan_cache_mode=force_custom_plan"
    options = f"{parsed.query.get('options', '')} {settings}".strip()
    # psycopg prepares nothing itself: it would deallocate every prepared statement of the
    # connection at each rollback, the join batch's own among them (libpq.execute_all).
    engine = create_engine(parsed, connect_args={"options": options, "prepare_threshold": None})
    ping_when_idle(engine)
    return engine


def ping_when_idle(engine: Engine) -> None:
    """Ping each connection the pool hands out if it was idle for more than
    PING_AFTER_IDLE_SECONDS (decision 0072): a long-running worker survives a server
    restart between its ticks, as with SQLAlchemy's `pool_pre_ping`, without a round trip
    before each unit of work under load. A connection found dead is replaced by the pool
    (DisconnectionError)."""

    def returned(_dbapi: Any, record: ConnectionPoolEntry) -> None:
        record.info[_RETURNED] = _now()

    def checkout(dbapi: Any, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection) -> None:
        if _now() - record.info.get(_RETURNED, float("-inf")) <= PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi)
        except engine.dialect.loaded_dbapi.Error as error:
            if engine.dialect.is_disconnect(error, dbapi, None):
                raise DisconnectionError(f"a pooled connection was lost: {error}") from error
            raise

    event.listen(engine, "connect", returned)  # a new connection needs no ping
    event.listen(engine, "checkin", returned)
    event.listen(engine, "checkout", checkout)


# The execution option a reading unit of work sets on its connection.
READING = "fantasy_reading"


def _sqlite_engine(url: URL) -> Engine:
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
    )
    event.listen(engine, "connect", _configure_sqlite_connection)
    event.listen(engine, "begin", _begin_immediate)
    return engine


def _configure_sqlite_connection(
    dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry
) -> None:
    # Stop pysqlite from issuing its own (deferred) BEGIN: SQLAlchemy's "begin" event
    # below emits BEGIN IMMEDIATE instead. This is SQLAlchemy's documented recipe.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    finally:
        cursor.close()


def _begin_immediate(connection: Connection) -> None:
    # A reading unit of work (uow.SqlDatabase.reading_unit_of_work) begins deferred: in
    # WAL mode a reader sees a snapshot and needs no lock, where BEGIN IMMEDIATE would
    # queue it behind every other transaction, sleeping in SQLite's busy handler.
    reading = connection.get_execution_options().get(READING, False)
    connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")
