"""Alembic's environment: migrate the connection `adapters.sqlalchemy.schema.upgrade` passes in.

There is no alembic.ini and no URL here: the caller opens the connection and the
transaction, labels the database and checks its environment in that same transaction.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from adapters.sqlalchemy.tables import metadata


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError(
            "migrations run through adapters.sqlalchemy.schema.upgrade(), which passes "
            "an open connection; the alembic command line is not configured"
        )
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported")
run_migrations_online()
