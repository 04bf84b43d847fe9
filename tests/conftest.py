"""Shared test fixtures: where the real data in the sibling `shared` checkout lives."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support.stripe_emulator_fixture import run_localstripe

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
