"""Payout structures: how a prize pool becomes per-place prizes, and how ties share them."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import TypeAlias

from attrs import field, frozen

from fantasy_core.errors import InvalidMoney, InvalidPayoutTable
from fantasy_core.money import Money, basis_points_of, split_by_weights, split_evenly


def _check_places(first: int, last: int) -> None:
    if type(first) is not int or type(last) is not int or first < 1:
        raise InvalidPayoutTable(f"tier places must be integers from 1, got {first}")
    if last < first:
        raise InvalidPayoutTable(f"tier {first}-{last} ends before it starts")


def _check_ranges(ranges: Sequence[tuple[int, int, int]], worth_more: str) -> None:
    """Tiers `(first, last, worth)` cover places 1.. without gaps; no worse place is worth more."""
    if not ranges:
        raise InvalidPayoutTable("a prize table needs at least one tier")
    expected = 1
    previous: int | None = None
    for first, last, worth in ranges:
        if first != expected:
            raise InvalidPayoutTable(
                f"tiers must cover places contiguously from 1; expected place {expected}, "
                f"got a tier starting at {first}"
            )
        if previous is not None and worth > previous:
            raise InvalidPayoutTable(f"tier {first}-{last} {worth_more} than a better place")
        previous = worth
        expected = last + 1


@frozen
class PrizeTier:
    """Places `first`..`last` (1-based, inclusive) each weigh `weight` in the split of the pool."""

    first: int
    last: int
    weight: int

    def __attrs_post_init__(self) -> None:
        _check_places(self.first, self.last)
        if type(self.weight) is not int or self.weight <= 0:
            raise InvalidPayoutTable(f"tier {self.first}-{self.last} needs a positive weight")

    @property
    def places(self) -> int:
        return self.last - self.first + 1


def _check_tiers(_: object, __: object, tiers: tuple[PrizeTier, ...]) -> None:
    _check_ranges([(t.first, t.last, t.weight) for t in tiers], "weighs more")


@frozen
class RankTable:
    """Prizes by rank range, as proportional shares of the prize pool.

    With fewer entries than paid places, the unused places' prizes return to the
    pool and are shared by the remaining places in the table's proportions.
    """

    tiers: tuple[PrizeTier, ...] = field(validator=_check_tiers)

    @property
    def paid_places(self) -> int:
        return self.tiers[-1].last

    def place_prizes(self, entries: int, pool: int, entry_fee: int) -> list[int]:
        places = min(entries, self.paid_places)
        if places == 0:
            return []
        weights: list[int] = []
        for tier in self.tiers:
            if tier.first > places:
                break
            weights.extend([tier.weight] * (min(tier.last, places) - tier.first + 1))
        return split_by_weights(pool, weights)

    def canonical(self) -> dict[str, object]:
        return {
            "kind": "rank_table",
            "tiers": [[t.first, t.last, t.weight] for t in self.tiers],
        }


@frozen
class TopFraction:
    """The best `floor(entries * fraction)` places share the pool equally (50/50 is 1/2)."""

    fraction: Fraction

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.fraction, Fraction) or not 0 < self.fraction < 1:
            raise InvalidPayoutTable(f"the paid fraction must lie in (0, 1), got {self.fraction}")

    def place_prizes(self, entries: int, pool: int, entry_fee: int) -> list[int]:
        places = int(entries * self.fraction)
        if places == 0:
            # A field too small to pay anyone by the fraction pays its best entry.
            places = min(entries, 1)
        return split_evenly(pool, places) if places else []

    def canonical(self) -> dict[str, object]:
        return {
            "kind": "top_fraction",
            "fraction": f"{self.fraction.numerator}/{self.fraction.denominator}",
        }


@frozen
class MultipleOfFee:
    """As many places as the pool can pay `multiple` times the entry fee share it equally.

    Double-up is multiple 2: with 100 $10 entries and 10% rake the $900 pool pays 45
    entries $20 each. Cents the places cannot use whole are shared evenly among them.
    """

    multiple: int

    def __attrs_post_init__(self) -> None:
        if type(self.multiple) is not int or self.multiple < 2:
            raise InvalidPayoutTable(
                f"the fee multiple must be an integer >= 2, got {self.multiple}"
            )

    def place_prizes(self, entries: int, pool: int, entry_fee: int) -> list[int]:
        if entries == 0:
            return []
        if entry_fee <= 0:
            raise InvalidPayoutTable("a multiple-of-fee table needs a positive entry fee")
        places = min(entries, max(1, pool // (entry_fee * self.multiple)))
        return split_evenly(pool, places)

    def canonical(self) -> dict[str, object]:
        return {"kind": "multiple_of_fee", "multiple": self.multiple}


@frozen
class FixedTier:
    """Places `first`..`last` (1-based, inclusive) each win `amount`."""

    first: int
    last: int
    amount: Money

    def __attrs_post_init__(self) -> None:
        _check_places(self.first, self.last)
        if not isinstance(self.amount, Money) or not self.amount.is_positive:
            raise InvalidPayoutTable(
                f"tier {self.first}-{self.last} needs a positive amount, got {self.amount!r}"
            )

    @property
    def places(self) -> int:
        return self.last - self.first + 1


def _check_fixed_tiers(_: object, __: object, tiers: tuple[FixedTier, ...]) -> None:
    _check_ranges([(t.first, t.last, t.amount.minor) for t in tiers], "pays more")
    currencies = {t.amount.currency for t in tiers}
    if len(currencies) > 1:
        raise InvalidPayoutTable(f"a fixed table pays in one currency, got {sorted(currencies)}")


@frozen
class FixedTable:
    """Prizes by rank range, as fixed amounts: 1st $500, 2nd-3rd $100 each, 4th-10th $20 each.

    The prizes do not depend on the pool: the table's `total` is the contest's
    guaranteed prize pool, the house covers any overlay and keeps any surplus
    (decision 0011). With fewer entries than paid places, the unused places'
    prizes are not paid: nobody wins them, and nothing is shared out instead.
    """

    tiers: tuple[FixedTier, ...] = field(validator=_check_fixed_tiers)

    @property
    def currency(self) -> str:
        return self.tiers[0].amount.currency

    @property
    def paid_places(self) -> int:
        return self.tiers[-1].last

    @property
    def total(self) -> Money:
        """What the table pays when every paid place is taken."""
        return Money(self.awarded(self.paid_places), self.currency)

    def awarded(self, entries: int) -> int:
        """The minor units `entries` entries win in all: the prizes of the places they take."""
        return sum(
            t.amount.minor * (min(t.last, entries) - t.first + 1)
            for t in self.tiers
            if t.first <= entries
        )

    def place_prizes(self, entries: int, pool: int, entry_fee: int) -> list[int]:
        # The pool does not set the prizes; settlement checks it equals what they add up to.
        prizes: list[int] = []
        for tier in self.tiers:
            if tier.first > entries:
                break
            prizes.extend([tier.amount.minor] * (min(tier.last, entries) - tier.first + 1))
        return prizes

    def canonical(self) -> dict[str, object]:
        return {
            "kind": "fixed_table",
            "currency": self.currency,
            "tiers": [[t.first, t.last, t.amount.minor] for t in self.tiers],
        }


PayoutStructure: TypeAlias = RankTable | TopFraction | MultipleOfFee | FixedTable


def _int_triples(tiers: object) -> list[list[int]] | None:
    if isinstance(tiers, list) and all(
        isinstance(t, list) and len(t) == 3 and all(type(v) is int for v in t) for t in tiers
    ):
        return tiers
    return None


def payout_from_canonical(data: object) -> PayoutStructure:
    """Rebuild a payout structure from its canonical form, rejecting anything malformed."""
    if not isinstance(data, dict):
        raise InvalidPayoutTable(f"a payout structure must be an object, got {data!r}")
    kind = data.get("kind")
    if kind == "rank_table":
        tiers = _int_triples(data.get("tiers"))
        if tiers is None:
            raise InvalidPayoutTable(
                f"rank_table tiers must be [[first, last, weight], ...], got {data.get('tiers')!r}"
            )
        return RankTable(tuple(PrizeTier(*t) for t in tiers))
    if kind == "top_fraction":
        text = data.get("fraction")
        if not isinstance(text, str) or "/" not in text:
            raise InvalidPayoutTable(f"top_fraction needs a fraction 'n/d', got {text!r}")
        try:
            fraction = Fraction(text)
        except ValueError as exc:
            raise InvalidPayoutTable(f"top_fraction needs a fraction 'n/d', got {text!r}") from exc
        return TopFraction(fraction)
    if kind == "multiple_of_fee":
        multiple = data.get("multiple")
        if type(multiple) is not int:
            raise InvalidPayoutTable(f"multiple_of_fee needs an integer multiple, got {multiple!r}")
        return MultipleOfFee(multiple)
    if kind == "fixed_table":
        return _fixed_from_canonical(data)
    raise InvalidPayoutTable(f"unknown payout structure kind {kind!r}")


def _fixed_from_canonical(data: dict[object, object]) -> FixedTable:
    tiers = _int_triples(data.get("tiers"))
    if tiers is None:
        raise InvalidPayoutTable(
            f"fixed_table tiers must be [[first, last, amount], ...], got {data.get('tiers')!r}"
        )
    currency = data.get("currency")
    if not isinstance(currency, str):
        raise InvalidPayoutTable(f"fixed_table needs a currency, got {currency!r}")
    try:
        return FixedTable(
            tuple(FixedTier(first, last, Money(amount, currency)) for first, last, amount in tiers)
        )
    except InvalidMoney as exc:
        raise InvalidPayoutTable(f"fixed_table: {exc}") from exc


def winner_take_all() -> RankTable:
    return RankTable((PrizeTier(1, 1, 1),))


def head_to_head() -> RankTable:
    """Two entries, the winner takes the pool (a tie splits it)."""
    return winner_take_all()


def fifty_fifty() -> TopFraction:
    return TopFraction(Fraction(1, 2))


def double_up() -> MultipleOfFee:
    return MultipleOfFee(2)


# The top-heavy tournament table: (places in the band, basis points of the pool for
# each place in it), best places first; the places after the last band share what
# is left evenly. Shaped on the large-field GPP tables DFS sites publish: 15% to
# 1st, a steep top 100, and a wide min-cash band.
_TOP_HEAVY_BANDS: tuple[tuple[int, int], ...] = (
    (1, 1500),
    (1, 800),
    (1, 500),
    (2, 300),
    (5, 150),
    (10, 80),
    (30, 40),
    (50, 20),
)


def top_heavy(paid_places: int) -> RankTable:
    """A top-heavy tournament table paying `paid_places` places (e.g. 20% of capacity).

    Weights are the bands' basis points times the number of tail places, so the
    tail's even share of the remaining basis points stays an integer weight; the
    tail never weighs more per place than the last band.
    """
    if type(paid_places) is not int or paid_places < 1:
        raise InvalidPayoutTable(f"a tournament must pay at least one place, got {paid_places}")
    banded = sum(width for width, _ in _TOP_HEAVY_BANDS)
    tail_places = max(paid_places - banded, 1)
    tiers: list[PrizeTier] = []
    first = 1
    for width, bps in _TOP_HEAVY_BANDS:
        if first > paid_places:
            break
        last = min(first + width - 1, paid_places)
        tiers.append(PrizeTier(first, last, bps * tail_places))
        first = last + 1
    if first <= paid_places:
        remaining_bps = 10_000 - sum(width * bps for width, bps in _TOP_HEAVY_BANDS)
        tail_weight = min(remaining_bps, _TOP_HEAVY_BANDS[-1][1] * tail_places)
        tiers.append(PrizeTier(first, paid_places, tail_weight))
    return RankTable(tuple(tiers))


def paid_places_for(capacity: int, paid_share_bps: int) -> int:
    """How many places a tournament of `capacity` pays when it pays `paid_share_bps` of it."""
    return max(1, basis_points_of(capacity, paid_share_bps))


def share_tied_prizes(prizes: Sequence[int], first_place: int, tied: int) -> list[int]:
    """The prizes of `tied` entries occupying places first_place.. (0-based) of `prizes`.

    Tied entries share the sum of the prizes of the places they occupy (places
    beyond the paid ones are worth 0). The cents that do not divide evenly go one
    each to the tied entries in the order given (the caller orders them by entry
    id, ascending), so the first ones get one cent more.
    """
    total = sum(prizes[first_place : first_place + tied])
    return split_evenly(total, tied)
