"""Sports data as the feed reports it: games, their status, and players' exact stat lines."""

from __future__ import annotations

import enum
import itertools
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from fractions import Fraction

from attrs import Attribute, field, frozen

from fantasy_core.errors import InvalidFeedData, InvalidStatLine
from fantasy_core.scoring.exact import is_terminating


class GameStatus(enum.Enum):
    """Where a game stands, as the provider reports it."""

    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    FINAL = "final"
    POSTPONED = "postponed"
    CANCELLED = "cancelled"


_OFF = frozenset({GameStatus.POSTPONED, GameStatus.CANCELLED})
_STAT_KEY = re.compile(r"[a-z][a-z0-9_]*")


def printable_text(error: type[Exception]) -> Callable[[object, Attribute[str], str], None]:
    """An attrs validator: non-empty printable text, or `error` naming the field."""

    def check(_: object, attribute: Attribute[str], value: str) -> None:
        if not isinstance(value, str) or not value.strip() or not value.isprintable():
            raise error(f"{attribute.name} must be non-empty printable text, got {value!r}")

    return check


def utc(value: datetime) -> datetime:
    """An aware instant in UTC; InvalidFeedData for anything else (a naive one above all)."""
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

    game_id: str = field(validator=printable_text(InvalidFeedData))
    home: str = field(validator=printable_text(InvalidFeedData))
    away: str = field(validator=printable_text(InvalidFeedData))
    kickoff: datetime = field(converter=utc)
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

    player_id: str = field(validator=printable_text(InvalidStatLine))
    team: str = field(validator=printable_text(InvalidStatLine))
    game_id: str = field(validator=printable_text(InvalidStatLine))
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
