"""The canonical (JSON-able) form of games and stat lines, and reading it back strictly."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from fractions import Fraction

from fantasy_core.codec import Reader
from fantasy_core.errors import InvalidFeedData, InvalidStatLine
from fantasy_core.scoring.exact import format_points, parse_stat_value
from fantasy_core.stats.model import Game, GameStatus, StatLine

CANONICAL_FORMAT = 1
"""Bumped only if the canonical form of a snapshot ever has to change shape."""

READ = Reader(InvalidFeedData)
"""The structural checks of a feed snapshot's canonical form, raising InvalidFeedData."""


def iso(moment: datetime) -> str:
    """An instant as the canonical form writes it: ISO-8601 in UTC, ending in "Z"."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def game_document(game: Game) -> dict[str, object]:
    return {
        "game_id": game.game_id,
        "home": game.home,
        "away": game.away,
        "kickoff": iso(game.kickoff),
        "status": game.status.value,
    }


def line_document(line: StatLine) -> dict[str, object]:
    return {
        "player_id": line.player_id,
        "team": line.team,
        "game_id": line.game_id,
        "stats": {key: format_points(value) for key, value in line.stats},
    }


def game_from(data: object, where: str) -> Game:
    """The game a canonical form describes; `where` locates it in errors (e.g. "games[2]")."""
    fields = READ.fields(data, where, {"game_id", "home", "away", "kickoff", "status"})
    kickoff = READ.text(fields["kickoff"], f"{where}.kickoff")
    try:
        moment = datetime.fromisoformat(kickoff)
        status = GameStatus(fields["status"])
    except ValueError as error:
        raise InvalidFeedData(f"{where}: {error}") from error
    if moment.utcoffset() is None or iso(moment) != kickoff:
        raise InvalidFeedData(
            f"{where}.kickoff: expected ISO-8601 UTC ending in Z, got {kickoff!r}"
        )
    try:
        return Game(
            game_id=READ.text(fields["game_id"], f"{where}.game_id"),
            home=READ.text(fields["home"], f"{where}.home"),
            away=READ.text(fields["away"], f"{where}.away"),
            kickoff=moment,
            status=status,
        )
    except InvalidFeedData as error:
        raise InvalidFeedData(f"{where}: {error}") from error


def line_from(data: object, where: str) -> StatLine:
    """The stat line a canonical form describes: every value an exact decimal in its shortest
    form; `where` locates it in errors (e.g. "lines[3]")."""
    fields = READ.fields(data, where, {"player_id", "team", "game_id", "stats"})
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
            READ.text(fields["player_id"], f"{where}.player_id"),
            READ.text(fields["team"], f"{where}.team"),
            READ.text(fields["game_id"], f"{where}.game_id"),
            values,
        )
    except InvalidStatLine as error:
        raise InvalidStatLine(f"{where}: {error}") from error
