"""Tax use cases: a player's W-9 (the taxpayer id sealed before it is stored, never logged
or audited), and the year's 1099-MISC data for players at or over the threshold."""

from __future__ import annotations

from datetime import UTC, datetime

from fantasy_core.errors import InvalidConfiguration
from fantasy_core.platform import Platform
from fantasy_core.ports import TaxIdCipher
from fantasy_core.protection.tax import (
    TaxDetails,
    TaxReportRow,
    checked_taxpayer_id,
    checked_text,
    reporting_threshold,
)
from fantasy_core.usecases.net_winnings import winnings_between


def _cipher(p: Platform) -> TaxIdCipher:
    if p.protection is None or p.protection.tax_ids is None:
        raise InvalidConfiguration("this platform takes no tax details (no tax id key)")
    return p.protection.tax_ids


def submit_tax_details(
    p: Platform, user_id: str, legal_name: str, address: str, taxpayer_id: str
) -> TaxDetails:
    """Store the player's W-9 (replacing an earlier one); the id sealed, its last four kept."""
    digits = checked_taxpayer_id(taxpayer_id)
    details = TaxDetails(
        user_id=user_id,
        legal_name=checked_text("legal_name", legal_name),
        address=checked_text("address", address),
        taxpayer_id_sealed=_cipher(p).seal(digits),
        taxpayer_id_last4=digits[-4:],
        submitted_at=p.clock.now(),
    )
    with p.uow() as uow:
        uow.tax_details.save(details)
        # The audit says that a W-9 arrived, never any part of the id.
        p.audit(uow, "player.tax_details", subject=user_id, actor=user_id, detail="W-9 given")
        uow.commit()
    return details


def tax_details_of(p: Platform, user_id: str) -> TaxDetails | None:
    with p.reading() as uow:
        return uow.tax_details.get(user_id)


def open_taxpayer_id(p: Platform, details: TaxDetails) -> str:
    """The full id, for the 1099 filing only."""
    return _cipher(p).open(details.taxpayer_id_sealed)


def tax_report(p: Platform, year: int) -> list[TaxReportRow]:
    """Players whose net winnings of contests paid in `year` reach its threshold, by id."""
    start, end = datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    threshold = reporting_threshold(year)
    winnings = winnings_between(p, start, end)
    rows: list[TaxReportRow] = []
    with p.reading() as uow:
        for user_id in sorted(winnings):
            mine = winnings[user_id]
            if mine.net < threshold:
                continue
            rows.append(
                TaxReportRow(
                    user_id,
                    mine.net,
                    mine.prizes,
                    mine.fees,
                    uow.tax_details.get(user_id),
                    mine.withheld,
                )
            )
    return rows
