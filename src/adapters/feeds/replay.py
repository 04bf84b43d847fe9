"""A replay stats feed: recorded real NFL weeks (nflverse player stats) revealed as a clock runs.

Data: nflverse `player_stats` (https://github.com/nflverse), 2025 regular season weeks 1-8,
shipped inside this package, gzip-compressed: `recordings/` beside this module (its README
gives the source and nflverse's CC-BY 4.0 attribution). Statistics courtesy of nflverse.
Any other nflverse `player_stats` file may be replayed instead, plain or gzip-compressed.

What the recording lacks, and how the feed fills it in (every rule deterministic):

- Slates: one per week, id `nfl-2025-reg-wk01`. Games: one per unordered `team`/`opponent_team`
  pair; the data has no home/away, so the alphabetically first team is the away team:
  `2025-wk01-BAL@BUF`.
- Kickoffs (the data has none): week 1's Sunday is 2025-09-07, each week's 7 days later. The
  week's games in game-id order: the first on Thursday night (Friday 00:15 UTC), the last on
  Monday night (Tuesday 00:15 UTC), the others on Sunday, the first half (rounded up) at
  17:00 UTC and the rest at 20:25 UTC.
- Progress: a game is SCHEDULED (no lines) before kickoff, IN_PROGRESS for the 3 hours after
  it, then FINAL with the recorded lines. In progress, every stat of every line (counts and
  yards alike) is the recorded value times the elapsed fraction of 3 hours, floored to an
  integer, under the same keys as the final line (so 0 for a while): a partial line never
  exceeds the final one in size, and still passes validation (floor is monotonic, so
  touchdowns stay within receptions and completions; negative yards stay between the final
  value and 0).
- Version: 0 before the week's first kickoff, then 1 + the whole minutes since it, up to the
  minute the last game ends. The snapshot is a function of the slate and its version (the
  clock only picks the version), so asking twice within a minute gives the same bytes.
- Stat lines: every row with a player id, keeping the scoring keys (STAT_KEYS) the file has,
  plus completions, attempts, carries and targets; empty or "NA" cells are 0, and zero stats
  are left out of the line (an absent key is 0).
- DST: one line per team per week, `DST-<TEAM>`, from the rows of that team (defence and
  special teams) and of its opponent (the points it allowed). See `_dst_stats`.
- Salaries: see `_salary`.
"""

from __future__ import annotations

import csv
import gzip
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from pathlib import Path
from typing import TextIO

from attrs import frozen

from fantasy_core.calendar import SlateSchedule
from fantasy_core.errors import DomainError, FeedUnavailable, UnknownSlate
from fantasy_core.lineups import PlayerPool, Position, SlatePlayer, dst_player_id
from fantasy_core.scoring import STAT_KEYS, parse_stat_value, preset
from fantasy_core.scoring.presets import (
    DST_BLOCKED_KICKS,
    DST_DEFENSIVE_TDS,
    DST_FUMBLE_RECOVERIES,
    DST_INTERCEPTIONS,
    DST_POINTS_ALLOWED,
    DST_RETURN_TDS,
    DST_SACKS,
    DST_SAFETIES,
    DST_STAT_KEYS,
)
from fantasy_core.stats import FeedSnapshot, Game, GameStatus, StatLine

RECORDING = "player_stats_2025_reg_wk01-08.csv.gz"
# The SHA-256 of the recording once decompressed: nflverse's file, byte for byte.
RECORDING_SHA256 = "cd24b32d1f557887c9e456a395fd51dd8212e4897c43fc018ba7476727b186ff"
WEEK1_SUNDAY = date(2025, 9, 7)
SPORT = "nfl"
GAME_LENGTH = timedelta(hours=3)
_MINUTE = timedelta(minutes=1)
_GAME_MINUTES = GAME_LENGTH // _MINUTE

# (days from the week's Sunday, UTC time); US Eastern is UTC-4 all through weeks 1-8.
_THURSDAY_NIGHT = (-2, time(0, 15))  # Friday 00:15 UTC: Thursday 20:15 in New York
_SUNDAY_EARLY = (0, time(17, 0))
_SUNDAY_LATE = (0, time(20, 25))
_MONDAY_NIGHT = (2, time(0, 15))  # Tuesday 00:15 UTC: Monday 20:15 in New York

_IDENTITY = ("season", "season_type", "week", "player_id", "team", "opponent_team")
_VALIDATION_COUNTS = frozenset({"completions", "attempts", "carries", "targets"})
# Read for the DST lines: a team's defence and returns, and what its opponent scored.
_DST_INPUTS = frozenset(
    {
        *("def_sacks", "def_interceptions", "def_safeties", "def_tds", "special_teams_tds"),
        *("fumble_recovery_opp", "fumble_recovery_tds", "fg_blocked", "pat_blocked"),
        *("rushing_tds", "receiving_tds", "rushing_2pt_conversions", "receiving_2pt_conversions"),
        *("fg_made", "pat_made"),
    }
)
_POOL_POSITIONS = frozenset({Position.QB, Position.RB, Position.WR, Position.TE})
_MIN_SALARY, _MAX_SALARY, _SALARY_STEP = 3_000, 9_000, 100
_DOLLARS_PER_POINT = 200
_ZERO = Fraction(0)
_ZERO_CELLS = frozenset({"", "NA", "0", "0.0"})


def default_csv_path() -> Path:
    """The recording shipped in the package (package data beside this module), so that an
    installed wheel or a bare clone replays it with nothing else present."""
    return Path(__file__).resolve().parent / "recordings" / RECORDING


def open_recording(path: Path) -> TextIO:
    """A recording as text: gzip-compressed when its name ends in `.gz`, plain otherwise."""
    if path.suffix == ".gz":
        return gzip.open(path, "rt", newline="", encoding="utf-8")
    return path.open(newline="", encoding="utf-8")


@frozen
class _Row:
    """One player-week of the recording; `values` holds only the columns read, nonzero."""

    slate_id: str
    season: str
    week: int
    player_id: str
    name: str
    position: str
    team: str
    opponent: str
    values: Mapping[str, Fraction]

    def get(self, key: str) -> Fraction:
        return self.values.get(key, _ZERO)


@frozen
class _ReplayGame:
    game_id: str
    home: str
    away: str
    kickoff: datetime
    lines: tuple[StatLine, ...]

    def at(self, moment: datetime | None) -> tuple[Game, Iterable[StatLine]]:
        """The game and its lines as the feed shows them at `moment` (None: before the week)."""
        if moment is None or moment < self.kickoff:
            return self._game(GameStatus.SCHEDULED), ()
        elapsed = (moment - self.kickoff) // _MINUTE
        if elapsed >= _GAME_MINUTES:
            return self._game(GameStatus.FINAL), self.lines
        return self._game(GameStatus.IN_PROGRESS), (_partial(ln, elapsed) for ln in self.lines)

    def _game(self, status: GameStatus) -> Game:
        return Game(self.game_id, self.home, self.away, self.kickoff, status)


def _partial(line: StatLine, elapsed_minutes: int) -> StatLine:
    stats = (
        (key, Fraction((value.numerator * elapsed_minutes) // (value.denominator * _GAME_MINUTES)))
        for key, value in line.stats
    )
    return StatLine(line.player_id, line.team, line.game_id, tuple(stats))


@frozen
class _Week:
    slate_id: str
    season: str
    week: int
    games: tuple[_ReplayGame, ...]
    rows: tuple[_Row, ...]

    @property
    def first_kickoff(self) -> datetime:
        return min(game.kickoff for game in self.games)

    @property
    def last_version(self) -> int:
        end = max(game.kickoff for game in self.games) + GAME_LENGTH
        return 1 + (end - self.first_kickoff) // _MINUTE

    def version_at(self, now: datetime) -> int:
        if now < self.first_kickoff:
            return 0
        return min(1 + (now - self.first_kickoff) // _MINUTE, self.last_version)

    def snapshot(self, version: int) -> FeedSnapshot:
        moment = None if version == 0 else self.first_kickoff + (version - 1) * _MINUTE
        games: list[Game] = []
        lines: list[StatLine] = []
        for replay_game in self.games:
            game, game_lines = replay_game.at(moment)
            games.append(game)
            lines.extend(game_lines)
        return FeedSnapshot(self.slate_id, version, games, lines)

    def game_of(self, team: str) -> str:
        return next(game.game_id for game in self.games if team in (game.home, game.away))


class ReplayFeed:
    """A StatsFeed replaying the recording at `csv_path` as `clock` advances (module docstring).

    The file is read once, on first use; a missing or malformed file is FeedUnavailable.
    """

    def __init__(
        self,
        csv_path: Path,
        clock: Callable[[], datetime],
        week1_sunday: date = WEEK1_SUNDAY,
    ) -> None:
        self._csv_path = csv_path
        self._clock = clock
        self._week1_sunday = week1_sunday
        self._weeks: dict[str, _Week] | None = None
        self._last: dict[str, FeedSnapshot] = {}
        self._pools: dict[str, PlayerPool] = {}
        self._points: dict[str, dict[str, Fraction]] = {}

    @classmethod
    def recorded(cls, clock: Callable[[], datetime]) -> ReplayFeed:
        """The feed over the recording shipped in the package (default_csv_path())."""
        return cls(default_csv_path(), clock)

    def slates(self) -> tuple[str, ...]:
        return tuple(sorted(self._loaded()))

    def schedules(self) -> tuple[SlateSchedule, ...]:
        return tuple(
            SlateSchedule(week.slate_id, SPORT, tuple(game.kickoff for game in week.games))
            for _, week in sorted(self._loaded().items())
        )

    def snapshot(self, slate_id: str) -> FeedSnapshot:
        week = self._week(slate_id)
        version = week.version_at(self._now())
        last = self._last.get(slate_id)
        if last is None or last.version != version:
            last = self._last[slate_id] = week.snapshot(version)
        return last

    def player_pool(self, slate_id: str) -> PlayerPool:
        week = self._week(slate_id)
        if slate_id not in self._pools:
            self._pools[slate_id] = self._build_pool(week)
        return self._pools[slate_id]

    def _now(self) -> datetime:
        now = self._clock()
        if now.utcoffset() is None:
            raise ValueError(f"the replay feed's clock must be timezone-aware, got {now!r}")
        return now

    def _week(self, slate_id: str) -> _Week:
        weeks = self._loaded()
        if slate_id not in weeks:
            known = ", ".join(sorted(weeks))
            raise UnknownSlate(f"the replay feed has no slate {slate_id!r}; it has {known}")
        return weeks[slate_id]

    def _loaded(self) -> dict[str, _Week]:
        if self._weeks is None:
            self._weeks = _build_weeks(_read_rows(self._csv_path), self._week1_sunday)
        return self._weeks

    def _build_pool(self, week: _Week) -> PlayerPool:
        season = [w for w in self._loaded().values() if w.season == week.season]
        earlier: dict[str, list[Fraction]] = defaultdict(list)
        whole: dict[str, list[Fraction]] = defaultdict(list)
        for other in season:
            for player_id, points in self._points_of(other).items():
                whole[player_id].append(points)
                if other.week < week.week:
                    earlier[player_id].append(points)

        def salary(player_id: str) -> int:
            return _salary(earlier.get(player_id) or whole[player_id])

        players = [
            SlatePlayer(
                row.player_id,
                row.name,
                Position(row.position),
                row.team,
                week.game_of(row.team),
                salary(row.player_id),
            )
            for row in week.rows
            if row.player_id and row.position in _POOL_POSITIONS
        ]
        for game in week.games:
            for team in (game.away, game.home):
                dst = dst_player_id(team)
                players.append(
                    SlatePlayer(dst, f"{team} DST", Position.DST, team, game.game_id, salary(dst))
                )
        return PlayerPool.of(week.slate_id, players)

    def _points_of(self, week: _Week) -> dict[str, Fraction]:
        """Each player's final points that week: PPR for players, DraftKings for DSTs (the
        nflverse PPR preset has no DST rules)."""
        if week.slate_id not in self._points:
            ppr, dst = preset("ppr"), preset("draftkings_nfl_classic")
            self._points[week.slate_id] = {
                line.player_id: (dst if line.player_id == dst_player_id(line.team) else ppr).score(
                    line.as_dict()
                )
                for game in week.games
                for line in game.lines
            }
        return self._points[week.slate_id]


def _salary(points: list[Fraction]) -> int:
    """$200 per point of the player's average fantasy points (PPR; DraftKings scoring for a
    DST), from $3,000, in $100 steps rounded down, capped at $9,000.

    The average is over the weeks before this one in which the player played; for a player
    with none (everyone in the recording's first week, and a player's first game later) it
    is over every week of the season in the recording, this one included: a stand-in for
    last season's output, which the recording lacks. Real salaries vary with what a player
    is expected to score, so the salary cap binds: a lineup of the most expensive players
    at each position costs far more than the cap (tests/adapters/test_replay_feed.py).
    """
    average = sum(points, _ZERO) / len(points)
    raw = _MIN_SALARY + int(average * _DOLLARS_PER_POINT) // _SALARY_STEP * _SALARY_STEP
    return max(_MIN_SALARY, min(_MAX_SALARY, raw))


def _read_rows(path: Path) -> list[_Row]:
    try:
        with open_recording(path) as file:
            reader = csv.reader(file)
            header = next(reader)
            return _parse(header, reader, path)
    # A damaged gzip stream is an OSError (BadGzipFile), an EOFError (cut short) or a
    # zlib.error (corrupt data): all of them mean the recording cannot be read.
    except (OSError, EOFError, zlib.error, csv.Error, StopIteration) as error:
        raise FeedUnavailable(f"cannot read the replay recording {path}: {error!r}") from error


def _parse(header: list[str], reader: Iterable[list[str]], path: Path) -> list[_Row]:
    columns = {name: index for index, name in enumerate(header)}
    missing = [name for name in _IDENTITY if name not in columns]
    if missing:
        raise FeedUnavailable(f"{path} is not an nflverse player_stats file: no {missing}")
    kept = (STAT_KEYS | _VALIDATION_COUNTS | _DST_INPUTS) & set(columns)
    read = sorted((name, columns[name]) for name in kept)
    # Most cells are zero, and the rest repeat: parse each distinct text once.
    parsed: dict[str, Fraction] = {}
    rows: list[_Row] = []
    for number, cell in enumerate(reader, start=2):
        values: dict[str, Fraction] = {}
        for name, index in read:
            text = cell[index]
            if text in _ZERO_CELLS:
                continue
            value = parsed.get(text)
            if value is None:
                try:
                    value = parsed[text] = parse_stat_value(text)
                except DomainError as error:
                    raise FeedUnavailable(f"{path}:{number}: {name}: {error}") from error
            if value:
                values[name] = value
        get = {name: cell[columns[name]] for name in _IDENTITY}
        week = int(get["week"])
        rows.append(
            _Row(
                slate_id=f"nfl-{get['season']}-{get['season_type'].lower()}-wk{week:02d}",
                season=get["season"],
                week=week,
                player_id=get["player_id"],
                name=_name(cell, columns) or get["player_id"],
                position=cell[columns["position"]] if "position" in columns else "",
                team=get["team"],
                opponent=get["opponent_team"],
                values=values,
            )
        )
    return rows


def _name(cell: list[str], columns: Mapping[str, int]) -> str:
    for column in ("player_display_name", "player_name"):
        if column in columns and cell[columns[column]]:
            return cell[columns[column]]
    return ""


def _build_weeks(rows: list[_Row], week1_sunday: date) -> dict[str, _Week]:
    by_slate: dict[str, list[_Row]] = defaultdict(list)
    for row in rows:
        by_slate[row.slate_id].append(row)
    return {
        slate_id: _build_week(slate_id, slate_rows, week1_sunday)
        for slate_id, slate_rows in sorted(by_slate.items())
    }


def _build_week(slate_id: str, rows: list[_Row], week1_sunday: date) -> _Week:
    season, week = rows[0].season, rows[0].week
    pairs = sorted({tuple(sorted((row.team, row.opponent))) for row in rows})
    sunday = week1_sunday + timedelta(days=7 * (week - 1))
    kickoffs = _kickoffs(sunday, len(pairs))
    by_team: dict[str, list[_Row]] = defaultdict(list)
    for row in rows:
        by_team[row.team].append(row)
    totals = {team: _team_totals(team_rows) for team, team_rows in by_team.items()}
    games: list[_ReplayGame] = []
    for (away, home), kickoff in zip(pairs, kickoffs, strict=True):
        game_id = f"{season}-wk{week:02d}-{away}@{home}"
        lines = [
            _player_line(row, game_id)
            for team in (away, home)
            for row in by_team[team]
            if row.player_id
        ]
        for team, opponent in ((away, home), (home, away)):
            stats = _dst_stats(totals.get(team, {}), totals.get(opponent, {}))
            lines.append(StatLine.of(dst_player_id(team), team, game_id, stats))
        games.append(_ReplayGame(game_id, home, away, kickoff, tuple(lines)))
    return _Week(slate_id, season, week, tuple(games), tuple(rows))


def _kickoffs(sunday: date, count: int) -> list[datetime]:
    def at(slot: tuple[int, time]) -> datetime:
        days, clock = slot
        return datetime.combine(sunday + timedelta(days=days), clock, tzinfo=UTC)

    if count == 1:
        return [at(_SUNDAY_EARLY)]
    sunday_games = count - 2
    early = (sunday_games + 1) // 2
    return [
        at(_THURSDAY_NIGHT),
        *[at(_SUNDAY_EARLY)] * early,
        *[at(_SUNDAY_LATE)] * (sunday_games - early),
        at(_MONDAY_NIGHT),
    ]


# A player's line carries no DST keys: those score a team's defence, never one player.
_PLAYER_KEYS = (STAT_KEYS | _VALIDATION_COUNTS) - DST_STAT_KEYS


def _player_line(row: _Row, game_id: str) -> StatLine:
    stats = {key: value for key, value in row.values.items() if key in _PLAYER_KEYS}
    return StatLine.of(row.player_id, row.team, game_id, stats)


_FUMBLE_RETURN_TDS = "fumble_return_tds"


def _team_totals(rows: Iterable[_Row]) -> dict[str, Fraction]:
    """The team's sums of the DST inputs, plus its fumble-return touchdowns."""
    totals: dict[str, Fraction] = defaultdict(Fraction)
    for row in rows:
        for key, value in row.values.items():
            if key in _DST_INPUTS:
                totals[key] += value
        # A fumble-recovery touchdown counts for the defence only when the fumble was the
        # opponent's: per row, at most as many as the row's recoveries of opponents' fumbles.
        if "fumble_recovery_tds" in row.values:
            returned = min(row.get("fumble_recovery_tds"), row.get("fumble_recovery_opp"))
            totals[_FUMBLE_RETURN_TDS] += returned
    return totals


_Totals = Mapping[str, Fraction]


def _dst_stats(team: _Totals, opponent: _Totals) -> dict[str, Fraction]:
    """A team's DST line, from the totals of the team's rows (players and team row) that week
    and of its opponent's.

    Sacks, interceptions, recoveries of the opponent's fumbles and safeties are the players'
    def_sacks, def_interceptions, fumble_recovery_opp and def_safeties summed; defensive
    touchdowns are interception-return (def_tds) plus fumble-return touchdowns; return
    touchdowns are special_teams_tds; blocked kicks are the opponent's field goals and extra
    points blocked. Points allowed approximate the opponent's score (the data has no team
    scores): 6 per touchdown the opponent scored (rushing, receiving, which also covers every
    passing touchdown, special teams, interception and fumble returns), 2 per two-point
    conversion (rushing plus receiving: a passing conversion is also a receiving one, so is
    counted once), 1 per extra point, 3 per field goal and 2 per safety the opponent's
    defence scored. Own-fumble recoveries in the end zone are not counted.
    """

    def total(totals: Mapping[str, Fraction], *keys: str) -> Fraction:
        return sum((totals.get(key, _ZERO) for key in keys), _ZERO)

    touchdowns = ("rushing_tds", "receiving_tds", "special_teams_tds", "def_tds")
    allowed = (
        6 * total(opponent, *touchdowns, _FUMBLE_RETURN_TDS)
        + 2 * total(opponent, "rushing_2pt_conversions", "receiving_2pt_conversions")
        + total(opponent, "pat_made")
        + 3 * total(opponent, "fg_made")
        + 2 * total(opponent, "def_safeties")
    )
    stats = {
        DST_SACKS: total(team, "def_sacks"),
        DST_INTERCEPTIONS: total(team, "def_interceptions"),
        DST_FUMBLE_RECOVERIES: total(team, "fumble_recovery_opp"),
        DST_SAFETIES: total(team, "def_safeties"),
        DST_DEFENSIVE_TDS: total(team, "def_tds", _FUMBLE_RETURN_TDS),
        DST_RETURN_TDS: total(team, "special_teams_tds"),
        DST_BLOCKED_KICKS: total(opponent, "fg_blocked", "pat_blocked"),
    }
    # Points allowed stays even at 0: a shutout is a stat, and scores the best tier.
    return {key: value for key, value in stats.items() if value} | {DST_POINTS_ALLOWED: allowed}
