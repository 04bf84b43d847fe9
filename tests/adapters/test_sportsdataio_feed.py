"""The SportsDataIO feed against a local SportsDataIO serving the replay: mapping, statuses,
retries, refusals of malformed payloads, and a real week that round-trips to the same points."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from fractions import Fraction
from pathlib import Path

import httpx
import pytest

from adapters.feeds.replay import ReplayFeed
from adapters.feeds.sportsdataio import SportsDataIOFeed
from adapters.feeds.sportsdataio_wire import FetchRetry, MalformedPayload
from fantasy_core.errors import (
    FeedUnavailable,
    InvalidConfiguration,
    InvalidFeedData,
    UnknownSlate,
)
from fantasy_core.lineups import Position
from fantasy_core.scoring import PRESETS
from fantasy_core.stats import FeedSnapshot, GameStatus, StatLine, validate_snapshot
from support.settable_clock import SettableClock
from support.sportsdataio_server import (
    Payload,
    SportsDataIOServer,
    nflverse_id,
    player_number,
    serving,
)

API_KEY = "local-test-key-7f3a"
WEEK1 = "nfl-2025-reg-wk01"
WEEK2 = "nfl-2025-reg-wk02"
SCORES = "/v3/nfl/scores/json/ScoresByWeek/2025REG/1"
PLAYERS = "/v3/nfl/stats/json/PlayerGameStatsByWeek/2025REG/1"
DEFENSES = "/v3/nfl/stats/json/FantasyDefenseByGame/2025REG/1"
SALARIES = "/v3/nfl/projections/json/PlayerGameProjectionStatsByWeek/2025REG/1"
# The week's first game (Thursday night, 00:15 UTC Friday) is over; the others have not begun.
THURSDAY_DONE = datetime(2025, 9, 5, 3, 30, tzinfo=UTC)
WEEK1_DONE = datetime(2025, 9, 10, tzinfo=UTC)
FUMBLES_LOST = ("sack_fumbles_lost", "rushing_fumbles_lost", "receiving_fumbles_lost")


@pytest.fixture(scope="module")
def clock() -> SettableClock:
    return SettableClock(THURSDAY_DONE)


@pytest.fixture(scope="module")
def replay(nflverse_player_stats_csv: Path, clock: SettableClock) -> ReplayFeed:
    return ReplayFeed(nflverse_player_stats_csv, clock)


@pytest.fixture(scope="module")
def server(replay: ReplayFeed) -> Iterator[SportsDataIOServer]:
    with serving(replay, API_KEY) as running:
        yield running


@pytest.fixture(autouse=True)
def clean(server: SportsDataIOServer, clock: SettableClock) -> Iterator[None]:
    server.reset()
    clock.now = THURSDAY_DONE
    yield
    assert server.errors == []


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    # One client for the module: building one (its TLS context) costs more than a request.
    with httpx.Client() as client:
        yield client


@pytest.fixture
def feed(
    server: SportsDataIOServer, clock: SettableClock, sleeps: list[float], http: httpx.Client
) -> Iterator[SportsDataIOFeed]:
    opened = SportsDataIOFeed(server.url, API_KEY, client=http, sleep=sleeps.append, clock=clock)
    with opened:
        yield opened


def edit_first(change: Callable[[dict[str, object]], None]) -> Callable[[Payload], object]:
    """A rewrite changing the payload's first record in place."""

    def rewrite(payload: Payload) -> object:
        assert isinstance(payload, list)
        assert payload
        change(payload[0])
        return payload

    return rewrite


def set_first(**fields: object) -> Callable[[Payload], object]:
    return edit_first(lambda record: record.update(fields))


def drop_first(field: str) -> Callable[[Payload], object]:
    return edit_first(lambda record: record.pop(field))


def first_record(server: SportsDataIOServer, path: str) -> dict[str, object]:
    status, _, body = server.answer(path, API_KEY)
    assert status == 200
    records = json.loads(body)
    assert isinstance(records, list)
    record = records[0]
    assert isinstance(record, dict)
    server.requests.clear()
    return record


def line_of(snapshot: FeedSnapshot, player_id: str) -> StatLine:
    (line,) = [line for line in snapshot.lines if line.player_id == player_id]
    return line


# --- The mapping table ----------------------------------------------------------------------

PLAYER_FIELDS_SENT = {
    "PassingCompletions": 21.0,
    "PassingAttempts": 32.0,
    "PassingYards": 287.0,
    "PassingTouchdowns": 3.0,
    "PassingInterceptions": 2.0,
    "RushingAttempts": 7.0,
    "RushingYards": -4.0,
    "RushingTouchdowns": 11.0,
    "ReceivingTargets": 5.0,
    "Receptions": 4.0,
    "ReceivingYards": 36.0,
    "ReceivingTouchdowns": 13.0,
    "FumblesLost": 6.0,
    "TwoPointConversionPasses": 17.0,
    "TwoPointConversionRuns": 19.0,
    "TwoPointConversionReceptions": 23.0,
    "PuntReturnTouchdowns": 100.0,
    "KickReturnTouchdowns": 200.0,
    "BlockedKickReturnTouchdowns": 400.0,
    "FieldGoalReturnTouchdowns": 800.0,
    "FumbleReturnTouchdowns": 29.0,
}
PLAYER_KEYS_EXPECTED = {
    "completions": 21,
    "attempts": 32,
    "passing_yards": 287,
    "passing_tds": 3,
    "passing_interceptions": 2,
    "carries": 7,
    "rushing_yards": -4,
    "rushing_tds": 11,
    "targets": 5,
    "receptions": 4,
    "receiving_yards": 36,
    "receiving_tds": 13,
    "rushing_fumbles_lost": 6,
    "passing_2pt_conversions": 17,
    "rushing_2pt_conversions": 19,
    "receiving_2pt_conversions": 23,
    "special_teams_tds": 1500,
    "fumble_recovery_tds": 29,
}


def test_each_player_field_goes_to_its_nflverse_key(
    feed: SportsDataIOFeed, server: SportsDataIOServer
) -> None:
    record = first_record(server, PLAYERS)
    server.rewrite("PlayerGameStatsByWeek", set_first(**PLAYER_FIELDS_SENT))
    line = line_of(feed.snapshot(WEEK1), str(record["PlayerID"]))
    assert line.as_dict() == {key: Fraction(value) for key, value in PLAYER_KEYS_EXPECTED.items()}
    assert (line.team, line.game_id) == (record["Team"], str(record["ScoreID"]))


def test_each_team_defence_field_goes_to_its_dst_key(
    feed: SportsDataIOFeed, server: SportsDataIOServer
) -> None:
    record = first_record(server, DEFENSES)
    sent = {
        "Sacks": 5.0,
        "Interceptions": 2.0,
        "FumblesRecovered": 3.0,
        "Safeties": 1.0,
        "BlockedKicks": 4.0,
        "InterceptionReturnTouchdowns": 10.0,
        "FumbleReturnTouchdowns": 20.0,
        "KickReturnTouchdowns": 100.0,
        "PuntReturnTouchdowns": 200.0,
        "BlockedKickReturnTouchdowns": 400.0,
        "FieldGoalReturnTouchdowns": 800.0,
        "PointsAllowed": 17.0,
    }
    server.rewrite("FantasyDefenseByGame", set_first(**sent))
    line = line_of(feed.snapshot(WEEK1), f"DST-{record['Team']}")
    assert line.as_dict() == {
        "dst_sacks": 5,
        "dst_interceptions": 2,
        "dst_fumble_recoveries": 3,
        "dst_safeties": 1,
        "dst_blocked_kicks": 4,
        "dst_defensive_tds": 30,
        "dst_return_tds": 1500,
        "dst_points_allowed": 17,
    }


def test_zero_stats_are_left_out_but_a_shutout_is_kept(
    feed: SportsDataIOFeed, server: SportsDataIOServer
) -> None:
    record = first_record(server, DEFENSES)
    zeros = {name: 0.0 for name, value in record.items() if isinstance(value, float)}
    server.rewrite("FantasyDefenseByGame", set_first(**(zeros | {"Sacks": 2.0})))
    line = line_of(feed.snapshot(WEEK1), f"DST-{record['Team']}")
    assert line.as_dict() == {"dst_sacks": 2, "dst_points_allowed": 0}


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_one_fumbles_lost_total_scores_as_nflverse_three_kinds_do_under_every_preset(
    name: str,
) -> None:
    line = {"passing_yards": Fraction(250), "receptions": Fraction(5), "rushing_yards": 40}
    split = {**line, "sack_fumbles_lost": 1, "rushing_fumbles_lost": 2, "receiving_fumbles_lost": 3}
    folded = {**line, "rushing_fumbles_lost": 6}
    rules = PRESETS[name]
    assert rules.score(split) == rules.score(folded)
    assert rules.score(folded) != rules.score(line)  # fumbles lost do count


# --- Game status ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "is_over", "expected"),
    [
        ("Scheduled", False, GameStatus.SCHEDULED),
        ("Delayed", False, GameStatus.SCHEDULED),
        ("InProgress", False, GameStatus.IN_PROGRESS),
        ("Suspended", False, GameStatus.IN_PROGRESS),
        ("Final", True, GameStatus.FINAL),
        ("F/OT", True, GameStatus.FINAL),
        ("Postponed", False, GameStatus.POSTPONED),
        ("Postponed", True, GameStatus.POSTPONED),
        ("Canceled", False, GameStatus.CANCELLED),
    ],
)
def test_each_provider_status_maps_to_a_game_status(
    feed: SportsDataIOFeed,
    server: SportsDataIOServer,
    status: str,
    is_over: bool,
    expected: GameStatus,
) -> None:
    score_id = str(first_record(server, SCORES)["ScoreID"])
    server.rewrite("ScoresByWeek", set_first(Status=status, IsOver=is_over))
    snapshot = feed.snapshot(WEEK1)
    game = snapshot.game(score_id)
    assert game is not None
    assert game.status is expected
    has_lines = any(line.game_id == score_id for line in snapshot.lines)
    assert has_lines is (expected in (GameStatus.IN_PROGRESS, GameStatus.FINAL))


@pytest.mark.parametrize("status", ["Forfeit", "Halftime", "final", "FINAL", "Closed"])
def test_an_unknown_status_is_refused_naming_it(
    feed: SportsDataIOFeed, server: SportsDataIOServer, status: str
) -> None:
    server.rewrite("ScoresByWeek", set_first(Status=status))
    with pytest.raises(InvalidFeedData, match=rf"{SCORES} record 0 field Status: .*'{status}'"):
        feed.snapshot(WEEK1)


@pytest.mark.parametrize(
    ("status", "is_over"),
    [("Final", False), ("F/OT", False), ("InProgress", True), ("Scheduled", True)],
)
def test_a_status_contradicting_is_over_is_refused(
    feed: SportsDataIOFeed, server: SportsDataIOServer, status: str, is_over: bool
) -> None:
    server.rewrite("ScoresByWeek", set_first(Status=status, IsOver=is_over))
    with pytest.raises(InvalidFeedData, match=rf"record 0 field IsOver: .*{status!r}"):
        feed.snapshot(WEEK1)


# --- Malformed payloads ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("endpoint", "change", "message"),
    [
        (
            "PlayerGameStatsByWeek",
            set_first(Receptions=2.5),
            "field Receptions: expected a whole number, got 2.5",
        ),
        ("PlayerGameStatsByWeek", set_first(PassingYards=287.1), "field PassingYards: .*got 287.1"),
        ("PlayerGameStatsByWeek", set_first(Receptions=None), "field Receptions: .*got None"),
        ("PlayerGameStatsByWeek", set_first(PassingYards="287"), "field PassingYards: .*got '287'"),
        ("PlayerGameStatsByWeek", set_first(Receptions=True), "field Receptions: .*got True"),
        ("PlayerGameStatsByWeek", drop_first("FumblesLost"), "field FumblesLost: missing"),
        ("PlayerGameStatsByWeek", set_first(PlayerID=None), "field PlayerID: expected an integer"),
        (
            "PlayerGameStatsByWeek",
            set_first(ScoreID=7.0),
            "field ScoreID: expected an integer, got 7.0",
        ),
        ("PlayerGameStatsByWeek", set_first(Team=""), "field Team: expected non-empty printable"),
        ("PlayerGameStatsByWeek", set_first(Week=2), r"field Week: expected 1 \(the week asked"),
        ("PlayerGameStatsByWeek", set_first(Updated="last night"), "field Updated: .*Eastern"),
        ("FantasyDefenseByGame", set_first(PointsAllowed=-0.5), "field PointsAllowed: .*-0.5"),
        ("FantasyDefenseByGame", set_first(SeasonType=3), "field SeasonType: expected 1"),
        ("ScoresByWeek", set_first(IsOver="true"), "field IsOver: expected true or false"),
        ("ScoresByWeek", set_first(DateTimeUTC="2025-09-07T17:00:00+00:00"), "field DateTimeUTC"),
        ("ScoresByWeek", set_first(DateTimeUTC="2025-09-07"), "field DateTimeUTC"),
        ("ScoresByWeek", set_first(LastUpdated=None), "field LastUpdated: .*got None"),
        ("ScoresByWeek", set_first(HomeTeam=None), "field HomeTeam"),
        ("ScoresByWeek", set_first(HomeTeam="NO", AwayTeam="NO"), "record 0: .*cannot play itself"),
        ("ScoresByWeek", lambda payload: {"Scores": payload}, "expected a JSON array of records"),
        ("ScoresByWeek", lambda payload: [7], "record 0: expected an object, got 7"),
    ],
)
def test_a_malformed_record_is_refused_naming_endpoint_record_field_and_value(
    feed: SportsDataIOFeed,
    server: SportsDataIOServer,
    endpoint: str,
    change: Callable[[Payload], object],
    message: str,
) -> None:
    server.rewrite(endpoint, change)
    with pytest.raises(InvalidFeedData, match=rf"{endpoint}/2025REG/1(?: record 0)?.*{message}"):
        feed.snapshot(WEEK1)


@pytest.mark.parametrize(
    ("placeholder", "text", "message"),
    [
        ('"Receptions": 4.0', '"Receptions": NaN', "NaN is not a number JSON allows"),
        ('"Receptions": 4.0', '"Receptions": 1e999', "field Receptions: .*got inf"),
        ('"Team": "', '"Team": "XXX", "Team": "', "key 'Team' appears twice"),
    ],
)
def test_json_that_python_would_accept_but_is_not_a_number_or_is_ambiguous_is_refused(
    feed: SportsDataIOFeed, server: SportsDataIOServer, placeholder: str, text: str, message: str
) -> None:
    server.rewrite("PlayerGameStatsByWeek", set_first(Receptions=4.0))
    _, _, body = server.answer(PLAYERS, API_KEY)
    server.serve_raw("PlayerGameStatsByWeek", body.decode().replace(placeholder, text, 1).encode())
    with pytest.raises(InvalidFeedData, match=message):
        feed.snapshot(WEEK1)


def test_a_body_that_is_not_json_is_refused_and_counts_as_the_feed_being_unreadable(
    feed: SportsDataIOFeed, server: SportsDataIOServer
) -> None:
    server.serve_raw("ScoresByWeek", b"<html>Service temporarily unavailable</html>")
    with pytest.raises(InvalidFeedData, match=f"{SCORES}: not the JSON documented") as refused:
        feed.snapshot(WEEK1)
    # Ingestion treats an unreadable provider as down: it alerts and the contest waits.
    assert isinstance(refused.value, FeedUnavailable)


def test_contradictions_across_records_reach_validation_with_the_rule_named(
    feed: SportsDataIOFeed, server: SportsDataIOServer
) -> None:
    record = first_record(server, PLAYERS)
    server.rewrite("PlayerGameStatsByWeek", set_first(Team="XYZ"))
    problems = validate_snapshot(feed.snapshot(WEEK1))
    assert [(p.rule, p.player_id) for p in problems] == [("unknown_team", str(record["PlayerID"]))]


def test_lines_of_a_game_that_has_not_started_are_dropped(
    feed: SportsDataIOFeed, server: SportsDataIOServer
) -> None:
    # The provider may list placeholder records (here: real-looking ones) before kickoff.
    server.rewrite("ScoresByWeek", set_first(Status="Scheduled", IsOver=False))
    snapshot = feed.snapshot(WEEK1)
    assert snapshot.lines == ()
    assert all(game.status is GameStatus.SCHEDULED for game in snapshot.games)


# --- Transport: retries, timeouts, refusals -------------------------------------------------


def test_server_errors_are_retried_with_doubling_backoff(
    feed: SportsDataIOFeed, server: SportsDataIOServer, sleeps: list[float]
) -> None:
    server.fail(2, 500)
    assert feed.snapshot(WEEK1).games
    assert sleeps == [0.5, 1.0]
    assert len(server.requests) == 2 + 3


def test_a_provider_down_for_good_is_unavailable_after_the_last_retry(
    feed: SportsDataIOFeed, server: SportsDataIOServer, sleeps: list[float]
) -> None:
    server.fail(10, 503)
    with pytest.raises(FeedUnavailable, match=r"no answer after 4 attempts; last: HTTP 503"):
        feed.snapshot(WEEK1)
    assert sleeps == [0.5, 1.0, 2.0]
    assert len(server.requests) == 4


def test_rate_limiting_is_honoured_in_seconds(
    feed: SportsDataIOFeed, server: SportsDataIOServer, sleeps: list[float]
) -> None:
    server.fail(1, 429, retry_after="7")
    assert feed.slates()
    assert sleeps == [7.0]


def test_rate_limiting_is_honoured_as_an_http_date(
    feed: SportsDataIOFeed, server: SportsDataIOServer, sleeps: list[float], clock: SettableClock
) -> None:
    server.fail(1, 429, retry_after=format_datetime(clock.now + timedelta(seconds=12), usegmt=True))
    assert feed.slates()
    assert sleeps == [12.0]


def test_a_wait_longer_than_the_bound_gives_up_at_once(
    feed: SportsDataIOFeed, server: SportsDataIOServer, sleeps: list[float]
) -> None:
    server.fail(1, 429, retry_after="3600")
    with pytest.raises(FeedUnavailable, match="HTTP 429, asked to wait 3600s, more than the 30s"):
        feed.slates()
    assert sleeps == []
    assert len(server.requests) == 1


def test_a_provider_hanging_past_the_timeout_is_retried_then_unavailable(
    server: SportsDataIOServer, sleeps: list[float], clock: SettableClock
) -> None:
    server.hang(2, seconds=2.0)
    slow = SportsDataIOFeed(
        server.url, API_KEY, timeout=0.2, retries=1, sleep=sleeps.append, clock=clock
    )
    with slow, pytest.raises(FeedUnavailable, match="no answer after 2 attempts; last: timed out"):
        slow.slates()
    assert sleeps == [0.5]


def test_a_provider_that_cannot_be_reached_is_unavailable(
    sleeps: list[float], clock: SettableClock
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    unreachable = SportsDataIOFeed(
        f"http://127.0.0.1:{port}", API_KEY, retries=2, sleep=sleeps.append, clock=clock
    )
    with unreachable, pytest.raises(FeedUnavailable, match="connection failed"):
        unreachable.snapshot(WEEK1)
    assert sleeps == [0.5, 1.0]


def test_a_refused_api_key_is_unavailable_without_retrying_or_echoing_the_key(
    server: SportsDataIOServer, sleeps: list[float], clock: SettableClock
) -> None:
    wrong = SportsDataIOFeed(server.url, "wrong-key-1234", sleep=sleeps.append, clock=clock)
    with wrong, pytest.raises(FeedUnavailable, match="API key refused") as refused:
        wrong.snapshot(WEEK1)
    assert "HTTP 401" in str(refused.value)
    assert "wrong-key-1234" not in str(refused.value)
    assert (sleeps, server.requests) == ([], [(SCORES, "wrong-key-1234")])


def test_a_forbidden_answer_is_a_refused_key_too(
    feed: SportsDataIOFeed, server: SportsDataIOServer
) -> None:
    server.fail(1, 403)
    with pytest.raises(FeedUnavailable, match=r"API key refused by SportsDataIO \(HTTP 403\)"):
        feed.player_pool(WEEK1)
    assert len(server.requests) == 1


def test_a_client_error_is_not_retried(
    server: SportsDataIOServer, sleeps: list[float], clock: SettableClock
) -> None:
    lost = SportsDataIOFeed(f"{server.url}/wrong-prefix", API_KEY, sleep=sleeps.append, clock=clock)
    with lost, pytest.raises(FeedUnavailable, match="HTTP 404, not retried"):
        lost.slates()
    assert (sleeps, len(server.requests)) == ([], 1)


def test_the_key_goes_in_the_subscription_header_of_a_shared_client(
    server: SportsDataIOServer, clock: SettableClock
) -> None:
    with httpx.Client() as client:
        SportsDataIOFeed(server.url, API_KEY, client=client, clock=clock).close()
        with SportsDataIOFeed(server.url, API_KEY, client=client, clock=clock) as shared:
            shared.slates()
        assert not client.is_closed  # the caller's client stays the caller's to close
    assert server.requests == [
        ("/v3/nfl/scores/json/CurrentSeason", API_KEY),
        ("/v3/nfl/scores/json/Schedules/2025REG", API_KEY),
    ]


def test_the_backoff_doubles_up_to_its_bound() -> None:
    retry = FetchRetry(retries=6, backoff=0.5, max_delay=4.0)
    assert [retry.delay(attempt) for attempt in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


# --- Slates, versions, configuration ----------------------------------------------------------


def test_the_slates_are_the_weeks_of_the_current_regular_season(
    feed: SportsDataIOFeed, replay: ReplayFeed
) -> None:
    assert feed.slates() == replay.slates()


def test_the_slates_of_configured_seasons(server: SportsDataIOServer, clock: SettableClock) -> None:
    with SportsDataIOFeed(server.url, API_KEY, seasons=["2025REG", "2024REG"], clock=clock) as f:
        assert f.slates()[0] == WEEK1
        assert len(f.slates()) == 8
    assert "/v3/nfl/scores/json/CurrentSeason" not in {path for path, _ in server.requests}


@pytest.mark.parametrize(
    "slate_id",
    ["nfl-2025-reg-wk1", "NFL-2025-REG-WK01", "nfl-2025-reg-wk01 ", "nba-2025-reg-wk01", ""],
)
def test_a_slate_id_of_another_form_is_unknown_without_asking_the_provider(
    feed: SportsDataIOFeed, server: SportsDataIOServer, slate_id: str
) -> None:
    with pytest.raises(UnknownSlate):
        feed.snapshot(slate_id)
    with pytest.raises(UnknownSlate):
        feed.player_pool(slate_id)
    assert server.requests == []


def test_a_week_without_games_is_unknown(feed: SportsDataIOFeed) -> None:
    with pytest.raises(UnknownSlate, match="nfl-2025-reg-wk17"):
        feed.snapshot("nfl-2025-reg-wk17")


def test_the_version_is_the_newest_provider_timestamp_in_utc_seconds(
    feed: SportsDataIOFeed, server: SportsDataIOServer
) -> None:
    # 12:00 in New York on 9 September 2025 (daylight saving time) is 16:00 UTC.
    server.rewrite("ScoresByWeek", set_first(LastUpdated="2025-09-09T12:00:00"))
    newest = datetime(2025, 9, 9, 16, 0, tzinfo=UTC)
    assert feed.snapshot(WEEK1).version == int(newest.timestamp())


def test_the_version_grows_as_the_week_is_played(
    feed: SportsDataIOFeed, clock: SettableClock
) -> None:
    versions = []
    for moment in (datetime(2025, 9, 1, tzinfo=UTC), THURSDAY_DONE, WEEK1_DONE):
        clock.now = moment
        versions.append(feed.snapshot(WEEK1).version)
    assert versions == sorted(set(versions))


@pytest.mark.parametrize(
    "settings",
    [
        {"base_url": "ftp://sportsdata.example"},
        {"base_url": "no scheme"},
        {"api_key": ""},
        {"api_key": "two\nlines"},
        {"retries": -1},
        {"timeout": 0},
        {"backoff": -0.5},
        {"seasons": ["2025"]},
        {"seasons": ["2025reg"]},
    ],
)
def test_unusable_settings_are_refused_at_construction(settings: dict[str, object]) -> None:
    arguments: dict[str, object] = {"base_url": "https://api.sportsdata.io", "api_key": "k"}
    arguments.update(settings)
    with pytest.raises(InvalidConfiguration):
        SportsDataIOFeed(**arguments)  # type: ignore[arg-type]


# --- A real week, round trip --------------------------------------------------------------------


def replay_line_as_served(line: StatLine) -> dict[str, Fraction]:
    """The replay's line as the provider reports it: one FumblesLost total (module docstring)."""
    stats = {key: value for key, value in line.stats if key not in FUMBLES_LOST}
    fumbles = sum((line.value(key) for key in FUMBLES_LOST), Fraction(0))
    return stats | ({"rushing_fumbles_lost": fumbles} if fumbles else {})


def our_id(replay_player_id: str) -> str:
    if replay_player_id.startswith("DST-"):
        return replay_player_id
    return str(player_number(replay_player_id))


@pytest.fixture(scope="module")
def week1_both(
    server: SportsDataIOServer, replay: ReplayFeed, clock: SettableClock, http: httpx.Client
) -> tuple[FeedSnapshot, FeedSnapshot]:
    """Week 1 once every game is final, from both feeds (the values are immutable)."""
    clock.now = WEEK1_DONE
    with SportsDataIOFeed(server.url, API_KEY, client=http, clock=clock) as feed:
        return feed.snapshot(WEEK1), replay.snapshot(WEEK1)


def test_the_final_week_1_round_trips_game_for_game_and_line_for_line(
    week1_both: tuple[FeedSnapshot, FeedSnapshot], server: SportsDataIOServer
) -> None:
    ours, theirs = week1_both
    assert validate_snapshot(ours) == ()
    assert ours.all_final_or_off()
    assert {
        (server.game_id(int(g.game_id)), g.home, g.away, g.kickoff, g.status) for g in ours.games
    } == {(g.game_id, g.home, g.away, g.kickoff, g.status) for g in theirs.games}
    assert {
        (line.player_id, line.team, server.game_id(int(line.game_id))): line.as_dict()
        for line in ours.lines
    } == {
        (our_id(line.player_id), line.team, line.game_id): replay_line_as_served(line)
        for line in theirs.lines
    }
    assert len(ours.lines) == len(theirs.lines) > 1000


@pytest.mark.parametrize("name", ["ppr", *sorted(set(PRESETS) - {"ppr"})])
def test_every_player_of_the_final_week_1_scores_as_in_the_replay(
    week1_both: tuple[FeedSnapshot, FeedSnapshot], name: str
) -> None:
    ours, theirs = week1_both
    rules = PRESETS[name]
    our_points = {pid: rules.score(stats) for pid, stats in ours.lines_by_player().items()}
    their_points = {
        our_id(pid): rules.score(stats) for pid, stats in theirs.lines_by_player().items()
    }
    assert our_points == their_points
    assert sum(our_points.values()) > 1000


def test_the_player_pool_round_trips_with_draftkings_positions_and_salaries(
    feed: SportsDataIOFeed, replay: ReplayFeed, server: SportsDataIOServer
) -> None:
    ours = feed.player_pool(WEEK2)
    theirs = replay.player_pool(WEEK2)
    assert {
        (nflverse_id(int(p.player_id)) if p.position is not Position.DST else p.player_id): (
            p.name,
            p.position,
            p.team,
            server.game_id(int(p.game_id)),
            p.salary,
        )
        for p in ours.players.values()
    } == {
        p.player_id: (p.name, p.position, p.team, p.game_id, p.salary)
        for p in theirs.players.values()
    }
    assert len({p.salary for p in ours.players.values()}) > 10


def test_a_player_not_on_draftkings_is_not_in_the_pool(
    feed: SportsDataIOFeed, server: SportsDataIOServer
) -> None:
    record = first_record(server, SALARIES)
    server.rewrite(
        "PlayerGameProjectionStatsByWeek",
        set_first(DraftKingsSalary=None, DraftKingsPosition=None),
    )
    assert feed.player_pool(WEEK1).get(str(record["PlayerID"])) is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (set_first(DraftKingsPosition="FB"), "record 0: unknown position 'FB'"),
        (set_first(DraftKingsSalary=0), "record 0: salary must be a positive whole number"),
        (set_first(DraftKingsSalary=None), "record 0 field DraftKingsSalary: expected a salary"),
        (set_first(ScoreID=1), "record 0 field ScoreID: expected a game of the week"),
        (set_first(Team="XYZ"), "record 0 field ScoreID: expected a game of the week that XYZ"),
    ],
)
def test_a_pool_record_that_cannot_be_a_slate_player_is_refused(
    feed: SportsDataIOFeed,
    server: SportsDataIOServer,
    change: Callable[[Payload], object],
    message: str,
) -> None:
    server.rewrite("PlayerGameProjectionStatsByWeek", change)
    with pytest.raises(InvalidFeedData, match=rf"{SALARIES} {message}"):
        feed.player_pool(WEEK1)


def test_a_duplicate_pool_player_is_refused(
    feed: SportsDataIOFeed, server: SportsDataIOServer
) -> None:
    def twice(payload: Payload) -> object:
        assert isinstance(payload, list)
        return [*payload, payload[0]]

    server.rewrite("PlayerGameProjectionStatsByWeek", twice)
    with pytest.raises(InvalidFeedData, match=r"player pool of nfl-2025-reg-wk01: .*twice"):
        feed.player_pool(WEEK1)


def test_the_pool_has_a_dst_for_every_team_of_the_week(feed: SportsDataIOFeed) -> None:
    pool = feed.player_pool(WEEK1)
    games = {game.game_id: game for game in feed.snapshot(WEEK1).games}
    dsts = {p.player_id: p for p in pool.players.values() if p.position is Position.DST}
    assert set(dsts) == {f"DST-{team}" for game in games.values() for team in game.teams}
    assert all(dst.team in games[dst.game_id].teams for dst in dsts.values())
    assert {p.position for p in pool.players.values()} == {
        Position.QB,
        Position.RB,
        Position.WR,
        Position.TE,
        Position.DST,
    }


def test_the_schedule_gives_each_week_its_games_kickoffs_from_the_schedules_endpoint(
    feed: SportsDataIOFeed, server: SportsDataIOServer
) -> None:
    [week1] = [s for s in feed.schedules() if s.slate_id == WEEK1]
    games = feed.snapshot(WEEK1).games
    assert sorted(week1.kickoffs) == sorted(game.kickoff for game in games)
    assert week1.sport == "nfl"


def test_a_game_without_a_time_yet_is_left_out_of_the_schedule(
    feed: SportsDataIOFeed, server: SportsDataIOServer
) -> None:
    [before] = [s for s in feed.schedules() if s.slate_id == WEEK1]
    server.rewrite("Schedules", set_first(DateTimeUTC=None))  # the provider's "TBD"
    [after] = [s for s in feed.schedules() if s.slate_id == WEEK1]
    assert len(after.kickoffs) == len(before.kickoffs) - 1


def test_a_schedule_time_that_is_not_utc_iso_is_refused_naming_the_field(
    feed: SportsDataIOFeed, server: SportsDataIOServer
) -> None:
    server.rewrite("Schedules", set_first(DateTimeUTC="Thursday night"))
    with pytest.raises(MalformedPayload, match="field DateTimeUTC"):
        feed.schedules()
