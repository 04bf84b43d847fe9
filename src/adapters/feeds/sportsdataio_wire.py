"""SportsDataIO on the wire: authenticated GETs with bounded retries, strict JSON, typed records.

Nothing here knows what a stat means (sportsdataio.py maps fields to canonical keys); this
module only guarantees that what it hands over has the documented shape, or says exactly
where it does not: "<endpoint> record <i> field <Name>: <what was expected>, got <value>".

Reading rules, the same for every endpoint (untrusted input: nothing is coerced):
- A payload is a JSON array of objects. NaN/Infinity and an object naming a key twice are
  refused (Python's json module accepts both by default).
- A field that is read must be present and of its type: text is a non-empty printable JSON
  string, an id or a salary a JSON integer, a flag a JSON boolean (never 0/1 or "true").
  Fields that are not read are ignored, so the provider may add fields. Every record must
  say it is of the season and week asked for (Season, SeasonType, Week).
- Stats are JSON numbers that must be whole: SportsDataIO writes counts and yards as
  floats (12.0), so a float is converted exactly through Fraction(str(value)) and refused
  when it is not integral (2.5 receptions) -- and so is null, even where the provider's
  schema allows it: a null stat would have to be guessed as 0. Signs are not checked here
  (yards may be negative; a negative count is validate_snapshot's to report).
- Timestamps: `DateTimeUTC` is ISO-8601 in UTC, `Updated`/`LastUpdated` are ISO-8601 in
  US Eastern time (America/New_York); both come without an offset, and one with an offset
  is refused as another format than documented.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, tzinfo
from email.utils import parsedate_to_datetime
from fractions import Fraction
from types import MappingProxyType

import httpx
from attrs import frozen

from fantasy_core.errors import FeedUnavailable, InvalidFeedData

API_KEY_HEADER = "Ocp-Apim-Subscription-Key"
SEASON_TYPES: Mapping[str, int] = MappingProxyType({"REG": 1, "PRE": 2, "POST": 3})
"""SportsDataIO's SeasonType codes, by the suffix of its season parameter ("2025REG")."""

_BODY_EXCERPT = 200
_SHOWN = 120
_EXACT_FLOATS = 2.0**53


class MalformedPayload(FeedUnavailable, InvalidFeedData):
    """The provider answered, but not with data of the documented shape; the message says where.

    An InvalidFeedData (what it is) and a FeedUnavailable (what the port promises callers:
    the provider could not be read, so ingestion alerts, contests wait, and the next poll
    asks again).
    """


@frozen
class Week:
    """One week of one season, as SportsDataIO's URLs ("2025REG", 1) and records name it.

    Where only the season matters (the schedule), its number is 0 and not read."""

    season: int
    season_type: str
    number: int

    @property
    def season_code(self) -> str:
        return f"{self.season}{self.season_type}"

    def path(self, prefix: str) -> str:
        return f"{prefix}/{self.season_code}/{self.number}"


# --- Transport -------------------------------------------------------------------------------


@frozen
class FetchRetry:
    """How a GET to the provider is retried: `retries` further attempts after the first.

    Waits `backoff` seconds, doubling each time, never more than `max_delay`. A Retry-After
    within `max_delay` replaces the backoff; one beyond it ends the attempts at once
    (retrying sooner than asked would be refused).
    """

    retries: int = 3
    backoff: float = 0.5
    max_delay: float = 30.0

    def delay(self, attempt: int) -> float:
        return min(math.ldexp(self.backoff, attempt), self.max_delay)  # backoff * 2**attempt


@frozen
class _Retry:
    reason: str
    wait: float | None  # what the provider's Retry-After asked for, if it said


class SportsDataIOApi:
    """GETs JSON from SportsDataIO with the API key; retries what may pass, translates the rest.

    Retried: connection errors, timeouts, 5xx and 429. 401/403 mean the key was refused;
    any other status is a request the provider will never answer: neither is retried.
    Every failure is FeedUnavailable (MalformedPayload for a body that is not JSON). The
    API key is sent in a header and never appears in a message.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        client: httpx.Client | None,
        timeout: float,
        retry: FetchRetry,
        sleep: Callable[[float], None],
        clock: Callable[[], datetime],
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._headers = {API_KEY_HEADER: api_key, "Accept": "application/json"}
        self._owns_client = client is None
        self._client = httpx.Client() if client is None else client
        self._timeout = httpx.Timeout(timeout)
        self._retry = retry
        self._sleep = sleep
        self._clock = clock

    def close(self) -> None:
        """Close the HTTP client if this object created it (an injected one is the caller's)."""
        if self._owns_client:
            self._client.close()

    def get(self, path: str) -> object:
        """The decoded JSON at `path` (e.g. "/v3/nfl/scores/json/ScoresByWeek/2025REG/1")."""
        attempts = self._retry.retries + 1
        reason = ""
        for attempt in range(attempts):
            outcome = self._attempt(path)
            if isinstance(outcome, httpx.Response):
                return decode_json(outcome.content, path)
            reason = outcome.reason
            if attempt + 1 == attempts:
                break
            wait = outcome.wait if outcome.wait is not None else self._retry.delay(attempt)
            if wait > self._retry.max_delay:
                raise FeedUnavailable(
                    f"SportsDataIO {path}: {outcome.reason}, asked to wait {wait:g}s, more than "
                    f"the {self._retry.max_delay:g}s this adapter waits; ask again later"
                )
            self._sleep(wait)
        raise FeedUnavailable(
            f"SportsDataIO {path}: no answer after {attempts} attempts; last: {reason}"
        )

    def _attempt(self, path: str) -> httpx.Response | _Retry:
        try:
            response = self._client.get(
                self._base_url + path, headers=self._headers, timeout=self._timeout
            )
        except httpx.TimeoutException as error:
            return _Retry(f"timed out ({type(error).__name__})", None)
        except httpx.TransportError as error:
            return _Retry(f"connection failed ({type(error).__name__}: {error})", None)
        except httpx.HTTPError as error:  # e.g. a body that does not decode as its encoding says
            return _Retry(f"request failed ({type(error).__name__}: {error})", None)
        status = response.status_code
        if status == httpx.codes.OK:
            return response
        if status in (httpx.codes.UNAUTHORIZED, httpx.codes.FORBIDDEN):
            raise FeedUnavailable(f"API key refused by SportsDataIO (HTTP {status}) for {path}")
        if status == httpx.codes.TOO_MANY_REQUESTS or status >= httpx.codes.INTERNAL_SERVER_ERROR:
            return _Retry(f"HTTP {status}", self._retry_after(response))
        excerpt = response.text[:_BODY_EXCERPT]
        raise FeedUnavailable(f"SportsDataIO {path}: HTTP {status}, not retried: {excerpt!r}")

    def _retry_after(self, response: httpx.Response) -> float | None:
        """Retry-After in seconds (RFC 9110: a number of seconds or an HTTP-date), or None
        when absent or unreadable (the backoff applies then)."""
        value = response.headers.get("Retry-After", "").strip()
        if value.isascii() and value.isdigit():
            return float(value)
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if moment.tzinfo is None:
            return None
        return max(0.0, (moment - self._clock()).total_seconds())


def _shown(value: object) -> str:
    """repr(value), cut short: a message quotes a value, not a whole payload."""
    text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


def decode_json(body: bytes, endpoint: str) -> object:
    """`body` as JSON, refusing NaN/Infinity and objects with a key twice."""
    try:
        return json.loads(body, parse_constant=_no_constant, object_pairs_hook=_unique_keys)
    except (ValueError, RecursionError) as error:
        raise MalformedPayload(f"{endpoint}: not the JSON documented: {error}") from error


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a number JSON allows")


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    obj: dict[str, object] = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError(f"key {key!r} appears twice in one object")
        obj[key] = value
    return obj


# --- Reading records -------------------------------------------------------------------------


class _Fields:
    """One JSON object of a payload, read field by field; every refusal says where."""

    def __init__(self, endpoint: str, index: int, data: object, eastern: tzinfo) -> None:
        self.origin = f"{endpoint} record {index}"
        if not isinstance(data, dict):
            raise MalformedPayload(f"{self.origin}: expected an object, got {_shown(data)}")
        self._data: Mapping[str, object] = data
        self._eastern = eastern

    def refuse(self, field: str, expected: str, value: object) -> MalformedPayload:
        return MalformedPayload(
            f"{self.origin} field {field}: expected {expected}, got {_shown(value)}"
        )

    def _get(self, field: str) -> object:
        if field not in self._data:
            raise MalformedPayload(f"{self.origin} field {field}: missing")
        return self._data[field]

    def text(self, field: str) -> str:
        value = self._get(field)
        if not isinstance(value, str) or not value.strip() or not value.isprintable():
            raise self.refuse(field, "non-empty printable text", value)
        return value

    def optional_text(self, field: str) -> str | None:
        return None if self._get(field) is None else self.text(field)

    def integer(self, field: str) -> int:
        value = self._get(field)
        if type(value) is not int:
            raise self.refuse(field, "an integer", value)
        return value

    def optional_integer(self, field: str) -> int | None:
        return None if self._get(field) is None else self.integer(field)

    def flag(self, field: str) -> bool:
        value = self._get(field)
        if type(value) is not bool:
            raise self.refuse(field, "true or false", value)
        return value

    def whole(self, field: str) -> int:
        value = self._get(field)
        if type(value) is int:
            return value
        if type(value) is float and math.isfinite(value):  # "1e999" decodes to inf
            if abs(value) < _EXACT_FLOATS and value.is_integer():
                return int(value)  # below 2**53 the float is exactly the integer written
            # str() is the shortest text that reads back as this float: 1e+23, not the
            # nearest binary value 99999999999999991611392.
            exact = Fraction(str(value))
            if exact.denominator == 1:
                return int(exact)
        raise self.refuse(field, "a whole number", value)

    def utc(self, field: str) -> datetime:
        return self._timestamp(field, UTC, "ISO-8601 date and time in UTC, without offset")

    def optional_utc(self, field: str) -> datetime | None:
        return None if self._get(field) is None else self.utc(field)

    def eastern(self, field: str) -> datetime:
        return self._timestamp(
            field, self._eastern, "ISO-8601 date and time in US Eastern time, without offset"
        )

    def _timestamp(self, field: str, zone: tzinfo, expected: str) -> datetime:
        text = self.text(field)
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise self.refuse(field, expected, text) from None
        if moment.tzinfo is not None or "T" not in text:
            raise self.refuse(field, expected, text)
        return moment.replace(tzinfo=zone).astimezone(UTC)

    def check_week(self, week: Week, *, with_week: bool) -> None:
        """The record must say it is of `week` (Season, SeasonType and, if `with_week`, Week):
        data of another week is not data of this one."""
        expected = {"Season": week.season, "SeasonType": SEASON_TYPES[week.season_type]}
        if with_week:
            expected["Week"] = week.number
        for field, value in expected.items():
            if self.integer(field) != value:
                raise self.refuse(field, f"{value} (the week asked for)", self._data[field])


def _records(
    payload: object, endpoint: str, eastern: tzinfo, week: Week, *, with_week: bool = True
) -> list[_Fields]:
    """The payload's records, each checked to say it is of `week` (see _Fields.check_week)."""
    if not isinstance(payload, list):
        raise MalformedPayload(
            f"{endpoint}: expected a JSON array of records, got {_shown(payload)}"
        )
    records = [_Fields(endpoint, index, data, eastern) for index, data in enumerate(payload)]
    for fields in records:
        fields.check_week(week, with_week=with_week)
    return records


BYE = "BYE"
MAX_WEEK = 99  # slate ids carry two digits of week


@frozen
class ScheduleEntry:
    """A game of a season's schedule (scores/Schedules); bye weeks are left out. `kickoff`
    is None while the provider has no time for the game yet (DateTimeUTC null: TBD)."""

    week: int
    away: str
    home: str
    kickoff: datetime | None = None


@frozen
class ScoreRecord:
    """A game of a week (scores/ScoresByWeek): its id, teams, status, kickoff, last change.

    `origin` ("<endpoint> record <i>") says where it came from, as on every record below."""

    origin: str
    score_id: int
    away: str
    home: str
    status: str
    is_over: bool
    kickoff: datetime
    updated: datetime


@frozen
class PlayerGameRecord:
    """One player's stats in one game (stats/PlayerGameStatsByWeek), by provider field."""

    origin: str
    player_id: int
    team: str
    score_id: int
    updated: datetime
    stats: tuple[tuple[str, int], ...]


@frozen
class TeamDefenseRecord:
    """One team's defence and special teams in one game (stats/FantasyDefenseByGame)."""

    origin: str
    team: str
    score_id: int
    stats: tuple[tuple[str, int], ...]


@frozen
class PlayerSalaryRecord:
    """A player's DraftKings position and salary for a game
    (projections/PlayerGameProjectionStatsByWeek); both None when DraftKings does not offer
    the player."""

    origin: str
    player_id: int
    name: str
    team: str
    score_id: int
    position: str | None
    salary: int | None


@frozen
class DefenseSalaryRecord:
    """A team defence's DraftKings salary for a game
    (projections/FantasyDefenseProjectionsByGame); None when DraftKings does not offer it."""

    origin: str
    team: str
    score_id: int
    salary: int | None


def current_season(payload: object, endpoint: str) -> int:
    """scores/CurrentSeason: a bare JSON integer, the season's year."""
    if type(payload) is not int or not 1920 <= payload <= 9999:
        raise MalformedPayload(f"{endpoint}: expected a season year, got {_shown(payload)}")
    return payload


def schedule_entries(
    payload: object, endpoint: str, season: Week, eastern: tzinfo
) -> list[ScheduleEntry]:
    """scores/Schedules: every week's games of `season` (whose week number is not read)."""
    entries = []
    for fields in _records(payload, endpoint, eastern, season, with_week=False):
        away, home = fields.text("AwayTeam"), fields.text("HomeTeam")
        if BYE in (away, home):
            continue
        number = fields.integer("Week")
        if not 0 <= number <= MAX_WEEK:
            raise fields.refuse("Week", f"a week from 0 to {MAX_WEEK}", number)
        entries.append(ScheduleEntry(number, away, home, fields.optional_utc("DateTimeUTC")))
    return entries


def score_records(payload: object, endpoint: str, week: Week, eastern: tzinfo) -> list[ScoreRecord]:
    records = []
    for fields in _records(payload, endpoint, eastern, week):
        away, home = fields.text("AwayTeam"), fields.text("HomeTeam")
        if BYE in (away, home):
            continue
        records.append(
            ScoreRecord(
                origin=fields.origin,
                score_id=fields.integer("ScoreID"),
                away=away,
                home=home,
                status=fields.text("Status"),
                is_over=fields.flag("IsOver"),
                kickoff=fields.utc("DateTimeUTC"),
                updated=fields.eastern("LastUpdated"),
            )
        )
    return records


def player_game_records(
    payload: object, endpoint: str, week: Week, eastern: tzinfo, stat_fields: Iterable[str]
) -> list[PlayerGameRecord]:
    wanted = tuple(dict.fromkeys(stat_fields))
    return [
        PlayerGameRecord(
            origin=fields.origin,
            player_id=fields.integer("PlayerID"),
            team=fields.text("Team"),
            score_id=fields.integer("ScoreID"),
            updated=fields.eastern("Updated"),
            stats=tuple((name, fields.whole(name)) for name in wanted),
        )
        for fields in _records(payload, endpoint, eastern, week)
    ]


def team_defense_records(
    payload: object, endpoint: str, week: Week, eastern: tzinfo, stat_fields: Iterable[str]
) -> list[TeamDefenseRecord]:
    wanted = tuple(dict.fromkeys(stat_fields))
    return [
        TeamDefenseRecord(
            origin=fields.origin,
            team=fields.text("Team"),
            score_id=fields.integer("ScoreID"),
            stats=tuple((name, fields.whole(name)) for name in wanted),
        )
        for fields in _records(payload, endpoint, eastern, week)
    ]


def player_salary_records(
    payload: object, endpoint: str, week: Week, eastern: tzinfo
) -> list[PlayerSalaryRecord]:
    return [
        PlayerSalaryRecord(
            origin=fields.origin,
            player_id=fields.integer("PlayerID"),
            name=fields.text("Name"),
            team=fields.text("Team"),
            score_id=fields.integer("ScoreID"),
            position=fields.optional_text("DraftKingsPosition"),
            salary=_salary(fields),
        )
        for fields in _records(payload, endpoint, eastern, week)
    ]


def defense_salary_records(
    payload: object, endpoint: str, week: Week, eastern: tzinfo
) -> list[DefenseSalaryRecord]:
    return [
        DefenseSalaryRecord(
            origin=fields.origin,
            team=fields.text("Team"),
            score_id=fields.integer("ScoreID"),
            salary=_salary(fields),
        )
        for fields in _records(payload, endpoint, eastern, week)
    ]


def _salary(fields: _Fields) -> int | None:
    """DraftKingsSalary, which must be set exactly when DraftKingsPosition is."""
    salary = fields.optional_integer("DraftKingsSalary")
    if (salary is None) != (fields.optional_text("DraftKingsPosition") is None):
        raise fields.refuse(
            "DraftKingsSalary", "a salary exactly when DraftKingsPosition is set", salary
        )
    return salary
