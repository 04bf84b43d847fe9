"""What the pages compute for a person: exact money, prize tables that add up, countdowns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from apps.web.views import check_lineup, countdown, game_labels, money, prize_rows
from fantasy_core.settlement import prize_pool
from support.world import POOL, World, lineup

NOW = datetime(2025, 9, 7, 12, 0, tzinfo=UTC)


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_money_shows_every_cent_exactly(minor: int) -> None:
    shown = money(minor)
    digits = shown.replace("$", "").replace(",", "").replace(".", "")
    assert int(digits) == minor
    assert shown.lstrip("-").startswith("$")


def test_money_in_another_currency_names_it() -> None:
    assert money(123456, "cad") == "1,234.56 CAD"


@given(st.integers(min_value=1, max_value=10))
def test_a_prize_table_pays_out_the_whole_pool(entries: int) -> None:
    terms = World().terms()
    rows = prize_rows(terms, entries)
    paid = 0
    for row in rows:
        first, _, last = row.places.partition("-")
        paid += row.each_minor * (int(last or first) - int(first) + 1)
    fee = terms.entry_fee.minor
    pool = prize_pool(fee * entries, terms.rake_bps, None, entries, terms.payout).pool
    # Places sharing a run of equal prizes are one row; the leftover cents the core gives
    # one by one make neighbouring places differ, so nothing is lost in the grouping.
    assert paid == pool


def test_no_entries_no_prize_table() -> None:
    assert prize_rows(World().terms(), 0) == []


def test_countdown_to_the_lock() -> None:
    assert countdown(NOW + timedelta(days=2, hours=3, minutes=5), NOW) == "2 d 3 h"
    assert countdown(NOW + timedelta(hours=1, minutes=5), NOW) == "1 h 05 min"
    assert countdown(NOW + timedelta(minutes=7, seconds=30), NOW) == "7 min"
    assert countdown(NOW + timedelta(seconds=30), NOW) == "under a minute"
    assert countdown(NOW, NOW) == "locked"


def test_the_builder_counts_empty_slots_then_gives_the_cores_verdict() -> None:
    picks = [(slot, pid) for slot, pid in lineup(0).picks]
    partial = [(slot, None) if n == 8 else (slot, pid) for n, (slot, pid) in enumerate(picks)]
    waiting = check_lineup("draftkings_nfl_classic", POOL, partial)
    assert (waiting.empty_slots, waiting.valid, waiting.salary_used) == (1, False, 40_000)
    assert waiting.message == "1 of 9 slots still to fill"
    full = check_lineup("draftkings_nfl_classic", POOL, [(s, p) for s, p in picks])
    assert (full.valid, full.salary_left, full.message) == (True, 5_000, None)
    twice = [*picks[:2], (picks[2][0], picks[1][1]), *picks[3:]]
    refused = check_lineup("draftkings_nfl_classic", POOL, [(s, p) for s, p in twice])
    assert (refused.valid, refused.rule) == (False, "duplicate_player")


def test_a_game_is_labelled_by_its_teams_and_its_kickoff_in_utc() -> None:
    paris = timezone(timedelta(hours=2))
    kickoffs = {"g1": datetime(2025, 9, 7, 19, 0, tzinfo=paris), "g2": NOW}
    pairs = [("g1", "KC"), ("g1", "BUF"), ("g1", "KC"), ("g2", "SF"), ("g3", "NYJ")]
    assert game_labels(pairs, kickoffs) == {
        "g1": "BUF v KC, Sun 07 Sep 17:00 UTC",  # 19:00 at +02:00 is 17:00 UTC
        "g2": "SF, Sun 07 Sep 12:00 UTC",  # only one side in the pool
        "g3": "NYJ",  # no kickoff known
    }
