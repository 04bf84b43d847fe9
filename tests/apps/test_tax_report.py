"""`fantasy tax report --year YYYY`: the 1099-MISC CSV, readable by its owner only."""

from __future__ import annotations

from pathlib import Path

import pytest

from apps.cli import EXIT_OK, main
from support.protection import big_winner_world, taxed
from support.sql_world import SqlWorld

WORLD_STORES = ("sqlite",)  # the command opens the world's database file


def test_fantasy_tax_report_writes_the_csv(world: SqlWorld, tmp_path: Path) -> None:
    taxed(world)
    big_winner_world(world)
    output = tmp_path / "1099.csv"
    url = str(world.engine.url)
    assert main(["tax", "report", "--year", "2025", "--database-url", url,
                 "--output", str(output)]) == EXIT_OK  # fmt: skip
    lines = output.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("user_id,recipient_tin,")
    assert len(lines) == 2
    # Box 4: the 24% backup withholding kept from the $1,800 prize (no W-9 when it was paid).
    assert lines[1].endswith(",,,1300.00,432.00,1800.00,500.00,false")
    assert output.stat().st_mode & 0o777 == 0o600


def test_fantasy_fair_play_prints_the_months_figures(
    world: SqlWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    taxed(world)
    big_winner_world(world)
    url = str(world.engine.url)
    assert main(["fair-play", "--month", "2025-09", "--database-url", url]) == EXIT_OK
    out = capsys.readouterr().out
    assert "2025-09: 4 players, prizes $1,800.00" in out
    assert "median net winnings -$500.00" in out
    assert "mean net winnings   -$50.00" in out
    assert "won by highly experienced players: 0.0% of the prizes" in out
