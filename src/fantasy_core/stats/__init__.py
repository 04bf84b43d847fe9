"""Sports data: games and stat lines, feed snapshots, the rules untrusted data must pass, fixes.

One idea a module: `model` (games, stat lines), `canonical` (their JSON-able form, read
back strictly), `feed_snapshot` (one slate at one version, and its fingerprint),
`validation` (the rules, by stable code) and `corrections` (operators' and providers'
fixes). The feed's port, StatsFeed, is in fantasy_core.ports with the others.
"""

from fantasy_core.stats.corrections import ProviderChange, StatCorrection
from fantasy_core.stats.feed_snapshot import FeedSnapshot
from fantasy_core.stats.model import Game, GameStatus, StatLine
from fantasy_core.stats.validation import (
    COUNT_STATS,
    RELATED_STATS,
    RULES,
    STAT_BOUND,
    DataProblem,
    validate_line,
    validate_snapshot,
    version_conflict,
)

__all__ = [
    "COUNT_STATS",
    "RELATED_STATS",
    "RULES",
    "STAT_BOUND",
    "DataProblem",
    "FeedSnapshot",
    "Game",
    "GameStatus",
    "ProviderChange",
    "StatCorrection",
    "StatLine",
    "validate_line",
    "validate_snapshot",
    "version_conflict",
]
