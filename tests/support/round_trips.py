"""Counting the SQL adapter's round trips to PostgreSQL: each libpq pipeline it sends."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.sqlalchemy import libpq


def counted_round_trips(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """From now on (for the test), each round trip's number of statements, in order."""
    trips: list[int] = []
    real = libpq.execute_all

    def counted(connection: Any, runs: Any, *, commit: bool = False) -> Any:
        trips.append(len(runs))
        return real(connection, runs, commit=commit)

    monkeypatch.setattr(libpq, "execute_all", counted)
    return trips
