"""`fantasy demo`: the whole platform end to end on SQLite, deterministic, exit 0 when it closes."""

from __future__ import annotations

import contextlib
import io
import random
import re
from pathlib import Path
from typing import Any, TextIO

import pytest
from litestar.testing import TestClient

from apps.bootstrap import start
from apps.cli import EXIT_OK, EXIT_USAGE, main
from apps.demo import DemoOptions, run_demo
from apps.demo_players import PASSWORD as DEMO_PASSWORD
from apps.demo_players import LineupPicker
from apps.settings import Settings
from fantasy_core.lifecycle import ContestState
from fantasy_core.lineups import PlayerPool, SlatePlayer, sport_template, validate_lineup

# Lines that name a file or a database, or time the run: the rest must not vary.
_VARIES = re.compile(r"sqlite:///|memory:|finished in|check it yourself")


@pytest.fixture(scope="module")
def sqlite_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, Path]:
    """One run of the command on a fresh SQLite file, shared by the tests of this module."""
    directory = tmp_path_factory.mktemp("demo")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["demo", "--database-url", f"sqlite:///{directory}/demo.db"])
    return code, out.getvalue(), directory


def stable(text: str) -> list[str]:
    return [line for line in text.splitlines() if not _VARIES.search(line)]


def test_the_demo_closes_every_contest_and_verifies_the_ledger(
    sqlite_run: tuple[int, str, Path],
) -> None:
    code, output, _ = sqlite_run
    assert code == EXIT_OK, output
    assert "RESULT: every contest closed, ledger verified" in output
    assert output.count(": PAID") == 4
    assert output.count(": CANCELLED") == 2  # the league, and the head-to-head's refill
    assert "statistics courtesy of nflverse" in output


def test_the_demo_shows_declines_refusals_a_replayed_key_and_a_withdrawal(
    sqlite_run: tuple[int, str, Path],
) -> None:
    output = sqlite_run[1]
    assert "declined in double_up: 402 generic_decline" in output
    assert "refused in fifty_fifty: 409 full" in output
    assert "refused in fifty_fifty: 409 locked" in output
    assert "refused in tournament: 409 entry_limit" in output
    assert "submitted twice with one key" in output
    assert "charged once" in output
    assert "confirmed 3-D Secure" in output
    assert "withdrew" in output
    assert "1 replayed key answered from the first outcome, 1 withdrawn" in output


def test_the_demo_shows_an_under_age_refusal_a_limit_reached_and_a_self_exclusion(
    sqlite_run: tuple[int, str, Path],
) -> None:
    output = sqlite_run[1]
    assert "player-young (born 2005-09-03, MA) refused at registration: 403 age" in output
    assert "player-38 refused in tournament: 409 limit" in output
    assert re.search(r"player-40 self-excluded until 2026-09-04: entry \S+ withdrawn", output)


def test_the_demos_contests_are_opened_by_the_calendar_and_none_by_an_operator(
    sqlite_run: tuple[int, str, Path],
) -> None:
    code, output, directory = sqlite_run
    assert code == EXIT_OK
    assert "/operator/" not in output
    assert "calendar (no contest was created by an operator):" in output
    for line in ("fifty_fifty", "double_up", "tournament", "league"):
        assert re.search(
            rf"nfl-2025-reg-wk01  line {line} \(template {line}\): contest-\d{{8}} \(#1\)$",
            output,
            re.MULTILINE,
        ), line
    assert re.search(
        r"nfl-2025-reg-wk01  line head_to_head \(template head_to_head\): "
        r"contest-\d{8} \(#1\), contest-\d{8} \(#2\)$",
        output,
        re.MULTILINE,
    )
    assert "calendar nfl-2025-reg-wk01/head_to_head/2 opened" in output
    assert "(next week's, open for entries)" in output  # the next slate's opened already
    url = f"sqlite:///{directory}/demo.db"
    services = start(Settings(database_url=url, database_auto_upgrade=False))
    with services, services.platform.uow() as uow:
        for contest_id in uow.contests.ids_in_states(list(ContestState)):
            [created] = [r for r in uow.audit.for_contest(contest_id)
                         if r.action == "contest.created"]  # fmt: skip
            assert created.actor == "calendar", contest_id


def test_the_demo_writes_snapshots_that_recompute_offline(
    sqlite_run: tuple[int, str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    output, directory = sqlite_run[1], sqlite_run[2]
    commands = re.findall(r"fantasy recompute (\S+) --sha256 (\S+)", output)
    assert len(commands) == 4
    for path, digest in commands:
        assert Path(path).parent == directory / "demo-snapshots"
        assert main(["recompute", path, "--sha256", digest]) == EXIT_OK
    assert capsys.readouterr().out.count("OK: ") == 4


def test_the_demo_is_deterministic_whatever_the_store(sqlite_run: tuple[int, str, Path]) -> None:
    out = io.StringIO()
    assert run_demo(DemoOptions(database_url="memory:"), out) == EXIT_OK
    assert stable(out.getvalue()) == stable(sqlite_run[1])


def test_the_ledger_of_the_demo_verifies_from_the_command_line(
    sqlite_run: tuple[int, str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{sqlite_run[2]}/demo.db"
    assert main(["verify-ledger", "--database-url", url]) == EXIT_OK
    assert "OK: 133 posting sets balanced, 6 closed contests conserved" in capsys.readouterr().out


def test_the_demo_replays_weeks_one_to_eight_only(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--week", "9"]) == EXIT_USAGE
    assert "--week" in capsys.readouterr().err


def test_the_demo_ends_with_a_table_of_every_contests_money(
    sqlite_run: tuple[int, str, Path],
) -> None:
    lines = sqlite_run[1].splitlines()
    (at,) = [n for n, line in enumerate(lines) if line.split()[:3] == ["contest", "state", "fees"]]
    assert lines[at].split() == [
        *("contest", "state", "fees", "collected", "rake", "overlay", "paid", "refunded"),
        "ledger",
    ]
    rows = [line.split() for line in lines[at + 1 : at + 7]]
    assert [row[1] for row in rows] == ["PAID"] * 3 + ["CANCELLED", "PAID", "CANCELLED"]
    assert all(row[-1] == "conserved" for row in rows)
    for cancelled in (rows[3], rows[5]):
        assert cancelled[3:5] == cancelled[11:13]  # everything collected was refunded


def test_the_demo_draws_lineups_under_the_salary_cap_even_when_most_players_are_dear() -> None:
    # Most players cost $9,000: drawn blindly, nine of them cost far over the $50,000 cap.
    players = [
        SlatePlayer(
            f"{team}-{position}-{n}",
            f"{team} {position} {n}",
            position,
            team,
            game,
            3_000 if n < 2 else 9_000,
        )
        for team, game in (("KC", "g1"), ("BAL", "g1"), ("PHI", "g2"), ("DAL", "g2"))
        for position in ("QB", "RB", "WR", "TE", "DST")
        for n in range(12 if position != "DST" else 1)
    ]
    pool = PlayerPool.of("dear", players)
    template = sport_template("draftkings_nfl_classic")
    picker = LineupPicker(pool, template.name, random.Random(7))
    for _ in range(50):
        lineup = picker.lineup()
        validate_lineup(template, pool, lineup)
        assert sum(pool.players[p].salary for p in lineup.player_ids) <= template.salary_cap


def test_the_demo_then_serves_the_web_pages_on_its_database() -> None:
    """`fantasy demo --serve`: the week's contests, settled, in the browser's pages."""
    seen: dict[str, Any] = {}

    def serve(app: Any, host: str, port: int, out: TextIO) -> None:
        seen["address"] = (host, port)
        with TestClient(app) as client:
            seen["lobby"] = client.get("/web/").status_code
            seen["board"] = client.get("/web/contests/contest-00000001/leaderboard").text
            form = client.get("/web/login").text
            token = re.search(r'name="_csrf_token" value="([^"]+)"', form)
            assert token
            login = {
                "_csrf_token": token.group(1),
                "email": "player-01@demo.example",
                "password": DEMO_PASSWORD,
            }
            client.post("/web/login", data=login)
            seen["entries"] = client.get("/web/entries").text

    out = io.StringIO()
    options = DemoOptions(database_url="memory:", serve_on=("127.0.0.1", 0))
    assert run_demo(options, out, serve) == EXIT_OK
    assert seen["address"] == ("127.0.0.1", 0)
    assert seen["lobby"] == 200
    assert "Prize paid" in seen["board"]
    assert "Settlement snapshot" in seen["board"]
    assert "contest-00000002" in seen["entries"]  # the 50/50 the calendar opened second
    assert "player-01@demo.example" in out.getvalue()
