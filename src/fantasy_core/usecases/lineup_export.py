"""The export of a contest's lineups (what DraftKings offers after a contest): from lock, every
active entry in standings order with its points and its lineup as the public sees it."""

from __future__ import annotations

from fractions import Fraction

from attrs import frozen

from fantasy_core.contest import Contest
from fantasy_core.entries import EntryStatus
from fantasy_core.errors import LineupsNotPublic
from fantasy_core.platform import Platform
from fantasy_core.usecases.lineups import game_starts
from fantasy_core.usecases.queries import LEADERBOARD_STATES, leaderboard
from fantasy_core.usecases.visibility import lineup_view


@frozen
class ExportedLineup:
    """One entry of the export: its standing and its picks, None where still hidden."""

    rank: int
    entry_id: str
    user_id: str
    points: Fraction
    picks: tuple[tuple[str, str | None], ...]


def exported_lineups(p: Platform, contest_id: str) -> tuple[Contest, list[ExportedLineup]]:
    """The contest and every active entry's lineup as the public sees it now (hidden
    lineups: picks of games not started are None until the contest completes), best
    first, with the leaderboard's ranks and points. LineupsNotPublic before lock and for
    a cancelled contest; UnknownContest for an unknown id."""
    with p.reading() as uow:
        contest = uow.contests.get(contest_id)
        if contest.state not in LEADERBOARD_STATES:
            raise LineupsNotPublic(
                f"contest {contest_id} is {contest.state.value}: its lineups are published "
                "from lock on, and never for a cancelled contest"
            )
        entries = {e.entry_id: e for e in uow.entries.for_contest(contest_id, [EntryStatus.ACTIVE])}
        starts = game_starts(uow, contest)
    now = p.clock.now()
    board = leaderboard(p, contest_id, 0, max(1, len(entries)))
    rows: list[ExportedLineup] = []
    for row in board.rows:
        view = lineup_view(contest, entries[row.entry_id], None, starts, now)
        rows.append(ExportedLineup(row.rank, row.entry_id, row.user_id, row.score, view.picks))
    return contest, rows
