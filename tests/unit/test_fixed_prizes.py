"""Fixed-amount prize tables: the prizes, the guarantee, overlay, surplus, ties, unused places."""

from __future__ import annotations

import pytest

from fantasy_core.contest import InvalidContestTerms
from fantasy_core.errors import InvalidPayoutTable
from fantasy_core.ledger import SURPLUS, balances, pool_account
from fantasy_core.money import Money
from fantasy_core.payouts import FixedTable, FixedTier, payout_from_canonical
from fantasy_core.settlement import prize_pool, rank_and_pay
from fantasy_core.snapshot import recompute, verify
from fantasy_core.usecases.reports import verify_ledger
from support.world import World


def usd(minor: int) -> Money:
    return Money(minor, "usd")


# 1st $500, 2nd-3rd $100 each, 4th-10th $20 each: $840 in all.
TABLE = FixedTable(
    (FixedTier(1, 1, usd(50_000)), FixedTier(2, 3, usd(10_000)), FixedTier(4, 10, usd(2_000)))
)
TOTAL = 84_000


def settle(table: FixedTable, scores: list[int]) -> tuple[tuple[str, ...], tuple[int, ...]]:
    ids = [f"e{i:02d}" for i in range(len(scores))]
    standings = rank_and_pay(ids, scores, 1, table.place_prizes(len(scores), 0, 0))
    return standings.entry_ids, standings.prizes


def test_a_fixed_table_pays_each_place_its_amount_whatever_the_pool() -> None:
    prizes = TABLE.place_prizes(12, 1, 1_000)
    assert prizes == [50_000, 10_000, 10_000] + [2_000] * 7
    assert TABLE.place_prizes(500, 10**9, 1_000) == prizes
    assert TABLE.total == usd(TOTAL)
    assert TABLE.paid_places == 10


def test_fixed_tiers_cover_places_from_one_and_never_pay_a_worse_place_more() -> None:
    with pytest.raises(InvalidPayoutTable, match="contiguously"):
        FixedTable((FixedTier(1, 1, usd(500)), FixedTier(3, 4, usd(100))))
    with pytest.raises(InvalidPayoutTable, match="pays more"):
        FixedTable((FixedTier(1, 1, usd(100)), FixedTier(2, 2, usd(500))))
    with pytest.raises(InvalidPayoutTable, match="at least one tier"):
        FixedTable(())
    with pytest.raises(InvalidPayoutTable, match="positive amount"):
        FixedTier(1, 1, usd(0))
    with pytest.raises(InvalidPayoutTable, match="ends before"):
        FixedTier(2, 1, usd(100))


def test_a_fixed_table_pays_in_one_currency() -> None:
    with pytest.raises(InvalidPayoutTable, match="one currency"):
        FixedTable((FixedTier(1, 1, usd(500)), FixedTier(2, 2, Money(100, "eur"))))


def test_tied_entries_share_the_fixed_prizes_of_the_places_they_occupy() -> None:
    # Tied for 1st and 2nd: ($500 + $100) / 2 each.
    _, prizes = settle(TABLE, [9, 9, 5, 4])
    assert prizes == (30_000, 30_000, 10_000, 2_000)


def test_a_tie_across_a_tier_boundary_shares_the_prizes_of_both_tiers() -> None:
    # Places 3 and 4 tied: ($100 + $20) / 2 each.
    _, prizes = settle(TABLE, [9, 8, 5, 5, 1])
    assert prizes == (50_000, 10_000, 6_000, 6_000, 2_000)


def test_a_tie_past_the_last_paid_place_shares_only_the_paid_places_it_covers() -> None:
    # Places 10-12 tied, only place 10 pays: $20 three ways, the odd cent to the lowest id.
    scores = [20, 19, 18, 17, 16, 15, 14, 13, 12, 1, 1, 1]
    ids, prizes = settle(TABLE, scores)
    assert ids[9:] == ("e09", "e10", "e11")
    assert prizes[9:] == (667, 667, 666)
    assert sum(prizes) == TOTAL


def test_with_fewer_entries_than_paid_places_the_unused_fixed_prizes_are_not_paid() -> None:
    prizes = TABLE.place_prizes(4, 0, 1_000)
    assert prizes == [50_000, 10_000, 10_000, 2_000]
    pool = prize_pool(4 * 1_000, 1_000, TOTAL, 4, TABLE)
    # The house covers what the four places pay, not the table's total.
    assert (pool.pool, pool.overlay, pool.surplus) == (72_000, 72_000 - 3_600, 0)


def test_the_house_covers_the_overlay_when_fees_after_rake_fall_short_of_the_prizes() -> None:
    pool = prize_pool(20 * 1_000, 1_000, TOTAL, 20, TABLE)
    assert (pool.rake, pool.pool, pool.overlay, pool.surplus) == (2_000, TOTAL, 66_000, 0)


def test_the_house_keeps_the_surplus_when_fees_after_rake_exceed_the_prizes() -> None:
    pool = prize_pool(100 * 1_000, 1_000, TOTAL, 100, TABLE)
    assert (pool.rake, pool.pool, pool.overlay, pool.surplus) == (10_000, TOTAL, 0, 6_000)
    assert pool.collected + pool.overlay == pool.pool + pool.rake + pool.surplus


def test_no_entries_pay_no_prizes_and_cost_the_house_nothing() -> None:
    pool = prize_pool(0, 1_000, TOTAL, 0, TABLE)
    assert (pool.pool, pool.overlay, pool.surplus) == (0, 0, 0)


def test_a_fixed_tables_guarantee_is_its_total() -> None:
    with pytest.raises(InvalidPayoutTable, match="guarantees"):
        prize_pool(10_000, 1_000, TOTAL - 1, 10, TABLE)
    world = World()
    assert world.terms(payout=TABLE, guaranteed_pool=usd(TOTAL)).guaranteed
    with pytest.raises(InvalidContestTerms, match="guaranteed pool must be"):
        world.terms(payout=TABLE)
    with pytest.raises(InvalidContestTerms, match="guaranteed pool must be"):
        world.terms(payout=TABLE, guaranteed_pool=usd(TOTAL + 1))
    euros = FixedTable((FixedTier(1, 1, Money(500, "eur")),))
    with pytest.raises(InvalidContestTerms, match="currency"):
        world.terms(payout=euros, guaranteed_pool=usd(500))


def test_a_fixed_table_round_trips_through_its_canonical_form() -> None:
    assert TABLE.canonical() == {
        "kind": "fixed_table",
        "currency": "usd",
        "tiers": [[1, 1, 50_000], [2, 3, 10_000], [4, 10, 2_000]],
    }
    assert payout_from_canonical(TABLE.canonical()) == TABLE


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "fixed_table", "currency": "usd", "tiers": [[1, 1, "500"]]},
        {"kind": "fixed_table", "currency": "USD", "tiers": [[1, 1, 500]]},
        {"kind": "fixed_table", "tiers": [[1, 1, 500]]},
        {"kind": "fixed_table", "currency": "usd", "tiers": []},
        {"kind": "fixed_table", "currency": "usd", "tiers": [[1, 1, 100], [2, 2, 500]]},
    ],
)
def test_malformed_canonical_fixed_tables_are_refused(data: object) -> None:
    with pytest.raises(InvalidPayoutTable):
        payout_from_canonical(data)


# World contests: $10 entries, 10% rake; four entries leave $36 after rake.
USERS = ("ann", "bob", "cat", "dan")


def settled(table: FixedTable) -> tuple[World, str]:
    world = World()
    contest = world.create(payout=table, guaranteed_pool=table.total, min_entries=2)
    for n, user in enumerate(USERS):
        world.give_account(user)
        assert world.join(contest, user, variant=n).accepted
    world.play_games()
    return world, contest.contest_id


def test_a_fixed_prize_contest_keeps_its_surplus_for_the_house_and_conserves_money() -> None:
    # 1st $20, 2nd-3rd $5, 4th-10th $1: four entries win $31 of the $36 left after rake.
    table = FixedTable(
        (FixedTier(1, 1, usd(2_000)), FixedTier(2, 3, usd(500)), FixedTier(4, 10, usd(100)))
    )
    world, cid = settled(table)
    report = verify_ledger(world.p)
    assert report.ok
    (books,) = report.closed_contests
    assert (books.collected, books.overlay, books.paid_out) == (4_000, 0, 3_100)
    assert books.rake == 400 + 500  # the rake and the surplus: the house's take
    with world.store.unit_of_work() as uow:
        totals = balances(uow.ledger.all())
        stored = uow.settlements.get(cid)
    assert totals[(SURPLUS, "usd")] == -500
    assert totals.get((pool_account(cid), "usd"), 0) == 0
    assert stored is not None
    document, digest = stored
    assert b'"prize_pool":{"collected":4000,"overlay":0,"pool":3100,"rake":400,"surplus":500}' in (
        document
    )
    assert recompute(document) == document
    verify(document, digest)


def test_a_fixed_prize_contest_short_of_its_prizes_is_topped_up_by_the_house() -> None:
    table = FixedTable((FixedTier(1, 1, usd(5_000)), FixedTier(2, 2, usd(1_000))))
    world, cid = settled(table)
    report = verify_ledger(world.p)
    assert report.ok
    (books,) = report.closed_contests
    assert (books.overlay, books.paid_out, books.rake) == (6_000 - 3_600, 6_000, 400)
    with world.store.unit_of_work() as uow:
        prizes = {p.user_id: p.amount_minor for p in uow.payouts.for_contest(cid)}
        stored = uow.settlements.get(cid)
    assert prizes == {"dan": 5_000, "cat": 1_000}  # the two best lineups
    assert stored is not None
    assert recompute(stored[0]) == stored[0]
