"""Fixtures for the API tests: one app per module, a fresh World per test, on each store.

Every API test runs twice: on the in-memory store and on SQLite (a copy of a database
migrated once per session), so the status codes are those of the real adapter too. The
world is tests/conftest.py's; `api` puts it into the module's app.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_support import Api, api_settings, services_over, wire
from litestar import Litestar
from litestar.testing import TestClient

from apps.api.state import SERVICES
from apps.settings import Settings
from support.postgres_schema import fresh_schema, postgres_url_from_environment
from support.world import World


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, migrated schema of its own on the test server, dropped after the test."""
    base = postgres_url_from_environment()
    if base is None:
        pytest.skip("FANTASY_TEST_POSTGRES_URL is not set: no PostgreSQL to test against")
    with fresh_schema(base, "apps") as url:
        yield url


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


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that takes a world (the `api` does) runs on each of the module's
    WORLD_STORES: the in-memory store and SQLite unless the module says otherwise, or the
    test itself with `@pytest.mark.world_stores(...)`."""
    if "world" in metafunc.fixturenames:
        stores = getattr(metafunc.module, "WORLD_STORES", ("memory", "sqlite"))
        only = metafunc.definition.get_closest_marker("world_stores")
        if only is not None:  # a test that means something only on some stores
            stores = only.args
        metafunc.parametrize("world", stores, indirect=True)


@pytest.fixture
def api(client: TestClient[Litestar], app: Litestar, settings: Settings, world: World) -> Api:
    """The module's app, serving this test's world."""
    app.state[SERVICES] = services_over(world, settings)
    return Api(client, world)
