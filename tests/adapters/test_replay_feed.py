"""The replay feed: real nflverse weeks as slates, revealed game by game as the clock runs."""

from __future__ import annotations

import csv
import gzip
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import pytest

import adapters.feeds
from adapters.feeds.replay import ReplayFeed, default_csv_path
from fantasy_core.errors import FeedUnavailable, InvalidLineup, UnknownSlate
from fantasy_core.lineups import Lineup, Position, sport_template, validate_lineup
from fantasy_core.scoring import DST_STAT_KEYS, preset
from fantasy_core.stats import FeedSnapshot, GameStatus, StatLine, validate_snapshot
from support.settable_clock import SettableClock

WEEK1 = "nfl-2025-reg-wk01"
WEEK2 = "nfl-2025-reg-wk02"
BEFORE = datetime(2025, 9, 1, tzinfo=UTC)
LONG_AFTER = datetime(2026, 1, 1, tzinfo=UTC)
THURSDAY_NIGHT = datetime(2025, 9, 5, 0, 15, tzinfo=UTC)
SUNDAY_EARLY = datetime(2025, 9, 7, 17, 0, tzinfo=UTC)
SUNDAY_LATE = datetime(2025, 9, 7, 20, 25, tzinfo=UTC)
MONDAY_NIGHT = datetime(2025, 9, 9, 0, 15, tzinfo=UTC)
HOURS_3 = timedelta(hours=3)
MINUTE = timedelta(minutes=1)
SKILL = {"QB", "RB", "WR", "TE"}


@pytest.fixture(scope="module")
def rows(nflverse_player_stats_csv: Path) -> list[dict[str, str]]:
    with nflverse_player_stats_csv.open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


@pytest.fixture(scope="module")
def clock() -> SettableClock:
    return SettableClock(BEFORE)


@pytest.fixture(scope="module")
def feed(nflverse_player_stats_csv: Path, clock: SettableClock) -> ReplayFeed:
    # One feed for the module (it reads the file once); every test sets the clock it needs.
    return ReplayFeed(nflverse_player_stats_csv, clock)


def at(
    feed: ReplayFeed, clock: SettableClock, moment: datetime, slate: str = WEEK1
) -> FeedSnapshot:
    clock.now = moment
    return feed.snapshot(slate)


def by_key(snapshot: FeedSnapshot) -> dict[tuple[str, str], StatLine]:
    return {(line.game_id, line.player_id): line for line in snapshot.lines}


def test_each_week_of_the_recording_is_a_slate(feed: ReplayFeed) -> None:
    assert feed.slates() == tuple(f"nfl-2025-reg-wk{week:02d}" for week in range(1, 9))


def test_week_1_has_one_game_per_pair_of_opponents(
    feed: ReplayFeed, clock: SettableClock, rows: list[dict[str, str]]
) -> None:
    pairs = {frozenset((r["team"], r["opponent_team"])) for r in rows if r["week"] == "1"}
    games = at(feed, clock, LONG_AFTER).games
    assert len(games) == len(pairs) == 16
    assert {game.teams for game in games} == pairs


def test_the_away_team_is_the_alphabetically_first_and_names_the_game(
    feed: ReplayFeed, clock: SettableClock
) -> None:
    for game in at(feed, clock, BEFORE).games:
        assert game.away < game.home
        assert game.game_id == f"2025-wk01-{game.away}@{game.home}"


def test_kickoffs_are_thursday_night_sunday_and_monday_night(
    feed: ReplayFeed, clock: SettableClock
) -> None:
    kickoffs = [game.kickoff for game in at(feed, clock, BEFORE).games]
    # 16 games in game-id order: 1 on Thursday, 7 early and 7 late on Sunday, 1 on Monday.
    assert kickoffs == [
        THURSDAY_NIGHT,
        *[SUNDAY_EARLY] * 7,
        *[SUNDAY_LATE] * 7,
        MONDAY_NIGHT,
    ]
    week2 = at(feed, clock, BEFORE, WEEK2).games
    assert min(game.kickoff for game in week2) == THURSDAY_NIGHT + timedelta(days=7)


def test_before_kickoff_games_are_scheduled_without_lines(
    feed: ReplayFeed, clock: SettableClock
) -> None:
    snapshot = at(feed, clock, THURSDAY_NIGHT - MINUTE)
    assert snapshot.version == 0
    assert snapshot.lines == ()
    assert {game.status for game in snapshot.games} == {GameStatus.SCHEDULED}
    assert not snapshot.any_started(THURSDAY_NIGHT - MINUTE)


def test_games_go_in_progress_at_kickoff_and_final_three_hours_later(
    feed: ReplayFeed, clock: SettableClock
) -> None:
    def statuses(moment: datetime) -> dict[datetime, set[GameStatus]]:
        found: dict[datetime, set[GameStatus]] = defaultdict(set)
        for game in at(feed, clock, moment).games:
            found[game.kickoff].add(game.status)
        return found

    s, p, f = GameStatus.SCHEDULED, GameStatus.IN_PROGRESS, GameStatus.FINAL
    assert statuses(THURSDAY_NIGHT)[THURSDAY_NIGHT] == {p}
    assert statuses(THURSDAY_NIGHT + HOURS_3 - MINUTE)[THURSDAY_NIGHT] == {p}
    assert statuses(THURSDAY_NIGHT + HOURS_3)[THURSDAY_NIGHT] == {f}
    sunday = statuses(SUNDAY_LATE + 10 * MINUTE)
    assert (sunday[SUNDAY_EARLY], sunday[SUNDAY_LATE], sunday[MONDAY_NIGHT]) == ({f}, {p}, {s})
    assert at(feed, clock, MONDAY_NIGHT + HOURS_3).all_final_or_off()
    assert not at(feed, clock, MONDAY_NIGHT + HOURS_3 - MINUTE).all_final_or_off()


def test_the_version_counts_minutes_from_the_first_kickoff_up_to_the_last_final(
    feed: ReplayFeed, clock: SettableClock
) -> None:
    assert at(feed, clock, THURSDAY_NIGHT).version == 1
    assert at(feed, clock, THURSDAY_NIGHT + 59 * MINUTE + timedelta(seconds=59)).version == 60
    last = at(feed, clock, MONDAY_NIGHT + HOURS_3).version
    assert last == 1 + (MONDAY_NIGHT + HOURS_3 - THURSDAY_NIGHT) // MINUTE
    assert at(feed, clock, LONG_AFTER).version == last


def test_within_one_minute_the_snapshot_is_the_same(feed: ReplayFeed, clock: SettableClock) -> None:
    first = at(feed, clock, SUNDAY_EARLY + 75 * MINUTE).canonical_bytes()
    later = at(feed, clock, SUNDAY_EARLY + 75 * MINUTE + timedelta(seconds=59)).canonical_bytes()
    assert first == later


def test_a_final_week_scores_the_recorded_ppr_points(
    feed: ReplayFeed, clock: SettableClock, rows: list[dict[str, str]]
) -> None:
    ppr = preset("ppr")
    for week in range(1, 9):
        snapshot = at(feed, clock, LONG_AFTER, f"nfl-2025-reg-wk{week:02d}")
        recorded = [r for r in rows if r["week"] == str(week) and r["player_id"]]
        expected = sum(Fraction(r["fantasy_points_ppr"] or "0") for r in recorded)
        scored = sum((ppr.score(line.as_dict()) for line in snapshot.lines), Fraction(0))
        assert abs(scored - expected) <= Fraction(1, 100) * len(recorded), week
        assert len(snapshot.lines) == len(recorded) + 2 * len(snapshot.games)


def test_an_in_progress_line_is_the_final_line_scaled_down(
    feed: ReplayFeed, clock: SettableClock
) -> None:
    final = by_key(at(feed, clock, LONG_AFTER))
    partial = at(feed, clock, SUNDAY_EARLY + 100 * MINUTE)
    in_progress = {g.game_id for g in partial.games if g.status is GameStatus.IN_PROGRESS}
    assert len(in_progress) == 7
    assert {line.game_id for line in partial.lines} >= in_progress
    for line in partial.lines:
        whole = final[line.game_id, line.player_id]
        if line.game_id not in in_progress:
            assert line == whole
            continue
        assert [key for key, _ in line.stats] == [key for key, _ in whole.stats]
        for key, value in line.stats:
            end = whole.value(key)
            assert value.denominator == 1
            assert (0 <= value <= end) or (end <= value <= 0), (line, key)
            assert value == (end * 100 / 180).__floor__()


def test_every_team_has_a_dst_line_every_week(feed: ReplayFeed, clock: SettableClock) -> None:
    for slate in feed.slates():
        snapshot = at(feed, clock, LONG_AFTER, slate)
        teams = {team for game in snapshot.games for team in game.teams}
        dsts = {line.team: line for line in snapshot.lines if line.player_id.startswith("DST-")}
        assert set(dsts) == teams, slate
        for team, line in dsts.items():
            assert line.player_id == f"DST-{team}"
            assert set(line.as_dict()) <= DST_STAT_KEYS
            assert "dst_points_allowed" in line.as_dict()


def test_points_allowed_reproduce_the_real_week_1_scores(
    feed: ReplayFeed, clock: SettableClock
) -> None:
    lines = by_key(at(feed, clock, LONG_AFTER))

    def allowed(game_id: str, team: str) -> Fraction:
        return lines[game_id, f"DST-{team}"].value("dst_points_allowed")

    # Buffalo beat Baltimore 41-40, Philadelphia beat Dallas 24-20, the Chargers beat Kansas
    # City 27-21 (week 1 of 2025).
    assert (allowed("2025-wk01-BAL@BUF", "BAL"), allowed("2025-wk01-BAL@BUF", "BUF")) == (41, 40)
    assert (allowed("2025-wk01-DAL@PHI", "DAL"), allowed("2025-wk01-DAL@PHI", "PHI")) == (24, 20)
    assert (allowed("2025-wk01-KC@LAC", "KC"), allowed("2025-wk01-KC@LAC", "LAC")) == (27, 21)


def test_player_lines_carry_scoring_keys_and_validation_counts_only(
    feed: ReplayFeed, clock: SettableClock
) -> None:
    allen = by_key(at(feed, clock, LONG_AFTER))["2025-wk01-BAL@BUF", "00-0034857"]
    assert allen.as_dict() == {
        "attempts": 46,
        "carries": 14,
        "completions": 33,
        "passing_tds": 2,
        "passing_yards": 394,
        "rushing_tds": 2,
        "rushing_yards": 30,
    }


def test_every_snapshot_through_week_1_is_valid(feed: ReplayFeed, clock: SettableClock) -> None:
    moments = [BEFORE, THURSDAY_NIGHT, THURSDAY_NIGHT + 2 * HOURS_3]
    moments += [SUNDAY_EARLY + k * 25 * MINUTE for k in range(18)]
    moments += [MONDAY_NIGHT + k * 37 * MINUTE for k in range(6)] + [LONG_AFTER]
    previous = None
    for moment in moments:
        snapshot = at(feed, clock, moment)
        assert validate_snapshot(snapshot, previous) == (), moment
        previous = snapshot


def test_every_final_week_is_valid(feed: ReplayFeed, clock: SettableClock) -> None:
    for slate in feed.slates():
        assert validate_snapshot(at(feed, clock, LONG_AFTER, slate)) == (), slate


def test_the_pool_has_the_skill_players_and_two_dsts_per_game(
    feed: ReplayFeed, rows: list[dict[str, str]]
) -> None:
    pool = feed.player_pool(WEEK1)
    skill = {r["player_id"] for r in rows if r["week"] == "1" and r["position"] in SKILL}
    dsts = {p.player_id for p in pool.players.values() if p.position is Position.DST}
    assert len(dsts) == 32
    assert set(pool.players) == skill | dsts
    assert pool.players["00-0034857"].name == "Josh Allen"


def _ppr_points_by_week(feed: ReplayFeed, clock: SettableClock, player_id: str) -> list[Fraction]:
    points = []
    for slate in feed.slates():
        lines = at(feed, clock, LONG_AFTER, slate).lines
        points += [preset("ppr").score(ln.as_dict()) for ln in lines if ln.player_id == player_id]
    return points


def test_week_1_salaries_follow_the_players_season_average(
    feed: ReplayFeed, clock: SettableClock
) -> None:
    pool = feed.player_pool(WEEK1)
    assert len({p.salary for p in pool.players.values()}) > 30  # not one flat price a position
    weeks = _ppr_points_by_week(feed, clock, "00-0034857")  # Josh Allen, every recorded week
    average = sum(weeks, Fraction(0)) / len(weeks)
    expected = min(9_000, 3_000 + int(average * 200) // 100 * 100)
    assert pool.players["00-0034857"].salary == expected > 7_000


def test_the_salary_cap_binds_in_week_1(feed: ReplayFeed) -> None:
    pool = feed.player_pool(WEEK1)
    template = sport_template("draftkings_nfl_classic")
    by_price = sorted(pool.players.values(), key=lambda p: (-p.salary, p.player_id))
    picks: list[tuple[str, str]] = []
    for slot in template.slots:  # the dearest player each slot takes, each once
        taken = {player for _, player in picks}
        best = next(p for p in by_price if slot.accepts(p.position) and p.player_id not in taken)
        picks.append((slot.name, best.player_id))
    lineup = Lineup(tuple(picks))
    assert len({pool.players[p].game_id for p in lineup.player_ids}) >= template.min_games
    with pytest.raises(InvalidLineup) as refused:
        validate_lineup(template, pool, lineup)
    assert refused.value.rule == "salary_cap"


def test_later_salaries_follow_the_average_of_earlier_weeks_only(
    feed: ReplayFeed, clock: SettableClock
) -> None:
    week1 = by_key(at(feed, clock, LONG_AFTER))
    allen_week1 = preset("ppr").score(week1["2025-wk01-BAL@BUF", "00-0034857"].as_dict())
    allen = feed.player_pool(WEEK2).players["00-0034857"]
    assert allen.salary == min(9_000, 3_000 + int(allen_week1 * 200) // 100 * 100)
    for week in feed.slates():
        for player in feed.player_pool(week).players.values():
            assert 3_000 <= player.salary <= 9_000
            assert player.salary % 100 == 0


def test_an_unknown_week_is_an_unknown_slate(feed: ReplayFeed) -> None:
    with pytest.raises(UnknownSlate, match="nfl-2025-reg-wk09"):
        feed.snapshot("nfl-2025-reg-wk09")


def test_a_missing_recording_makes_the_feed_unavailable(tmp_path: Path) -> None:
    with pytest.raises(FeedUnavailable, match="cannot read"):
        ReplayFeed(tmp_path / "missing.csv", lambda: BEFORE).slates()


TINY_HEADER = "player_id,season,season_type,week,team,opponent_team,receptions\n"


def test_a_malformed_cell_makes_the_feed_unavailable_saying_where(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(TINY_HEADER + "00-1,2025,REG,1,BAL,BUF,lots\n", encoding="utf-8")
    with pytest.raises(FeedUnavailable, match=r"bad.csv:2: receptions"):
        ReplayFeed(bad, lambda: BEFORE).slates()


def test_a_naive_clock_is_a_programming_error(tmp_path: Path) -> None:
    tiny = tmp_path / "tiny.csv"
    tiny.write_text(TINY_HEADER + "00-1,2025,REG,1,BAL,BUF,3\n", encoding="utf-8")
    naive = ReplayFeed(tiny, lambda: datetime(2025, 9, 7))
    with pytest.raises(ValueError, match="timezone-aware"):
        naive.snapshot(WEEK1)


def test_the_default_recording_ships_in_the_package_compressed(
    nflverse_player_stats_csv: Path,
) -> None:
    packaged = default_csv_path()
    assert packaged.suffix == ".gz"
    assert packaged.is_relative_to(Path(adapters.feeds.__file__).resolve().parent)
    assert gzip.decompress(packaged.read_bytes()) == nflverse_player_stats_csv.read_bytes()


def test_the_packaged_recording_replays_as_the_plain_file_does(
    nflverse_player_stats_csv: Path,
) -> None:
    plain = ReplayFeed(nflverse_player_stats_csv, lambda: LONG_AFTER)
    packaged = ReplayFeed.recorded(lambda: LONG_AFTER)
    assert packaged.slates() == plain.slates()
    assert packaged.snapshot(WEEK2) == plain.snapshot(WEEK2)


def test_a_damaged_compressed_recording_makes_the_feed_unavailable(tmp_path: Path) -> None:
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(gzip.compress((TINY_HEADER + "00-1,2025,REG,1,BAL,BUF,3\n").encode())[:-12])
    with pytest.raises(FeedUnavailable, match=r"cannot read the replay recording .*cut.csv.gz"):
        ReplayFeed(cut, lambda: BEFORE).slates()
