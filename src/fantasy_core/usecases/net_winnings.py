"""What the ledger says players won: net winnings per player over a period (by the month or
year their contests were paid), the published monthly fair-play figures, tax reporting."""

from __future__ import annotations

from datetime import UTC, datetime

from fantasy_core.lifecycle import ContestState
from fantasy_core.platform import Platform
from fantasy_core.protection.fairplay import MonthFigures, month_figures
from fantasy_core.protection.winnings import Winnings, winnings_by_player


def winnings_between(p: Platform, start: datetime, end: datetime) -> dict[str, Winnings]:
    """Each player's fees and prizes in the contests PAID whose games completed in
    [start, end), from those contests' posting sets."""
    total: dict[str, Winnings] = {}
    with p.reading() as uow:
        for contest_id in uow.contests.completed_between([ContestState.PAID], start, end):
            entries = {e.fingerprint: e.user_id for e in uow.entries.for_contest(contest_id)}
            payouts = {x.fingerprint: x.user_id for x in uow.payouts.for_contest(contest_id)}
            found = winnings_by_player(uow.ledger.for_contest(contest_id), entries, payouts)
            for user_id, winnings in found.items():
                mine = total.setdefault(user_id, Winnings())
                mine.fees += winnings.fees
                mine.prizes += winnings.prizes
                mine.withheld += winnings.withheld
    return total


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return start, end


def parse_month(text: str) -> tuple[int, int] | None:
    """(year, month) of 'YYYY-MM' (a year from 2000), or None when it is not one."""
    year, dash, month = text.partition("-")
    if not (dash and len(year) == 4 and len(month) == 2 and year.isdigit() and month.isdigit()):
        return None
    if not (year.isascii() and month.isascii()) or int(year) < 2000 or not 1 <= int(month) <= 12:
        return None
    return int(year), int(month)


def published_figures(p: Platform, year: int, month: int) -> MonthFigures:
    """The month's median and mean net winnings of the players of contests paid that
    month, and the share of its prize money won by highly experienced players."""
    winnings = winnings_between(p, *month_bounds(year, month))
    with p.reading() as uow:
        experienced = uow.players.highly_experienced(winnings)
    return month_figures(
        {u: w.net for u, w in winnings.items()},
        {u: w.prizes for u, w in winnings.items()},
        experienced,
    )
