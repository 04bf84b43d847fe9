"""A local SportsDataIO for tests: its NFL v3 endpoints, answering from the replay, on 127.0.0.1.

What it serves is what the replay feed (adapters.feeds.replay) shows at its clock, in the
shape of SportsDataIO's JSON: numbers as floats (12.0), timestamps without offsets
(DateTimeUTC in UTC, Updated/LastUpdated in US Eastern time), bye weeks in the schedule,
and fields the adapter does not read. The translation uses its own table (PLAYER_FIELDS,
DEFENSE_FIELDS: nflverse key -> provider field), written from the provider's field list and
not from the adapter's, so a round trip through both checks one reading against the other.
Where nflverse is finer than the provider, the values are summed (the three kinds of fumbles
lost go to FumblesLost); where it is coarser, they go to one provider field (every
special-teams touchdown to PuntReturnTouchdowns) and the others are 0.

Ids: a player's PlayerID is the digits of their nflverse id ("00-0034796" -> 34796); a
game's ScoreID is <season><week, 2 digits><position in the week's game ids, 2 digits>.
Timestamps: every record is stamped with the moment the replay snapshot shows (before the
week: three days before its first kickoff), so they grow with the replay's version.

Routes (GET, key in the Ocp-Apim-Subscription-Key header, else 401 as SportsDataIO answers):
/v3/nfl/scores/json/{CurrentSeason, Schedules/S, ScoresByWeek/S/W},
/v3/nfl/stats/json/{PlayerGameStatsByWeek, FantasyDefenseByGame}/S/W,
/v3/nfl/projections/json/{PlayerGameProjectionStatsByWeek, FantasyDefenseProjectionsByGame}/S/W.
A week the replay does not have is an empty list; an unknown route is 404.

Test controls (each applies to the next requests, in the order given): fail(n, status,
retry_after), hang(n, seconds) past the client's timeout, rewrite(endpoint, change) to make a
payload malformed or contradictory, serve_raw(endpoint, body). `requests` lists what was
asked, `errors` what went wrong inside the server (a test should see none).
"""

from __future__ import annotations

import copy
import json
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

from attrs import define, field, frozen

from adapters.feeds.replay import ReplayFeed
from fantasy_core.errors import UnknownSlate
from fantasy_core.lineups import PlayerPool, Position
from fantasy_core.stats import FeedSnapshot, Game, GameStatus, StatLine

API_KEY_HEADER = "Ocp-Apim-Subscription-Key"
EASTERN = ZoneInfo("America/New_York")

PLAYER_FIELDS: Mapping[str, str] = {
    "completions": "PassingCompletions",
    "attempts": "PassingAttempts",
    "passing_yards": "PassingYards",
    "passing_tds": "PassingTouchdowns",
    "passing_interceptions": "PassingInterceptions",
    "carries": "RushingAttempts",
    "rushing_yards": "RushingYards",
    "rushing_tds": "RushingTouchdowns",
    "targets": "ReceivingTargets",
    "receptions": "Receptions",
    "receiving_yards": "ReceivingYards",
    "receiving_tds": "ReceivingTouchdowns",
    "sack_fumbles_lost": "FumblesLost",
    "rushing_fumbles_lost": "FumblesLost",
    "receiving_fumbles_lost": "FumblesLost",
    "passing_2pt_conversions": "TwoPointConversionPasses",
    "rushing_2pt_conversions": "TwoPointConversionRuns",
    "receiving_2pt_conversions": "TwoPointConversionReceptions",
    "special_teams_tds": "PuntReturnTouchdowns",
    "fumble_recovery_tds": "FumbleReturnTouchdowns",
}
"""nflverse player key -> SportsDataIO PlayerGame field (several keys to one field: summed)."""

PLAYER_OTHER_FIELDS = (
    *("KickReturnTouchdowns", "BlockedKickReturnTouchdowns", "FieldGoalReturnTouchdowns"),
    *("PassingSacks", "Sacks", "Interceptions", "InterceptionReturnTouchdowns"),
)
"""PlayerGame fields the replay has no value for: always 0."""

DEFENSE_FIELDS: Mapping[str, str] = {
    "dst_sacks": "Sacks",
    "dst_interceptions": "Interceptions",
    "dst_fumble_recoveries": "FumblesRecovered",
    "dst_safeties": "Safeties",
    "dst_blocked_kicks": "BlockedKicks",
    "dst_defensive_tds": "InterceptionReturnTouchdowns",
    "dst_return_tds": "PuntReturnTouchdowns",
    "dst_points_allowed": "PointsAllowed",
}
"""DST key -> SportsDataIO FantasyDefenseGame field."""

DEFENSE_OTHER_FIELDS = (
    *("FumbleReturnTouchdowns", "KickReturnTouchdowns", "BlockedKickReturnTouchdowns"),
    *("FieldGoalReturnTouchdowns", "QuarterbackHits", "TacklesForLoss"),
)

STATUS: Mapping[GameStatus, tuple[str, bool]] = {
    GameStatus.SCHEDULED: ("Scheduled", False),
    GameStatus.IN_PROGRESS: ("InProgress", False),
    GameStatus.FINAL: ("Final", True),
    GameStatus.POSTPONED: ("Postponed", False),
    GameStatus.CANCELLED: ("Canceled", False),
}

_ROUTE = re.compile(
    r"/v3/nfl/(?:scores|stats|projections)/json/(?P<endpoint>[A-Za-z]+)"
    r"(?:/(?P<season>[0-9]{4})(?P<kind>REG|PRE|POST))?(?:/(?P<week>[0-9]{1,2}))?"
)
_SEASON_TYPE = {"REG": 1, "PRE": 2, "POST": 3}
_SCHEDULE_LEAD = timedelta(days=3)
_MINUTE = timedelta(minutes=1)

Payload = list[dict[str, object]] | int


def player_number(nflverse_id: str) -> int:
    """The PlayerID the server gives an nflverse player ("00-0034796" -> 34796)."""
    match = re.fullmatch(r"00-([0-9]{7})", nflverse_id)
    if match is None:
        raise ValueError(f"not an nflverse (GSIS) player id: {nflverse_id!r}")
    return int(match.group(1))


def nflverse_id(player_number: int) -> str:
    return f"00-{player_number:07d}"


@frozen
class _Fault:
    status: int | None = None  # answer this instead
    retry_after: str | None = None
    hang: float = 0.0  # seconds to wait before answering normally


@define
class _Controls:
    faults: list[_Fault] = field(factory=list)
    rewrites: dict[str, Callable[[Payload], object]] = field(factory=dict)
    raw: dict[str, bytes] = field(factory=dict)


class SportsDataIOServer:
    """The server; start() binds a free port on 127.0.0.1 (url), stop() ends it."""

    def __init__(self, replay: ReplayFeed, api_key: str) -> None:
        self.replay = replay
        self.api_key = api_key
        self.requests: list[tuple[str, str | None]] = []
        self.errors: list[str] = []
        self._controls = _Controls()
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._score_ids: dict[str, int] = {}
        self._built: dict[tuple[str, int, str, int, int], tuple[Payload, bytes]] = {}

    # --- lifecycle ---

    def start(self) -> None:
        self._httpd = _HTTPServer(("127.0.0.1", 0), _Handler, self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._release.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> SportsDataIOServer:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the server is not started")
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    # --- test controls ---

    def reset(self) -> None:
        """Forget every control, request and error: the next test starts clean."""
        with self._lock:
            self._controls = _Controls()
            self.requests.clear()
            self.errors.clear()

    def fail(self, times: int, status: int = 500, retry_after: str | None = None) -> None:
        """Answer the next `times` requests with `status` (and a Retry-After header, if given)."""
        with self._lock:
            self._controls.faults.extend([_Fault(status, retry_after)] * times)

    def hang(self, times: int, seconds: float) -> None:
        """Wait `seconds` before answering each of the next `times` requests."""
        with self._lock:
            self._controls.faults.extend([_Fault(hang=seconds)] * times)

    def rewrite(self, endpoint: str, change: Callable[[Payload], object]) -> None:
        """Serve `change(payload)` for `endpoint` (e.g. "ScoresByWeek") from now on; `change`
        may edit the payload in place and return it, or return anything JSON-able."""
        with self._lock:
            self._controls.rewrites[endpoint] = change

    def serve_raw(self, endpoint: str, body: bytes) -> None:
        """Serve exactly `body` for `endpoint` from now on."""
        with self._lock:
            self._controls.raw[endpoint] = body

    def score_id(self, game_id: str) -> int:
        """The ScoreID of a replay game (its week must have been served or built)."""
        return self._score_ids[game_id]

    def game_id(self, score_id: int) -> str:
        return next(game for game, sid in self._score_ids.items() if sid == score_id)

    # --- answering ---

    def answer(self, path: str, key: str | None) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self.requests.append((path, key))
            fault = self._controls.faults.pop(0) if self._controls.faults else None
            controls = self._controls
        if fault is not None and fault.hang:
            self._release.wait(fault.hang)
        elif fault is not None and fault.status is not None:
            headers = {} if fault.retry_after is None else {"Retry-After": fault.retry_after}
            body = {"HttpStatusCode": fault.status, "Description": "fault injected by the test"}
            return fault.status, headers, json.dumps(body).encode()
        if key != self.api_key:
            body = {
                "HttpStatusCode": 401,
                "Code": 401,
                "Description": "Access denied due to invalid subscription key.",
            }
            return 401, {}, json.dumps(body).encode()
        match = _ROUTE.fullmatch(path)
        if match is None:
            return 404, {}, b'{"HttpStatusCode": 404, "Description": "Resource not found"}'
        endpoint = match.group("endpoint")
        if endpoint in controls.raw:
            return 200, {}, controls.raw[endpoint]
        try:
            found = self._payload(match)
        except LookupError as error:
            self.errors.append(f"{path}: {error!r}")
            return 500, {}, json.dumps({"error": repr(error)}).encode()
        if found is None:
            return 404, {}, b'{"HttpStatusCode": 404, "Description": "Resource not found"}'
        payload, body = found
        change = controls.rewrites.get(endpoint)
        if change is not None:
            body = json.dumps(change(copy.deepcopy(payload))).encode()
        return 200, {}, body

    def _payload(self, match: re.Match[str]) -> tuple[Payload, bytes] | None:
        """The payload a route asks for and its JSON; a week's are kept per replay version."""
        endpoint, season, kind, week = match.group("endpoint", "season", "kind", "week")
        if endpoint == "CurrentSeason":
            year = max(int(slate.split("-")[1]) for slate in self.replay.slates())
            return year, json.dumps(year).encode()
        if season is None:
            return None
        if endpoint == "Schedules" and week is None:
            schedule = self._schedule(int(season), kind)
            return schedule, json.dumps(schedule).encode()
        if week is None:
            return None
        builders: dict[str, Callable[[_Week], list[dict[str, object]]]] = {
            "ScoresByWeek": self._scores,
            "PlayerGameStatsByWeek": self._player_games,
            "FantasyDefenseByGame": self._defense_games,
            "PlayerGameProjectionStatsByWeek": self._player_salaries,
            "FantasyDefenseProjectionsByGame": self._defense_salaries,
        }
        build = builders.get(endpoint)
        if build is None:
            return None
        shown = self._week(int(season), kind, int(week))
        if shown is None:
            return [], b"[]"
        key = (endpoint, shown.season, shown.kind, shown.number, shown.snapshot.version)
        if key not in self._built:
            built = build(shown)
            self._built[key] = (built, json.dumps(built).encode())
        return self._built[key]

    # --- the replay's week in SportsDataIO's shape ---

    def _week(self, season: int, kind: str, number: int) -> _Week | None:
        slate_id = f"nfl-{season}-{kind.lower()}-wk{number:02d}"
        try:
            snapshot = self.replay.snapshot(slate_id)
        except UnknownSlate:
            return None
        for position, game in enumerate(snapshot.games, start=1):
            self._score_ids[game.game_id] = int(f"{season}{number:02d}{position:02d}")
        return _Week(season, kind, number, snapshot, self.replay.player_pool(slate_id))

    def _schedule(self, season: int, kind: str) -> list[dict[str, object]]:
        weeks = sorted(
            int(slate[-2:])
            for slate in self.replay.slates()
            if slate.startswith(f"nfl-{season}-{kind.lower()}-")
        )
        entries: list[dict[str, object]] = []
        for number in weeks:
            week = self._week(season, kind, number)
            if week is None:
                continue
            playing = {team for game in week.snapshot.games for team in game.teams}
            every_team = self._every_team()
            for game in week.snapshot.games:
                entries.append({**week.header(), **self._game_fields(week, game)})
            for team in sorted(every_team - playing):
                entries.append({**week.header(), "AwayTeam": team, "HomeTeam": "BYE"})
        return entries

    def _every_team(self) -> set[str]:
        teams: set[str] = set()
        for slate in self.replay.slates():
            teams |= {team for game in self.replay.snapshot(slate).games for team in game.teams}
        return teams

    def _game_fields(self, week: _Week, game: Game) -> dict[str, object]:
        status, over = STATUS[game.status]
        return {
            "ScoreID": self._score_ids[game.game_id],
            "GameKey": f"{week.season}{_SEASON_TYPE[week.kind]}{week.number:02d}{game.home}",
            "AwayTeam": game.away,
            "HomeTeam": game.home,
            "DateTime": _eastern(game.kickoff),
            "DateTimeUTC": game.kickoff.replace(tzinfo=None).isoformat(),
            "Status": status,
            "IsOver": over,
        }

    def _scores(self, week: _Week) -> list[dict[str, object]]:
        records: list[dict[str, object]] = []
        for game in week.snapshot.games:
            started = game.status in (GameStatus.IN_PROGRESS, GameStatus.FINAL)
            records.append(
                {
                    **week.header(),
                    **self._game_fields(week, game),
                    "HasStarted": started,
                    "IsInProgress": game.status is GameStatus.IN_PROGRESS,
                    "Canceled": game.status is GameStatus.CANCELLED,
                    "Channel": None,
                    "LastUpdated": week.stamp(),
                }
            )
        return records

    def _player_games(self, week: _Week) -> list[dict[str, object]]:
        return [
            {
                **self._line_fields(week, line),
                "PlayerID": player_number(line.player_id),
                "Name": week.name_of(line.player_id),
                "Updated": week.stamp(),
                **_stat_fields(line, PLAYER_FIELDS, PLAYER_OTHER_FIELDS),
            }
            for line in week.snapshot.lines
            if not line.player_id.startswith("DST-")
        ]

    def _defense_games(self, week: _Week) -> list[dict[str, object]]:
        records = []
        for line in week.snapshot.lines:
            if not line.player_id.startswith("DST-"):
                continue
            stats = _stat_fields(line, DEFENSE_FIELDS, DEFENSE_OTHER_FIELDS)
            records.append(
                {
                    **self._line_fields(week, line),
                    **stats,
                    "DefensiveTouchdowns": stats["InterceptionReturnTouchdowns"],
                    "SpecialTeamsTouchdowns": stats["PuntReturnTouchdowns"],
                }
            )
        return records

    def _line_fields(self, week: _Week, line: StatLine) -> dict[str, object]:
        game = week.game(line.game_id)
        home = line.team == game.home
        return {
            **week.header(),
            "ScoreID": self._score_ids[line.game_id],
            "Team": line.team,
            "Opponent": game.away if home else game.home,
            "HomeOrAway": "HOME" if home else "AWAY",
            "IsGameOver": game.is_final,
        }

    def _player_salaries(self, week: _Week) -> list[dict[str, object]]:
        return [
            {
                **week.header(),
                "PlayerID": player_number(player.player_id),
                "Name": player.name,
                "Team": player.team,
                "ScoreID": self._score_ids[player.game_id],
                "Position": player.position.value,
                "FantasyPosition": player.position.value,
                "DraftKingsPosition": player.position.value,
                "DraftKingsSalary": player.salary,
                "FanDuelSalary": None,
            }
            for player in week.pool.players.values()
            if player.position is not Position.DST
        ]

    def _defense_salaries(self, week: _Week) -> list[dict[str, object]]:
        return [
            {
                **week.header(),
                "Team": player.team,
                "ScoreID": self._score_ids[player.game_id],
                "DraftKingsPosition": "DST",
                "DraftKingsSalary": player.salary,
            }
            for player in week.pool.players.values()
            if player.position is Position.DST
        ]


@frozen
class _Week:
    season: int
    kind: str
    number: int
    snapshot: FeedSnapshot
    pool: PlayerPool

    def header(self) -> dict[str, object]:
        return {"Season": self.season, "SeasonType": _SEASON_TYPE[self.kind], "Week": self.number}

    def game(self, game_id: str) -> Game:
        game = self.snapshot.game(game_id)
        if game is None:
            raise LookupError(f"line of game {game_id}, not in week {self.number}")
        return game

    def name_of(self, player_id: str) -> str:
        player = self.pool.get(player_id)
        return player_id if player is None else player.name

    def stamp(self) -> str:
        """The moment the replay snapshot shows, in US Eastern time without offset."""
        first = min(game.kickoff for game in self.snapshot.games)
        version = self.snapshot.version
        moment = first - _SCHEDULE_LEAD if version == 0 else first + (version - 1) * _MINUTE
        return _eastern(moment)


def _eastern(moment: datetime) -> str:
    return moment.astimezone(EASTERN).replace(tzinfo=None).isoformat(timespec="seconds")


def _stat_fields(
    line: StatLine, fields: Mapping[str, str], others: tuple[str, ...]
) -> dict[str, object]:
    totals = dict.fromkeys([*fields.values(), *others], 0)
    for key, value in line.stats:
        if key not in fields or value.denominator != 1:
            raise LookupError(f"no SportsDataIO field for {key} = {value} ({line.player_id})")
        totals[fields[key]] += value.numerator
    return {name: float(value) for name, value in totals.items()}


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        provider: SportsDataIOServer,
    ) -> None:
        super().__init__(address, handler)
        self.provider = provider


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stall
    server: _HTTPServer

    def do_GET(self) -> None:
        status, headers, body = self.server.provider.answer(
            self.path, self.headers.get(API_KEY_HEADER)
        )
        try:
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the client gave up waiting (a hang the test asked for)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serving(replay: ReplayFeed, api_key: str) -> Iterator[SportsDataIOServer]:
    """A started server over `replay`, stopped on exit."""
    with SportsDataIOServer(replay, api_key) as server:
        yield server
