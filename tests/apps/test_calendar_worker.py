"""Hands-off: on a fresh database, `fantasy db upgrade` then `fantasy worker --passes 1` opens
the shipped calendar's contests for the next slate, and the lobby lists them, each audited
with the actor `calendar`; nobody called an operator route."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from litestar.testing import TestClient

from apps.api.app import create_app
from apps.bootstrap import start
from apps.cli import EXIT_OK, main
from apps.settings import load_settings
from fantasy_core.calendar import CALENDAR_ACTOR


def test_a_fresh_database_and_one_worker_pass_fill_the_lobby_from_the_calendar(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The replayed season's week 1 starts three days from now: its first game (Thursday
    # night) is within the calendar's six days, week 2's is not.
    week1_sunday = (datetime.now(UTC) + timedelta(days=3)).date()
    monkeypatch.delenv("FANTASY_CALENDAR_FILE", raising=False)  # the shipped calendar
    monkeypatch.setenv("FANTASY_DATABASE_URL", f"sqlite:///{tmp_path}/fresh.db")
    monkeypatch.setenv("FANTASY_REPLAY_WEEK1_SUNDAY", week1_sunday.isoformat())
    assert main(["db", "upgrade"]) == EXIT_OK
    assert main(["worker", "--passes", "1"]) == EXIT_OK

    settings = load_settings()
    with TestClient(create_app(settings)) as client:
        lobby = client.get("/contests")
    assert lobby.status_code == 200
    contests = lobby.json()
    assert sorted(c["name"] for c in contests) == sorted(
        f"{title} (nfl-2025-reg-wk01)"
        for title in (
            "$10 50/50",
            "$5 Double Up",
            "$3 Tournament, $250 guaranteed",
            "$25 Head-to-Head",
            "$20 12-Player League",
        )
    )
    first_kickoff = datetime.combine(week1_sunday - timedelta(days=2), datetime.min.time(), UTC)
    with start(settings) as services, services.platform.uow() as uow:
        for contest in contests:
            records = uow.audit.for_contest(contest["contest_id"])
            assert [(r.actor, r.action) for r in records] == [
                (CALENDAR_ACTOR, "contest.created"),
                (CALENDAR_ACTOR, "calendar.opened"),
            ]
            terms = uow.contests.get(contest["contest_id"]).terms
            assert terms.lock_at == first_kickoff + timedelta(minutes=15)
        assert uow.audit.for_actor("operator") == []
