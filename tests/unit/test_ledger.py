"""The ledger records only balanced movements and shows each closed contest conserves money."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fantasy_core.errors import UnbalancedPostings
from fantasy_core.ledger import (
    CASH,
    Movement,
    Posting,
    PostingSet,
    balances,
    conservation,
    fee_collected,
    fee_refunded,
    overlay_added,
    pool_account,
    prize_awarded,
    prize_paid,
    rake_taken,
)
from fantasy_core.money import Money


def usd(cents: int) -> Money:
    return Money(cents, "usd")


def test_a_posting_set_that_does_not_balance_cannot_be_recorded() -> None:
    with pytest.raises(UnbalancedPostings, match="usd off by 1"):
        PostingSet(
            "k",
            "c1",
            Movement.FEE_COLLECTED,
            (Posting(CASH, usd(101)), Posting(pool_account("c1"), usd(-100))),
        )


def test_a_posting_set_needs_two_legs_and_no_empty_posting() -> None:
    with pytest.raises(UnbalancedPostings):
        PostingSet("k", "c1", Movement.FEE_COLLECTED, (Posting(CASH, usd(0)),))
    with pytest.raises(UnbalancedPostings):
        Posting(CASH, usd(0))


def test_currencies_balance_separately() -> None:
    with pytest.raises(UnbalancedPostings):
        PostingSet(
            "k",
            "c1",
            Movement.FEE_COLLECTED,
            (Posting(CASH, usd(100)), Posting(pool_account("c1"), Money(-100, "eur"))),
        )


def test_a_paid_guaranteed_contest_conserves_money() -> None:
    sets = [
        fee_collected("f1", "c1", usd(1_000)),
        fee_collected("f2", "c1", usd(1_000)),
        fee_collected("f3", "c1", usd(1_000)),
        fee_refunded("r3", "c1", usd(1_000)),
        rake_taken("rake", "c1", usd(200)),
        overlay_added("overlay", "c1", usd(3_200)),
        prize_awarded("a1", "c1", usd(5_000)),
        prize_paid("p1", "c1", usd(5_000)),
    ]
    result = conservation("c1", sets)
    assert result.conserved, result.describe()
    totals = balances(sets)
    assert totals[(pool_account("c1"), "usd")] == 0


def test_a_prize_awarded_but_not_paid_is_owed_to_its_winner() -> None:
    # A winner whose transfer was reversed after the contest was PAID is owed the prize:
    # a liability on the books, not a lost cent.
    sets = [
        fee_collected("f1", "c1", usd(1_000)),
        prize_awarded("a1", "c1", usd(1_000)),
    ]
    counted = conservation("c1", sets)
    assert (counted.owed, counted.conserved) == (1_000, True)
    assert balances(sets)[("prizes_payable:c1", "usd")] == -1_000


def test_a_prize_paid_twice_breaks_conservation() -> None:
    sets = [
        fee_collected("f1", "c1", usd(1_000)),
        prize_awarded("a1", "c1", usd(1_000)),
        prize_paid("p1", "c1", usd(1_000)),
        prize_paid("p2", "c1", usd(1_000)),
    ]
    assert not conservation("c1", sets).conserved


def test_fees_that_vanish_break_conservation() -> None:
    sets = [
        fee_collected("f1", "c1", usd(1_000)),
        prize_awarded("a1", "c1", usd(600)),
        prize_paid("p1", "c1", usd(600)),
    ]
    assert not conservation("c1", sets).conserved


movements = st.sampled_from(
    [fee_collected, fee_refunded, rake_taken, overlay_added, prize_awarded, prize_paid]
)


@given(st.lists(st.tuples(movements, st.integers(min_value=1, max_value=10**9)), max_size=40))
def test_every_posting_set_balances_and_so_do_all_of_them(
    moves: list[tuple[object, int]],
) -> None:
    sets = [make(f"k{i}", "c1", usd(cents)) for i, (make, cents) in enumerate(moves)]  # type: ignore[operator]
    assert sum(balances(sets).values()) == 0
