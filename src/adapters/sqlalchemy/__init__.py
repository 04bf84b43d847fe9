"""The unit of work and the account store on SQLAlchemy Core: SQLite (default) and PostgreSQL.

A database that cannot be reached raises the core's StoreUnavailable, nothing of SQLAlchemy.

engine = open_database(url, "test", upgrade=True)
database = SqlDatabase(engine)
platform = Platform(uow=database.unit_of_work, ...)

One module per repository (contests, entries, payouts, refunds, payout_accounts, alerts;
the append-only journals in journals.py), each running on its unit of work's connection
(statements.Statements) and handing out fresh objects built from rows, so mutating a
record changes nothing until it is saved; `save` writes the whole record and inserts it
if it is new, as the memory store does. Seat counters move in one place: seats.py.
"""

from adapters.sqlalchemy.accounts import SqlAccountStore
from adapters.sqlalchemy.collector import garbage_collection_paused
from adapters.sqlalchemy.engine import (
    UnsupportedDatabase,
    default_sqlite_url,
    describe,
    make_engine,
)
from adapters.sqlalchemy.schema import (
    DatabaseEnvironmentMismatch,
    DatabaseError,
    DatabaseNotReady,
    Environment,
    head_revision,
    open_database,
    read_label,
    upgrade,
)
from adapters.sqlalchemy.tables import metadata
from adapters.sqlalchemy.uow import SqlDatabase, SqlUnitOfWork

__all__ = [
    "DatabaseEnvironmentMismatch",
    "DatabaseError",
    "DatabaseNotReady",
    "Environment",
    "SqlAccountStore",
    "SqlDatabase",
    "SqlUnitOfWork",
    "UnsupportedDatabase",
    "default_sqlite_url",
    "describe",
    "garbage_collection_paused",
    "head_revision",
    "make_engine",
    "metadata",
    "open_database",
    "read_label",
    "upgrade",
]
