"""The lobby's filter: each criterion alone, and together as their conjunction."""

from __future__ import annotations

from datetime import timedelta

import attrs
from hypothesis import given
from hypothesis import strategies as st

from fantasy_core.lifecycle import ContestState
from fantasy_core.money import Money
from fantasy_core.usecases.queries import ContestSummary, LobbyFilter, lobby_contests
from support.world import LOCK, World


def summary(world: World, seats: int = 0, **terms: object) -> ContestSummary:
    return ContestSummary(world.create(**terms), seats)


def test_each_criterion_alone() -> None:
    world = World()
    cheap = summary(world, entry_fee=Money(500, "usd"))
    dear = summary(world, entry_fee=Money(501, "usd"), guaranteed_pool=Money(10_000, "usd"))
    assert LobbyFilter(max_fee_minor=500).admits(cheap)
    assert not LobbyFilter(max_fee_minor=500).admits(dear)
    assert LobbyFilter(min_fee_minor=501).admits(dear)
    assert not LobbyFilter(min_fee_minor=501).admits(cheap)
    assert LobbyFilter(guaranteed=True).admits(dear)
    assert not LobbyFilter(guaranteed=True).admits(cheap)
    assert LobbyFilter(guaranteed=False).admits(cheap)
    template = cheap.contest.terms.sport_template
    assert LobbyFilter(sport_templates=frozenset({template})).admits(cheap)
    assert not LobbyFilter(sport_templates=frozenset({"other"})).admits(cheap)
    assert LobbyFilter(states=frozenset({ContestState.SCHEDULED})).admits(cheap)
    assert not LobbyFilter(states=frozenset({ContestState.LOCKED})).admits(cheap)


def test_open_means_taking_entries_with_a_seat_left() -> None:
    world = World()
    contest = summary(world)
    before = LOCK - timedelta(seconds=1)
    assert LobbyFilter(open_at=before).admits(contest)
    assert not LobbyFilter(open_at=LOCK).admits(contest)
    full = attrs.evolve(contest, seats_taken=contest.contest.terms.capacity)
    assert not LobbyFilter(open_at=before).admits(full)
    one_left = attrs.evolve(contest, seats_taken=contest.contest.terms.capacity - 1)
    assert LobbyFilter(open_at=before).admits(one_left)


@given(
    low=st.none() | st.integers(0, 1_000),
    high=st.none() | st.integers(0, 1_000),
    guaranteed=st.none() | st.booleans(),
    fee=st.integers(1, 1_000),
    has_pool=st.booleans(),
)
def test_a_filter_admits_exactly_what_each_of_its_criteria_admits(
    low: int | None, high: int | None, guaranteed: bool | None, fee: int, has_pool: bool
) -> None:
    world = World()
    pool = Money(100_000, "usd") if has_pool else None
    contest = summary(world, entry_fee=Money(fee, "usd"), guaranteed_pool=pool)
    parts = [
        LobbyFilter(min_fee_minor=low),
        LobbyFilter(max_fee_minor=high),
        LobbyFilter(guaranteed=guaranteed),
    ]
    together = LobbyFilter(min_fee_minor=low, max_fee_minor=high, guaranteed=guaranteed)
    assert together.admits(contest) == all(part.admits(contest) for part in parts)


def test_the_lobby_lists_what_the_filter_admits_by_id() -> None:
    world = World()
    first = world.create(entry_fee=Money(500, "usd"))
    world.create(entry_fee=Money(2_000, "usd"))
    third = world.create(entry_fee=Money(700, "usd"))
    found = lobby_contests(world.p, LobbyFilter(max_fee_minor=1_000))
    assert [s.contest.contest_id for s in found] == [first.contest_id, third.contest_id]
