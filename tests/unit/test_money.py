"""Money is exact and splitting it conserves every cent."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fantasy_core.errors import CurrencyMismatch, InvalidMoney
from fantasy_core.money import Money, basis_points_of, split_by_weights, split_evenly


def test_money_refuses_floats_and_bools() -> None:
    with pytest.raises(InvalidMoney):
        Money(10.0, "usd")  # type: ignore[arg-type]
    with pytest.raises(InvalidMoney):
        Money(True, "usd")  # type: ignore[arg-type]


@pytest.mark.parametrize("currency", ["USD", "us", "usdx", "u$d", ""])
def test_money_needs_a_lower_case_iso_currency(currency: str) -> None:
    with pytest.raises(InvalidMoney):
        Money(1, currency)


def test_money_of_different_currencies_does_not_mix() -> None:
    with pytest.raises(CurrencyMismatch):
        Money(1, "usd") + Money(1, "eur")


def test_money_prints_units_and_cents() -> None:
    assert str(Money(-1205, "usd")) == "-12.05 USD"
    assert str(Money(7, "eur")) == "0.07 EUR"


def test_rake_rounds_down_in_the_players_favour() -> None:
    assert basis_points_of(999, 1000) == 99
    assert basis_points_of(1000, 1000) == 100


def test_a_one_cent_pool_split_three_ways_gives_the_cent_to_the_first() -> None:
    assert split_evenly(1, 3) == [1, 0, 0]


def test_leftover_cents_go_to_the_largest_remainders_then_the_earliest() -> None:
    # 100 by 1:1:1 -> 33.33 each; one cent left, the first share takes it.
    assert split_by_weights(100, [1, 1, 1]) == [34, 33, 33]
    # 10 by 5:3:2 divides exactly.
    assert split_by_weights(10, [5, 3, 2]) == [5, 3, 2]
    # 11 by 1:2 -> 3.67 and 7.33: the larger remainder (first) takes the cent.
    assert split_by_weights(11, [1, 2]) == [4, 7]


@pytest.mark.parametrize(("amount", "weights"), [(-1, [1]), (1, []), (1, [0, 0]), (1, [-1, 2])])
def test_splits_refuse_what_cannot_be_split(amount: int, weights: list[int]) -> None:
    with pytest.raises(InvalidMoney):
        split_by_weights(amount, weights)


@given(
    st.integers(min_value=0, max_value=10**12),
    st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=50).filter(any),
)
def test_split_by_weights_conserves_and_respects_weight_order(
    amount: int, weights: list[int]
) -> None:
    shares = split_by_weights(amount, weights)
    assert sum(shares) == amount
    total = sum(weights)
    for share, weight in zip(shares, weights, strict=True):
        assert abs(share * total - amount * weight) < total  # within one cent of exact
    for i in range(len(weights)):
        for j in range(len(weights)):
            if weights[i] > weights[j]:
                assert shares[i] >= shares[j]


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=1, max_value=1000))
def test_split_evenly_conserves_and_differs_by_at_most_one(amount: int, parts: int) -> None:
    shares = split_evenly(amount, parts)
    assert sum(shares) == amount
    assert max(shares) - min(shares) <= 1
    assert shares == sorted(shares, reverse=True)
