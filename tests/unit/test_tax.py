"""Tax: thresholds by year as data, W-9s whose taxpayer id is sealed (never stored, logged
or audited in clear), net winnings from the ledger, and the 1099-MISC report."""

from __future__ import annotations

import io

import pytest

from apps.tax_commands import write_report
from fantasy_core.errors import InvalidConfiguration, InvalidProtectionRequest
from fantasy_core.platform import Protection
from fantasy_core.protection.tax import checked_taxpayer_id, reporting_threshold
from fantasy_core.usecases.tax import (
    open_taxpayer_id,
    submit_tax_details,
    tax_details_of,
    tax_report,
)
from support.protection import big_winner_world, protect, register, taxed
from support.world import World

TIN = "123-45-6789"


def test_the_threshold_is_data_per_year() -> None:
    assert reporting_threshold(2025) == 60_000
    assert reporting_threshold(2026) == 200_000
    assert reporting_threshold(2031) == 200_000  # not published yet: the last known
    assert reporting_threshold(2019) == 60_000
    assert reporting_threshold(2027, {2025: 1, 2027: 7}) == 7


@pytest.mark.parametrize("bad", ["12345678", "1234567890", "000-12-3456", "666123456",
                                 "111111111", "12345678x"])  # fmt: skip
def test_a_taxpayer_id_has_nine_valid_digits_and_refusals_never_echo_it(bad: str) -> None:
    with pytest.raises(InvalidProtectionRequest) as refused:
        checked_taxpayer_id(bad)
    assert bad not in str(refused.value)


def test_a_w9_keeps_only_the_last_four_in_clear_and_out_of_the_audit() -> None:
    world = World()
    taxed(world)
    register(world, "ann")
    details = submit_tax_details(world.p, "ann", " Ann  Smith ", "1 Main St, Newark NJ", TIN)
    assert (details.legal_name, details.taxpayer_id_last4) == ("Ann Smith", "6789")
    assert "123456789" not in repr(details)
    assert "123456789" not in details.taxpayer_id_sealed
    stored = tax_details_of(world.p, "ann")
    assert stored is not None
    assert open_taxpayer_id(world.p, stored) == "123456789"
    with world.store.unit_of_work() as uow:
        trail = uow.audit.for_actor("ann")
    assert [r.action for r in trail][-1] == "player.tax_details"
    assert not any("6789" in r.detail for r in trail)


def test_the_report_lists_players_at_or_over_the_threshold_with_their_w9() -> None:
    world = World()
    taxed(world)
    big_winner_world(world)
    rows = tax_report(world.p, 2025)
    assert len(rows) == 1  # the winner: 4 x $500 less 10% rake, less their own $500
    (row,) = rows
    assert (row.net_winnings_minor, row.prizes_minor, row.fees_minor) == (130_000, 180_000, 50_000)
    assert row.details is None
    # No W-9 when the prize was paid: 24% of $1,800 withheld (box 4), still part of the prize.
    assert row.withheld_minor == 43_200
    submit_tax_details(world.p, row.user_id, "Win Ner", "2 Elm St, Trenton NJ", TIN)
    out = io.StringIO()
    count = write_report(tax_report(world.p, 2025), out, lambda d: open_taxpayer_id(world.p, d))
    assert count == 1
    assert out.getvalue().splitlines()[1] == (
        f'{row.user_id},123456789,Win Ner,"2 Elm St, Trenton NJ",1300.00,432.00,1800.00,500.00,true'
    )
    assert tax_report(world.p, 2026) == []


def test_a_protection_without_a_cipher_takes_no_w9() -> None:
    world = World()
    protect(world)
    register(world, "ann")
    assert isinstance(world.p.protection, Protection)
    with pytest.raises(InvalidConfiguration):
        submit_tax_details(world.p, "ann", "Ann", "1 Main St", TIN)
