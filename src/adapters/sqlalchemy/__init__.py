"""The repository / unit-of-work port on SQLAlchemy Core: SQLite (embedded default) and PostgreSQL.

engine = open_database(url, "test", upgrade=True)
database = SqlDatabase(engine)
platform = Platform(uow=database.unit_of_work, ...)
"""

from adapters.sqlalchemy.engine import UnsupportedDatabase, default_sqlite_url, make_engine
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
    "SqlDatabase",
    "SqlUnitOfWork",
    "UnsupportedDatabase",
    "default_sqlite_url",
    "head_revision",
    "make_engine",
    "metadata",
    "open_database",
    "read_label",
    "upgrade",
]
