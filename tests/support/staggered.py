"""The test world's slate with its two games apart: g1 (KC, BAL) kicks off at lock, g2 (PHI,
DAL) three hours later, so late swap and hidden lineups have a game started and one not."""

from __future__ import annotations

from datetime import datetime, timedelta

from fantasy_core.stats import FeedSnapshot, Game, GameStatus
from support.world import GAMES, LOCK, SLATE, stat_lines

LATE = LOCK + timedelta(hours=3)
KICKOFFS = {"g1": LOCK, "g2": LATE}


def staggered(
    version: int, g1: GameStatus, g2: GameStatus, g2_kickoff: datetime = LATE, seed: int = 0
) -> FeedSnapshot:
    """The feed's view with each game's status; lines for the games under way or final."""
    statuses = {"g1": g1, "g2": g2}
    kickoffs = {"g1": LOCK, "g2": g2_kickoff}
    games = tuple(Game(g, home, away, kickoffs[g], statuses[g]) for g, home, away in GAMES)
    playing = {g for g, status in statuses.items() if status is not GameStatus.SCHEDULED}
    lines = tuple(line for line in stat_lines(seed) if line.game_id in playing)
    return FeedSnapshot(SLATE, version, games, lines)
