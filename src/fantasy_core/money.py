"""Money as integer minor units with a currency, and the one rule for splitting it into shares."""

from __future__ import annotations

from collections.abc import Sequence

from attrs import field, frozen

from fantasy_core.errors import CurrencyMismatch, InvalidMoney

_CURRENCY_LENGTH = 3


def _check_minor(_: object, __: object, value: int) -> None:
    # bool is an int subclass; True cents is a bug, not an amount.
    if type(value) is not int:
        raise InvalidMoney(f"amount must be an integer number of minor units, got {value!r}")


def _check_currency(_: object, __: object, value: str) -> None:
    if len(value) != _CURRENCY_LENGTH or not value.isalpha() or not value.islower():
        raise InvalidMoney(f"currency must be a lower-case ISO 4217 code, got {value!r}")


@frozen(order=False)
class Money:
    """An exact amount: `minor` units (cents) of `currency` (lower-case ISO code, as Stripe)."""

    minor: int = field(validator=_check_minor)
    currency: str = field(validator=_check_currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def times(self, count: int) -> Money:
        if type(count) is not int:
            raise InvalidMoney(f"money can only be multiplied by an integer, got {count!r}")
        return Money(self.minor * count, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.minor < other.minor

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.minor <= other.minor

    @property
    def is_positive(self) -> bool:
        return self.minor > 0

    def __str__(self) -> str:
        sign = "-" if self.minor < 0 else ""
        units, cents = divmod(abs(self.minor), 100)
        return f"{sign}{units}.{cents:02d} {self.currency.upper()}"


def basis_points_of(amount: int, bps: int) -> int:
    """`bps` basis points of `amount` minor units, rounded down (in the payer's favour)."""
    if not 0 <= bps <= 10_000:
        raise InvalidMoney(f"basis points must lie in 0..10000, got {bps}")
    if amount < 0:
        raise InvalidMoney(f"cannot take a share of a negative amount {amount}")
    return amount * bps // 10_000


def split_by_weights(amount: int, weights: Sequence[int]) -> list[int]:
    """Split `amount` minor units into shares proportional to `weights`, conserving every unit.

    The rule (largest remainder, deterministic): each share first gets
    floor(amount * weight / total); the units left over go one each to the shares
    with the largest remainders, and among equal remainders to the earliest share.
    So equal weights give shares that differ by at most one unit, earlier shares
    getting the extra units, and a larger weight never gets less than a smaller one.
    """
    if amount < 0:
        raise InvalidMoney(f"cannot split a negative amount {amount}")
    if not weights:
        raise InvalidMoney("cannot split an amount into zero shares")
    if any(type(w) is not int or w < 0 for w in weights):
        raise InvalidMoney(f"weights must be non-negative integers, got {list(weights)!r}")
    total = sum(weights)
    if total == 0:
        raise InvalidMoney("cannot split an amount by weights that sum to zero")
    shares: list[int] = []
    remainders: list[int] = []
    for w in weights:
        q, r = divmod(amount * w, total)
        shares.append(q)
        remainders.append(r)
    left = amount - sum(shares)
    if left:
        # sorted() is stable, so equal remainders keep their original (earliest-first) order.
        order = sorted(range(len(weights)), key=remainders.__getitem__, reverse=True)
        # reverse=True keeps stability for equal keys in Python's sort (it is not a reversal).
        for i in order[:left]:
            shares[i] += 1
    return shares


def split_evenly(amount: int, parts: int) -> list[int]:
    """Split `amount` into `parts` shares differing by at most one unit, earliest shares larger."""
    if parts <= 0:
        raise InvalidMoney(f"cannot split an amount into {parts} shares")
    if amount < 0:
        raise InvalidMoney(f"cannot split a negative amount {amount}")
    q, r = divmod(amount, parts)
    return [q + 1 if i < r else q for i in range(parts)]
