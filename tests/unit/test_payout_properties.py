"""Properties of settlement over arbitrary payout tables, scores, ties and field sizes."""

from __future__ import annotations

import random
from fractions import Fraction
from itertools import groupby
from operator import itemgetter

from hypothesis import given
from hypothesis import strategies as st

from fantasy_core.money import Money
from fantasy_core.payouts import (
    FixedTable,
    FixedTier,
    MultipleOfFee,
    PayoutStructure,
    PrizeTier,
    RankTable,
    TopFraction,
    top_heavy,
)
from fantasy_core.settlement import Standings, prize_pool, settle_entries
from fantasy_core.snapshot import build_snapshot, recompute
from support.world import World


@st.composite
def tiers(draw: st.DrawFn, worth: st.SearchStrategy[int]) -> list[tuple[int, int, int]]:
    """Contiguous rank ranges from place 1, worth never rising down the table."""
    widths = draw(st.lists(st.integers(min_value=1, max_value=8), min_size=1, max_size=6))
    worths = draw(st.lists(worth, min_size=len(widths), max_size=len(widths)))
    ranges: list[tuple[int, int, int]] = []
    first = 1
    for width, value in zip(widths, sorted(worths, reverse=True), strict=True):
        ranges.append((first, first + width - 1, value))
        first += width
    return ranges


def _rank_table(ranges: list[tuple[int, int, int]]) -> RankTable:
    return RankTable(tuple(PrizeTier(*r) for r in ranges))


def _fixed_table(ranges: list[tuple[int, int, int]]) -> FixedTable:
    return FixedTable(tuple(FixedTier(a, b, Money(m, "usd")) for a, b, m in ranges))


rank_tables = tiers(st.integers(min_value=1, max_value=10_000)).map(_rank_table)
fixed_tables = tiers(st.integers(min_value=1, max_value=100_000)).map(_fixed_table)
payout_tables: st.SearchStrategy[PayoutStructure] = st.one_of(
    rank_tables,
    fixed_tables,
    st.fractions(min_value=Fraction(1, 20), max_value=Fraction(19, 20), max_denominator=20).map(
        TopFraction
    ),
    st.integers(min_value=2, max_value=10).map(MultipleOfFee),
    st.integers(min_value=1, max_value=60).map(top_heavy),
)
# Few distinct scores among up to 50 entries: ties are common, tables often outnumber entries.
field_scores = st.lists(st.integers(min_value=-6, max_value=12), max_size=50)


def fixed_prizes_of_places(table: FixedTable, entries: int) -> list[int]:
    """Reference: the table's amount for each place taken, written out place by place."""
    places = [t.amount.minor for t in table.tiers for _ in range(t.first, t.last + 1)]
    return places[:entries]


def settle_field(
    table: PayoutStructure, scores: list[int], fee: int, rake_bps: int, guarantee: int | None
) -> tuple[dict[str, tuple[str, ...]], dict[str, Fraction], int, Standings]:
    """Settle one entry per score (each its own player), as a contest would."""
    lineups = {f"e{i:03d}": (f"p{i}",) for i in range(len(scores))}
    points = {f"p{i}": Fraction(s, 4) for i, s in enumerate(scores)}
    if isinstance(table, FixedTable):
        guarantee = table.total.minor
    pool = prize_pool(fee * len(scores), rake_bps, guarantee, len(scores), table)
    assert pool.collected + pool.overlay == pool.pool + pool.rake + (pool.surplus or 0)
    assert pool.overlay >= 0
    assert (pool.surplus or 0) >= 0
    return lineups, points, pool.pool, settle_entries(lineups, points, table, pool.pool, fee)


def prizes_by_entry(standings: Standings) -> dict[str, int]:
    return dict(zip(standings.entry_ids, standings.prizes, strict=True))


contests = st.tuples(
    payout_tables,
    field_scores,
    st.integers(min_value=1, max_value=5_000),
    st.integers(min_value=0, max_value=2_000),
    st.none() | st.integers(min_value=1, max_value=10**6),
)


@given(contests)
def test_payouts_sum_exactly_to_the_prize_pool_or_to_the_fixed_prizes_of_the_places_taken(
    contest: tuple[PayoutStructure, list[int], int, int, int | None],
) -> None:
    table, scores, fee, rake_bps, guarantee = contest
    _, _, pool, standings = settle_field(table, scores, fee, rake_bps, guarantee)
    assert standings.total_prizes == (pool if scores else 0)
    if isinstance(table, FixedTable):
        assert standings.total_prizes == sum(fixed_prizes_of_places(table, len(scores)))
    assert all(prize >= 0 for prize in standings.prizes)


@given(contests)
def test_no_entry_gets_a_smaller_prize_than_one_it_outranks(
    contest: tuple[PayoutStructure, list[int], int, int, int | None],
) -> None:
    table, scores, fee, rake_bps, guarantee = contest
    standings = settle_field(table, scores, fee, rake_bps, guarantee)[3]
    rows = list(zip(standings.scaled_scores, standings.prizes, strict=True))
    for score, prize in rows:
        assert all(prize >= other for s, other in rows if s < score)


@given(contests)
def test_tied_entries_share_the_prizes_of_their_places_to_within_a_cent(
    contest: tuple[PayoutStructure, list[int], int, int, int | None],
) -> None:
    table, scores, fee, rake_bps, guarantee = contest
    _, _, pool, standings = settle_field(table, scores, fee, rake_bps, guarantee)
    places = table.place_prizes(len(scores), pool, fee)
    position = 0
    rows = zip(standings.scaled_scores, standings.prizes, standings.ranks, strict=True)
    for _, group in groupby(rows, key=itemgetter(0)):
        tied = list(group)
        prizes = [prize for _, prize, _ in tied]
        assert {rank for _, _, rank in tied} == {position + 1}
        assert sum(prizes) == sum(places[position : position + len(tied)])
        assert max(prizes) - min(prizes) <= 1
        assert prizes == sorted(prizes, reverse=True)  # odd cents to the lowest entry ids
        position += len(tied)


@given(contests, st.randoms(use_true_random=False))
def test_settlement_does_not_depend_on_the_order_of_the_entries(
    contest: tuple[PayoutStructure, list[int], int, int, int | None], rng: random.Random
) -> None:
    table, scores, fee, rake_bps, guarantee = contest
    lineups, points, pool, standings = settle_field(table, scores, fee, rake_bps, guarantee)
    shuffled = list(lineups.items())
    rng.shuffle(shuffled)
    again = settle_entries(dict(shuffled), points, table, pool, fee)
    assert again == standings
    assert prizes_by_entry(again) == prizes_by_entry(standings)


@given(payout_tables, st.integers(min_value=0, max_value=80), st.integers(1, 10**7))
def test_place_prizes_never_rise_down_the_table_nor_outnumber_the_entries(
    table: PayoutStructure, entries: int, pool: int
) -> None:
    pool = pool if entries else 0
    prizes = table.place_prizes(entries, pool, 100)
    assert len(prizes) <= entries
    assert prizes == sorted(prizes, reverse=True)
    if isinstance(table, FixedTable):
        assert prizes == fixed_prizes_of_places(table, entries)
        assert sum(prizes) == table.awarded(entries)
    else:
        assert sum(prizes) == pool


WORLD_TERMS = World()


@given(
    payout_tables,
    st.lists(st.integers(min_value=0, max_value=9), max_size=25),
    st.integers(min_value=0, max_value=2_000),
)
def test_every_settlement_snapshot_recomputes_to_itself_byte_for_byte(
    table: PayoutStructure, receptions: list[int], rake_bps: int
) -> None:
    guarantee = table.total if isinstance(table, FixedTable) else None
    terms = WORLD_TERMS.terms(payout=table, rake_bps=rake_bps, guaranteed_pool=guarantee)
    fee = terms.entry_fee.minor
    lines = {f"p{i}": {"receptions": Fraction(n)} for i, n in enumerate(receptions)}
    lineups = [(f"p{i}",) for i in range(len(receptions))]
    points = {player: terms.rules.score(line) for player, line in lines.items()}
    pool = prize_pool(
        fee * len(lineups),
        rake_bps,
        None if guarantee is None else guarantee.minor,
        len(lineups),
        table,
    )
    entries = {f"e{i:03d}": lineup for i, lineup in enumerate(lineups)}
    standings = settle_entries(entries, points, table, pool.pool, fee)
    users = [f"u{i}" for i in range(len(lineups))]
    document = build_snapshot("c1", terms.canonical(), None, lines, users, lineups, pool, standings)
    assert recompute(document) == document
    assert (b'"surplus":' in document) == isinstance(table, FixedTable)
