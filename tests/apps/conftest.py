"""Fixtures for the API tests: one app per module, a fresh World per test, on each store.

Every API test runs twice: on the in-memory store and on SQLite (a copy of a database
migrated once per session), so the status codes are those of the real adapter too.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_support import Api, api_settings, services_over, wire
from litestar import Litestar
from litestar.testing import TestClient

from adapters.sqlalchemy import open_database
from apps.api.state import SERVICES
from apps.settings import Settings
from support.sql_world import SqlWorld
from support.world import World


@pytest.fixture(scope="module")
def settings() -> Settings:
    return api_settings()


@pytest.fixture(scope="module")
def app(settings: Settings) -> Litestar:
    # Building an app costs more than most tests: one per module, a fresh world per test.
    return wire(World(), settings)


@pytest.fixture(scope="module")
def client(app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database at the latest revision, labelled for tests: copied by each test."""
    path = tmp_path_factory.mktemp("api-sqlite") / "migrated.db"
    open_database(f"sqlite:///{path}", "test", upgrade=True).dispose()
    return path


@pytest.fixture(params=["memory", "sqlite"])
def world(
    request: pytest.FixtureRequest,
    app: Litestar,
    settings: Settings,
    migrated_sqlite: Path,
    tmp_path: Path,
) -> Iterator[World]:
    """A fresh platform for each test, swapped into the module's app."""
    if request.param == "memory":
        world = World()
    else:
        copy = shutil.copy(migrated_sqlite, tmp_path / "api.db")
        world = SqlWorld(f"sqlite:///{copy}", sequential_ids=True)
    app.state[SERVICES] = services_over(world, settings)
    yield world
    if isinstance(world, SqlWorld):
        world.close()


@pytest.fixture
def api(client: TestClient[Litestar], world: World) -> Api:
    return Api(client, world)
