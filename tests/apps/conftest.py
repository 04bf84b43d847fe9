"""Fixtures for the API tests: one app per module over a fresh in-memory World per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_support import Api, api_settings, services_over, wire
from litestar import Litestar
from litestar.testing import TestClient

from apps.api.state import SERVICES
from apps.settings import Settings
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


@pytest.fixture
def world(app: Litestar, settings: Settings) -> World:
    """A fresh platform for each test, swapped into the module's app."""
    world = World()
    app.state[SERVICES] = services_over(world, settings)
    return world


@pytest.fixture
def api(client: TestClient[Litestar], world: World) -> Api:
    return Api(client, world)
