"""The worker loop and the platform's smaller commands: db upgrade, recompute, audit."""

from __future__ import annotations

import argparse
import logging
import os
import random
import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from apps.cli import EXIT_DATA_ERROR, EXIT_OK, EXIT_USAGE, build_parser, main
from apps.demo_players import LineupPicker
from apps.worker import Worker
from fantasy_core.errors import StoreUnavailable
from fantasy_core.lineups import PlayerPool, SlatePlayer
from fantasy_core.platform import Platform
from fantasy_core.usecases.worker import PassReport
from support.processes import BIN
from support.world import World

EMPTY = PassReport((), 0, 0, 0, 0)
WORLD_STORES = ("memory",)  # the worker loop and the commands; the store is not the point


@pytest.fixture
def restore_signals() -> Iterator[None]:
    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def test_the_worker_backs_off_while_the_database_is_unreachable_then_carries_on(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    outcomes: list[BaseException | None] = [
        StoreUnavailable("the database cannot be reached: connection refused"),
        StoreUnavailable("the database cannot be reached: connection refused"),
        None,
    ]

    def run_pass(_: Platform) -> PassReport:
        outcome = outcomes.pop(0)
        if outcome is not None:
            raise outcome
        return EMPTY

    worker = Worker(world.p, 0.001, max_backoff=0.003, run_pass=run_pass)
    with caplog.at_level(logging.INFO, logger="fantasy.worker"):
        worker.run(max_passes=3)
    assert (worker.passes, worker.failures) == (1, 2)
    waits = [r.getMessage() for r in caplog.records if "unreachable" in r.getMessage()]
    assert [w.rsplit(" in ", 1)[1] for w in waits] == ["0.002 s", "0.003 s"]
    assert "database unreachable" in waits[0]


def test_an_unexpected_failure_is_logged_alerted_and_retried(world: World) -> None:
    calls = 0

    def run_pass(_: Platform) -> PassReport:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("a bug")
        return EMPTY

    worker = Worker(world.p, 0.001, run_pass=run_pass)
    worker.run(max_passes=2)
    assert (worker.passes, worker.failures) == (1, 1)
    assert "worker-pass-failed" in world.alerts.raised_keys()


def test_a_signal_lets_the_current_pass_finish_then_stops(
    world: World, restore_signals: None
) -> None:
    finished: list[bool] = []

    def run_pass(_: Platform) -> PassReport:
        os.kill(os.getpid(), signal.SIGTERM)
        finished.append(True)  # reached: the signal did not cut the pass short
        return EMPTY

    worker = Worker(world.p, 60.0, run_pass=run_pass)
    worker.install_signal_handlers()
    worker.run()  # would wait a minute between passes, were it not stopped
    assert finished == [True]
    assert worker.passes == 1


def test_the_worker_command_runs_passes_against_a_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/worker.db"
    assert main(["worker", "--passes", "2", "--interval", "0.01", "--database-url", url]) == 0


def test_db_upgrade_creates_and_labels_a_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/fresh.db"
    assert main(["db", "upgrade", "--database-url", url]) == EXIT_OK
    assert "at revision" in capsys.readouterr().out
    assert main(["db", "upgrade", "--database-url", url]) == EXIT_OK  # idempotent


def test_an_unsupported_database_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade", "--database-url", "mysql://x/y"]) == EXIT_DATA_ERROR
    err = capsys.readouterr().err
    assert err.startswith("fantasy: error: unsupported database URL")
    assert err.count("\n") == 1


def test_recompute_of_an_unreadable_or_foreign_file_fails_with_a_verdict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["recompute", str(tmp_path / "absent.json")]) == EXIT_DATA_ERROR
    assert "cannot read" in capsys.readouterr().err
    junk = tmp_path / "junk.json"
    junk.write_text('{"not": "a snapshot"}', encoding="utf-8")
    assert main(["recompute", str(junk)]) == EXIT_DATA_ERROR
    assert "MISMATCH" in capsys.readouterr().err


def test_audit_of_an_unknown_contest_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/audit.db"
    assert main(["db", "upgrade", "--database-url", url]) == EXIT_OK
    assert main(["audit", "contest-404", "--database-url", url]) == EXIT_DATA_ERROR
    assert "contest-404" in capsys.readouterr().err


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("demo", "worker", "serve", "db", "recompute", "verify-ledger", "audit"):
        assert main([command, "--help"]) == EXIT_OK
        assert "usage: fantasy" in capsys.readouterr().out


def _options(parser: argparse.ArgumentParser) -> Iterator[tuple[str, argparse.Action]]:
    """Every option of `parser` and of its subcommands, nested, by command path."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _options(sub)
        elif action.option_strings and not (
            action.required or isinstance(action, argparse._HelpAction)
        ):
            yield parser.prog, action


def test_every_option_of_every_command_shows_its_default() -> None:
    options = list(_options(build_parser()))
    assert len(options) > 10
    for prog, action in options:
        formatter = build_parser().formatter_class(prog)
        shown = formatter._get_help_string(action) or ""
        assert "default" in shown, (prog, action.option_strings, shown)


def test_serve_help_shows_the_default_address(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--help"]) == EXIT_OK
    shown = " ".join(capsys.readouterr().out.split())
    assert "(default: 127.0.0.1)" in shown
    assert "(default: 8000)" in shown


def test_serve_prints_the_address_it_listens_on(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FANTASY_")}
    env["FANTASY_DATABASE_URL"] = "memory:"
    command = [str(BIN / "fantasy"), "serve", "--no-worker", "--port", "0"]
    with subprocess.Popen(
        command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as server:
        try:
            assert server.stdout is not None
            line = server.stdout.readline()
            found = re.search(r"serving the API on (http://127\.0\.0\.1:(\d+)) ", line)
            assert found is not None, line
            assert int(found.group(2)) > 0  # the port the system chose, not 0
            assert httpx.get(found.group(1) + "/health", timeout=5).json()["status"] == "ok"
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=20)


PRODUCTION = {
    "FANTASY_ENV": "production",
    "FANTASY_DATABASE_URL": "postgresql://app@db/fantasy",
    "FANTASY_STRIPE_API_KEY": "sk_live_" + "x" * 24,
    "FANTASY_STRIPE_PUBLISHABLE_KEY": "pk_live_" + "x" * 24,
    "FANTASY_STRIPE_WEBHOOK_SECRET": "whsec_live",
    "FANTASY_TOKEN_SECRET": "s" * 40,
    "FANTASY_FEED": "sportsdataio",
    "FANTASY_SPORTSDATAIO_API_KEY": "key",
    "FANTASY_TAX_ID_KEY": "Zm9yLXRlc3RzLW9ubHktbm90LWEtcmVhbC1rZXktMDA=",
}


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_production_refuses_an_accelerated_clock_with_a_clear_message(
    command: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(name, value)
    assert main([command, "--clock-speed", "60"]) == EXIT_USAGE
    error = capsys.readouterr().err
    assert "--clock-speed: an accelerated clock is for test environments only" in error
    assert "Traceback" not in error


def test_a_contest_reaches_paid_in_seconds_on_an_accelerated_clock(tmp_path: Path) -> None:
    """`fantasy serve --clock-speed 3600`: an hour a second. A contest locking twenty
    (simulated) hours ahead runs through lock, the replayed games, its one-hour correction
    window and its payouts in under a minute of real time."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FANTASY_")}
    env |= {
        "FANTASY_DATABASE_URL": "memory:",
        "FANTASY_OPERATOR_EMAIL": "ops@example.com",
        "FANTASY_OPERATOR_PASSWORD": "operator password",
        "FANTASY_WORKER_INTERVAL_SECONDS": "0.5",
    }
    command = [str(BIN / "fantasy"), "serve", "--port", "0", "--clock-speed", "3600"]
    with subprocess.Popen(
        command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as server:
        try:
            assert server.stdout is not None
            clock_line, serving_line = server.stdout.readline(), server.stdout.readline()
            since = re.search(r"--clock-since (\S+)", clock_line)
            url = re.search(r"serving the API on (\S+) ", serving_line)
            assert since is not None, clock_line
            assert url is not None, serving_line
            started = time.monotonic()
            contest = _play_one_contest(url.group(1), datetime.fromisoformat(since.group(1)))
            while (state := contest()) != "PAID":
                assert time.monotonic() - started < 60, f"still {state} after a minute"
                time.sleep(0.5)
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=20)


def _play_one_contest(base: str, since: datetime) -> Callable[[], str]:
    """An operator creates a tournament locking 20 simulated hours from now; a player joins.
    Returns a function reading the contest's state."""
    client = httpx.Client(base_url=base, timeout=10)

    def token(email: str, password: str) -> dict[str, str]:
        body = {"email": email, "password": password}
        answer = client.post("/auth/login", json=body).json()
        return {"Authorization": f"Bearer {answer['access_token']}"}

    operator = token("ops@example.com", "operator password")
    born = {"date_of_birth": "1990-05-17", "jurisdiction": "NJ"}
    client.post(
        "/auth/register", json={"email": "ann@example.com", "password": "a passphrase", **born}
    )
    ann = token("ann@example.com", "a passphrase")
    client.put("/me/payout-account", json={"account_id": "acct_ann"}, headers=ann)
    simulated_now = since + (datetime.now(UTC) - since) * 3600
    created = client.post(
        "/operator/contests",
        json={
            "template": "tournament",
            "slate_id": "nfl-2025-reg-wk01",
            "lock_at": (simulated_now + timedelta(hours=20)).isoformat(),
        },
        headers=operator,
    )
    assert created.status_code == 201, created.text
    detail = created.json()
    players = [SlatePlayer(**{k: p[k] for k in SLATE_PLAYER_FIELDS}) for p in detail["players"]]
    pool = PlayerPool.of("nfl-2025-reg-wk01", players)
    picks = LineupPicker(pool, "draftkings_nfl_classic", random.Random(1)).lineup().picks
    joined = client.post(
        f"/contests/{detail['contest_id']}/entries",
        json={
            "lineup": [{"slot": s, "player_id": p} for s, p in picks],
            "payment_method": "pm_card_visa",
        },
        headers={**ann, "Idempotency-Key": "one"},
    )
    assert joined.status_code == 201, joined.text
    return lambda: str(client.get(f"/contests/{detail['contest_id']}").json()["state"])


SLATE_PLAYER_FIELDS = ("player_id", "name", "position", "team", "game_id", "salary")
