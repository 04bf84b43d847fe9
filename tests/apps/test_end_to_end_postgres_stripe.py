"""End to end on the production stack: PostgreSQL, the Stripe adapter on the emulator, the
replay of a real NFL week, joins over HTTP, and a separate worker process taking every
contest to PAID. Money is counted on the emulator's side as well as in our ledger."""

from __future__ import annotations

import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from apps.api.app import create_app
from apps.bootstrap import start
from apps.demo_players import LineupPicker
from apps.settings import Settings
from fantasy_core.entries import EntryStatus
from fantasy_core.payments import PayoutStatus
from fantasy_core.usecases.queries import slate_for_contests
from fantasy_core.usecases.reports import verify_ledger
from support.live_server import serving
from support.processes import WorkerProcess, clocked_worker, worker_environment
from support.shared_clock import FileClock
from support.stripe_books import StripeBooks
from support.stripe_emulator_fixture import API_KEY

WEEK = "nfl-2025-reg-wk01"
BEFORE_LOCK = datetime(2025, 9, 4, 12, 0, tzinfo=UTC)
GIVE_UP_AFTER = datetime(2025, 9, 11, tzinfo=UTC)  # two days after the week's last final
OPERATOR_EMAIL = "ops@example.com"
OPERATOR_PASSWORD = "operator password, long enough"
PASSWORD = "correct horse battery"
# Template -> how many players join it.
CONTESTS = {"head_to_head": 2, "double_up": 8, "tournament": 12}
DEADLINE_SECONDS = 120.0


def test_contests_joined_over_http_are_run_to_paid_by_a_worker_process_on_postgres_and_stripe(
    postgres_url: str, localstripe_url: str, tmp_path: Path
) -> None:
    books = StripeBooks(localstripe_url)
    clock = FileClock(tmp_path / "clock.txt")
    clock.set(BEFORE_LOCK)
    settings = Settings(
        environment="test",
        database_url=postgres_url,
        database_auto_upgrade=False,
        stripe_api_key=API_KEY,
        stripe_api_base=localstripe_url,
        operator_email=OPERATOR_EMAIL,
        operator_password=OPERATOR_PASSWORD,
        login_rate_per_minute=100_000,
        join_rate_per_minute=100_000,
    )
    worker = WorkerProcess(
        clocked_worker(clock.path, 0.1),
        worker_environment(postgres_url, localstripe_url),
        tmp_path / "worker.log",
    )
    with (
        start(settings, clock=clock) as services,
        serving(create_app(settings, services=services)) as base,
        httpx.Client(base_url=base, timeout=30) as client,
    ):
        platform = services.platform
        ops = _login(client, OPERATOR_EMAIL, OPERATOR_PASSWORD)
        contests = {template: _created(client, ops, template) for template in CONTESTS}
        picker = LineupPicker(
            slate_for_contests(platform, WEEK).pool, "draftkings_nfl_classic", random.Random(5)
        )
        players = [f"player-{n:02d}" for n in range(max(CONTESTS.values()))]
        tokens = {who: _player(client, books, who) for who in players}
        for template, joining in CONTESTS.items():
            for who in players[:joining]:
                picks = [{"slot": s, "player_id": p} for s, p in picker.lineup().picks]
                joined = client.post(
                    f"/contests/{contests[template]}/entries",
                    json={"lineup": picks, "payment_method": "pm_card_visa"},
                    headers={**tokens[who], "Idempotency-Key": f"{template}-{who}"},
                )
                assert joined.status_code == 201, joined.text

        worker.start()
        try:
            worker.wait_for("worker started")
            _run_until_paid(client, clock, list(contests.values()))
        finally:
            code = worker.stop()
        assert code == 0, worker.log.read_text()[-2000:]

        for template, cid in contests.items():
            with platform.uow() as uow:
                entries = uow.entries.for_contest(cid)
                payouts = [p for p in uow.payouts.for_contest(cid) if p.amount_minor > 0]
            assert [e.status for e in entries] == [EntryStatus.ACTIVE] * CONTESTS[template]
            charged = books.charge_tally(cid)
            assert sorted(charged) == sorted(e.fingerprint for e in entries), template
            assert set(charged.values()) == {1}, f"{template}: a join charged twice"
            tally = books.transfer_tally(cid)
            assert tally.unlabelled == 0
            assert tally.duplicates == 0, f"{template}: a prize transferred twice"
            assert tally.by_fingerprint == {p.fingerprint: 1 for p in payouts}, template
            assert tally.amounts == {p.fingerprint: p.amount_minor for p in payouts}
            assert all(p.status is PayoutStatus.CONFIRMED for p in payouts)
        report = verify_ledger(platform)
        assert report.ok, report
        assert sorted(c.contest_id for c in report.closed_contests) == sorted(contests.values())


def _login(client: httpx.Client, email: str, password: str) -> dict[str, str]:
    response = client.post("/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _created(client: httpx.Client, ops: dict[str, str], template: str) -> str:
    created = client.post(
        "/operator/contests", json={"template": template, "slate_id": WEEK}, headers=ops
    )
    assert created.status_code == 201, created.text
    return str(created.json()["contest_id"])


def _player(client: httpx.Client, books: StripeBooks, who: str) -> dict[str, str]:
    email = f"{who}@example.com"
    body = {
        "email": email,
        "password": PASSWORD,
        "date_of_birth": "1990-05-17",
        "jurisdiction": "NJ",
    }
    registered = client.post("/auth/register", json=body)
    assert registered.status_code == 201, registered.text
    token = _login(client, email, PASSWORD)
    account = client.put(
        "/me/payout-account", json={"account_id": books.create_account()}, headers=token
    )
    assert account.status_code == 200, account.text
    return token


def _run_until_paid(client: httpx.Client, clock: FileClock, contests: list[str]) -> None:
    """Advance the shared clock through the week until the worker has paid every contest."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        states = Counter(client.get(f"/contests/{cid}").json()["state"] for cid in contests)
        if states == Counter({"PAID": len(contests)}):
            return
        if clock.now() < GIVE_UP_AFTER:
            clock.advance(timedelta(hours=6))
        time.sleep(0.2)
    pytest.fail(f"not every contest PAID in {DEADLINE_SECONDS} s: {dict(states)}")
