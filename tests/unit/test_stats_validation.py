"""Sports data: games, stat lines and snapshots, their canonical form, and each validation rule."""

from __future__ import annotations

import json
import random
import re
from datetime import UTC, datetime, timedelta, timezone
from fractions import Fraction

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fantasy_core.errors import InvalidFeedData, InvalidStatLine
from fantasy_core.stats import (
    COUNT_STATS,
    RULES,
    DataProblem,
    FeedSnapshot,
    Game,
    GameStatus,
    StatLine,
    validate_snapshot,
    version_conflict,
)

F = Fraction
SLATE = "nfl-2025-reg-wk01"
KICKOFF = datetime(2025, 9, 7, 17, 0, tzinfo=UTC)
BAL_BUF = "2025-wk01-BAL@BUF"
DAL_PHI = "2025-wk01-DAL@PHI"
ALLEN = "00-0034857"
HENRY = "00-0032764"
HURTS = "00-0036389"


def game(game_id: str = BAL_BUF, status: GameStatus = GameStatus.FINAL, **changes: object) -> Game:
    away, home = game_id.rsplit("-", 1)[1].split("@")
    return attrs.evolve(Game(game_id, home, away, KICKOFF, status), **changes)


def line(
    player_id: str = ALLEN, team: str = "BUF", game_id: str = BAL_BUF, **stats: Fraction | int
) -> StatLine:
    return StatLine.of(player_id, team, game_id, stats)


def snapshot(
    *lines: StatLine, games: tuple[Game, ...] | None = None, version: int = 10
) -> FeedSnapshot:
    if games is None:
        games = (game(BAL_BUF), game(DAL_PHI))
    return FeedSnapshot(SLATE, version, games, lines)


# Josh Allen's and Derrick Henry's week 1 of 2025 (nflverse), and Jalen Hurts'.
VALID_LINES = (
    line(ALLEN, "BUF", BAL_BUF, completions=33, attempts=46, passing_yards=394, passing_tds=2,
         carries=14, rushing_yards=30, rushing_tds=2),
    line(HENRY, "BAL", BAL_BUF, carries=18, rushing_yards=169, rushing_tds=2, receptions=1,
         targets=1, receiving_yards=-2, rushing_fumbles_lost=1),
    line(HURTS, "PHI", DAL_PHI, completions=19, attempts=23, passing_yards=152, carries=14,
         rushing_yards=62, rushing_tds=2),
    line("DST-BUF", "BUF", BAL_BUF, dst_sacks=F(5, 2), dst_points_allowed=40),
)  # fmt: skip


def problems_of(*lines: StatLine, previous: FeedSnapshot | None = None) -> list[str]:
    return [p.rule for p in validate_snapshot(snapshot(*VALID_LINES, *lines), previous)]


def only_problem(current: FeedSnapshot, previous: FeedSnapshot | None = None) -> DataProblem:
    problems = validate_snapshot(current, previous)
    assert len(problems) == 1, problems
    return problems[0]


# ---- valid data -----------------------------------------------------------------------------


def test_real_stat_lines_of_final_games_are_valid() -> None:
    assert validate_snapshot(snapshot(*VALID_LINES)) == ()


def test_negative_yards_and_half_sacks_are_valid() -> None:
    assert problems_of(line("00-1", "BAL", BAL_BUF, rushing_yards=-7, def_sacks=F(1, 2))) == []


def test_a_later_snapshot_that_keeps_final_games_final_is_valid() -> None:
    before = snapshot(*VALID_LINES, version=10)
    after = snapshot(*VALID_LINES, line("00-1", "DAL", DAL_PHI, receptions=1), version=11)
    assert validate_snapshot(after, before) == ()
    assert validate_snapshot(before, before) == ()


# ---- one test per rule ----------------------------------------------------------------------


def test_a_line_for_a_team_that_plays_in_no_game_of_the_slate_is_rejected() -> None:
    problem = only_problem(snapshot(*VALID_LINES, line("00-1", "KC", BAL_BUF, receptions=2)))
    assert (problem.rule, problem.game_id, problem.player_id) == ("unknown_team", BAL_BUF, "00-1")


def test_a_line_for_a_game_that_is_not_on_the_slate_is_rejected() -> None:
    assert problems_of(line("00-1", "BUF", "2025-wk01-KC@LAC", receptions=2)) == ["unknown_game"]


def test_a_line_for_a_team_that_does_not_play_in_its_game_is_rejected() -> None:
    problem = only_problem(snapshot(*VALID_LINES, line("00-1", "PHI", BAL_BUF, receptions=2)))
    assert problem.rule == "unknown_game"
    assert "PHI does not play in" in problem.message


def test_a_final_game_without_a_line_for_either_team_is_rejected() -> None:
    lines = [ln for ln in VALID_LINES if ln.game_id != DAL_PHI]
    problem = only_problem(snapshot(*lines))
    assert (problem.rule, problem.game_id) == ("final_without_lines", DAL_PHI)


def test_a_game_in_progress_may_have_no_lines_yet() -> None:
    lines = [ln for ln in VALID_LINES if ln.game_id != DAL_PHI]
    games = (game(BAL_BUF), game(DAL_PHI, GameStatus.IN_PROGRESS))
    assert validate_snapshot(snapshot(*lines, games=games)) == ()


@pytest.mark.parametrize(
    "count",
    ["receiving_tds", "receptions", "completions", "attempts", "carries", "passing_interceptions",
     "rushing_fumbles_lost", "def_sacks", "rushing_2pt_conversions", "targets", "def_tds",
     "special_teams_tds", "fg_made", "dst_points_allowed", "dst_sacks"],
)  # fmt: skip
def test_a_negative_count_is_rejected(count: str) -> None:
    assert problems_of(line("00-1", "BAL", BAL_BUF, **{count: -1})) == ["negative_count"]


@pytest.mark.parametrize("value", [F(1000), F(-1000), F(999), F(-7)])
def test_a_value_within_the_bound_is_accepted(value: Fraction) -> None:
    assert problems_of(line("00-1", "BAL", BAL_BUF, passing_yards=value)) == []


@pytest.mark.parametrize(
    ("stat", "value"),
    [("passing_yards", F(100001, 100)), ("rushing_yards", F(-1001)), ("receptions", F(10**308))],
)
def test_a_value_beyond_the_bound_is_rejected_once(stat: str, value: Fraction) -> None:
    assert problems_of(line("00-1", "BAL", BAL_BUF, **{stat: value})) == ["value_out_of_range"]


def test_more_receiving_touchdowns_than_receptions_is_rejected() -> None:
    bad = line("00-1", "BAL", BAL_BUF, receptions=1, receiving_tds=2)
    assert problems_of(bad) == ["tds_exceed_receptions"]


def test_more_passing_touchdowns_than_completions_is_rejected() -> None:
    bad = line("00-1", "BAL", BAL_BUF, completions=0, passing_tds=1)
    assert problems_of(bad) == ["tds_exceed_completions"]


@pytest.mark.parametrize(
    ("count", "value"), [("receptions", F(5, 2)), ("rushing_tds", F(1, 10)), ("def_sacks", F(1, 4))]
)
def test_a_count_that_is_not_a_whole_number_is_rejected(count: str, value: Fraction) -> None:
    assert problems_of(line("00-1", "BAL", BAL_BUF, **{count: value})) == ["non_integer_count"]


def test_a_final_game_that_goes_back_to_in_progress_is_rejected() -> None:
    before = snapshot(*VALID_LINES, version=10)
    games = (game(BAL_BUF, GameStatus.IN_PROGRESS), game(DAL_PHI))
    problem = only_problem(snapshot(*VALID_LINES, games=games, version=11), before)
    assert (problem.rule, problem.game_id) == ("final_regressed", BAL_BUF)
    assert "in_progress" in problem.message


def test_a_game_whose_teams_change_from_the_previous_snapshot_is_rejected() -> None:
    before = snapshot(*VALID_LINES, version=10)
    swapped = game(BAL_BUF, home="BAL", away="BUF")
    problem = only_problem(snapshot(*VALID_LINES, games=(swapped, game(DAL_PHI))), before)
    assert (problem.rule, problem.game_id) == ("game_changed_teams", BAL_BUF)
    assert "BAL@BUF is now BUF@BAL" in problem.message


def test_a_game_listed_twice_with_different_teams_is_rejected() -> None:
    games = (game(BAL_BUF), game(DAL_PHI), game(BAL_BUF, away="KC"))
    problem = only_problem(snapshot(*VALID_LINES, games=games))
    assert (problem.rule, problem.game_id) == ("game_changed_teams", BAL_BUF)


def test_a_game_listed_twice_with_the_same_teams_is_rejected() -> None:
    games = (game(BAL_BUF), game(DAL_PHI), game(BAL_BUF, status=GameStatus.IN_PROGRESS))
    assert only_problem(snapshot(*VALID_LINES, games=games)).rule == "duplicate_game"


def test_a_game_that_disappears_from_the_slate_is_rejected() -> None:
    before = snapshot(*VALID_LINES)
    lines = [ln for ln in VALID_LINES if ln.game_id != DAL_PHI]
    problem = only_problem(snapshot(*lines, games=(game(BAL_BUF),)), before)
    assert (problem.rule, problem.game_id) == ("game_removed", DAL_PHI)


def test_a_player_with_two_lines_in_one_game_is_rejected() -> None:
    problem = only_problem(snapshot(*VALID_LINES, line(ALLEN, "BUF", BAL_BUF, carries=1)))
    assert (problem.rule, problem.game_id, problem.player_id) == ("duplicate_line", BAL_BUF, ALLEN)


def test_a_version_lower_than_the_previous_one_is_rejected() -> None:
    before = snapshot(*VALID_LINES, version=11)
    assert only_problem(snapshot(*VALID_LINES, version=10), before).rule == "version_regressed"


def test_a_snapshot_of_another_slate_after_this_one_is_rejected() -> None:
    other = attrs.evolve(snapshot(*VALID_LINES), slate_id="nfl-2025-reg-wk02")
    assert only_problem(other, snapshot(*VALID_LINES)).rule == "slate_mismatch"


# ---- problems are readable and come in a fixed order ----------------------------------------


GAME_RULES = {
    "game_changed_teams",
    "duplicate_game",
    "game_removed",
    "final_regressed",
    "final_without_lines",
}


def _case(rule: str) -> tuple[FeedSnapshot, FeedSnapshot | None]:
    """A snapshot (and the one before it) that breaks exactly `rule`."""
    valid = snapshot(*VALID_LINES)
    without_dal = [ln for ln in VALID_LINES if ln.game_id != DAL_PHI]
    cases: dict[str, tuple[FeedSnapshot, FeedSnapshot | None]] = {
        "slate_mismatch": (attrs.evolve(valid, slate_id="nfl-2025-reg-wk02"), valid),
        "version_regressed": (attrs.evolve(valid, version=9), valid),
        "game_changed_teams": (
            snapshot(*VALID_LINES, games=(game(BAL_BUF, home="BAL", away="BUF"), game(DAL_PHI))),
            valid,
        ),
        "duplicate_game": (
            snapshot(*VALID_LINES, games=(game(BAL_BUF), game(DAL_PHI), game(DAL_PHI))),
            None,
        ),
        "game_removed": (snapshot(*without_dal, games=(game(BAL_BUF),)), valid),
        "final_regressed": (
            snapshot(*VALID_LINES, games=(game(BAL_BUF, GameStatus.IN_PROGRESS), game(DAL_PHI))),
            valid,
        ),
        "final_without_lines": (snapshot(*without_dal), None),
        "duplicate_line": (snapshot(*VALID_LINES, line(ALLEN, "BUF", BAL_BUF)), None),
        "unknown_team": (snapshot(*VALID_LINES, line("00-1", "KC", BAL_BUF)), None),
        "unknown_game": (snapshot(*VALID_LINES, line("00-1", "PHI", BAL_BUF)), None),
        "negative_count": (snapshot(*VALID_LINES, line("00-1", "BAL", receptions=-1)), None),
        "non_integer_count": (snapshot(*VALID_LINES, line("00-1", "BAL", carries=F(1, 2))), None),
        "value_out_of_range": (snapshot(*VALID_LINES, line("00-1", rushing_yards=-1001)), None),
        "tds_exceed_receptions": (snapshot(*VALID_LINES, line("00-1", receiving_tds=1)), None),
        "tds_exceed_completions": (snapshot(*VALID_LINES, line("00-1", passing_tds=1)), None),
    }
    return cases[rule]


# version_conflict compares a snapshot with the accepted one of its version, not with the
# previous one: see its own tests below.
@pytest.mark.parametrize("rule", [rule for rule in RULES if rule != "version_conflict"])
def test_a_problem_message_names_the_game_the_player_the_field_and_the_rule(rule: str) -> None:
    current, previous = _case(rule)
    problem = only_problem(current, previous)
    assert problem.rule == rule
    assert problem.field is not None
    assert problem.message.startswith(f"{rule}: ")
    assert f"field {problem.field}" in problem.message
    for label, value in (("game", problem.game_id), ("player", problem.player_id)):
        if value is not None:
            assert f"{label} {value}" in problem.message
    slate_rule = rule in {"slate_mismatch", "version_regressed"}
    assert (problem.game_id is None) == slate_rule
    assert (problem.player_id is None) == (slate_rule or rule in GAME_RULES)


def test_every_rule_has_a_description_and_only_known_rules_make_problems() -> None:
    assert all(RULES.values())
    with pytest.raises(InvalidFeedData, match="no validation rule"):
        DataProblem("made_up", "message")


def test_problems_come_in_rule_order_then_by_game_and_player() -> None:
    bad = (
        line("00-2", "BAL", BAL_BUF, receptions=1, receiving_tds=2, carries=-1),
        line("00-1", "PHI", DAL_PHI, receptions=-1),
        line("00-1", "KC", BAL_BUF),
    )
    forward = validate_snapshot(snapshot(*VALID_LINES, *bad))
    backward = validate_snapshot(snapshot(*reversed(VALID_LINES), *reversed(bad)))
    assert forward == backward
    assert [(p.rule, p.game_id, p.player_id) for p in forward] == [
        ("unknown_team", BAL_BUF, "00-1"),
        ("negative_count", BAL_BUF, "00-2"),
        ("negative_count", DAL_PHI, "00-1"),
        ("tds_exceed_receptions", BAL_BUF, "00-2"),
    ]


def test_sacks_come_in_halves_and_every_other_count_in_whole_units() -> None:
    halves = {key for key, step in COUNT_STATS.items() if step == F(1, 2)}
    assert halves == {"def_sacks", "dst_sacks"}
    assert set(COUNT_STATS.values()) == {F(1), F(1, 2)}
    assert not any(key.endswith("_yards") for key in COUNT_STATS)


# ---- shapes that cannot be built at all -----------------------------------------------------


def test_a_kickoff_without_a_time_zone_is_refused() -> None:
    with pytest.raises(InvalidFeedData, match="timezone-aware"):
        Game(BAL_BUF, "BUF", "BAL", datetime(2025, 9, 7, 13), GameStatus.SCHEDULED)


def test_a_kickoff_is_kept_in_utc() -> None:
    eastern = timezone(timedelta(hours=-4))
    kickoff = Game(
        BAL_BUF, "BUF", "BAL", datetime(2025, 9, 7, 13, tzinfo=eastern), GameStatus.FINAL
    )
    assert kickoff.kickoff.tzinfo is UTC
    assert kickoff.kickoff == KICKOFF


def test_a_team_cannot_play_itself() -> None:
    with pytest.raises(InvalidFeedData, match="cannot play itself"):
        Game(BAL_BUF, "BUF", "BUF", KICKOFF, GameStatus.SCHEDULED)


@pytest.mark.parametrize(
    ("stats", "message"),
    [
        ((("rushing_yards", F(3)), ("carries", F(1))), "sorted"),
        ((("carries", F(1)), ("carries", F(2))), "twice"),
        ((("carries", 1.0),), "terminating"),
        ((("carries", F(1, 3)),), "terminating"),
        ((("Carries", F(1)),), "stat key"),
        ((("carries", True),), "terminating"),
    ],
)
def test_a_malformed_stat_line_is_refused(
    stats: tuple[tuple[str, object], ...], message: str
) -> None:
    with pytest.raises(InvalidStatLine, match=message):
        StatLine(ALLEN, "BUF", BAL_BUF, stats)  # type: ignore[arg-type]


def test_a_stat_line_of_a_mapping_sorts_it_and_reads_absent_stats_as_zero() -> None:
    allen = line(ALLEN, rushing_tds=2, carries=14)
    assert allen.stats == (("carries", F(14)), ("rushing_tds", F(2)))
    assert allen.as_dict() == {"carries": F(14), "rushing_tds": F(2)}
    assert allen.value("receptions") == 0


@pytest.mark.parametrize("version", [-1, True, 1.0])
def test_a_version_is_a_non_negative_integer(version: object) -> None:
    with pytest.raises(InvalidFeedData, match="version"):
        FeedSnapshot(SLATE, version, (), ())  # type: ignore[arg-type]


# ---- what the lifecycle asks of a snapshot --------------------------------------------------


def test_a_slate_is_complete_when_every_game_is_final_postponed_or_cancelled() -> None:
    def statuses(*states: GameStatus) -> FeedSnapshot:
        ids = (BAL_BUF, DAL_PHI, "2025-wk01-KC@LAC")
        return snapshot(games=tuple(game(i, s) for i, s in zip(ids, states, strict=False)))

    assert statuses(GameStatus.FINAL, GameStatus.POSTPONED, GameStatus.CANCELLED).all_final_or_off()
    assert not statuses(GameStatus.FINAL, GameStatus.IN_PROGRESS).all_final_or_off()
    assert not statuses(GameStatus.FINAL, GameStatus.SCHEDULED).all_final_or_off()
    assert not snapshot(games=()).all_final_or_off()


def test_a_slate_has_started_once_a_game_is_under_way_or_past_its_kickoff() -> None:
    before = KICKOFF - timedelta(minutes=1)
    scheduled = snapshot(games=(game(BAL_BUF, GameStatus.SCHEDULED),))
    assert not scheduled.any_started(before)
    assert scheduled.any_started(KICKOFF)
    assert snapshot(games=(game(BAL_BUF, GameStatus.IN_PROGRESS),)).any_started(before)
    postponed = snapshot(games=(game(BAL_BUF, GameStatus.POSTPONED),))
    assert not postponed.any_started(KICKOFF + timedelta(days=1))


def test_a_player_with_lines_in_two_games_gets_their_sum() -> None:
    twice = snapshot(
        line(ALLEN, "BUF", BAL_BUF, carries=3, rushing_yards=-2),
        line(ALLEN, "BUF", DAL_PHI, carries=2, receptions=1),
        line(HENRY, "BAL", BAL_BUF),
    )
    assert twice.lines_by_player() == {
        ALLEN: {"carries": F(5), "rushing_yards": F(-2), "receptions": F(1)},
        HENRY: {},
    }


# ---- canonical form -------------------------------------------------------------------------


def test_the_canonical_bytes_of_a_snapshot_are_pinned() -> None:
    tiny = snapshot(line(ALLEN, rushing_tds=2, passing_yards=F(-3, 2)), games=(game(BAL_BUF),))
    assert tiny.canonical_bytes() == (
        b'{"format":1,"games":[{"away":"BAL","game_id":"2025-wk01-BAL@BUF","home":"BUF",'
        b'"kickoff":"2025-09-07T17:00:00Z","status":"final"}],"lines":[{"game_id":'
        b'"2025-wk01-BAL@BUF","player_id":"00-0034857","stats":{"passing_yards":"-1.5",'
        b'"rushing_tds":"2"},"team":"BUF"}],"slate_id":"nfl-2025-reg-wk01","version":10}'
    )
    assert tiny.sha256().startswith("sha256:")
    assert len(tiny.sha256()) == len("sha256:") + 64


@pytest.mark.parametrize(
    ("path", "value", "error", "where"),
    [
        (("lines", 0, "stats", "carries"), "14.0", InvalidStatLine, "lines[0].stats.carries"),
        (("lines", 0, "stats", "carries"), 14, InvalidStatLine, "lines[0].stats.carries"),
        (("lines", 0, "stats", "carries"), "NaN", InvalidStatLine, "lines[0].stats.carries"),
        (("lines", 0, "stats", "Carries!"), "1", InvalidStatLine, "lines[0]"),
        (("lines", 0, "team"), "", InvalidStatLine, "lines[0]"),
        (("games", 0, "kickoff"), "2025-09-07T17:00:00+00:00", InvalidFeedData, "games[0].kickoff"),
        (("games", 0, "kickoff"), "2025-09-07T17:00:00", InvalidFeedData, "games[0].kickoff"),
        (("games", 0, "status"), "finished", InvalidFeedData, "games[0]"),
        (("games", 0, "home"), "BAL", InvalidFeedData, "games[0]"),
        (("version",), "10", InvalidFeedData, "snapshot.version"),
        (("format",), 2, InvalidFeedData, "snapshot.format"),
    ],
)
def test_a_malformed_canonical_form_is_refused_saying_where(
    path: tuple[str | int, ...], value: object, error: type[Exception], where: str
) -> None:
    data = json.loads(snapshot(*VALID_LINES).canonical_bytes())
    target = data
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    if path[-1] == "Carries!":
        del target["carries"]
    with pytest.raises(error, match="^" + re.escape(where)):
        FeedSnapshot.from_canonical(data)


def test_a_canonical_form_with_a_missing_or_extra_key_is_refused() -> None:
    data = snapshot(*VALID_LINES).canonical()
    with pytest.raises(InvalidFeedData, match="missing keys"):
        FeedSnapshot.from_canonical({**data, "lines": None} | {"extra": 1})
    del data["games"]
    with pytest.raises(InvalidFeedData, match=r"missing keys \['games'\]"):
        FeedSnapshot.from_canonical(data)


# ---- properties -----------------------------------------------------------------------------

TEAMS = ("BAL", "BUF", "DAL", "PHI", "KC", "LAC")
# Ids mostly ASCII, sometimes not: canonical bytes escape them (ensure_ascii).
printable = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-@éü北", min_size=1, max_size=8)
moments = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=-4)), timezone(timedelta(hours=5, minutes=30))]
    ),
)
values = st.builds(F, st.integers(-(10**6), 10**6), st.sampled_from([1, 2, 4, 5, 10, 100, 1000]))
stat_keys = st.sampled_from(
    sorted({*COUNT_STATS, "passing_yards", "rushing_yards", "receiving_yards", "x", "a1_b2_"})
)


@st.composite
def games_(draw: st.DrawFn) -> Game:
    away, home = draw(st.lists(st.sampled_from(TEAMS), min_size=2, max_size=2, unique=True))
    return Game(draw(printable), home, away, draw(moments), draw(st.sampled_from(GameStatus)))


lines_ = st.builds(
    StatLine.of,
    printable,
    st.sampled_from(TEAMS),
    printable,
    st.dictionaries(stat_keys, values, max_size=6),
)
snapshots = st.builds(
    FeedSnapshot,
    printable,
    st.integers(0, 10**9),
    st.lists(games_(), max_size=5),
    st.lists(lines_, max_size=8),
)


@settings(max_examples=50, deadline=None)
@given(snapshots)
def test_the_canonical_form_reads_back_as_the_same_snapshot(original: FeedSnapshot) -> None:
    assert FeedSnapshot.from_canonical(original.canonical()) == original
    again = FeedSnapshot.from_canonical(json.loads(original.canonical_bytes()))
    assert again == original
    assert again.canonical_bytes() == original.canonical_bytes()
    assert original.canonical_bytes().isascii()


@settings(max_examples=50, deadline=None)
@given(snapshots, st.randoms(use_true_random=False))
def test_the_same_data_in_any_order_gives_the_same_bytes(
    original: FeedSnapshot, rng: random.Random
) -> None:
    games, lines = list(original.games), list(original.lines)
    rng.shuffle(games)
    rng.shuffle(lines)
    reshuffled = [
        StatLine.of(ln.player_id, ln.team, ln.game_id, dict(rng.sample(ln.stats, len(ln.stats))))
        for ln in lines
    ]
    rebuilt = FeedSnapshot(original.slate_id, original.version, games, reshuffled)
    assert rebuilt == original
    assert rebuilt.canonical_bytes() == original.canonical_bytes()
    assert rebuilt.sha256() == original.sha256()
    assert validate_snapshot(rebuilt) == validate_snapshot(original)


def test_other_data_under_an_accepted_version_is_a_version_conflict() -> None:
    accepted = snapshot(*VALID_LINES, line("00-1", "BAL", receptions=1))
    (problem,) = version_conflict(
        accepted, snapshot(*VALID_LINES, line("00-1", "BAL", receptions=2))
    )
    assert (problem.rule, problem.field) == ("version_conflict", "version")
    assert problem.message.startswith("version_conflict: version 10 was sha256:")


def test_the_same_data_again_or_a_new_version_is_no_version_conflict() -> None:
    accepted = snapshot(*VALID_LINES)
    assert version_conflict(accepted, snapshot(*reversed(VALID_LINES))) == ()
    assert version_conflict(accepted, snapshot(*VALID_LINES[:1], version=11)) == ()
