"""Fixtures for the repository contract suite: one unit-of-work factory per adapter.

memory      adapters.memory.MemoryStore
sqlite      a migrated SQLite file in the test's tmp_path (copied from one migrated
            once per session, which is much faster than migrating every time)
postgresql  the server named by FANTASY_TEST_POSTGRES_URL, in a schema of its own
            created (and migrated) once per session and dropped after it; every
            test starts from empty tables. Unset variable: skipped, with the reason.
            Set but unreachable: the tests fail, they never skip.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from adapters.memory import MemoryStore
from adapters.sqlalchemy import SqlDatabase, make_engine, upgrade
from adapters.sqlalchemy.tables import DATA_TABLES
from contract.backends import POSTGRES_URL_VARIABLE, Backend
from contract.workers import Workers

# --- PostgreSQL -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of a fresh, migrated schema on the test server, for this session only."""
    raw = os.environ.get(POSTGRES_URL_VARIABLE)
    if not raw:
        pytest.skip(f"{POSTGRES_URL_VARIABLE} is not set: no PostgreSQL to test against")
    schema = f"contract_{os.getpid()}_{secrets.token_hex(4)}"
    admin = make_engine(raw)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as error:
        admin.dispose()
        pytest.fail(f"{POSTGRES_URL_VARIABLE} is set but PostgreSQL is unreachable: {error}")
    # Every connection of every engine (worker processes included) lands in the schema.
    url = make_url(raw).update_query_dict({"options": f"-csearch_path={schema}"})
    rendered = url.render_as_string(hide_password=False)
    try:
        upgrade(rendered, "test")
        yield rendered
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_engine(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url)
    yield engine
    engine.dispose()


def empty_postgres(engine: Engine) -> None:
    """Empty every data table (the label and the schema revision stay).

    A superuser deletes with triggers off (the audit trail's refuses DELETE), which is
    ten times faster than TRUNCATE on tables this small; anyone else truncates.
    """
    with engine.begin() as connection:
        superuser = connection.execute(
            text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        ).scalar()
        if superuser:
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            for table in DATA_TABLES:
                connection.execute(table.delete())
        else:
            names = ", ".join(table.name for table in DATA_TABLES)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
def fresh_postgres(postgres_engine: Engine, postgres_url: str) -> Backend:
    empty_postgres(postgres_engine)
    database = SqlDatabase(postgres_engine)
    return Backend("postgresql", database.unit_of_work, postgres_engine, postgres_url)


# --- SQLite -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "fantasy.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine, "test")
    engine.dispose()  # the last connection closing checkpoints the WAL into the file
    return path


@pytest.fixture
def fresh_sqlite(sqlite_template: Path, tmp_path: Path) -> Iterator[Backend]:
    path = tmp_path / "fantasy.db"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    yield Backend("sqlite", SqlDatabase(engine).unit_of_work, engine, url)
    engine.dispose()


# --- worker processes for the concurrency tests ----------------------------------------


@pytest.fixture(scope="session")
def worker_pool() -> Iterator[Workers]:
    workers = Workers.start()
    yield workers
    workers.stop()


@pytest.fixture(scope="session", autouse=True)
def _spawn_workers_early(request: pytest.FixtureRequest) -> None:
    """Start the worker processes with the session when the concurrency tests will run.

    Spawning means importing everything afresh in each child, seconds of CPU; pytest
    runs on one core, so the children start on the other while earlier tests run.
    """
    concurrency = any("test_postgres_concurrency" in item.nodeid for item in request.session.items)
    if concurrency and os.environ.get(POSTGRES_URL_VARIABLE):
        request.getfixturevalue("worker_pool")


# --- the parametrised factories ---------------------------------------------------------


def _backend(request: pytest.FixtureRequest, name: str) -> Backend:
    if name == "memory":
        return Backend("memory", MemoryStore().unit_of_work)
    fixture = {"sqlite": "fresh_sqlite", "postgresql": "fresh_postgres"}[name]
    backend = request.getfixturevalue(fixture)
    assert isinstance(backend, Backend)
    return backend


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> Backend:
    """Every adapter of the repository port, each starting empty."""
    return _backend(request, request.param)


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_backend(request: pytest.FixtureRequest) -> Backend:
    """The SQL adapters only, for rules the memory store cannot exhibit (real concurrency)."""
    return _backend(request, request.param)
