"""Sports data: games, stat lines, feed snapshots, the rules untrusted data must pass, the port."""

from __future__ import annotations

import enum
import itertools
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from fractions import Fraction
from types import MappingProxyType
from typing import Protocol

from attrs import Attribute, field, frozen

from fantasy_core.codec import Reader, canonical_bytes, sha256_of
from fantasy_core.errors import InvalidFeedData, InvalidStatLine
from fantasy_core.lineups import PlayerPool
from fantasy_core.scoring.exact import format_points, is_terminating, parse_stat_value


class GameStatus(enum.Enum):
    """Where a game stands, as the provider reports it."""

    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    FINAL = "final"
    POSTPONED = "postponed"
    CANCELLED = "cancelled"


_OFF = frozenset({GameStatus.POSTPONED, GameStatus.CANCELLED})
_DONE = frozenset({GameStatus.FINAL}) | _OFF
_STAT_KEY = re.compile(r"[a-z][a-z0-9_]*")
_READ = Reader(InvalidFeedData)


def _text(error: type[Exception]) -> Callable[[object, Attribute[str], str], None]:
    def check(_: object, attribute: Attribute[str], value: str) -> None:
        if not isinstance(value, str) or not value.strip() or not value.isprintable():
            raise error(f"{attribute.name} must be non-empty printable text, got {value!r}")

    return check


def _utc(value: datetime) -> datetime:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidFeedData(f"kickoff must be a timezone-aware datetime, got {value!r}")
    return value.astimezone(UTC)


def _status(value: GameStatus) -> GameStatus:
    if not isinstance(value, GameStatus):
        raise InvalidFeedData(f"status must be a GameStatus, got {value!r}")
    return value


@frozen
class Game:
    """One real game of a slate: the two teams, kickoff (stored in UTC) and its status."""

    game_id: str = field(validator=_text(InvalidFeedData))
    home: str = field(validator=_text(InvalidFeedData))
    away: str = field(validator=_text(InvalidFeedData))
    kickoff: datetime = field(converter=_utc)
    status: GameStatus = field(converter=_status)

    def __attrs_post_init__(self) -> None:
        if self.home == self.away:
            raise InvalidFeedData(f"game {self.game_id}: a team cannot play itself ({self.home})")

    @property
    def teams(self) -> frozenset[str]:
        return frozenset((self.home, self.away))

    @property
    def is_final(self) -> bool:
        return self.status is GameStatus.FINAL

    def has_started(self, now: datetime) -> bool:
        """In progress or final, or past kickoff and not postponed or cancelled."""
        if self.status in (GameStatus.IN_PROGRESS, GameStatus.FINAL):
            return True
        return self.status not in _OFF and self.kickoff <= now

    def describe(self) -> str:
        return f"{self.away}@{self.home}"


def _exact_stat(key: object, value: object) -> tuple[str, Fraction]:
    if not isinstance(key, str) or _STAT_KEY.fullmatch(key) is None:
        raise InvalidStatLine(
            f"a stat key is lower-case letters, digits and '_' after a first letter; got {key!r}"
        )
    if type(value) is int:
        return key, Fraction(value)
    if isinstance(value, Fraction) and is_terminating(value):
        return key, value
    raise InvalidStatLine(
        f"{key} must be an int or a Fraction with a terminating decimal, got {value!r}"
    )


def _to_stats(value: Iterable[tuple[str, Fraction | int]]) -> tuple[tuple[str, Fraction], ...]:
    if isinstance(value, str | Mapping):
        raise InvalidStatLine(f"stats must be (key, value) pairs, got {value!r}; see StatLine.of")
    pairs: list[tuple[str, Fraction]] = []
    for pair in value:
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise InvalidStatLine(f"a stat must be a (key, value) pair, got {pair!r}")
        pairs.append(_exact_stat(*pair))
    return tuple(pairs)


def _check_sorted(_: object, __: object, value: tuple[tuple[str, Fraction], ...]) -> None:
    keys = [key for key, _ in value]
    for before, after in itertools.pairwise(keys):
        if before == after:
            raise InvalidStatLine(f"stat {before} appears twice")
        if before > after:
            raise InvalidStatLine(f"stats must be sorted by key: {before} comes before {after}")


@frozen
class StatLine:
    """One player's stats in one game: (key, exact value) pairs sorted by key; absent keys are 0."""

    player_id: str = field(validator=_text(InvalidStatLine))
    team: str = field(validator=_text(InvalidStatLine))
    game_id: str = field(validator=_text(InvalidStatLine))
    stats: tuple[tuple[str, Fraction], ...] = field(converter=_to_stats, validator=_check_sorted)

    @classmethod
    def of(
        cls, player_id: str, team: str, game_id: str, stats: Mapping[str, Fraction | int]
    ) -> StatLine:
        """A line from a mapping of stats, in any order."""
        # Keyed by str(key) so a malformed key reaches the validator instead of failing the sort.
        pairs = sorted(stats.items(), key=lambda pair: str(pair[0]))
        return cls(player_id, team, game_id, tuple(pairs))

    def as_dict(self) -> dict[str, Fraction]:
        return dict(self.stats)

    def value(self, key: str) -> Fraction:
        """The value of `key`, 0 when the line does not have it."""
        for stat, value in self.stats:
            if stat == key:
                return value
        return Fraction(0)


def _sorted_games(value: Iterable[Game]) -> tuple[Game, ...]:
    games = tuple(value)
    if not all(isinstance(game, Game) for game in games):
        raise InvalidFeedData(f"games must be Game values, got {games!r}")
    return tuple(
        sorted(games, key=lambda g: (g.game_id, g.away, g.home, g.kickoff, g.status.value))
    )


def _sorted_lines(value: Iterable[StatLine]) -> tuple[StatLine, ...]:
    lines = tuple(value)
    if not all(isinstance(line, StatLine) for line in lines):
        raise InvalidFeedData("lines must be StatLine values")
    return tuple(sorted(lines, key=lambda ln: (ln.game_id, ln.team, ln.player_id, ln.stats)))


def _check_version(_: object, __: object, value: int) -> None:
    if type(value) is not int or value < 0:
        raise InvalidFeedData(f"version must be a non-negative integer, got {value!r}")


CANONICAL_FORMAT = 1
"""Bumped only if the canonical form of a snapshot ever has to change shape."""


@frozen
class FeedSnapshot:
    """The feed's view of one slate at one `version` (which only grows as the provider updates).

    Games and lines are kept sorted, so two snapshots built from the same data in any order
    are equal and have the same canonical bytes. A snapshot may still break the rules of
    `validate_snapshot`: it holds what the provider said, checked only for shape.
    """

    slate_id: str = field(validator=_text(InvalidFeedData))
    version: int = field(validator=_check_version)
    games: tuple[Game, ...] = field(converter=_sorted_games)
    lines: tuple[StatLine, ...] = field(converter=_sorted_lines)

    def game(self, game_id: str) -> Game | None:
        return next((game for game in self.games if game.game_id == game_id), None)

    def all_final_or_off(self) -> bool:
        """Every game final, postponed or cancelled; False for a slate with no games at all."""
        return bool(self.games) and all(game.status in _DONE for game in self.games)

    def any_postponed(self) -> bool:
        return any(g.status is GameStatus.POSTPONED for g in self.games)

    def any_started(self, now: datetime) -> bool:
        """Some game is in progress or final, or past kickoff without being postponed/cancelled."""
        return any(game.has_started(_utc(now)) for game in self.games)

    def lines_by_player(self) -> dict[str, dict[str, Fraction]]:
        """Each player's stats on this slate, by player id, in id order.

        A player with lines in two games of the slate (a double-header, or a duplicate line
        that validation would report) gets the sum of them, key by key.
        """
        totals: dict[str, dict[str, Fraction]] = {}
        for line in sorted(self.lines, key=lambda ln: ln.player_id):
            stats = totals.setdefault(line.player_id, {})
            for key, value in line.stats:
                stats[key] = stats.get(key, Fraction(0)) + value
        return totals

    def canonical(self) -> dict[str, object]:
        """The JSON-able form: stats as exact decimal strings, kickoffs ISO-8601 UTC ("...Z")."""
        return {
            "format": CANONICAL_FORMAT,
            "slate_id": self.slate_id,
            "version": self.version,
            "games": [
                {
                    "game_id": g.game_id,
                    "home": g.home,
                    "away": g.away,
                    "kickoff": _iso(g.kickoff),
                    "status": g.status.value,
                }
                for g in self.games
            ],
            "lines": [
                {
                    "player_id": ln.player_id,
                    "team": ln.team,
                    "game_id": ln.game_id,
                    "stats": {key: format_points(value) for key, value in ln.stats},
                }
                for ln in self.lines
            ],
        }

    def canonical_bytes(self) -> bytes:
        """canonical() as canonical JSON (sorted keys, no whitespace, ASCII): byte-reproducible."""
        return canonical_bytes(self.canonical())

    def sha256(self) -> str:
        """The fingerprint "sha256:<hex>" of canonical_bytes(): exactly what the feed said."""
        return sha256_of(self.canonical_bytes())

    @classmethod
    def from_canonical(cls, data: object) -> FeedSnapshot:
        """The snapshot a canonical() form describes; InvalidFeedData or InvalidStatLine saying
        where it is malformed (e.g. "lines[3].stats.receptions")."""
        fields = _READ.fields(data, "snapshot", {"format", "slate_id", "version", "games", "lines"})
        if type(fields["format"]) is not int or fields["format"] != CANONICAL_FORMAT:
            raise InvalidFeedData(
                f"snapshot.format: expected {CANONICAL_FORMAT}, got {fields['format']!r}"
            )
        return cls(
            slate_id=_READ.text(fields["slate_id"], "snapshot.slate_id"),
            version=_READ.integer(fields["version"], "snapshot.version"),
            games=[_game_from(g, f"games[{i}]") for i, g in enumerate(_items(fields, "games"))],
            lines=[_line_from(x, f"lines[{i}]") for i, x in enumerate(_items(fields, "lines"))],
        )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _items(fields: Mapping[str, object], key: str) -> list[object]:
    return _READ.items(fields[key], f"snapshot.{key}")


def _game_from(data: object, where: str) -> Game:
    fields = _READ.fields(data, where, {"game_id", "home", "away", "kickoff", "status"})
    kickoff = _READ.text(fields["kickoff"], f"{where}.kickoff")
    try:
        moment = datetime.fromisoformat(kickoff)
        status = GameStatus(fields["status"])
    except ValueError as error:
        raise InvalidFeedData(f"{where}: {error}") from error
    if moment.utcoffset() is None or _iso(moment) != kickoff:
        raise InvalidFeedData(
            f"{where}.kickoff: expected ISO-8601 UTC ending in Z, got {kickoff!r}"
        )
    try:
        return Game(
            game_id=_READ.text(fields["game_id"], f"{where}.game_id"),
            home=_READ.text(fields["home"], f"{where}.home"),
            away=_READ.text(fields["away"], f"{where}.away"),
            kickoff=moment,
            status=status,
        )
    except InvalidFeedData as error:
        raise InvalidFeedData(f"{where}: {error}") from error


def _line_from(data: object, where: str) -> StatLine:
    fields = _READ.fields(data, where, {"player_id", "team", "game_id", "stats"})
    stats = fields["stats"]
    if not isinstance(stats, Mapping):
        raise InvalidFeedData(f"{where}.stats: expected an object, got {stats!r}")
    values: dict[str, Fraction] = {}
    for key, text in stats.items():
        if not isinstance(text, str):
            raise InvalidStatLine(f"{where}.stats.{key}: expected a decimal string, got {text!r}")
        try:
            value: Fraction | None = parse_stat_value(text) if text.strip() == text else None
        except InvalidStatLine:
            value = None
        if value is None or format_points(value) != text:
            raise InvalidStatLine(
                f"{where}.stats.{key}: expected an exact decimal in its shortest form, got {text!r}"
            )
        values[key] = value
    try:
        return StatLine.of(
            _READ.text(fields["player_id"], f"{where}.player_id"),
            _READ.text(fields["team"], f"{where}.team"),
            _READ.text(fields["game_id"], f"{where}.game_id"),
            values,
        )
    except InvalidStatLine as error:
        raise InvalidStatLine(f"{where}: {error}") from error


RULES: Mapping[str, str] = MappingProxyType(
    {
        "slate_mismatch": "the snapshot is of another slate than the previous one",
        "version_regressed": "the snapshot's version is lower than the previous snapshot's",
        "version_conflict": "other data under the version of a snapshot already accepted",
        "game_changed_teams": "a game id names other teams than before, or than elsewhere in it",
        "duplicate_game": "a game id appears twice in one snapshot",
        "game_removed": "a game of the previous snapshot is missing",
        "final_regressed": "a game final in the previous snapshot is not final now",
        "final_without_lines": "a game marked final has no stat line for either team",
        "duplicate_line": "a player has two lines for one game",
        "unknown_team": "a line's team plays in none of the slate's games",
        "unknown_game": "a line's game is not on the slate, or its team does not play in it",
        "negative_count": "a count (touchdowns, receptions, sacks, ...) is negative",
        "non_integer_count": "a count is not a whole number (sacks: not a multiple of 1/2)",
        "value_out_of_range": "a stat lies outside -1,000 to 1,000 (the record is 554 yards)",
        "tds_exceed_receptions": "more receiving touchdowns than receptions",
        "tds_exceed_completions": "more passing touchdowns than completions",
    }
)
"""Every validation rule by its stable code, in the order problems are reported."""

_RULE_ORDER = {rule: index for index, rule in enumerate(RULES)}

_WHOLE = Fraction(1)
_HALF = Fraction(1, 2)
_FG_SPANS = ("0_19", "20_29", "30_39", "40_49", "50_59", "60_")


def _counts(step: Fraction, *keys: str) -> dict[str, Fraction]:
    return dict.fromkeys(keys, step)


COUNT_STATS: Mapping[str, Fraction] = MappingProxyType(
    {
        **_counts(
            _WHOLE,
            # passing, rushing, receiving (nflverse player_stats names)
            *("completions", "attempts", "passing_tds", "passing_interceptions", "interceptions"),
            *("sacks_suffered", "sack_fumbles", "sack_fumbles_lost", "passing_first_downs"),
            *("carries", "rushing_tds", "rushing_fumbles", "rushing_fumbles_lost"),
            *("rushing_first_downs", "receptions", "targets", "receiving_tds"),
            *("receiving_fumbles", "receiving_fumbles_lost", "receiving_first_downs"),
            *("passing_2pt_conversions", "rushing_2pt_conversions", "receiving_2pt_conversions"),
            # returns, recoveries, penalties
            *("special_teams_tds", "punt_returns", "kickoff_returns", "penalties"),
            *("fumble_recovery_own", "fumble_recovery_opp", "fumble_recovery_tds"),
            # individual defence (its *_yards columns are yards, and may be negative)
            *("def_tackles_solo", "def_tackles_with_assist", "def_tackle_assists"),
            *("def_tackles_for_loss", "def_fumbles_forced", "def_qb_hits", "def_interceptions"),
            *("def_pass_defended", "def_tds", "def_fumbles", "def_safeties"),
            # kicking
            *("fg_made", "fg_att", "fg_missed", "fg_blocked", "pat_made", "pat_att"),
            *("pat_missed", "pat_blocked", "gwfg_made", "gwfg_att", "gwfg_missed", "gwfg_blocked"),
            *(f"fg_{kind}_{span}" for kind in ("made", "missed") for span in _FG_SPANS),
            # team defence / special teams (scoring.presets DST keys)
            *("dst_interceptions", "dst_fumble_recoveries", "dst_safeties", "dst_blocked_kicks"),
            *("dst_defensive_tds", "dst_return_tds", "dst_points_allowed"),
        ),
        # Two players who share a sack are credited half a sack each.
        **_counts(_HALF, "def_sacks", "dst_sacks"),
    }
)
"""Stats that count events, with the step they come in: never negative, always a multiple of
the step. Every other stat (yards above all) may be negative or fractional."""

STAT_BOUND = Fraction(1000)
"""No stat of one player in one game reaches this in magnitude: the single-game records are
554 passing yards, 296 rushing yards, 336 receiving yards and 45 completions. A value beyond it
is a provider's (or an operator's) error, and would decide a contest by itself."""

_AT_MOST: tuple[tuple[str, str, str], ...] = (
    # (rule, stat, the stat it cannot exceed): each touchdown of that kind ends a catch/completion.
    ("tds_exceed_receptions", "receiving_tds", "receptions"),
    ("tds_exceed_completions", "passing_tds", "completions"),
)


def _known_rule(_: object, __: object, value: str) -> None:
    if value not in RULES:
        raise InvalidFeedData(f"no validation rule {value!r}; known rules: {', '.join(RULES)}")


@frozen
class DataProblem:
    """One way a snapshot breaks a rule: the rule's code, a readable message, and where."""

    rule: str = field(validator=_known_rule)
    message: str
    game_id: str | None = None
    player_id: str | None = None
    field: str | None = None


def _problem(
    rule: str,
    detail: str,
    game_id: str | None = None,
    player_id: str | None = None,
    stat: str | None = None,
) -> DataProblem:
    where = [
        f"{label} {value}"
        for label, value in (("game", game_id), ("player", player_id), ("field", stat))
        if value is not None
    ]
    message = f"{rule}: {detail}" + (f" ({', '.join(where)})" if where else "")
    return DataProblem(rule, message, game_id, player_id, stat)


def version_conflict(accepted: FeedSnapshot, snapshot: FeedSnapshot) -> tuple[DataProblem, ...]:
    """The problem with `snapshot` if it brings other data under `accepted`'s version.

    A provider's version says which data is newest: other content under a version
    already accepted means one of the two is wrong, and nothing tells which. () when
    the versions differ or the data is the same.
    """
    if snapshot.version != accepted.version:
        return ()
    was, now = accepted.sha256(), snapshot.sha256()
    if was == now:
        return ()
    detail = f"version {snapshot.version} was {was} when accepted and is now {now}"
    return (_problem("version_conflict", detail, stat="version"),)


def validate_snapshot(
    snapshot: FeedSnapshot, previous: FeedSnapshot | None = None
) -> tuple[DataProblem, ...]:
    """Every rule of RULES that `snapshot` breaks, alone or after `previous` (the last snapshot
    of the slate accepted); () when the data is valid.

    Problems come in RULES order, then by game, player and field: the same data always
    gives the same problems in the same order.
    """
    problems = [*_check_games(snapshot), *_check_lines(snapshot)]
    if previous is not None:
        problems.extend(_check_history(snapshot, previous))
    return tuple(
        sorted(
            problems,
            key=lambda p: (
                _RULE_ORDER[p.rule],
                p.game_id or "",
                p.player_id or "",
                p.field or "",
                p.message,
            ),
        )
    )


def _games_by_id(snapshot: FeedSnapshot) -> dict[str, list[Game]]:
    games: dict[str, list[Game]] = {}
    for game in snapshot.games:
        games.setdefault(game.game_id, []).append(game)
    return games


def _check_games(snapshot: FeedSnapshot) -> Iterable[DataProblem]:
    covered = {(line.game_id, line.team) for line in snapshot.lines}
    for game_id, games in _games_by_id(snapshot).items():
        matchups = sorted({game.describe() for game in games})
        if len(matchups) > 1:
            yield _problem(
                "game_changed_teams",
                f"listed as {' and as '.join(matchups)}",
                game_id,
                None,
                "teams",
            )
        elif len(games) > 1:
            yield _problem(
                "duplicate_game",
                f"{matchups[0]} is listed {len(games)} times",
                game_id,
                None,
                "game_id",
            )
        final = next((game for game in games if game.is_final), None)
        if final is not None and not any((game_id, team) in covered for team in final.teams):
            yield _problem(
                "final_without_lines",
                f"{final.describe()} is final but has no stat line for either team",
                game_id,
                None,
                "status",
            )


def _check_lines(snapshot: FeedSnapshot) -> Iterable[DataProblem]:
    games = _games_by_id(snapshot)
    slate_teams = {team for game in snapshot.games for team in game.teams}
    seen = Counter((line.game_id, line.player_id) for line in snapshot.lines)
    for (game_id, player_id), times in seen.items():
        if times > 1:
            yield _problem(
                "duplicate_line", f"{times} lines for one game", game_id, player_id, "player_id"
            )
    for line in snapshot.lines:
        where = (line.game_id, line.player_id)
        if line.team not in slate_teams:
            yield _problem(
                "unknown_team", f"team {line.team} plays in no game of the slate", *where, "team"
            )
        if line.game_id not in games:
            yield _problem(
                "unknown_game", f"game {line.game_id} is not on the slate", *where, "game_id"
            )
        elif line.team in slate_teams and not any(
            line.team in g.teams for g in games[line.game_id]
        ):
            yield _problem(
                "unknown_game", f"team {line.team} does not play in {line.game_id}", *where, "team"
            )
        yield from _check_values(line)


def _check_values(line: StatLine) -> Iterable[DataProblem]:
    where = (line.game_id, line.player_id)
    for key, value in line.stats:
        if abs(value) > STAT_BOUND:
            yield _problem(
                "value_out_of_range",
                f"{key} is {format_points(value)}, beyond {format_points(STAT_BOUND)} in size",
                *where,
                key,
            )
            continue  # its other faults (a fraction of a count) are beside the point
        step = COUNT_STATS.get(key)
        if step is None:
            continue
        if value < 0:
            yield _problem(
                "negative_count", f"{key} is {format_points(value)}, a count", *where, key
            )
        if (value / step).denominator != 1:
            unit = "whole number" if step == 1 else f"multiple of {format_points(step)}"
            yield _problem(
                "non_integer_count",
                f"{key} is {format_points(value)}, not a {unit}",
                *where,
                key,
            )
    for rule, stat, limit in _AT_MOST:
        # A negative limit is already a negative_count; comparing with it would say it twice.
        if 0 <= line.value(limit) < line.value(stat):
            yield _problem(
                rule,
                f"{stat} {format_points(line.value(stat))} exceeds "
                f"{limit} {format_points(line.value(limit))}",
                *where,
                stat,
            )


def validate_line(line: StatLine) -> tuple[DataProblem, ...]:
    """The rules one line's values break on their own (counts, bounds, touchdowns within
    catches), in RULES order; the same checks validate_snapshot makes of every line."""
    return tuple(sorted(_check_values(line), key=lambda p: (_RULE_ORDER[p.rule], p.field or "")))


RELATED_STATS: frozenset[str] = frozenset(limit for _, _, limit in _AT_MOST)
"""Stats no rule set may score but validation reads (receptions bound receiving touchdowns)."""


def _check_history(snapshot: FeedSnapshot, previous: FeedSnapshot) -> Iterable[DataProblem]:
    if snapshot.slate_id != previous.slate_id:
        detail = f"slate {snapshot.slate_id} follows slate {previous.slate_id}"
        yield _problem("slate_mismatch", detail, stat="slate_id")
    if snapshot.version < previous.version:
        detail = f"version {snapshot.version} follows version {previous.version}"
        yield _problem("version_regressed", detail, stat="version")
    now = _games_by_id(snapshot)
    for before in previous.games:
        games = now.get(before.game_id)
        if not games:
            yield _problem(
                "game_removed", f"{before.describe()} is gone", before.game_id, None, "game_id"
            )
            continue
        if not any(game.describe() == before.describe() for game in games):
            yield _problem(
                "game_changed_teams",
                f"{before.describe()} is now {games[0].describe()}",
                before.game_id,
                None,
                "teams",
            )
        if before.is_final and not any(game.is_final for game in games):
            yield _problem(
                "final_regressed",
                f"{before.describe()} was final and is now {games[0].status.value}",
                before.game_id,
                None,
                "status",
            )


@frozen
class StatCorrection:
    """An operator's correction of one player's stat on a slate: the exact value, and why.

    Corrections apply in the order they were recorded, on top of the feed's latest data;
    the last one of a stat wins (see usecases.stats.effective_lines).
    """

    player_id: str
    stat: str
    value_text: str
    reason: str
    actor: str
    at: datetime

    @property
    def value(self) -> Fraction:
        return parse_stat_value(self.value_text)


@frozen
class ProviderChange:
    """The provider's correction of one stat of a game already final: old and new values.

    Recorded when a snapshot is stored whose line of a game that was final in the
    previous snapshot (`from_version`) has another value at `to_version`; an absent
    stat is 0. Oldest first, the last one of a stat is what the feed now says.
    """

    player_id: str
    game_id: str
    stat: str
    old: Fraction
    new: Fraction
    from_version: int
    to_version: int
    at: datetime

    def describe(self) -> str:
        return (
            f"{self.player_id} in {self.game_id}: {self.stat} {format_points(self.old)} -> "
            f"{format_points(self.new)} (versions {self.from_version} -> {self.to_version})"
        )


class StatsFeed(Protocol):
    """The port to a sports-data provider; adapters implement it without inheriting from it.

    Contract (tests/contract/test_stats_feed_contract.py runs it against every adapter):
    - slates() lists the slate ids the feed can describe, sorted.
    - snapshot(slate_id) is the provider's current view of a slate. For an unchanged
      provider state it is the same snapshot, byte for byte (canonical_bytes), so ingesting
      it twice changes nothing. Its version never decreases as time passes, a game once
      FINAL stays FINAL (until a stat correction, which keeps it FINAL with new lines and a
      higher version), and a well-behaved provider's snapshots pass validate_snapshot. The
      caller still validates: a provider is untrusted.
    - player_pool(slate_id) is the slate's players with positions, teams, games and salaries;
      every player's team plays on the slate.
    - Every method raises FeedUnavailable when the provider cannot be reached or read (the
      caller retries later), and snapshot/player_pool raise UnknownSlate for a slate id the
      feed does not have. No other domain error escapes an adapter, and no library error
      at all (adapters translate them).
    """

    def snapshot(self, slate_id: str) -> FeedSnapshot: ...

    def player_pool(self, slate_id: str) -> PlayerPool: ...

    def slates(self) -> tuple[str, ...]: ...
