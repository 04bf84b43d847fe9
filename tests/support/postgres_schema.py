"""A fresh, migrated PostgreSQL schema of its own for a test or a campaign, dropped afterwards.

Every connection made with the URL it yields (worker processes included) lands in
the schema, through the `search_path` option; the schema is labelled 'test'.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import make_url

from adapters.sqlalchemy import make_engine, upgrade

POSTGRES_URL_VARIABLE = "FANTASY_TEST_POSTGRES_URL"


def postgres_url_from_environment() -> str | None:
    return os.environ.get(POSTGRES_URL_VARIABLE) or None


def with_options(url: str, **options: str) -> str:
    """`url` with these libpq `-c name=value` options added to its own."""
    parsed = make_url(url)
    extra = " ".join(f"-c{name}={value}" for name, value in options.items())
    current = str(parsed.query.get("options", ""))
    merged = f"{current} {extra}".strip()
    return parsed.update_query_dict({"options": merged}).render_as_string(hide_password=False)


@contextmanager
def fresh_schema(base_url: str, prefix: str) -> Iterator[str]:
    """A new schema on the server of `base_url`, migrated; its URL. Dropped at the end."""
    schema = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    admin = make_engine(base_url)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = with_options(base_url, search_path=schema)
        try:
            upgrade(url, "test")
            yield url
        finally:
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


def host_and_port(url: str) -> tuple[str, int]:
    parsed = make_url(url)
    return parsed.host or "127.0.0.1", parsed.port or 5432


def through(url: str, host: str, port: int) -> str:
    """The same database reached at another address (a proxy in front of the server)."""
    return make_url(url).set(host=host, port=port).render_as_string(hide_password=False)
