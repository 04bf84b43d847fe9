"""The rules untrusted sports data must pass, each by a stable code, for a line or a snapshot."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from fractions import Fraction
from types import MappingProxyType

from attrs import field, frozen

from fantasy_core.errors import InvalidFeedData
from fantasy_core.scoring.exact import format_points
from fantasy_core.stats.feed_snapshot import FeedSnapshot
from fantasy_core.stats.model import Game, StatLine

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
