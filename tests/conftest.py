"""Shared test fixtures: where the real data in the sibling `shared` checkout lives."""

from __future__ import annotations

from pathlib import Path

import pytest

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
