"""Standings of a contest not yet settled, ranked exactly as settlement will rank them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction

from attrs import frozen

from fantasy_core.contest import Contest
from fantasy_core.entries import Entry, EntryStatus
from fantasy_core.leaderboard import Leaderboard
from fantasy_core.ports import UnitOfWork
from fantasy_core.settlement import Standings, prize_pool, settle_entries
from fantasy_core.usecases.stats import effective_lines


@frozen
class LiveStandings:
    """The active entries of a contest and their standings on the data held now."""

    entries: tuple[Entry, ...]
    standings: Standings

    def ranks(self) -> dict[str, int]:
        """Each entry's rank, by entry id."""
        return dict(zip(self.standings.entry_ids, self.standings.ranks, strict=True))


def live_leaderboard(
    contest: Contest, entries: Sequence[Entry], lines: Mapping[str, Mapping[str, Fraction]]
) -> Leaderboard:
    """The leaderboard of `contest`'s active `entries` on the effective stat `lines`, with the
    prizes settlement would pay on them projected."""
    terms = contest.terms
    points = {player: terms.rules.score(line) for player, line in lines.items()}
    pool = _pool(contest, entries)
    return Leaderboard(
        {e.entry_id: e.lineup.player_ids for e in entries},
        points,
        {e.entry_id: e.user_id for e in entries},
        terms.payout.place_prizes(len(entries), pool, terms.entry_fee.minor),
    )


def _pool(contest: Contest, entries: Sequence[Entry]) -> int:
    terms = contest.terms
    return prize_pool(
        sum(e.fee_minor for e in entries),
        terms.rake_bps,
        None if terms.guaranteed_pool is None else terms.guaranteed_pool.minor,
        len(entries),
        terms.payout,
    ).pool


def live_standings(uow: UnitOfWork, contest: Contest) -> LiveStandings:
    """Score, rank and project the prizes of `contest`'s active entries on the effective lines
    (the latest valid feed data with corrections applied), inside the caller's transaction."""
    entries = tuple(uow.entries.for_contest(contest.contest_id, [EntryStatus.ACTIVE]))
    terms = contest.terms
    lines = effective_lines(uow, terms.slate_id)
    points = {player: terms.rules.score(line) for player, line in lines.items()}
    lineups = {e.entry_id: e.lineup.player_ids for e in entries}
    pool = _pool(contest, entries)
    standings = settle_entries(lineups, points, terms.payout, pool, terms.entry_fee.minor)
    return LiveStandings(entries, standings)
