"""Payout structures turn a prize pool into per-place prizes, exactly."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fantasy_core.errors import InvalidPayoutTable
from fantasy_core.payouts import (
    MultipleOfFee,
    PrizeTier,
    RankTable,
    TopFraction,
    double_up,
    fifty_fifty,
    head_to_head,
    paid_places_for,
    payout_from_canonical,
    top_heavy,
    winner_take_all,
)


def test_winner_take_all_pays_the_whole_pool_to_first() -> None:
    assert winner_take_all().place_prizes(10, 9_000, 1_000) == [9_000]


def test_head_to_head_pays_the_winner() -> None:
    assert head_to_head().place_prizes(2, 1_800, 1_000) == [1_800]


def test_fifty_fifty_pays_the_top_half_equally() -> None:
    assert fifty_fifty().place_prizes(10, 9_000, 1_000) == [1_800] * 5
    assert fifty_fifty().place_prizes(11, 9_900, 1_000) == [1_980] * 5


def test_double_up_pays_twice_the_fee_to_as_many_as_the_pool_allows() -> None:
    # 100 $10 entries, 10% rake: $900 pays 45 entries $20.
    assert double_up().place_prizes(100, 90_000, 1_000) == [2_000] * 45


def test_double_up_with_a_tiny_field_pays_its_best_entry() -> None:
    assert double_up().place_prizes(1, 900, 1_000) == [900]


def test_rank_table_tiers_must_cover_places_from_one_without_gaps() -> None:
    with pytest.raises(InvalidPayoutTable, match="contiguously"):
        RankTable((PrizeTier(1, 1, 5), PrizeTier(3, 4, 1)))
    with pytest.raises(InvalidPayoutTable, match="weighs more"):
        RankTable((PrizeTier(1, 1, 1), PrizeTier(2, 2, 5)))
    with pytest.raises(InvalidPayoutTable):
        PrizeTier(2, 1, 1)
    with pytest.raises(InvalidPayoutTable):
        PrizeTier(1, 1, 0)


def test_unused_prizes_return_to_the_pool_and_are_shared_by_the_table_proportions() -> None:
    table = RankTable((PrizeTier(1, 1, 50), PrizeTier(2, 2, 30), PrizeTier(3, 3, 20)))
    assert table.place_prizes(3, 10_000, 1_000) == [5_000, 3_000, 2_000]
    # Only two entries: 3rd's prize returns to the pool, shared 50:30.
    assert table.place_prizes(2, 10_000, 1_000) == [6_250, 3_750]


def test_zero_entries_pay_nothing() -> None:
    assert top_heavy(10).place_prizes(0, 0, 1_000) == []
    assert fifty_fifty().place_prizes(0, 0, 1_000) == []
    assert double_up().place_prizes(0, 0, 1_000) == []


def test_top_heavy_pays_fifteen_percent_to_first_and_descends() -> None:
    prizes = top_heavy(200_000).place_prizes(1_000_000, 900_000_000, 1_000)
    assert len(prizes) == 200_000
    assert sum(prizes) == 900_000_000
    assert prizes[0] == 135_000_000
    assert prizes == sorted(prizes, reverse=True)


def test_paid_places_are_a_share_of_capacity_but_at_least_one() -> None:
    assert paid_places_for(1_000_000, 2_000) == 200_000
    assert paid_places_for(3, 2_000) == 1


@pytest.mark.parametrize(
    "structure",
    [top_heavy(123), fifty_fifty(), double_up(), TopFraction(Fraction(1, 3)), MultipleOfFee(3)],
)
def test_payout_structures_round_trip_through_their_canonical_form(structure: object) -> None:
    assert payout_from_canonical(structure.canonical()) == structure  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "data",
    [
        None,
        {"kind": "lottery"},
        {"kind": "rank_table", "tiers": [[1, 1, "5"]]},
        {"kind": "top_fraction", "fraction": 0.5},
        {"kind": "top_fraction", "fraction": "3/2"},
        {"kind": "multiple_of_fee", "multiple": 1},
    ],
)
def test_malformed_canonical_payout_structures_are_refused(data: object) -> None:
    with pytest.raises(InvalidPayoutTable):
        payout_from_canonical(data)


structures = st.one_of(
    st.integers(min_value=1, max_value=500).map(top_heavy),
    st.just(fifty_fifty()),
    st.just(double_up()),
    st.just(winner_take_all()),
)


@given(
    structures,
    st.integers(min_value=1, max_value=2_000),
    st.integers(min_value=0, max_value=10**9),
    st.integers(min_value=1, max_value=10**5),
)
def test_place_prizes_always_sum_to_the_pool_and_never_increase(
    structure: RankTable | TopFraction | MultipleOfFee, entries: int, pool: int, fee: int
) -> None:
    prizes = structure.place_prizes(entries, pool, fee)
    assert sum(prizes) == pool
    assert 1 <= len(prizes) <= entries
    assert prizes == sorted(prizes, reverse=True)
