"""The live leaderboard stream over real HTTP: a client reads GET /contests/{id}/leaderboard/
stream while a worker, sharing only the SQLite database with the API, ingests a replayed NFL
week; after every ingest the client's standings are exactly the contest's, every rank change
arrives, and a client reconnecting with Last-Event-ID gets the updates it missed."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_support import BORN, OPERATOR_EMAIL, OPERATOR_PASSWORD, PASSWORD, api_settings

from adapters.clock import ControllableClock
from apps.api.app import create_app
from apps.bootstrap import Services, start
from apps.demo_players import LineupPicker
from fantasy_core.usecases.live import open_live
from fantasy_core.usecases.worker import run_once
from support.live_server import serving
from support.sse import EventReader

SLATE = "nfl-2025-reg-wk01"
FIRST_KICKOFF = datetime(2025, 9, 5, 0, 15, tzinfo=UTC)
LAST_FINAL = datetime(2025, 9, 9, 3, 16, tzinfo=UTC)
PLAYERS = 10
STEPS = 30  # ingests through the week, each one awaited on the stream
Standings = dict[str, tuple[int, Fraction]]


def login(http: httpx.Client, email: str, password: str) -> dict[str, str]:
    response = http.post("/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def week(tmp_path: Path) -> Iterator[tuple[str, httpx.Client, Services, ControllableClock, str]]:
    """An API on SQLite served over loopback (no worker inside it) with a tournament of
    PLAYERS entries on the replayed week, and a worker's services on the same database."""
    clock = ControllableClock(FIRST_KICKOFF - timedelta(days=1))
    settings = api_settings(database_url=f"sqlite:///{tmp_path}/live.db", stream_poll_seconds=0.02)
    api = start(settings, clock=clock)
    worker = start(settings, clock=clock)  # its own engine: only the database is shared
    with api, worker, serving(create_app(settings, services=api)) as url:
        http = httpx.Client(base_url=url, timeout=30)
        ops = login(http, OPERATOR_EMAIL, OPERATOR_PASSWORD)
        created = http.post(
            "/operator/contests", json={"template": "tournament", "slate_id": SLATE}, headers=ops
        )
        assert created.status_code == 201, created.text
        contest = created.json()["contest_id"]
        picker = LineupPicker(
            api.platform.feed.player_pool(SLATE), "draftkings_nfl_classic", random.Random(3)
        )
        for n in range(PLAYERS):
            email = f"p{n}@example.com"
            registered = http.post(
                "/auth/register", json={"email": email, "password": PASSWORD, **BORN}
            )
            assert registered.status_code == 201, registered.text
            picks = [{"slot": s, "player_id": p} for s, p in picker.lineup().picks]
            joined = http.post(
                f"/contests/{contest}/entries",
                json={"lineup": picks, "payment_method": "pm_card_visa"},
                headers={**login(http, email, PASSWORD), "Idempotency-Key": f"k{n}"},
            )
            assert joined.status_code == 201, joined.text
        yield url, http, worker, clock, contest
        http.close()


def expected(worker: Services, contest: str) -> tuple[int, Standings]:
    """The contest's standings as the worker's side computes them from scratch."""
    live = open_live(worker.platform, contest)
    entries = [c.entry_id for c in live.standings.current().top]
    standings = {e: live.standings.standing(e) for e in entries}
    return live.seq, {e: (s.rank, s.points) for e, s in standings.items()}


def apply(view: Standings, data: dict[str, Any]) -> int:
    """Fold an event's rows into the client's view; how many ranks it changed."""
    changed = 0
    for row in data["changes"]:
        before = view.get(row["entry_id"])
        view[row["entry_id"]] = (row["rank"], Fraction(row["points"]))
        changed += before is not None and before[0] != row["rank"]
    return changed


def until_seq(reader: EventReader, view: Standings, seq: int) -> int:
    """Read events until the one of `seq`; the rank changes seen on the way."""
    changes = 0
    while True:
        event = reader.next()
        assert event is not None, "the stream ended early"
        event_id, kind, data = event
        assert kind == "changes", (kind, data)
        changes += apply(view, data)
        if event_id == seq:
            return changes
        assert event_id is not None
        assert event_id < seq


def test_a_client_sees_every_rank_change_as_a_separate_worker_ingests_the_week(
    week: tuple[str, httpx.Client, Services, ControllableClock, str],
) -> None:
    url, http, worker, clock, contest = week
    stream_url = f"{url}/contests/{contest}/leaderboard/stream"
    before_lock = http.get(stream_url)
    assert before_lock.status_code == 409, before_lock.text
    clock.set(FIRST_KICKOFF)
    run_once(worker.platform)  # locks, ingests the kickoff
    reader = EventReader(stream_url)
    first = reader.next()
    assert first is not None
    event_id, kind, data = first
    assert reader.status == 200
    assert kind == "standings"
    view: Standings = {r["entry_id"]: (r["rank"], Fraction(r["points"])) for r in data["rows"]}
    assert (event_id, view) == expected(worker, contest)
    step = (LAST_FINAL - FIRST_KICKOFF) / STEPS
    rank_changes = 0
    last_seq = event_id
    for n in range(1, STEPS + 1):
        clock.set(FIRST_KICKOFF + step * n)
        run_once(worker.platform)
        seq, standings = expected(worker, contest)
        if n == STEPS // 2:  # the client drops, misses two ingests, and comes back
            reader.close()
            for _ in range(2):
                clock.advance(timedelta(minutes=5))
                run_once(worker.platform)
            seq, standings = expected(worker, contest)
            reader = EventReader(stream_url, {"Last-Event-ID": str(last_seq)})
        if seq != last_seq:
            rank_changes += until_seq(reader, view, seq)
            last_seq = seq
        assert view == standings, n
    assert rank_changes > 0
    clock.advance(timedelta(hours=2))
    run_once(worker.platform)  # complete
    run_once(worker.platform)  # settled
    while (event := reader.next()) is not None and event[1] != "end":
        apply(view, event[2])
    assert event is not None
    assert event[2]["state"] in {"SETTLED", "PAID"}
    board = http.get(f"/contests/{contest}/leaderboard", params={"limit": 200}).json()
    assert {r["entry_id"]: (r["rank"], Fraction(r["score"])) for r in board["rows"]} == view
    reader.close()
