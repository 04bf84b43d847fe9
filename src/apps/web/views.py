"""What the pages show, computed from the API's wire types and the core's own rules.

No rule lives here: a lineup is judged by the core's `validate_lineup`, a prize table
by the contest's payout structure and `prize_pool`; this module only arranges their
answers for a person (money as dollars, a lock as a countdown, places as ranges).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime

from attrs import frozen

from apps.api.wire import ContestOut
from fantasy_core.contest import ContestTerms
from fantasy_core.errors import InvalidLineup
from fantasy_core.lineups import Lineup, PlayerPool, sport_template, validate_lineup
from fantasy_core.payouts import PayoutStructure
from fantasy_core.settlement import prize_pool

SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£"}
KINDS = {
    "rank_table": "tournament",
    "top_fraction": "50/50",
    "multiple_of_fee": "double-up",
    "fixed_table": "fixed prizes",
}


def money(minor: int, currency: str = "usd") -> str:
    """`$1,234.50`: exact, from integer minor units."""
    sign = "-" if minor < 0 else ""
    units, cents = divmod(abs(minor), 100)
    symbol = SYMBOLS.get(currency.lower())
    if symbol is None:
        return f"{sign}{units:,}.{cents:02d} {currency.upper()}"
    return f"{sign}{symbol}{units:,}.{cents:02d}"


# A payout's status as a player reads it (by the wire's status values).
PAYOUT_WORDS = {
    "pending": "owed, not sent yet",
    "sending": "being sent",
    "confirmed": "paid",
    "failed": "failed, will be retried",
    "reversed": "reversed by the bank",
}


def payout_words(status: str) -> str:
    return PAYOUT_WORDS.get(status, status)


def game_labels(
    teams_by_game: Iterable[tuple[str, str]], kickoffs: Mapping[str, datetime]
) -> dict[str, str]:
    """Each game's label for the player pool: its teams as the pool has them, then its
    kickoff in UTC ("BUF v KC, Sun 07 Sep 17:00 UTC"); a game without a known kickoff
    shows its teams alone."""
    teams: dict[str, set[str]] = {}
    for game_id, team in teams_by_game:
        teams.setdefault(game_id, set()).add(team)
    labels = {}
    for game_id, sides in teams.items():
        label = " v ".join(sorted(sides))
        kickoff = kickoffs.get(game_id)
        if kickoff is not None:
            label += kickoff.astimezone(UTC).strftime(", %a %d %b %H:%M UTC")
        labels[game_id] = label
    return labels


def countdown(lock_at: datetime, now: datetime) -> str:
    """How long until `lock_at`, to the minute ("2 d 3 h", "1 h 05 min", "locked")."""
    seconds = int((lock_at - now).total_seconds())
    if seconds <= 0:
        return "locked"
    minutes, _ = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{max(minutes, 1)} min" if minutes or seconds >= 60 else "under a minute"


def contest_kind(payout: PayoutStructure, capacity: int) -> str:
    """The lobby's "type": head-to-head, 50/50, double-up, tournament, fixed prizes."""
    if capacity == 2:
        return "head-to-head"
    return KINDS.get(str(payout.canonical()["kind"]), "contest")


@frozen
class PrizeRow:
    places: str
    each_minor: int


def prize_rows(terms: ContestTerms, entries: int) -> list[PrizeRow]:
    """What each place wins with `entries` entries in, by the contest's own structure and
    pool rule; consecutive places winning the same amount are one row."""
    if entries <= 0:
        return []
    fee = terms.entry_fee.minor
    guaranteed = None if terms.guaranteed_pool is None else terms.guaranteed_pool.minor
    pool = prize_pool(fee * entries, terms.rake_bps, guaranteed, entries, terms.payout)
    prizes = terms.payout.place_prizes(entries, pool.pool, fee)
    rows: list[PrizeRow] = []
    first = 1
    for place in range(1, len(prizes) + 1):
        last_of_run = place == len(prizes) or prizes[place] != prizes[place - 1]
        if last_of_run:
            if prizes[place - 1] > 0:
                label = str(first) if first == place else f"{first}-{place}"
                rows.append(PrizeRow(label, prizes[place - 1]))
            first = place + 1
    return rows


@frozen
class LineupCheck:
    """The builder's verdict: salary used and left, slots still empty, and the core's word."""

    salary_used: int
    salary_left: int
    empty_slots: int
    valid: bool
    message: str | None
    rule: str | None


def check_lineup(
    template_name: str, pool: PlayerPool, picks: Sequence[tuple[str, str | None]]
) -> LineupCheck:
    """Judge a lineup being built: `picks` are (slot, player id or None) in roster order."""
    template = sport_template(template_name)
    chosen = [(slot, pid) for slot, pid in picks if pid]
    used = 0
    for _, pid in chosen:
        player = pool.get(pid)
        used += 0 if player is None else player.salary
    empty = len(picks) - len(chosen)
    message = rule = None
    valid = False
    if empty:
        message = f"{empty} of {len(picks)} slots still to fill"
    else:
        try:
            validate_lineup(template, pool, Lineup(tuple((s, p) for s, p in chosen)))
            valid = True
        except InvalidLineup as refused:
            message, rule = str(refused), refused.rule
    return LineupCheck(used, template.salary_cap - used, empty, valid, message, rule)


def lobby_rows(
    contests: Sequence[ContestOut],
    now: datetime,
    *,
    sport: str | None,
    kind: str | None,
    max_fee: int | None,
    guaranteed: bool,
    kinds: Mapping[str, str],
) -> list[dict[str, object]]:
    """The lobby's rows, filtered; `kinds` is each contest's type by id."""
    rows = []
    for contest in contests:
        if sport and contest.sport != sport:
            continue
        if kind and kinds.get(contest.contest_id) != kind:
            continue
        if max_fee is not None and contest.entry_fee_minor > max_fee:
            continue
        if guaranteed and contest.guaranteed_pool_minor is None:
            continue
        rows.append(
            {
                "contest": contest,
                "kind": kinds.get(contest.contest_id, "contest"),
                "locks_in": countdown(contest.lock_at, now),
            }
        )
    return rows
