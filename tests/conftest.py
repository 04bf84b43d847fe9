"""Shared test fixtures: the real nflverse data (the recording the package ships), the
Stripe emulator, and the one `world` fixture (a platform on fakes, on the store asked for)."""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.feeds.replay import RECORDING_SHA256, default_csv_path
from adapters.sqlalchemy import open_database
from support.postgres_schema import fresh_schema
from support.sql_world import SqlWorld
from support.stripe_emulator_fixture import run_localstripe
from support.world import World

REPO_ROOT = Path(__file__).resolve().parents[1]

# Processes the tests start read their settings from the environment, where the packaged
# calendar is the default: without this, a worker on a clock near a replayed slate would
# open calendar contests beside the ones a test made. Tests of the calendar set their own.
os.environ.setdefault("FANTASY_CALENDAR_FILE", "off")


@pytest.fixture(scope="session")
def nflverse_player_stats_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """nflverse player_stats, 2025 regular season weeks 1-8 (8,291 rows), decompressed from
    the recording the package ships (src/adapters/feeds/recordings/README.md), so that a
    bare clone tests with nothing beside it; refused unless it is nflverse's file exactly."""
    data = gzip.decompress(default_csv_path().read_bytes())
    digest = hashlib.sha256(data).hexdigest()
    if digest != RECORDING_SHA256:
        pytest.fail(f"the packaged recording decompresses to SHA-256 {digest}, not nflverse's")
    path = tmp_path_factory.mktemp("nflverse") / "player_stats_2025_reg_wk01-08.csv"
    path.write_bytes(data)
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
