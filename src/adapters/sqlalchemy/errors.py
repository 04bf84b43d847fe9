"""Where the SQL adapter's database errors become the core's errors: one place, one table.

  a unique key violated                       DuplicateRecord
  a serialization failure or deadlock (PG)    ConcurrentUpdate (the use case may be retried)
  a missing parent row                        the caller's Unknown* error
  the database cannot be reached              StoreUnavailable (retry later)
  anything else                               itself: a bug, and loud

"Cannot be reached" is what DBAPI calls an OperationalError or an InterfaceError (the
server gone or refusing connections, a connection lost mid-statement, SQLite's file
still locked after the busy timeout), and any error on a connection SQLAlchemy had to
invalidate. Nothing above this adapter ever sees a SQLAlchemy or driver exception for
those: the API answers StoreUnavailable with a 503, the worker backs off.
"""

from __future__ import annotations

from sqlalchemy.engine.interfaces import DBAPIModule
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError

from fantasy_core.errors import (
    ConcurrentUpdate,
    DomainError,
    DuplicateRecord,
    StoreUnavailable,
)

UNIQUE = "unique"
FOREIGN_KEY = "foreign_key"
OTHER = "other"

# SQLSTATEs (PostgreSQL) and extended result names (SQLite) of the violations we translate.
_PG_UNIQUE, _PG_FOREIGN_KEY = "23505", "23503"
_PG_RETRYABLE = {"40001", "40P01"}  # serialization_failure, deadlock_detected
_SQLITE_UNIQUE = {"SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"}
_SQLITE_FOREIGN_KEY = "SQLITE_CONSTRAINT_FOREIGNKEY"


def violation(error: IntegrityError) -> str:
    """Which kind of constraint an IntegrityError broke: UNIQUE, FOREIGN_KEY or OTHER."""
    sqlstate = getattr(error.orig, "sqlstate", None)
    name = getattr(error.orig, "sqlite_errorname", None)
    if sqlstate == _PG_UNIQUE or name in _SQLITE_UNIQUE:
        return UNIQUE
    if sqlstate == _PG_FOREIGN_KEY or name == _SQLITE_FOREIGN_KEY:
        return FOREIGN_KEY
    return OTHER


def unreachable(error: DBAPIError) -> bool:
    """Whether a database error says the store cannot be reached, rather than a bug."""
    return error.connection_invalidated or isinstance(error, OperationalError | InterfaceError)


def translate(error: DBAPIError, missing_parent: DomainError | None = None) -> Exception:
    """The core's error for a database error, or the error itself when none applies."""
    if isinstance(error, IntegrityError):
        kind = violation(error)
        if kind == UNIQUE:
            return DuplicateRecord(f"a record with this key exists already: {error.orig}")
        if kind == FOREIGN_KEY and missing_parent is not None:
            return missing_parent
    # Before the reachability test: PostgreSQL's serialization failures are OperationalErrors.
    if getattr(error.orig, "sqlstate", None) in _PG_RETRYABLE:
        return ConcurrentUpdate(f"the database refused a concurrent change: {error.orig}")
    if unreachable(error):
        return store_unavailable(error.orig or error)
    return error


def translate_driver(
    error: Exception, dbapi: DBAPIModule, missing_parent: DomainError | None = None
) -> Exception:
    """The same translation for an error raised by the driver `dbapi` itself (the bulk paths,
    which bypass SQLAlchemy's wrapping)."""
    sqlstate = getattr(error, "sqlstate", None)
    name = getattr(error, "sqlite_errorname", None)
    if sqlstate == _PG_UNIQUE or name in _SQLITE_UNIQUE:
        return DuplicateRecord(f"a record with this key exists already: {error}")
    if (sqlstate == _PG_FOREIGN_KEY or name == _SQLITE_FOREIGN_KEY) and missing_parent is not None:
        return missing_parent
    if sqlstate in _PG_RETRYABLE:
        return ConcurrentUpdate(f"the database refused a concurrent change: {error}")
    if isinstance(error, (dbapi.OperationalError, dbapi.InterfaceError)):
        return store_unavailable(error)
    return error


def store_unavailable(cause: BaseException) -> StoreUnavailable:
    """StoreUnavailable naming the cause by its first line (drivers add pages of context)."""
    text = str(cause).strip()
    first = text.splitlines()[0] if text else type(cause).__name__
    return StoreUnavailable(f"the database cannot be reached: {first}")
