"""Settlement: scores, ranks and prizes are exact, deterministic and conserve the pool."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fantasy_core.payouts import PrizeTier, RankTable, fifty_fifty, top_heavy, winner_take_all
from fantasy_core.settlement import prize_pool, rank_and_pay, settle_entries

TWO_PLACES = RankTable((PrizeTier(1, 1, 2), PrizeTier(2, 2, 1)))


def test_tied_entries_share_the_prizes_of_their_places() -> None:
    # 1st $200 and 2nd $100 tied: $150 each.
    standings = rank_and_pay(["b", "a", "c"], [10, 10, 3], 1, [20_000, 10_000])
    assert standings.entry_ids == ("a", "b", "c")
    assert standings.ranks == (1, 1, 3)
    assert standings.prizes == (15_000, 15_000, 0)


def test_leftover_cents_of_a_tie_go_to_the_lowest_entry_ids_first() -> None:
    standings = rank_and_pay(["z", "m", "a"], [5, 5, 5], 1, [100])
    assert standings.entry_ids == ("a", "m", "z")
    assert standings.prizes == (34, 33, 33)


def test_a_one_cent_pool_split_three_ways() -> None:
    standings = rank_and_pay(["c", "b", "a"], [1, 1, 1], 1, [1])
    assert standings.prizes == (1, 0, 0)


def test_all_entries_tied_share_the_whole_pool() -> None:
    ids = [f"e{i}" for i in range(7)]
    prizes = top_heavy(3).place_prizes(7, 1_000, 100)
    standings = rank_and_pay(ids, [0] * 7, 1, prizes)
    assert set(standings.ranks) == {1}
    assert sum(standings.prizes) == 1_000
    assert max(standings.prizes) - min(standings.prizes) <= 1


def test_more_tied_entries_than_paid_places_share_those_places() -> None:
    # Places 2..5 tied, only places 1..3 pay: the tie shares places 2 and 3.
    standings = rank_and_pay(["a", "b", "c", "d", "e"], [9, 5, 5, 5, 5], 1, [500, 300, 200])
    assert standings.prizes == (500, 125, 125, 125, 125)
    assert standings.ranks == (1, 2, 2, 2, 2)


def test_negative_scores_rank_below_zero() -> None:
    standings = rank_and_pay(["a", "b"], [-5, 0], 1, [100])
    assert standings.entry_ids == ("b", "a")
    assert standings.prizes == (100, 0)


def test_zero_entries_settle_to_nothing() -> None:
    standings = settle_entries({}, {}, winner_take_all(), 0, 1_000)
    assert len(standings) == 0
    assert standings.total_prizes == 0


def test_entries_are_scored_exactly_from_player_points() -> None:
    points = {"qb": Fraction("25.66"), "wr": Fraction("-0.3"), "k": Fraction(8)}
    standings = settle_entries(
        {"e1": ("qb", "wr"), "e2": ("k", "benched")}, points, TWO_PLACES, 300, 100
    )
    assert standings.entry_ids == ("e1", "e2")
    assert standings.score(0) == Fraction("25.36")
    assert standings.score(1) == Fraction(8)  # a player with no stat line scores 0
    assert standings.prizes == (200, 100)


def test_prize_pool_takes_rake_down_and_the_house_covers_a_guarantee() -> None:
    pool = prize_pool(collected=10_000, rake_bps=1_000, guaranteed=None, entries=10)
    assert (pool.rake, pool.pool, pool.overlay) == (1_000, 9_000, 0)
    pool = prize_pool(collected=10_000, rake_bps=1_000, guaranteed=50_000, entries=10)
    assert (pool.rake, pool.pool, pool.overlay) == (1_000, 50_000, 41_000)
    pool = prize_pool(collected=0, rake_bps=1_000, guaranteed=50_000, entries=0)
    assert (pool.rake, pool.pool, pool.overlay) == (0, 0, 0)


entry_scores = st.lists(st.integers(min_value=-50, max_value=50), min_size=0, max_size=60)


@given(
    entry_scores,
    st.sampled_from([winner_take_all(), fifty_fifty(), top_heavy(7), TWO_PLACES]),
    st.integers(min_value=0, max_value=10**7),
    st.randoms(use_true_random=False),
)
def test_prizes_sum_to_the_pool_no_outranked_entry_gets_more_and_order_does_not_matter(
    scores: list[int],
    structure: RankTable,
    pool: int,
    rng: random.Random,
) -> None:
    ids = [f"e{i:03d}" for i in range(len(scores))]
    pool = pool if scores else 0
    prizes = structure.place_prizes(len(scores), pool, 100)
    standings = rank_and_pay(ids, scores, 1, prizes)
    assert standings.total_prizes == pool
    for i in range(1, len(standings)):
        assert standings.scaled_scores[i] <= standings.scaled_scores[i - 1]
        if standings.scaled_scores[i] < standings.scaled_scores[i - 1]:
            assert standings.prizes[i] <= standings.prizes[i - 1]
            assert standings.ranks[i] == i + 1
        else:
            assert standings.ranks[i] == standings.ranks[i - 1]
            assert abs(standings.prizes[i] - standings.prizes[i - 1]) <= 1
    shuffled = list(zip(ids, scores, strict=True))
    rng.shuffle(shuffled)
    again = rank_and_pay([i for i, _ in shuffled], [s for _, s in shuffled], 1, prizes)
    assert again == standings


@pytest.mark.parametrize("entries", [1, 2, 3, 10])
def test_fewer_entries_than_paid_places_still_pay_the_whole_pool(entries: int) -> None:
    prizes = top_heavy(20).place_prizes(entries, 10_000, 100)
    standings = rank_and_pay([f"e{i}" for i in range(entries)], list(range(entries)), 1, prizes)
    assert standings.total_prizes == 10_000


@given(
    collected=st.integers(min_value=0, max_value=10**10),
    rake_bps=st.integers(min_value=0, max_value=9_999),
    guaranteed=st.none() | st.integers(min_value=0, max_value=10**10),
    entries=st.integers(min_value=0, max_value=10**6),
)
def test_the_rake_is_the_fees_basis_points_rounded_down(
    collected: int, rake_bps: int, guaranteed: int | None, entries: int
) -> None:
    pool = prize_pool(collected, rake_bps, guaranteed, entries)
    assert pool.rake == collected * rake_bps // 10_000
    assert pool.collected + pool.overlay == pool.pool + pool.rake


def test_a_rake_that_does_not_divide_the_fees_is_rounded_down_in_the_players_favour() -> None:
    # $9.99 at 7.5% is 74.925 cents: the house takes 74, the pool keeps the rest.
    pool = prize_pool(collected=999, rake_bps=750, guaranteed=None, entries=3)
    assert (pool.rake, pool.pool) == (74, 925)
