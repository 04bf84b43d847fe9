"""The lineup quota: a sliding minute per player, counting lineups, saying how long to wait."""

from __future__ import annotations

import pytest

from apps.api.quota import LineupQuota


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_lineups_are_counted_per_player_over_a_sliding_minute() -> None:
    clock = Clock()
    quota = LineupQuota(150, clock)
    assert quota.take("ann", 100) is None
    clock.now += 20
    assert quota.take("ann", 50) is None
    assert quota.take("bob", 150) is None  # another player's allowance is his own
    assert quota.take("ann", 1) == 40  # the first 100 leave the window 40 s from now
    clock.now += 39.5
    assert quota.take("ann", 1) == 1  # rounded up, never 0
    clock.now += 0.5
    assert quota.take("ann", 100) is None
    assert quota.take("ann", 1) == 20


def test_a_refused_take_counts_nothing() -> None:
    clock = Clock()
    quota = LineupQuota(10, clock)
    assert quota.take("ann", 8) is None
    assert quota.take("ann", 3) == 60
    assert quota.take("ann", 2) is None


@pytest.mark.parametrize("lineups", [0, 11])
def test_a_count_that_can_never_fit_is_refused(lineups: int) -> None:
    with pytest.raises(ValueError, match="can never fit"):
        LineupQuota(10).take("ann", lineups)
