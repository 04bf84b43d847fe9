"""The store cannot be reached: every route answers 503 with Retry-After, never a 500, and
works again when it is back; any other failure of the store is a bug, answered 500."""

from __future__ import annotations

from collections.abc import Callable

import attrs
import pytest
from api_support import Api, assert_problem
from litestar import Litestar
from litestar.testing import TestClient

from apps.api.state import SERVICES
from fantasy_core.errors import StoreUnavailable
from fantasy_core.ports import UnitOfWork
from support.world import World


class Outage:
    """A unit-of-work factory that raises `error` on entering while `error` is set."""

    def __init__(self, inner: Callable[[], UnitOfWork]) -> None:
        self._inner = inner
        self.error: Exception | None = None

    def __call__(self) -> UnitOfWork:
        if self.error is not None:
            raise self.error
        return self._inner()


@pytest.fixture
def outage(api: Api, app: Litestar, world: World) -> Outage:
    services = app.state[SERVICES]
    cut = Outage(services.platform.uow)
    services.platform = attrs.evolve(services.platform, uow=cut)
    world.p = services.platform
    return cut


def test_while_the_store_is_unreachable_routes_answer_503_then_work_again(
    api: Api, outage: Outage, client: TestClient[Litestar]
) -> None:
    contest = api.contest()
    ann = api.player("ann")
    outage.error = StoreUnavailable("the database cannot be reached: connection refused")
    for response in (
        client.get("/contests"),
        client.get(f"/contests/{contest}"),
        api.join(contest, ann, key="k"),
    ):
        body = assert_problem(response, 503, "database-unavailable")
        assert response.headers["Retry-After"]
        assert "Idempotency-Key" in body["hint"]
    ready = client.get("/ready")
    assert (ready.status_code, ready.json()["checks"]["database"]) == (503, "failed")
    assert client.get("/health").status_code == 200

    outage.error = None
    assert client.get(f"/contests/{contest}").status_code == 200
    assert api.join(contest, ann, key="k").status_code == 201
    assert client.get("/ready").status_code == 200


def test_a_store_failure_that_is_not_an_outage_is_a_500(
    api: Api, outage: Outage, client: TestClient[Litestar]
) -> None:
    contest = api.contest()
    outage.error = RuntimeError("a bug in the store")
    assert_problem(client.get(f"/contests/{contest}"), 500, "internal")
