"""A real NFL week replayed through the platform, kickoff to final, scored as nflverse scores it."""

from __future__ import annotations

import csv
import random
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

from adapters.alerts import CollectedAlerts
from adapters.clock import ControllableClock
from adapters.feeds.replay import ReplayFeed
from adapters.ids import SequentialIds
from adapters.memory import MemoryStore
from adapters.sandbox import SandboxGateway
from apps.demo_players import LineupPicker
from fantasy_core.contest import ContestTerms
from fantasy_core.entry_limits import SingleEntry
from fantasy_core.lifecycle import ContestState
from fantasy_core.money import Money
from fantasy_core.payouts import fifty_fifty
from fantasy_core.platform import Platform
from fantasy_core.scoring import preset
from fantasy_core.usecases.contests import create_contest
from fantasy_core.usecases.joining import JoinRequest, join
from fantasy_core.usecases.payment_events import set_payout_account
from fantasy_core.usecases.reports import audit_trail, verify_ledger
from fantasy_core.usecases.worker import run_once

WEEK1 = "nfl-2025-reg-wk01"
THURSDAY = datetime(2025, 9, 5, 0, 15, tzinfo=UTC)


def test_week_1_runs_kickoff_to_final_and_every_player_scores_the_recorded_ppr_points(
    nflverse_player_stats_csv: Path,
) -> None:
    clock = ControllableClock(THURSDAY - timedelta(hours=6))
    feed = ReplayFeed(nflverse_player_stats_csv, clock.now)
    store = MemoryStore()
    p = Platform(
        store.unit_of_work, SandboxGateway(), feed, clock, CollectedAlerts(), SequentialIds()
    )
    pool = feed.player_pool(WEEK1)
    terms = ContestTerms(
        name="Week 1 50/50",
        sport_template="draftkings_nfl_classic",
        pool=pool,
        lock_at=THURSDAY,
        entry_fee=Money(500, "usd"),
        capacity=20,
        entry_limit=SingleEntry(),
        rules=preset("ppr"),
        payout=fifty_fifty(),
        rake_bps=1_000,
    )
    contest = create_contest(p, terms, "operator")
    picker = LineupPicker(pool, "draftkings_nfl_classic", random.Random(1))
    for n in range(6):
        request = JoinRequest(contest.contest_id, f"user-{n}", "k", picker.lineup(), "pm_card_visa")
        assert join(p, request).accepted
        set_payout_account(p, f"user-{n}", f"acct_user{n}")

    while clock.now() < THURSDAY + timedelta(days=5):
        run_once(p)
        clock.advance(timedelta(hours=1))

    with store.unit_of_work() as uow:
        assert uow.contests.get(contest.contest_id).state is ContestState.PAID
        final = uow.stats.latest(WEEK1)
    assert final is not None
    assert final.all_final_or_off()
    states = [
        r.action for r in audit_trail(p, contest.contest_id) if r.action.startswith("contest.")
    ]
    assert states == [
        "contest.created",
        "contest.locked",
        "contest.live",
        "contest.complete",
        "contest.settled",
        "contest.paid",
    ]
    assert verify_ledger(p).ok

    ppr = preset("ppr")
    scored = {line.player_id: ppr.score(line.as_dict()) for line in final.lines}
    with nflverse_player_stats_csv.open(newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["week"] == "1" and r["player_id"]]
    assert len(rows) > 1_000
    for row in rows:
        expected = Fraction(row["fantasy_points_ppr"] or "0")
        assert abs(scored.get(row["player_id"], Fraction(0)) - expected) <= Fraction(1, 100), row[
            "player_display_name"
        ]
