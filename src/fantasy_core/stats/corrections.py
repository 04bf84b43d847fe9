"""Fixes to the feed's data: an operator's correction of a stat, a provider's change of one."""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction

from attrs import frozen

from fantasy_core.scoring.exact import format_points, parse_stat_value


@frozen
class StatCorrection:
    """An operator's correction of one player's stat on a slate: the exact value, and why.

    Corrections apply in the order they were recorded, on top of the feed's latest data;
    the last one of a stat wins (see usecases.stats.effective_lines).
    """

    player_id: str
    stat: str
    value_text: str
    reason: str
    actor: str
    at: datetime

    @property
    def value(self) -> Fraction:
        return parse_stat_value(self.value_text)


@frozen
class ProviderChange:
    """The provider's correction of one stat of a game already final: old and new values.

    Recorded when a snapshot is stored whose line of a game that was final in the
    previous snapshot (`from_version`) has another value at `to_version`; an absent
    stat is 0. Oldest first, the last one of a stat is what the feed now says.
    """

    player_id: str
    game_id: str
    stat: str
    old: Fraction
    new: Fraction
    from_version: int
    to_version: int
    at: datetime

    def describe(self) -> str:
        return (
            f"{self.player_id} in {self.game_id}: {self.stat} {format_points(self.old)} -> "
            f"{format_points(self.new)} (versions {self.from_version} -> {self.to_version})"
        )
