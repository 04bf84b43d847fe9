"""Lineups: sport roster templates, a slate's player pool, and the rules a lineup must satisfy."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from enum import StrEnum
from types import MappingProxyType

from attrs import Attribute, field, frozen

from fantasy_core import codec
from fantasy_core.errors import (
    InvalidLineup,
    InvalidPlayerPool,
    InvalidSportTemplate,
    UnknownSportTemplate,
)


class Position(StrEnum):
    """A player's position on the slate; a StrEnum, so `Position.QB == "QB"`."""

    QB = "QB"
    RB = "RB"
    WR = "WR"
    TE = "TE"
    K = "K"
    DST = "DST"


_POSITION_VALUES = frozenset(p.value for p in Position)


def dst_player_id(team: str) -> str:
    """The player id of a team's defence and special teams: one per team on every slate, from
    every feed (its stat line carries the dst_* keys, decision 0008)."""
    return f"DST-{team}"


_KNOWN_POSITIONS = ", ".join(Position)


def _positive_int(error: type[Exception]) -> Callable[[object, Attribute[int], int], None]:
    def check(_: object, attribute: Attribute[int], value: int) -> None:
        # bool is an int subclass; a salary or a cap of True is a bug, not a number.
        if type(value) is not int or value <= 0:
            raise error(f"{attribute.name} must be a positive whole number, got {value!r}")

    return check


def _non_empty_str(error: type[Exception]) -> Callable[[object, Attribute[str], str], None]:
    def check(_: object, attribute: Attribute[str], value: str) -> None:
        if not isinstance(value, str) or not value.strip():
            raise error(f"{attribute.name} must be a non-empty string, got {value!r}")

    return check


def _to_position(value: object, error: type[Exception]) -> Position:
    if isinstance(value, str) and value in _POSITION_VALUES:
        return Position(value)
    raise error(f"unknown position {value!r}; known positions: {_KNOWN_POSITIONS}")


def _to_eligible(value: Iterable[str]) -> frozenset[Position]:
    if isinstance(value, str):
        # frozenset("QB") would be {"Q", "B"}: a lone string is a caller's mistake.
        raise InvalidSportTemplate(f"eligible positions must be a collection, got {value!r}")
    return frozenset(_to_position(p, InvalidSportTemplate) for p in value)


def _check_eligible(_: object, __: object, value: frozenset[Position]) -> None:
    if not value:
        raise InvalidSportTemplate("a roster slot must accept at least one position")


@frozen
class RosterSlot:
    """One place in a roster: its name as the site shows it ("FLEX") and the positions it takes."""

    name: str = field(validator=_non_empty_str(InvalidSportTemplate))
    eligible: frozenset[Position] = field(converter=_to_eligible, validator=_check_eligible)

    def accepts(self, position: Position) -> bool:
        return position in self.eligible

    def describe_eligible(self) -> str:
        names = sorted(self.eligible)
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _to_slots(value: Iterable[RosterSlot]) -> tuple[RosterSlot, ...]:
    slots = tuple(value)
    if not slots:
        raise InvalidSportTemplate("a sport template needs at least one roster slot")
    return slots


def _check_slots(_: object, __: object, value: tuple[object, ...]) -> None:
    for slot in value:
        if not isinstance(slot, RosterSlot):
            raise InvalidSportTemplate(f"roster slots must be RosterSlot values, got {slot!r}")


@frozen
class SportTemplate:
    """The roster a site asks for: slots in display order, a salary cap in whole dollars, and
    the minimum number of distinct real teams and games a lineup must draw from."""

    name: str = field(validator=_non_empty_str(InvalidSportTemplate))
    slots: tuple[RosterSlot, ...] = field(converter=_to_slots, validator=_check_slots)
    salary_cap: int = field(validator=_positive_int(InvalidSportTemplate))
    min_teams: int = field(validator=_positive_int(InvalidSportTemplate))
    min_games: int = field(validator=_positive_int(InvalidSportTemplate))

    def __attrs_post_init__(self) -> None:
        # A lineup has one player per slot, so it cannot span more teams or games than slots.
        for label, minimum in (("min_teams", self.min_teams), ("min_games", self.min_games)):
            if minimum > len(self.slots):
                raise InvalidSportTemplate(
                    f"{self.name}: {label} {minimum} exceeds its {len(self.slots)} roster slots"
                )

    @property
    def slot_names(self) -> tuple[str, ...]:
        return tuple(slot.name for slot in self.slots)


def _slot(name: str, *eligible: Position) -> RosterSlot:
    return RosterSlot(name, frozenset(eligible) or frozenset({Position(name)}))


_FLEX = (Position.RB, Position.WR, Position.TE)

_DRAFTKINGS_NFL_CLASSIC = SportTemplate(
    name="draftkings_nfl_classic",
    slots=(
        _slot("QB"),
        _slot("RB"),
        _slot("RB"),
        _slot("WR"),
        _slot("WR"),
        _slot("WR"),
        _slot("TE"),
        _slot("FLEX", *_FLEX),
        _slot("DST"),
    ),
    salary_cap=50_000,
    # DraftKings requires players from at least 2 different NFL games (hence 2 teams too).
    min_teams=2,
    min_games=2,
)

# FanDuel full-roster NFL: the same shape under $60,000, its defence slot named "DEF".
# As the issue states, only 2 teams and 2 games are required here; FanDuel's own per-team
# cap (at most 4 players from one team) is NOT implemented.
_FANDUEL_NFL = SportTemplate(
    name="fanduel_nfl",
    slots=(
        _slot("QB"),
        _slot("RB"),
        _slot("RB"),
        _slot("WR"),
        _slot("WR"),
        _slot("WR"),
        _slot("TE"),
        _slot("FLEX", *_FLEX),
        _slot("DEF", Position.DST),
    ),
    salary_cap=60_000,
    min_teams=2,
    min_games=2,
)

SPORT_TEMPLATES: Mapping[str, SportTemplate] = MappingProxyType(
    {t.name: t for t in (_DRAFTKINGS_NFL_CLASSIC, _FANDUEL_NFL)}
)


def sport_template(name: str) -> SportTemplate:
    """The template called `name`, or UnknownSportTemplate listing the known ones."""
    template = SPORT_TEMPLATES.get(name)
    if template is None:
        known = ", ".join(sorted(SPORT_TEMPLATES))
        raise UnknownSportTemplate(f"no sport template named {name!r}; known templates: {known}")
    return template


def _player_position(value: object) -> Position:
    return _to_position(value, InvalidPlayerPool)


@frozen
class SlatePlayer:
    """A player available on one slate: position, real team and game, salary in whole dollars."""

    player_id: str = field(validator=_non_empty_str(InvalidPlayerPool))
    name: str = field(validator=_non_empty_str(InvalidPlayerPool))
    position: Position = field(converter=_player_position)
    team: str = field(validator=_non_empty_str(InvalidPlayerPool))
    game_id: str = field(validator=_non_empty_str(InvalidPlayerPool))
    salary: int = field(validator=_positive_int(InvalidPlayerPool))

    def describe(self) -> str:
        return f"{self.name} ({self.position}, {self.team}, id {self.player_id})"


def _freeze_players(value: Mapping[str, SlatePlayer]) -> Mapping[str, SlatePlayer]:
    if not isinstance(value, Mapping):
        raise InvalidPlayerPool(f"players must be a mapping of player id to player, got {value!r}")
    # Sorted by id: two pools with the same players are equal and iterate identically,
    # whatever order the feed listed them in.
    return MappingProxyType({k: value[k] for k in sorted(value)})


def _check_players(_: object, __: object, value: Mapping[str, object]) -> None:
    for player_id, player in value.items():
        if not isinstance(player, SlatePlayer):
            raise InvalidPlayerPool(f"pool entry {player_id!r} is not a SlatePlayer: {player!r}")
        if player.player_id != player_id:
            raise InvalidPlayerPool(
                f"pool key {player_id!r} does not match its player's id {player.player_id!r}"
            )


@frozen
class PlayerPool:
    """The players of one slate, by id; read-only and ordered by id."""

    slate_id: str = field(validator=_non_empty_str(InvalidPlayerPool))
    # Excluded from the hash (a mapping proxy is unhashable); equality still compares it.
    players: Mapping[str, SlatePlayer] = field(
        converter=_freeze_players, validator=_check_players, hash=False
    )

    @classmethod
    def of(cls, slate_id: str, players: Iterable[SlatePlayer]) -> PlayerPool:
        """Build a pool from a list of players, refusing two players with the same id."""
        by_id: dict[str, SlatePlayer] = {}
        for player in players:
            if player.player_id in by_id:
                raise InvalidPlayerPool(
                    f"slate {slate_id} lists player id {player.player_id!r} twice: "
                    f"{by_id[player.player_id].describe()} and {player.describe()}"
                )
            by_id[player.player_id] = player
        return cls(slate_id, by_id)

    def get(self, player_id: str) -> SlatePlayer | None:
        return self.players.get(player_id)

    def __len__(self) -> int:
        return len(self.players)

    def canonical(self) -> dict[str, object]:
        """The JSON-able form stored with a contest: players by id, each as a row."""
        return {
            "slate_id": self.slate_id,
            "players": [
                [p.player_id, p.name, p.position.value, p.team, p.game_id, p.salary]
                for p in self.players.values()
            ],
        }

    @classmethod
    def from_canonical(cls, data: object) -> PlayerPool:
        if not isinstance(data, dict) or not isinstance(data.get("players"), list):
            raise InvalidPlayerPool(f"a stored player pool needs a players list, got {data!r}")
        slate_id = data.get("slate_id")
        if not isinstance(slate_id, str):
            raise InvalidPlayerPool(f"a stored player pool needs a slate id, got {slate_id!r}")
        players: list[SlatePlayer] = []
        for row in data["players"]:
            if not isinstance(row, list) or len(row) != 6:
                raise InvalidPlayerPool(f"a stored player must be a 6-item row, got {row!r}")
            player_id, name, position, team, game_id, salary = row
            players.append(SlatePlayer(player_id, name, position, team, game_id, salary))
        return cls.of(slate_id, players)


def _to_picks(value: Iterable[Sequence[str]]) -> tuple[tuple[str, str], ...]:
    picks: list[tuple[str, str]] = []
    for index, pick in enumerate(value, start=1):
        # A lone string is a sequence too ("QB" -> "Q", "B"); only a real pair will do.
        pair: tuple[object, ...] = tuple(pick) if isinstance(pick, tuple | list) else (pick,)
        if len(pair) != 2 or not all(isinstance(part, str) for part in pair):
            raise InvalidLineup(
                "malformed_pick",
                f"pick {index} must be a (slot name, player id) pair of strings, got {pick!r}",
            )
        picks.append((str(pair[0]), str(pair[1])))
    return tuple(picks)


@frozen
class Lineup:
    """An entrant's picks: (slot name, player id) pairs in the template's slot order."""

    picks: tuple[tuple[str, str], ...] = field(converter=_to_picks)

    @property
    def player_ids(self) -> tuple[str, ...]:
        return tuple(player_id for _, player_id in self.picks)

    def canonical(self) -> list[list[str]]:
        """The JSON-able form: [slot, player id] pairs in slot order."""
        return [[slot, player_id] for slot, player_id in self.picks]

    @property
    def fingerprint(self) -> str:
        """ "sha256:<hex>" of the canonical form (codec): equal lineups, and only they, have
        the same fingerprint (what the audit of a lineup change names)."""
        return codec.fingerprint(self.canonical())


def _where(index: int, slot_name: str) -> str:
    return f"the {slot_name} slot (pick {index + 1})"


def validate_lineup(template: SportTemplate, pool: PlayerPool, lineup: Lineup) -> None:
    """Raise InvalidLineup for the first rule `lineup` breaks, or return if it is legal.

    Rules are checked in this fixed order, and within a rule picks are examined in slot
    order, so the same bad lineup always reports the same rule and the same player:
      1. slot_count           one pick per template slot
      2. wrong_slot           each pick names the template's slot at its position
      3. unknown_player       every player is in the slate's pool
      4. duplicate_player     no player twice (reported at the second pick)
      5. ineligible_position  each player's position is one its slot accepts
      6. salary_cap           total salary at most the cap
      7. too_few_teams        players from at least `min_teams` real teams
      8. too_few_games        players from at least `min_games` games
    """
    _check_shape(template, lineup)
    players = _check_players_known_and_distinct(pool, lineup)
    _check_eligibility(template, players)
    _check_salary(template, players)
    _check_spread(template, players)


def _check_shape(template: SportTemplate, lineup: Lineup) -> None:
    expected = template.slot_names
    if len(lineup.picks) != len(expected):
        raise InvalidLineup(
            "slot_count",
            f"{template.name} needs {len(expected)} picks ({', '.join(expected)}), "
            f"the lineup has {len(lineup.picks)}",
        )
    for index, ((slot_name, player_id), wanted) in enumerate(
        zip(lineup.picks, expected, strict=True)
    ):
        if slot_name != wanted:
            raise InvalidLineup(
                "wrong_slot",
                f"pick {index + 1} (player {player_id}) is in slot {slot_name!r}, "
                f"but {template.name} has {wanted} there; slots go {', '.join(expected)}",
                player_id,
            )


def _check_players_known_and_distinct(pool: PlayerPool, lineup: Lineup) -> list[SlatePlayer]:
    players: list[SlatePlayer] = []
    for index, (slot_name, player_id) in enumerate(lineup.picks):
        player = pool.get(player_id)
        if player is None:
            raise InvalidLineup(
                "unknown_player",
                f"player {player_id!r} in {_where(index, slot_name)} is not on slate "
                f"{pool.slate_id}",
                player_id,
            )
        players.append(player)
    first_pick: dict[str, int] = {}
    for index, (slot_name, player_id) in enumerate(lineup.picks):
        if player_id in first_pick:
            first = first_pick[player_id]
            raise InvalidLineup(
                "duplicate_player",
                f"{players[index].describe()} is picked twice: in "
                f"{_where(first, lineup.picks[first][0])} and again in {_where(index, slot_name)}",
                player_id,
            )
        first_pick[player_id] = index
    return players


def _check_eligibility(template: SportTemplate, players: list[SlatePlayer]) -> None:
    for index, (slot, player) in enumerate(zip(template.slots, players, strict=True)):
        if not slot.accepts(player.position):
            raise InvalidLineup(
                "ineligible_position",
                f"{player.describe()} cannot fill {_where(index, slot.name)}, "
                f"which takes {slot.describe_eligible()}",
                player.player_id,
            )


def _check_salary(template: SportTemplate, players: list[SlatePlayer]) -> None:
    total = sum(player.salary for player in players)
    if total > template.salary_cap:
        raise InvalidLineup(
            "salary_cap",
            f"the lineup's salary ${total:,} is over {template.name}'s ${template.salary_cap:,} "
            f"cap by ${total - template.salary_cap:,}",
        )


def _check_spread(template: SportTemplate, players: list[SlatePlayer]) -> None:
    teams = sorted({player.team for player in players})
    if len(teams) < template.min_teams:
        raise InvalidLineup(
            "too_few_teams",
            f"the lineup draws from {len(teams)} team(s) ({', '.join(teams)}); "
            f"{template.name} needs players from at least {template.min_teams} teams",
        )
    games = sorted({player.game_id for player in players})
    if len(games) < template.min_games:
        raise InvalidLineup(
            "too_few_games",
            f"the lineup draws from {len(games)} game(s) ({', '.join(games)}); "
            f"{template.name} needs players from at least {template.min_games} games",
        )
