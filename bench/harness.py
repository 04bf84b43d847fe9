"""What the benchmarks share: JSON lines, medians, a scratch PostgreSQL database, free ports.

Every scenario prints one JSON object per figure on stdout: `scenario`, its size,
`seconds` (or a rate), and where there is one the `floor_seconds` measured in the
same run and the `ratio` seconds / floor_seconds.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
from collections.abc import Iterable, Mapping

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

# The benchmarks' own database on the server the tests use (its contents are thrown away).
POSTGRES_URL_VARIABLE = "FANTASY_BENCH_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/fantasy_bench"


def emit(record: Mapping[str, object]) -> dict[str, object]:
    """Print one figure as a JSON line (flushed: a parent process may be reading)."""
    line = dict(record)
    print(json.dumps(line), flush=True)
    return line


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def with_floor(record: dict[str, object], seconds: float, floor: float) -> dict[str, object]:
    """`record` with its time, the floor's, and how many floors it took."""
    record["seconds"] = round(seconds, 3)
    record["floor_seconds"] = round(floor, 3)
    record["ratio"] = round(seconds / floor, 2) if floor > 0 else None
    return record


def postgres_url(given: str | None = None) -> str:
    return given or os.environ.get(POSTGRES_URL_VARIABLE) or DEFAULT_POSTGRES_URL


def libpq_url(url: str) -> str:
    """A SQLAlchemy-style URL (postgresql+psycopg://) as psycopg itself takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def fresh_postgres(url: str) -> str:
    """Make `url`'s database exist and be empty (schema public dropped and made again)."""
    target = make_url(libpq_url(url))
    name = target.database or "fantasy_bench"
    admin = target.set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if found is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")
    return libpq_url(url)


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def postgres_url_for(scenario: str, given: str | None = None) -> str:
    """The benchmark database URL with the scenario's name appended to the database's,
    so that scenarios run one after another never share a database."""
    url = make_url(libpq_url(postgres_url(given)))
    return url.set(database=f"{url.database}_{scenario}").render_as_string(hide_password=False)
