"""Settlement arithmetic: the prize pool, entry scores, ranks and prizes, as pure functions.

Determinism: entries are first ordered by entry id, then (stably) by score, best
first; so the same entries in any input order give the same standings. Tied
entries share a rank (competition ranking: 1, 2, 2, 4) and the prizes of the
places they occupy; leftover cents go one each to the tied entries in ascending
entry-id order.
"""

from __future__ import annotations

import math
import operator
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from fractions import Fraction
from itertools import groupby, islice
from operator import itemgetter
from typing import TypeVar

from attrs import field, frozen

from fantasy_core.errors import InvalidMoney, InvalidPayoutTable
from fantasy_core.money import basis_points_of, split_evenly
from fantasy_core.payouts import FixedTable, PayoutStructure

T = TypeVar("T")


@frozen
class PrizePool:
    """Where the collected fees go: rake to the house, the rest (plus any overlay) to prizes.

    `surplus` is set for a fixed-amount table only (None otherwise): what the fees
    after rake exceed its prizes by, kept by the house. Always
    collected + overlay == rake + (surplus or 0) + pool.
    """

    collected: int
    rake: int
    overlay: int
    pool: int
    surplus: int | None = None


def prize_pool(
    collected: int,
    rake_bps: int,
    guaranteed: int | None,
    entries: int,
    payout: PayoutStructure | None = None,
) -> PrizePool:
    """The prize pool of a contest that collected `collected` minor units.

    Rake is `rake_bps` of the collected fees, rounded down. A guaranteed contest
    pays at least `guaranteed`; the house covers the difference (the overlay),
    unless it has no entries at all, when there is nobody to pay.

    A fixed-amount table (`payout`) pays the prizes of the places its entries take,
    whatever was collected: the house covers what the fees after rake fall short of
    them by and keeps what they exceed them by (decision 0011). Its guarantee must
    be the table's total. Other structures do not change the pool.
    """
    if collected < 0:
        raise InvalidMoney(f"collected fees cannot be negative, got {collected}")
    rake = basis_points_of(collected, rake_bps)
    if isinstance(payout, FixedTable):
        return _fixed_prize_pool(collected, rake, guaranteed, payout.awarded(entries), payout)
    pool = collected - rake
    overlay = 0
    if guaranteed is not None and entries > 0:
        if guaranteed < 0:
            raise InvalidMoney(f"a guaranteed prize pool cannot be negative, got {guaranteed}")
        if pool < guaranteed:
            overlay = guaranteed - pool
            pool = guaranteed
    return PrizePool(collected=collected, rake=rake, overlay=overlay, pool=pool)


def _fixed_prize_pool(
    collected: int, rake: int, guaranteed: int | None, awarded: int, table: FixedTable
) -> PrizePool:
    if guaranteed != table.total.minor:
        raise InvalidPayoutTable(
            f"a fixed table paying {table.total} guarantees that much, not {guaranteed}"
        )
    net = collected - rake
    return PrizePool(
        collected=collected,
        rake=rake,
        overlay=max(awarded - net, 0),
        pool=awarded,
        surplus=max(net - awarded, 0),
    )


@frozen
class Standings:
    """Every entry's score, rank and prize, best first (ties in ascending entry-id order).

    Scores are kept as integers over a common denominator `scale` so that a
    million entries rank fast and stay exact: entry i scored `scaled[i] / scale`.
    `order[i]` is where entry i stood in the input, so that callers holding data
    of the entries in input order (users, lineups) can line it up with the
    standings without looking each entry up by id. It says nothing about the
    result: standings of the same entries given in another order are equal.
    """

    entry_ids: tuple[str, ...]
    scaled_scores: tuple[int, ...]
    scale: int
    ranks: tuple[int, ...]
    prizes: tuple[int, ...]
    order: tuple[int, ...] = field(eq=False)

    def score(self, index: int) -> Fraction:
        return Fraction(self.scaled_scores[index], self.scale)

    def arrange(self, values: Sequence[T]) -> tuple[T, ...]:
        """`values` of the entries in input order, in the standings' order (best first)."""
        if len(values) != len(self.order):
            raise ValueError(f"{len(values)} values for {len(self.order)} standings")
        return _gather(self.order)(values)

    @property
    def total_prizes(self) -> int:
        return sum(self.prizes)

    def __len__(self) -> int:
        return len(self.entry_ids)


def common_scale(points: Iterable[Fraction]) -> int:
    """The least common denominator of some exact point values."""
    scale = 1
    for p in points:
        scale = math.lcm(scale, p.denominator)
    return scale


def scale_points(points: Mapping[str, Fraction], scale: int) -> dict[str, int]:
    """Each value times `scale`, as an exact integer (`scale` must be a common denominator)."""
    scaled: dict[str, int] = {}
    for key, value in points.items():
        factor, rest = divmod(scale, value.denominator)
        if rest:
            raise ValueError(f"{scale} is not a multiple of the denominator of {key}'s {value}")
        scaled[key] = value.numerator * factor
    return scaled


def rank_and_pay(
    entry_ids: Sequence[str],
    scaled_scores: Sequence[int],
    scale: int,
    place_prizes: Sequence[int],
) -> Standings:
    """Rank entries by score and give each its prize; input order does not matter.

    Entry ids must be unique (callers hold entries in a mapping keyed by id).
    """
    if len(entry_ids) != len(scaled_scores):
        raise ValueError("every entry needs exactly one score")
    if not entry_ids:
        return Standings((), (), scale, (), (), ())
    # Entries read from storage come by ascending id already: no need to sort them so.
    ascending = all(map(operator.lt, entry_ids, islice(entry_ids, 1, None)))
    by_id = (
        range(len(entry_ids))
        if ascending
        else sorted(range(len(entry_ids)), key=entry_ids.__getitem__)
    )
    # Stable sort: equal scores keep ascending entry-id order.
    order = sorted(by_id, key=scaled_scores.__getitem__, reverse=True)
    pick = _gather(order)
    sorted_ids: tuple[str, ...] = pick(entry_ids)
    sorted_scores: tuple[int, ...] = pick(scaled_scores)
    ranks: list[int] = []
    prizes: list[int] = []
    paid = len(place_prizes)
    position = 0
    for _, group in groupby(sorted_scores):
        tied = len(list(group))
        ranks.extend([position + 1] * tied)
        if position < paid:
            total = sum(place_prizes[position : position + tied])
            prizes.extend(split_evenly(total, tied))
        else:
            prizes.extend([0] * tied)
        position += tied
    return Standings(
        entry_ids=sorted_ids,
        scaled_scores=sorted_scores,
        scale=scale,
        ranks=tuple(ranks),
        prizes=tuple(prizes),
        order=tuple(order),
    )


def _gather(order: Sequence[int]) -> Callable[[Sequence[T]], tuple[T, ...]]:
    """A function picking the items at `order` of a sequence, as a tuple."""
    if len(order) == 0:
        return lambda seq: ()
    if len(order) == 1:
        index = order[0]
        return lambda seq: (seq[index],)
    # itemgetter gathers in C; a generator here costs more than the sort itself.
    return itemgetter(*order)


def settle_entries(
    lineups: Mapping[str, Sequence[str]],
    player_points: Mapping[str, Fraction],
    structure: PayoutStructure,
    pool: int,
    entry_fee: int,
) -> Standings:
    """Score every entry's lineup (`entry id -> player ids`), rank, and split `pool`.

    A player with no points (no stat line: did not play) scores 0. `pool` is
    `prize_pool(...).pool` for this structure and these entries.
    """
    return settle_lineups(
        list(lineups), list(lineups.values()), player_points, structure, pool, entry_fee
    )


def settle_lineups(
    entry_ids: Sequence[str],
    lineups: Sequence[Sequence[str]],
    player_points: Mapping[str, Fraction],
    structure: PayoutStructure,
    pool: int,
    entry_fee: int,
) -> Standings:
    """settle_entries for entries given as two parallel sequences: ids (unique) and lineups.

    For callers that read entries as rows: no mapping of a million entries is built.
    """
    if len(entry_ids) != len(lineups):
        raise ValueError("every entry needs exactly one lineup")
    scale = common_scale(player_points.values())
    # A defaultdict scores unknown players 0 without a pass over every lineup first.
    scaled: defaultdict[str, int] = defaultdict(int, scale_points(player_points, scale))
    get = scaled.__getitem__
    scores = [sum(map(get, lineup)) for lineup in lineups]
    prizes = structure.place_prizes(len(entry_ids), pool, entry_fee)
    if sum(prizes) != (pool if entry_ids else 0):
        raise InvalidPayoutTable(f"payout table paid {sum(prizes)} of a pool of {pool}")
    return rank_and_pay(entry_ids, scores, scale, prizes)
