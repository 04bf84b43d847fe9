"""A stats feed over SportsDataIO's NFL API (v3), its fields mapped to the canonical nflverse keys.

Slates: `nfl-<year>-<reg|pre|post>-wk<NN>` (the replay feed's ids) is week NN of SportsDataIO's
season "<year><REG|PRE|POST>": "nfl-2025-reg-wk01" is season 2025REG, week 1.

Endpoints (JSON; the API key goes in the Ocp-Apim-Subscription-Key header), season S, week W:
- snapshot(): /v3/nfl/scores/json/ScoresByWeek/S/W (the games), then
  /v3/nfl/stats/json/PlayerGameStatsByWeek/S/W and /v3/nfl/stats/json/FantasyDefenseByGame/S/W
  (the lines). Scores are read first on purpose: the three answers are not one atomic view,
  and in this order a game's status is never newer than its lines, so a game seen FINAL comes
  with its final lines (a game that kicked off between the requests loses nothing either:
  its early lines are dropped with the not-started games' and come with the next poll).
- player_pool(): ScoresByWeek/S/W, then /v3/nfl/projections/json/PlayerGameProjectionStatsByWeek
  /S/W and /v3/nfl/projections/json/FantasyDefenseProjectionsByGame/S/W, which carry every
  player's DraftKings position and salary before kickoff (a player without one is not on
  DraftKings' slate and not in the pool).
- slates(): /v3/nfl/scores/json/Schedules/S for each configured season; by default the
  regular season of /v3/nfl/scores/json/CurrentSeason. Bye-week entries are skipped.
- schedules(): the same Schedules answers, each week's games' DateTimeUTC as its kick-offs
  (a game without a time yet, DateTimeUTC null, is left out; a week with none is not listed).

Ids: a game is its ScoreID and a player their PlayerID, as decimal text; a team defence is
`DST-<Team>` (decision 0008), with one line per team and game.

Lines: only a game that has started (IN_PROGRESS or FINAL) has lines. The provider's records
for a game that has not (placeholders before kickoff, a postponed or cancelled game) are
dropped, so the contest's policy decides for its players. A record whose ScoreID is no game of
the week is kept: validate_snapshot reports it (unknown_game), as it reports every other rule
across records. Zero stats are left out (an absent key is 0) except dst_points_allowed: a
shutout is a stat, and scores the best tier.

Mapping: PLAYER_STATS and TEAM_DEFENSE_STATS below, one row per provider field read; rows that
name the same key are summed. The rows that are not one field to one key:
- FumblesLost -> rushing_fumbles_lost. SportsDataIO reports one total; nflverse splits it into
  sack_, rushing_ and receiving_fumbles_lost. Every preset weighs the three alike (-2 nflverse
  and FanDuel, -1 DraftKings) and reads them nowhere else, so the total under one of them
  scores the same points under every preset (the unit tests check each preset).
- special_teams_tds: punt, kick, blocked-kick and field-goal returns for a touchdown, as
  nflverse counts every return touchdown on a kicking play.
- FumbleReturnTouchdowns -> fumble_recovery_tds (DraftKings and FanDuel score it). The
  provider's OffensiveFumbleRecoveryTouchdowns is deprecated and not read.
- Team defence: dst_defensive_tds is interception plus fumble returns, dst_return_tds every
  kicking-play return (the presets' meanings). PointsAllowed is every point the opponent
  scored, which is what the replay feed approximates; PointsAllowedByDefenseSpecialTeams
  (which leaves out a pick-six thrown by the offence) is not read.

Status: STATUSES maps the provider's Status values (SportsDataIO's "Process Guide: Game
Status") with the IsOver flag each must come with; a contradiction is refused. "Delayed" has
not started (SCHEDULED: the lock still counts from its kickoff time), "Suspended" has started
and is not over (IN_PROGRESS: the contest waits). "Forfeit" and any value not in the table
are refused: an outcome the NFL has no precedent for is an operator's decision, not a guess.

Version: the newest Score LastUpdated or PlayerGame Updated in the snapshot (US Eastern time,
read as UTC), in whole seconds since the Unix epoch: it grows as the provider updates. It is
the provider's: one that goes back is reported by validate_snapshot (version_regressed), not
smoothed here. FantasyDefenseGame records carry no timestamp; their numbers change with the
plays that update Score and PlayerGame records. In the hour repeated when daylight saving time
ends, an Eastern timestamp is ambiguous and is read as the first of the two.

Errors: every field read is checked (sportsdataio_wire): a payload of another shape is
MalformedPayload, an InvalidFeedData and a FeedUnavailable, naming endpoint, record, field and
value. An unreachable, slow, failing (5xx) or rate-limiting (429) provider is retried with
backoff, then FeedUnavailable; a refused API key (401/403) is FeedUnavailable ("API key
refused") at once.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from types import MappingProxyType, TracebackType
from typing import Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from adapters.feeds.sportsdataio_wire import (
    FetchRetry,
    MalformedPayload,
    PlayerGameRecord,
    ScheduleEntry,
    ScoreRecord,
    SportsDataIOApi,
    TeamDefenseRecord,
    Week,
    current_season,
    defense_salary_records,
    player_game_records,
    player_salary_records,
    schedule_entries,
    score_records,
    team_defense_records,
)
from fantasy_core.calendar import SlateSchedule
from fantasy_core.errors import (
    InvalidConfiguration,
    InvalidFeedData,
    InvalidPlayerPool,
    InvalidStatLine,
    UnknownSlate,
)
from fantasy_core.lineups import PlayerPool, Position, SlatePlayer, dst_player_id
from fantasy_core.scoring.presets import (
    DST_BLOCKED_KICKS,
    DST_DEFENSIVE_TDS,
    DST_FUMBLE_RECOVERIES,
    DST_INTERCEPTIONS,
    DST_POINTS_ALLOWED,
    DST_RETURN_TDS,
    DST_SACKS,
    DST_SAFETIES,
)
from fantasy_core.stats import FeedSnapshot, Game, GameStatus, StatLine

PLAYER_STATS: tuple[tuple[str, str], ...] = (
    # (SportsDataIO PlayerGame field, nflverse player_stats key)
    ("PassingCompletions", "completions"),
    ("PassingAttempts", "attempts"),
    ("PassingYards", "passing_yards"),
    ("PassingTouchdowns", "passing_tds"),
    ("PassingInterceptions", "passing_interceptions"),
    ("RushingAttempts", "carries"),
    ("RushingYards", "rushing_yards"),
    ("RushingTouchdowns", "rushing_tds"),
    ("ReceivingTargets", "targets"),
    ("Receptions", "receptions"),
    ("ReceivingYards", "receiving_yards"),
    ("ReceivingTouchdowns", "receiving_tds"),
    ("FumblesLost", "rushing_fumbles_lost"),  # the total: see the module docstring
    ("TwoPointConversionPasses", "passing_2pt_conversions"),
    ("TwoPointConversionRuns", "rushing_2pt_conversions"),
    ("TwoPointConversionReceptions", "receiving_2pt_conversions"),
    ("PuntReturnTouchdowns", "special_teams_tds"),
    ("KickReturnTouchdowns", "special_teams_tds"),
    ("BlockedKickReturnTouchdowns", "special_teams_tds"),
    ("FieldGoalReturnTouchdowns", "special_teams_tds"),
    ("FumbleReturnTouchdowns", "fumble_recovery_tds"),
)
"""Every PlayerGame stat the feed reads, and the key it goes to; rows with one key are summed."""

TEAM_DEFENSE_STATS: tuple[tuple[str, str], ...] = (
    # (SportsDataIO FantasyDefenseGame field, DST key of scoring.presets)
    ("Sacks", DST_SACKS),
    ("Interceptions", DST_INTERCEPTIONS),
    ("FumblesRecovered", DST_FUMBLE_RECOVERIES),
    ("Safeties", DST_SAFETIES),
    ("BlockedKicks", DST_BLOCKED_KICKS),
    ("InterceptionReturnTouchdowns", DST_DEFENSIVE_TDS),
    ("FumbleReturnTouchdowns", DST_DEFENSIVE_TDS),
    ("KickReturnTouchdowns", DST_RETURN_TDS),
    ("PuntReturnTouchdowns", DST_RETURN_TDS),
    ("BlockedKickReturnTouchdowns", DST_RETURN_TDS),
    ("FieldGoalReturnTouchdowns", DST_RETURN_TDS),
    ("PointsAllowed", DST_POINTS_ALLOWED),
)
"""Every FantasyDefenseGame stat the feed reads, and the DST key it goes to."""

STATUSES: Mapping[str, tuple[GameStatus, bool | None]] = MappingProxyType(
    {
        # Status: (GameStatus, the IsOver it must come with; None: either)
        "Scheduled": (GameStatus.SCHEDULED, False),
        "Delayed": (GameStatus.SCHEDULED, False),
        "InProgress": (GameStatus.IN_PROGRESS, False),
        "Suspended": (GameStatus.IN_PROGRESS, False),
        "Final": (GameStatus.FINAL, True),
        "F/OT": (GameStatus.FINAL, True),
        "Postponed": (GameStatus.POSTPONED, None),
        "Canceled": (GameStatus.CANCELLED, None),
    }
)
"""The provider's game statuses this feed understands; any other value is refused."""

SCORES = "/v3/nfl/scores/json"
STATS = "/v3/nfl/stats/json"
PROJECTIONS = "/v3/nfl/projections/json"

_STARTED = frozenset({GameStatus.IN_PROGRESS, GameStatus.FINAL})
_SLATE_ID = re.compile(r"nfl-([0-9]{4})-(reg|pre|post)-wk([0-9]{2})")
_SEASON = re.compile(r"([0-9]{4})(REG|PRE|POST)")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)
_EASTERN = "America/New_York"

_Teams = Mapping[str, tuple[str, str]]  # a week's game ids -> (away, home)


def slate_week(slate_id: str) -> Week:
    """The SportsDataIO week a slate id names; UnknownSlate when it names none."""
    match = _SLATE_ID.fullmatch(slate_id) if isinstance(slate_id, str) else None
    if match is None:
        raise UnknownSlate(
            f"SportsDataIO has no slate {slate_id!r}: slate ids look like nfl-2025-reg-wk01"
        )
    year, kind, number = match.groups()
    return Week(int(year), kind.upper(), int(number))


def slate_id_of(week: Week) -> str:
    return f"nfl-{week.season}-{week.season_type.lower()}-wk{week.number:02d}"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SportsDataIOFeed:
    """A StatsFeed reading SportsDataIO's NFL API at `base_url` (module docstring).

    `client` may be an httpx.Client to share (it is then the caller's to close); `timeout` is
    per request, in seconds; `retries` further attempts follow a failed one, after `backoff`
    seconds doubling up to `max_delay` (or the provider's Retry-After, when it is within
    `max_delay`); `sleep` waits and `clock` reads the time (for Retry-After dates).
    `seasons` are the SportsDataIO season codes ("2025REG") slates() lists; by default the
    current regular season.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        client: httpx.Client | None = None,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
        max_delay: float = 30.0,
        seasons: Iterable[str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        _check_settings(base_url, api_key, timeout, retries, backoff, max_delay)
        self._seasons = None if seasons is None else tuple(_season(code) for code in seasons)
        try:
            self._eastern = ZoneInfo(_EASTERN)
        except ZoneInfoNotFoundError as error:
            raise InvalidConfiguration(
                f"the SportsDataIO feed reads US Eastern timestamps and needs the time zone "
                f"database ({_EASTERN}): {error}"
            ) from error
        self._api = SportsDataIOApi(
            base_url,
            api_key,
            client=client,
            timeout=timeout,
            retry=FetchRetry(retries, backoff, max_delay),
            sleep=sleep,
            clock=clock,
        )

    def close(self) -> None:
        self._api.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def slates(self) -> tuple[str, ...]:
        return tuple(sorted({slate_id for slate_id, _ in self._schedule_entries()}))

    def schedules(self) -> tuple[SlateSchedule, ...]:
        kickoffs: dict[str, list[datetime]] = {}
        for slate_id, entry in self._schedule_entries():
            if entry.kickoff is not None:
                kickoffs.setdefault(slate_id, []).append(entry.kickoff)
        return tuple(
            SlateSchedule(slate_id, "nfl", tuple(sorted(times)))
            for slate_id, times in sorted(kickoffs.items())
        )

    def _schedule_entries(self) -> Iterator[tuple[str, ScheduleEntry]]:
        seasons = self._seasons if self._seasons is not None else (self._current_season(),)
        for season in seasons:
            path = f"{SCORES}/Schedules/{season.season_code}"
            for entry in schedule_entries(self._api.get(path), path, season, self._eastern):
                yield slate_id_of(Week(season.season, season.season_type, entry.week)), entry

    def snapshot(self, slate_id: str) -> FeedSnapshot:
        week = slate_week(slate_id)
        scores = self._scores(slate_id, week)  # first: see "Endpoints" in the module docstring
        games = [_game(record) for record in scores]
        started = {game.game_id for game in games if game.status in _STARTED}
        not_started = {game.game_id for game in games} - started

        path = week.path(f"{STATS}/PlayerGameStatsByWeek")
        players = player_game_records(
            self._api.get(path), path, week, self._eastern, (field for field, _ in PLAYER_STATS)
        )
        path = week.path(f"{STATS}/FantasyDefenseByGame")
        defenses = team_defense_records(
            self._api.get(path), path, week, self._eastern, (f for f, _ in TEAM_DEFENSE_STATS)
        )
        lines = [
            *(_player_line(r) for r in players if str(r.score_id) not in not_started),
            *(_defense_line(r) for r in defenses if str(r.score_id) not in not_started),
        ]
        newest = max([*(r.updated for r in scores), *(r.updated for r in players)])
        with _refusing(f"snapshot of {slate_id}"):
            return FeedSnapshot(slate_id, (newest - _EPOCH) // _SECOND, games, lines)

    def player_pool(self, slate_id: str) -> PlayerPool:
        week = slate_week(slate_id)
        teams = {str(r.score_id): (r.away, r.home) for r in self._scores(slate_id, week)}
        players = [*self._pool_players(week, teams), *self._pool_defenses(week, teams)]
        with _refusing(f"player pool of {slate_id}"):
            return PlayerPool.of(slate_id, players)

    def _pool_players(self, week: Week, teams: _Teams) -> Iterator[SlatePlayer]:
        path = week.path(f"{PROJECTIONS}/PlayerGameProjectionStatsByWeek")
        for record in player_salary_records(self._api.get(path), path, week, self._eastern):
            if record.salary is None:
                continue  # not on DraftKings' slate
            game_id = _game_of(record.origin, record.team, record.score_id, teams)
            with _refusing(record.origin):
                yield SlatePlayer(
                    str(record.player_id),
                    record.name,
                    record.position,
                    record.team,
                    game_id,
                    record.salary,
                )

    def _pool_defenses(self, week: Week, teams: _Teams) -> Iterator[SlatePlayer]:
        path = week.path(f"{PROJECTIONS}/FantasyDefenseProjectionsByGame")
        for dst in defense_salary_records(self._api.get(path), path, week, self._eastern):
            if dst.salary is None:
                continue
            game_id = _game_of(dst.origin, dst.team, dst.score_id, teams)
            with _refusing(dst.origin):
                yield SlatePlayer(
                    dst_player_id(dst.team),
                    f"{dst.team} DST",
                    Position.DST,
                    dst.team,
                    game_id,
                    dst.salary,
                )

    def _scores(self, slate_id: str, week: Week) -> list[ScoreRecord]:
        path = week.path(f"{SCORES}/ScoresByWeek")
        records = score_records(self._api.get(path), path, week, self._eastern)
        if not records:
            raise UnknownSlate(f"SportsDataIO lists no game for slate {slate_id!r} ({path})")
        return records

    def _current_season(self) -> Week:
        path = f"{SCORES}/CurrentSeason"
        return Week(current_season(self._api.get(path), path), "REG", 0)


def _check_settings(
    base_url: str, api_key: str, timeout: float, retries: int, backoff: float, max_delay: float
) -> None:
    try:
        url = httpx.URL(base_url)
    except (httpx.InvalidURL, TypeError) as error:
        raise InvalidConfiguration(f"SportsDataIO base_url {base_url!r}: {error}") from error
    if url.scheme not in ("http", "https") or not url.host:
        raise InvalidConfiguration(
            f"SportsDataIO base_url must be an http(s) URL with a host, got {base_url!r}"
        )
    if not isinstance(api_key, str) or not api_key.strip() or not api_key.isprintable():
        raise InvalidConfiguration("the SportsDataIO API key must be non-empty printable text")
    numbers = {"timeout": timeout, "backoff": backoff, "max_delay": max_delay}
    for name, value in numbers.items():
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise InvalidConfiguration(f"SportsDataIO {name} must be seconds >= 0, got {value!r}")
    if timeout == 0:
        raise InvalidConfiguration("SportsDataIO timeout must be more than 0 seconds")
    if type(retries) is not int or retries < 0:
        raise InvalidConfiguration(f"SportsDataIO retries must be an int >= 0, got {retries!r}")


def _season(code: str) -> Week:
    match = _SEASON.fullmatch(code) if isinstance(code, str) else None
    if match is None:
        raise InvalidConfiguration(
            f"a SportsDataIO season looks like 2025REG, 2025PRE or 2025POST, got {code!r}"
        )
    return Week(int(match.group(1)), match.group(2), 0)


@contextmanager
def _refusing(where: str) -> Iterator[None]:
    """Domain values refusing provider data become MalformedPayload saying where it came from."""
    try:
        yield
    except (InvalidFeedData, InvalidStatLine, InvalidPlayerPool) as error:
        if isinstance(error, MalformedPayload):
            raise
        raise MalformedPayload(f"{where}: {error}") from error


def _game(record: ScoreRecord) -> Game:
    known = STATUSES.get(record.status)
    if known is None:
        raise MalformedPayload(
            f"{record.origin} field Status: expected one of {', '.join(STATUSES)}, "
            f"got {record.status!r}"
        )
    status, over = known
    if over is not None and record.is_over is not over:
        raise MalformedPayload(
            f"{record.origin} field IsOver: expected {str(over).lower()} with Status "
            f"{record.status!r}, got {str(record.is_over).lower()}"
        )
    with _refusing(record.origin):
        return Game(str(record.score_id), record.home, record.away, record.kickoff, status)


def _canonical(
    values: Iterable[tuple[str, int]], table: Iterable[tuple[str, str]], keep: str = ""
) -> dict[str, Fraction]:
    """The provider's values under canonical keys (summed where rows share a key), zeros out
    except `keep`."""
    by_field = dict(values)
    totals: dict[str, int] = {}
    for field, key in table:
        totals[key] = totals.get(key, 0) + by_field[field]
    return {key: Fraction(value) for key, value in totals.items() if value or key == keep}


def _player_line(record: PlayerGameRecord) -> StatLine:
    stats = _canonical(record.stats, PLAYER_STATS)
    with _refusing(record.origin):
        return StatLine.of(str(record.player_id), record.team, str(record.score_id), stats)


def _defense_line(record: TeamDefenseRecord) -> StatLine:
    stats = _canonical(record.stats, TEAM_DEFENSE_STATS, keep=DST_POINTS_ALLOWED)
    with _refusing(record.origin):
        return StatLine.of(dst_player_id(record.team), record.team, str(record.score_id), stats)


def _game_of(origin: str, team: str, score_id: int, teams: _Teams) -> str:
    """The game id of a pool record, which must be a game of the week its team plays in."""
    game_id = str(score_id)
    if team not in teams.get(game_id, ()):
        raise MalformedPayload(
            f"{origin} field ScoreID: expected a game of the week that {team} plays in, "
            f"got {score_id!r}"
        )
    return game_id
