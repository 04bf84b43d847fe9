"""The live leaderboard of a contest not yet settled, ranked exactly as settlement will rank it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction

from fantasy_core.contest import Contest
from fantasy_core.entries import Entry, EntryStatus
from fantasy_core.leaderboard import Leaderboard
from fantasy_core.ports import UnitOfWork
from fantasy_core.settlement import prize_pool
from fantasy_core.usecases.stats import effective_lines


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


def live_ranks(uow: UnitOfWork, contest: Contest) -> dict[str, int]:
    """Each active entry's rank (by entry id) on the effective lines (the latest valid feed
    data with corrections applied), inside the caller's transaction: the live leaderboard's
    ranks, which are settlement's (tests/unit/test_leaderboard.py proves it)."""
    entries = tuple(uow.entries.for_contest(contest.contest_id, [EntryStatus.ACTIVE]))
    board = live_leaderboard(contest, entries, effective_lines(uow, contest.terms.slate_id))
    return dict(zip(board.entry_ids, board.ranks(), strict=True))
