"""When each game of a contest's slate starts, and what a start decides: which picks a late
swap may still change, and which picks of other entries a player may see.

A game starts at its scheduled kickoff (the earlier of the one fixed in the contest's terms
and the one the feed reports now: a game moved earlier locks earlier, one moved later keeps
its original lock) or at the feed's first report that it is in progress or final, if that
comes first. A postponed or cancelled game still locks at its original kickoff. A game
neither the terms nor the feed know is not started.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType

from attrs import field, frozen

from fantasy_core.errors import LineupChangeRefused
from fantasy_core.lineups import Lineup, PlayerPool
from fantasy_core.stats import FeedSnapshot, GameStatus

_REPORTED_STARTED = frozenset({GameStatus.IN_PROGRESS, GameStatus.FINAL})
_OFF = frozenset({GameStatus.POSTPONED, GameStatus.CANCELLED})


def _freeze(value: Mapping[str, datetime]) -> Mapping[str, datetime]:
    return MappingProxyType(dict(value))


@frozen
class GameStarts:
    """Each game's kickoff (earliest known) and the games the feed reports started."""

    kickoffs: Mapping[str, datetime] = field(converter=_freeze, hash=False)
    reported: frozenset[str] = frozenset()

    @classmethod
    def of(cls, scheduled: Mapping[str, datetime], snapshot: FeedSnapshot | None) -> GameStarts:
        """From the kickoffs fixed in a contest's terms and the latest valid feed snapshot."""
        kickoffs = dict(scheduled)
        reported: set[str] = set()
        for game in () if snapshot is None else snapshot.games:
            if game.status in _REPORTED_STARTED:
                reported.add(game.game_id)
            if game.status not in _OFF:
                known = kickoffs.get(game.game_id)
                kickoffs[game.game_id] = game.kickoff if known is None else min(known, game.kickoff)
        return cls(kickoffs, frozenset(reported))

    def has_started(self, game_id: str, now: datetime) -> bool:
        if game_id in self.reported:
            return True
        kickoff = self.kickoffs.get(game_id)
        return kickoff is not None and kickoff <= now

    def started(self, game_ids: frozenset[str] | set[str], now: datetime) -> frozenset[str]:
        """Those of `game_ids` that have started at `now`."""
        return frozenset(g for g in game_ids if self.has_started(g, now))

    def why_started(self, game_id: str, now: datetime) -> str:
        """How `game_id` is known to have started (for a refusal's message)."""
        kickoff = self.kickoffs.get(game_id)
        if kickoff is not None and kickoff <= now:
            return f"kicked off at {kickoff.isoformat()}"
        return "reported under way by the feed"


def check_swap(
    pool: PlayerPool, old: Lineup, new: Lineup, starts: GameStarts, now: datetime
) -> None:
    """Raise LineupChangeRefused (player_started) for the first pick, in slot order, that a
    late swap may not change at `now`: a player whose game has started stays in his slot,
    and a player whose game has started cannot come in. Both lineups follow the template's
    slots (the caller validated `new`; `old` was valid when stored)."""
    for index, ((slot, was), (_, now_in)) in enumerate(zip(old.picks, new.picks, strict=True)):
        if was == now_in:
            continue
        for player_id, verb in ((was, "out of"), (now_in, "into")):
            player = pool.get(player_id)
            if player is not None and starts.has_started(player.game_id, now):
                raise LineupChangeRefused(
                    "player_started",
                    f"{player.describe()} cannot move {verb} the {slot} slot (pick "
                    f"{index + 1}): his game {player.game_id} "
                    f"{starts.why_started(player.game_id, now)}, so he is locked",
                    player_id,
                )


def visible_picks(
    lineup: Lineup, pool: PlayerPool, starts: GameStarts, now: datetime
) -> tuple[tuple[str, str | None], ...]:
    """`lineup`'s picks as another player sees them at `now`: (slot, player id) where the
    player's game has started, (slot, None) where it has not."""
    shown: list[tuple[str, str | None]] = []
    for slot, player_id in lineup.picks:
        player = pool.get(player_id)
        visible = player is not None and starts.has_started(player.game_id, now)
        shown.append((slot, player_id if visible else None))
    return tuple(shown)
