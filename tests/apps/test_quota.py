"""Quotas: a sliding-window counter per key, counting units, saying how long to wait,
in memory that stays flat however many requests come."""

from __future__ import annotations

import tracemalloc

import pytest

from apps.api.quota import SWEEP_EVERY, Quota


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_units_are_counted_per_key_and_the_wait_is_said_exactly() -> None:
    clock = Clock()
    quota = Quota(150, clock)
    assert quota.take("ann", 100) is None
    clock.now += 20
    assert quota.take("ann", 50) is None
    assert quota.take("bob", 150) is None  # another key's minute is its own
    # 150 counted this minute: one more fits once this minute is the earlier one and a
    # 150th of it has faded: (40 s to the next minute + 0.4 s), rounded up.
    assert quota.take("ann", 1) == 41
    clock.now = 1_060.0
    assert quota.take("ann", 1) == 1  # 0.4 s still, never 0
    clock.now = 1_061.0
    assert quota.take("ann", 1) is None  # 150 x 59/60 + 1 <= 150
    assert quota.take("ann", 2) == 1


def test_the_earlier_minute_fades_as_the_sliding_minute_leaves_it() -> None:
    clock = Clock()
    quota = Quota(10, clock)
    assert quota.take("ann", 10) is None
    clock.now += 60 + 30  # half-way through the next minute: 10 x 1/2 still counts
    assert quota.take("ann", 5) is None
    assert quota.take("ann", 1) == 6  # 5 x (1 - f) + 5 + 1 <= 10 once f >= 0.6
    clock.now += 120  # two idle minutes: nothing counts
    assert quota.take("ann", 10) is None


def test_a_refused_take_counts_nothing() -> None:
    clock = Clock()
    quota = Quota(10, clock)
    assert quota.take("ann", 8) is None
    assert quota.take("ann", 3) is not None
    assert quota.take("ann", 2) is None


@pytest.mark.parametrize("units", [0, 11])
def test_a_count_that_can_never_fit_is_refused(units: int) -> None:
    with pytest.raises(ValueError, match="can never fit"):
        Quota(10).take("ann", units)


def test_memory_stays_flat_under_ten_thousand_requests_a_minute_from_one_address() -> None:
    clock = Clock()
    quota = Quota(10, clock)
    for _ in range(1_000):  # warm up: the key and its window exist
        quota.take("203.0.113.7")
        clock.now += 0.006
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for _ in range(10_000):  # 10,000 in one minute, nearly all refused
        quota.take("203.0.113.7")
        clock.now += 0.006
    grown = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(before, "filename"))
    tracemalloc.stop()
    assert len(quota) == 1
    assert grown < 16_384  # bytes: constant per key, not per request


def test_idle_keys_are_swept() -> None:
    clock = Clock()
    quota = Quota(10, clock)
    for n in range(SWEEP_EVERY - 1):
        quota.take(f"198.51.100.{n}")
    assert len(quota) == SWEEP_EVERY - 1
    clock.now += 121  # every key idle for two minutes
    quota.take("192.0.2.1")  # the sweep's turn
    assert len(quota) == 1
