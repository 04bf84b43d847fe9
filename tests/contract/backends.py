"""The adapters under test, as the contract fixtures hand them to tests."""

from __future__ import annotations

from collections.abc import Callable

from attrs import frozen
from sqlalchemy import Engine

from fantasy_core.ports import UnitOfWork

POSTGRES_URL_VARIABLE = "FANTASY_TEST_POSTGRES_URL"


@frozen
class Backend:
    """An adapter under test: its unit-of-work factory, and its engine when it is SQL."""

    name: str
    uow: Callable[[], UnitOfWork]
    engine: Engine | None = None
    url: str | None = None

    @property
    def sql(self) -> Engine:
        if self.engine is None:
            raise AssertionError(f"{self.name} has no SQL engine")
        return self.engine
