"""The contest catalogue: named templates an operator creates contests from.

A template is product configuration (fee, field size, payout shape, rake), not a
rule: the rules are the core's (payout structures, entry limits, scoring presets)
and a template only chooses among them. The terms a template produces are fixed
in the contest at creation and never read from here again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from types import MappingProxyType

from attrs import frozen

from fantasy_core.contest import ContestTerms
from fantasy_core.entry_limits import EntryLimit, MaxEntries, SingleEntry
from fantasy_core.errors import DomainError
from fantasy_core.lineups import PlayerPool
from fantasy_core.money import Money
from fantasy_core.payouts import (
    FixedTable,
    FixedTier,
    PayoutStructure,
    double_up,
    fifty_fifty,
    head_to_head,
    paid_places_for,
    top_heavy,
)
from fantasy_core.protection.fairplay import FairPlay
from fantasy_core.scoring import preset

CURRENCY = "usd"
DEFAULT_SPORT_TEMPLATE = "draftkings_nfl_classic"
# Which sport each roster template plays: the lobby filters on it.
SPORT_OF_TEMPLATE: Mapping[str, str] = MappingProxyType(
    {"draftkings_nfl_classic": "nfl", "fanduel_nfl": "nfl"}
)


class UnknownTemplate(DomainError):
    """No contest template has this name."""


@frozen
class ContestTemplate:
    key: str
    title: str
    entry_fee_minor: int
    capacity: int
    payout: Callable[[int], PayoutStructure]
    rake_bps: int
    entry_limit: EntryLimit
    min_entries: int
    guaranteed_minor: int | None = None
    sport_template: str = DEFAULT_SPORT_TEMPLATE
    rules_preset: str = DEFAULT_SPORT_TEMPLATE
    # Durations of the platform's clock, not of the wall: on an accelerated clock
    # (--clock-speed N, test environments) they pass N times faster, so at 60 the
    # one-hour correction window lasts a real minute.
    withdraw_cutoff: timedelta = timedelta(minutes=15)
    correction_window: timedelta = timedelta(hours=1)
    # DraftKings' late swap: each player locks at his own game's kickoff. FanDuel-style
    # templates set it False: the whole lineup locks with the contest.
    late_swap: bool = True
    # Fair play: who may join (beginners only, or all but highly experienced players).
    fair_play: FairPlay = FairPlay.OPEN

    def terms(
        self,
        pool: PlayerPool,
        lock_at: datetime,
        name: str | None = None,
        *,
        kickoffs: Mapping[str, datetime],
    ) -> ContestTerms:
        """The terms of a new contest on `pool`'s slate, locking at `lock_at`, with each
        game's scheduled `kickoffs` (by game id; late swap needs them)."""
        return ContestTerms(
            name=name or f"{self.title} ({pool.slate_id})",
            sport_template=self.sport_template,
            pool=pool,
            lock_at=lock_at,
            entry_fee=Money(self.entry_fee_minor, CURRENCY),
            capacity=self.capacity,
            entry_limit=self.entry_limit,
            rules=preset(self.rules_preset),
            payout=self.payout(self.capacity),
            rake_bps=self.rake_bps,
            guaranteed_pool=(
                None if self.guaranteed_minor is None else Money(self.guaranteed_minor, CURRENCY)
            ),
            min_entries=self.min_entries,
            withdraw_cutoff=self.withdraw_cutoff,
            correction_window=self.correction_window,
            kickoffs=kickoffs,
            late_swap=self.late_swap,
            fair_play=self.fair_play,
        )


def _tournament_payout(capacity: int) -> PayoutStructure:
    return top_heavy(paid_places_for(capacity, 2_000))  # the top 20% are paid


# Fixed prizes: 1st $60, 2nd-3rd $20 each, 4th-10th $5 each, $135 in all: what 30 $5
# entries leave after 10% rake, so a full contest has neither overlay nor surplus.
_FIXED_PRIZES = FixedTable(
    (
        FixedTier(1, 1, Money(6_000, CURRENCY)),
        FixedTier(2, 3, Money(2_000, CURRENCY)),
        FixedTier(4, 10, Money(500, CURRENCY)),
    )
)


TEMPLATES: Mapping[str, ContestTemplate] = MappingProxyType(
    {
        t.key: t
        for t in (
            ContestTemplate(
                key="fifty_fifty",
                title="$10 50/50",
                entry_fee_minor=1_000,
                capacity=10,
                payout=lambda _: fifty_fifty(),
                rake_bps=1_000,
                entry_limit=SingleEntry(),
                min_entries=4,
            ),
            ContestTemplate(
                key="beginners_double_up",
                title="$5 Beginners' Double Up (fewer than 50 contests entered)",
                entry_fee_minor=500,
                capacity=20,
                payout=lambda _: double_up(),
                rake_bps=1_000,
                entry_limit=SingleEntry(),
                min_entries=4,
                fair_play=FairPlay.BEGINNERS,
            ),
            ContestTemplate(
                key="double_up",
                title="$5 Double Up",
                entry_fee_minor=500,
                capacity=20,
                payout=lambda _: double_up(),
                rake_bps=1_000,
                entry_limit=SingleEntry(),
                min_entries=4,
            ),
            ContestTemplate(
                key="tournament",
                title="$3 Tournament, $250 guaranteed",
                entry_fee_minor=300,
                capacity=100,
                payout=_tournament_payout,
                rake_bps=1_200,
                entry_limit=MaxEntries(3),
                min_entries=1,
                guaranteed_minor=25_000,
            ),
            ContestTemplate(
                key="head_to_head",
                title="$25 Head-to-Head",
                entry_fee_minor=2_500,
                capacity=2,
                payout=lambda _: head_to_head(),
                rake_bps=800,
                entry_limit=SingleEntry(),
                min_entries=2,
            ),
            ContestTemplate(
                key="league",
                title="$20 12-Player League",
                entry_fee_minor=2_000,
                capacity=12,
                payout=lambda _: top_heavy(3),
                rake_bps=1_000,
                entry_limit=SingleEntry(),
                min_entries=6,
            ),
            ContestTemplate(
                key="fixed_prizes",
                title="$5 Fixed Prizes, $60 to 1st",
                entry_fee_minor=500,
                capacity=30,
                payout=lambda _: _FIXED_PRIZES,
                rake_bps=1_000,
                entry_limit=SingleEntry(),
                min_entries=1,
                # A fixed table's total is its guarantee (decision 0011).
                guaranteed_minor=_FIXED_PRIZES.total.minor,
            ),
            ContestTemplate(
                key="fanduel_fifty_fifty",
                title="$10 50/50, FanDuel rules",
                entry_fee_minor=1_000,
                capacity=10,
                payout=lambda _: fifty_fifty(),
                rake_bps=1_000,
                entry_limit=SingleEntry(),
                min_entries=4,
                sport_template="fanduel_nfl",
                rules_preset="fanduel_nfl",
                late_swap=False,  # FanDuel locks the whole lineup at the contest's lock
            ),
        )
    }
)


def template(key: str) -> ContestTemplate:
    found = TEMPLATES.get(key)
    if found is None:
        raise UnknownTemplate(
            f"no contest template {key!r}; templates: {', '.join(sorted(TEMPLATES))}"
        )
    return found


class Catalogue:
    """The catalogue as the core's ContestCatalogue port (the calendar opens contests by it)."""

    def knows(self, template_key: str) -> bool:
        return template_key in TEMPLATES

    def sport_of(self, template_key: str) -> str | None:
        """The sport a template plays, or None for no such template."""
        found = TEMPLATES.get(template_key)
        return None if found is None else SPORT_OF_TEMPLATE[found.sport_template]

    def terms(
        self,
        template_key: str,
        pool: PlayerPool,
        lock_at: datetime,
        name: str | None = None,
        *,
        kickoffs: Mapping[str, datetime],
    ) -> ContestTerms:
        return template(template_key).terms(pool, lock_at, name, kickoffs=kickoffs)
