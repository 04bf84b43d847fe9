"""Hidden lineups: what of an entry's lineup a viewer may see. Its owner sees it all; anyone
else sees only the picks whose player's game has started (fantasy_core.game_starts), and
everything once the contest is complete. The settlement snapshot still holds every lineup."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from attrs import frozen

from fantasy_core.contest import Contest
from fantasy_core.entries import Entry
from fantasy_core.game_starts import GameStarts, visible_picks
from fantasy_core.lifecycle import ContestState
from fantasy_core.platform import Platform
from fantasy_core.usecases.lineups import game_starts

# From COMPLETE on every game is over: nothing is left to hide.
REVEALED_STATES = frozenset({ContestState.COMPLETE, ContestState.SETTLED, ContestState.PAID})


@frozen
class LineupView:
    """An entry's picks as one viewer sees them: (slot, player id), the id None where hidden."""

    entry_id: str
    picks: tuple[tuple[str, str | None], ...]

    @property
    def hidden(self) -> int:
        """How many picks this viewer may not see yet."""
        return sum(1 for _, player_id in self.picks if player_id is None)


def lineup_view(
    contest: Contest,
    entry: Entry,
    viewer: str | None,
    starts: GameStarts,
    now: datetime,
    sees_all: bool = False,
) -> LineupView:
    """`entry`'s lineup as `viewer` (a user id; None: the public) sees it at `now`.
    `sees_all` is for the people who run the platform (the apps decide who they are)."""
    if sees_all or entry.user_id == viewer or contest.state in REVEALED_STATES:
        return LineupView(entry.entry_id, tuple(entry.lineup.picks))
    shown = visible_picks(entry.lineup, contest.terms.pool, starts, now)
    return LineupView(entry.entry_id, shown)


def lineup_views(
    p: Platform,
    contest_id: str,
    entries: Iterable[Entry],
    viewer: str | None,
    sees_all: bool = False,
) -> dict[str, LineupView]:
    """The lineups of `entries` (of contest `contest_id`) as `viewer` sees them now, by entry
    id; the contest and its games' starts are read once."""
    with p.reading() as uow:
        contest = uow.contests.get(contest_id)
        starts = game_starts(uow, contest)
    now = p.clock.now()
    return {e.entry_id: lineup_view(contest, e, viewer, starts, now, sees_all) for e in entries}
