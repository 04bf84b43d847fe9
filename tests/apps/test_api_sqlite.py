"""The API over SQLite and the replay feed: a real week's contest joined over HTTP, run to PAID;
and the app's own worker moving contests while it serves."""

from __future__ import annotations

import random
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from api_support import BORN, OPERATOR_EMAIL, OPERATOR_PASSWORD, PASSWORD, api_settings
from litestar import Litestar
from litestar.testing import TestClient

from adapters.clock import ControllableClock
from adapters.ids import SequentialIds
from apps.api.app import create_app
from apps.bootstrap import start
from apps.demo_players import LineupPicker
from fantasy_core.snapshot import verify
from fantasy_core.usecases.worker import run_once

SLATE = "nfl-2025-reg-wk01"
FIRST_KICKOFF = datetime(2025, 9, 5, 0, 15, tzinfo=UTC)
LAST_FINAL = datetime(2025, 9, 9, 3, 16, tzinfo=UTC)


def bearer(client: TestClient[Litestar], email: str, password: str) -> dict[str, str]:
    response = client.post("/auth/login", json={"email": email, "password": password})
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_a_real_weeks_contest_runs_to_paid_over_http_on_sqlite(tmp_path: Path) -> None:
    clock = ControllableClock(FIRST_KICKOFF - timedelta(days=1))
    settings = api_settings(database_url=f"sqlite:///{tmp_path}/api.db")
    services = start(settings, clock=clock, ids=SequentialIds())
    with services, TestClient(create_app(settings, services=services)) as client:
        ops = bearer(client, OPERATOR_EMAIL, OPERATOR_PASSWORD)
        created = client.post(
            "/operator/contests",
            json={"template": "head_to_head", "slate_id": SLATE},
            headers=ops,
        )
        assert created.status_code == 201, created.text
        contest = created.json()["contest_id"]
        pool = services.platform.feed.player_pool(SLATE)
        picker = LineupPicker(pool, "draftkings_nfl_classic", random.Random(7))
        for name in ("ann", "bob"):
            email = f"{name}@example.com"
            client.post("/auth/register", json={"email": email, "password": PASSWORD, **BORN})
            me = bearer(client, email, PASSWORD)
            client.put("/me/payout-account", json={"account_id": f"acct_{name}"}, headers=me)
            picks = [{"slot": s, "player_id": p} for s, p in picker.lineup().picks]
            joined = client.post(
                f"/contests/{contest}/entries",
                json={"lineup": picks, "payment_method": "pm_card_visa"},
                headers={**me, "Idempotency-Key": f"{name}-1"},
            )
            assert joined.status_code == 201, joined.text
        for moment in (FIRST_KICKOFF, LAST_FINAL, LAST_FINAL + timedelta(hours=1, minutes=1)):
            clock.set(moment)
            run_once(services.platform)
        assert client.get(f"/contests/{contest}").json()["state"] == "PAID"
        board = client.get(f"/contests/{contest}/leaderboard").json()
        assert board["final"]
        assert [r["prize_minor"] for r in board["rows"]] in ([4_600, 0], [2_300, 2_300])
        settlement = client.get(f"/contests/{contest}/settlement").json()
        verify(client.get(settlement["snapshot_url"]).content, settlement["sha256"])
        assert client.get("/operator/ledger", headers=ops).json()["ok"]


def test_the_app_runs_the_worker_beside_the_api_and_stops_it_at_shutdown() -> None:
    clock = ControllableClock(FIRST_KICKOFF - timedelta(days=1))
    settings = api_settings(worker_interval_seconds=0.02)
    services = start(settings, clock=clock, ids=SequentialIds())
    app = create_app(settings, services=services, run_worker=True)
    with TestClient(app) as client:
        ops = bearer(client, OPERATOR_EMAIL, OPERATOR_PASSWORD)
        contest = client.post(
            "/operator/contests", json={"template": "league", "slate_id": SLATE}, headers=ops
        ).json()["contest_id"]
        clock.set(FIRST_KICKOFF)  # no entries at lock: the worker cancels it
        deadline = time.monotonic() + 5
        while client.get(f"/contests/{contest}").json()["state"] != "CANCELLED":
            assert time.monotonic() < deadline, "the app's worker never moved the contest"
            time.sleep(0.02)
        assert any(t.name == "fantasy-worker" for t in threading.enumerate())
    assert not any(t.name == "fantasy-worker" for t in threading.enumerate())
