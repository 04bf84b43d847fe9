"""The API's payout tables are the core's canonical form, typed: nothing added, nothing lost."""

from __future__ import annotations

from fractions import Fraction

import msgspec
import pytest

from apps.api.wire import payout_table_out
from apps.templates import TEMPLATES
from fantasy_core.money import Money
from fantasy_core.payouts import (
    FixedTable,
    FixedTier,
    MultipleOfFee,
    PayoutStructure,
    TopFraction,
)

OTHERS: list[PayoutStructure] = [
    TopFraction(Fraction(1, 3)),
    MultipleOfFee(3),
    FixedTable((FixedTier(1, 1, Money(50_000, "usd")), FixedTier(2, 3, Money(10_001, "usd")))),
]


@pytest.mark.parametrize(
    "payout",
    [t.payout(t.capacity) for t in TEMPLATES.values()] + OTHERS,
    ids=[*TEMPLATES, "third", "triple_up", "fixed"],
)
def test_the_wire_form_is_the_canonical_form(payout: PayoutStructure) -> None:
    wire = msgspec.json.decode(msgspec.json.encode(payout_table_out(payout)))
    assert wire == payout.canonical()
