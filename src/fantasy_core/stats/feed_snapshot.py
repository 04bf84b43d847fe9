"""A feed snapshot: the provider's view of one slate at one version, and its fingerprint."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from fractions import Fraction

from attrs import field, frozen

from fantasy_core.codec import canonical_bytes, sha256_of
from fantasy_core.errors import InvalidFeedData
from fantasy_core.stats.canonical import (
    CANONICAL_FORMAT,
    READ,
    game_document,
    game_from,
    line_document,
    line_from,
)
from fantasy_core.stats.model import Game, GameStatus, StatLine, printable_text, utc

_DONE = frozenset({GameStatus.FINAL, GameStatus.POSTPONED, GameStatus.CANCELLED})


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


@frozen
class FeedSnapshot:
    """The feed's view of one slate at one `version` (which only grows as the provider updates).

    Games and lines are kept sorted, so two snapshots built from the same data in any order
    are equal and have the same canonical bytes. A snapshot may still break the rules of
    `validate_snapshot`: it holds what the provider said, checked only for shape.
    """

    slate_id: str = field(validator=printable_text(InvalidFeedData))
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
        return any(game.has_started(utc(now)) for game in self.games)

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
            "games": [game_document(game) for game in self.games],
            "lines": [line_document(line) for line in self.lines],
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
        fields = READ.fields(data, "snapshot", {"format", "slate_id", "version", "games", "lines"})
        if type(fields["format"]) is not int or fields["format"] != CANONICAL_FORMAT:
            raise InvalidFeedData(
                f"snapshot.format: expected {CANONICAL_FORMAT}, got {fields['format']!r}"
            )
        return cls(
            slate_id=READ.text(fields["slate_id"], "snapshot.slate_id"),
            version=READ.integer(fields["version"], "snapshot.version"),
            games=[game_from(g, f"games[{i}]") for i, g in enumerate(_items(fields, "games"))],
            lines=[line_from(x, f"lines[{i}]") for i, x in enumerate(_items(fields, "lines"))],
        )


def _items(fields: Mapping[str, object], key: str) -> list[object]:
    return READ.items(fields[key], f"snapshot.{key}")
