"""`fantasy tax report`: the year's 1099-MISC data as CSV, one row per player whose net
winnings reach the year's reporting threshold (fantasy_core.protection.tax)."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from typing import TextIO

from fantasy_core.protection.tax import TaxDetails, TaxReportRow

COLUMNS = (
    "user_id",
    "recipient_tin",
    "recipient_name",
    "recipient_address",
    "box3_other_income",
    "box4_federal_income_tax_withheld",
    "prizes",
    "entry_fees",
    "w9_on_file",
)


def _dollars(minor: int) -> str:
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(minor), 100)
    return f"{sign}{whole}.{cents:02d}"


def write_report(
    rows: Iterable[TaxReportRow], out: TextIO, open_tin: Callable[[TaxDetails], str]
) -> int:
    """Write the CSV; how many rows. Box 3 is the net winnings in dollars, box 4 the backup
    withholding kept from their prizes; a player with no W-9 has empty recipient fields and
    `w9_on_file` false (they owe one)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    count = 0
    for row in rows:
        details = row.details
        writer.writerow(
            (
                row.user_id,
                "" if details is None else open_tin(details),
                "" if details is None else details.legal_name,
                "" if details is None else details.address,
                _dollars(row.net_winnings_minor),
                _dollars(row.withheld_minor),
                _dollars(row.prizes_minor),
                _dollars(row.fees_minor),
                "true" if details is not None else "false",
            )
        )
        count += 1
    return count
