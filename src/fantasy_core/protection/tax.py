"""Tax: the reporting threshold of each year (data, indexed by the IRS later), the W-9 a
player must give once their net winnings reach it, its taxpayer id (kept encrypted; only
the last four digits are ever shown), and the 1099-MISC row of a player."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType

from attrs import frozen

from fantasy_core.errors import InvalidProtectionRequest

# Form 1099-MISC reporting thresholds by calendar year of payment, in cents: $600 for
# payments in 2025, $2,000 from 2026 (the One Big Beautiful Bill Act), indexed for
# inflation from 2027, when the IRS publishes the amounts: add them here.
REPORTING_THRESHOLDS: Mapping[int, int] = MappingProxyType({2025: 60_000, 2026: 200_000})
MAX_TEXT = 200

# Backup withholding (IRC 3406): 24% of a reportable payment to a payee with no valid TIN.
BACKUP_WITHHOLDING_PERCENT = 24


def backup_withholding(prize_minor: int) -> int:
    """24% of a prize, to the nearest cent: (prize * 24 + 50) // 100.

    No tie is ever rounded: 24 * prize is a multiple of 4 and a number ending in 50 never is
    (100k + 50 leaves 2 divided by 4), so its last two digits are never 50 and half-up,
    half-even and half-down all give this same cent.
    """
    if type(prize_minor) is not int or prize_minor < 0:
        raise ValueError(f"a prize is a non-negative number of cents, got {prize_minor!r}")
    return (prize_minor * BACKUP_WITHHOLDING_PERCENT + 50) // 100


def withholding_due(prize_minor: int, net_winnings_minor: int, threshold: int, w9: bool) -> int:
    """What to withhold from a prize: 24% when the winner has no W-9 on file and their net
    winnings of the year (this prize included) reach the year's reporting threshold; else 0."""
    if w9 or net_winnings_minor < threshold:
        return 0
    return backup_withholding(prize_minor)


def reporting_threshold(year: int, thresholds: Mapping[int, int] = REPORTING_THRESHOLDS) -> int:
    """The threshold for payments in `year`: that year's, or the latest year's before it
    (a year not published yet keeps the last amount known); the earliest for years before."""
    known = sorted(thresholds)
    earlier = [y for y in known if y <= year]
    return thresholds[earlier[-1] if earlier else known[0]]


def checked_taxpayer_id(text: str) -> str:
    """A taxpayer id (SSN, ITIN or EIN) as its nine digits; dashes and spaces allowed in
    the input. InvalidProtectionRequest('bad_taxpayer_id') otherwise, never echoing it."""
    digits = "".join(c for c in text if c not in "- ")
    if len(digits) != 9 or not digits.isascii() or not digits.isdigit():
        raise InvalidProtectionRequest("bad_taxpayer_id", "a taxpayer id has nine digits")
    if len(set(digits)) == 1 or digits.startswith(("000", "666")):
        raise InvalidProtectionRequest("bad_taxpayer_id", "this is not a valid taxpayer id")
    return digits


def checked_text(field: str, text: str) -> str:
    value = " ".join(text.split())
    if not value or len(value) > MAX_TEXT:
        raise InvalidProtectionRequest(f"bad_{field}", f"{field} needs 1..{MAX_TEXT} characters")
    return value


@frozen
class TaxDetails:
    """A player's W-9: legal name and address in clear, the taxpayer id only encrypted
    (`taxpayer_id_sealed`, by the platform's TaxIdCipher) and its last four digits."""

    user_id: str
    legal_name: str
    address: str
    taxpayer_id_sealed: str
    taxpayer_id_last4: str
    submitted_at: datetime

    def __repr__(self) -> str:  # the sealed id stays out of any log that prints this
        return f"TaxDetails({self.user_id!r}, last four {self.taxpayer_id_last4})"


@frozen
class TaxReportRow:
    """One player at or over the year's threshold: 1099-MISC box 3 (other income) is their
    net winnings. `details` None: no W-9 on file."""

    user_id: str
    net_winnings_minor: int
    prizes_minor: int
    fees_minor: int
    details: TaxDetails | None
    withheld_minor: int = 0  # box 4: federal income tax withheld (backup withholding)
