"""Shared test fixtures: where the real data in the sibling `shared` checkout lives, the
Stripe emulator, and the one `world` fixture (a platform on fakes, on the store asked for)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.sqlalchemy import open_database
from support.postgres_schema import fresh_schema
from support.sql_world import SqlWorld
from support.stripe_emulator_fixture import run_localstripe
from support.world import World

REPO_ROOT = Path(__file__).resolve().parents[1]
# CI clones the repository next to `shared`, as in the development tree: <repo>/../shared.
SHARED_DATA = (REPO_ROOT / ".." / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def nflverse_player_stats_csv() -> Path:
    """nflverse player_stats, 2025 regular season weeks 1-8 (8,291 rows); see its README."""
    path = SHARED_DATA / "nflverse" / "player_stats_2025_reg_wk01-08.csv"
    if not path.is_file():
        pytest.fail(f"the shared nflverse data is missing: expected {path}")
    return path


@pytest.fixture(scope="session")
def localstripe_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The Stripe emulator on a free port of 127.0.0.1 for the session, stopped at its end."""
    yield from run_localstripe(tmp_path_factory)


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database at the latest revision, labelled for tests: copied by each test."""
    path = tmp_path_factory.mktemp("migrated-sqlite") / "migrated.db"
    open_database(f"sqlite:///{path}", "test", upgrade=True).dispose()
    return path


@pytest.fixture
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    """A fresh platform on fakes for each test, its data on the store the test asks for
    (indirect parametrisation): "memory" (the default), "sqlite" (a copy of
    `migrated_sqlite`, with the fakes' sequential ids) or "postgresql" (a schema of its own
    on the server of `postgres_base_url`, dropped afterwards)."""
    store = getattr(request, "param", "memory")
    if store == "memory":
        yield World()
    elif store == "sqlite":
        copy = shutil.copy(request.getfixturevalue("migrated_sqlite"), tmp_path / "world.db")
        sqlite_world = SqlWorld(f"sqlite:///{copy}", sequential_ids=True)
        yield sqlite_world
        sqlite_world.close()
    elif store == "postgresql":
        with fresh_schema(request.getfixturevalue("postgres_base_url"), "world") as url:
            postgres_world = SqlWorld(url)
            yield postgres_world
            postgres_world.close()
    else:
        raise ValueError(f"no world on a {store!r} store")
