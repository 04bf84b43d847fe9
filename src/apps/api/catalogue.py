"""What can be played, before anything is: the feed's slates (public) and the contest
templates operators create contests from (their route is the operators', apps.api.operator)."""

from __future__ import annotations

from datetime import datetime

from litestar import Controller, get
from litestar.di import NamedDependency
from msgspec import Struct

from apps.api.problems import problem_responses
from apps.api.wire import PayoutTableOut, RosterOut, payout_table_out, roster_out
from apps.templates import SPORT_OF_TEMPLATE, ContestTemplate
from fantasy_core.lineups import sport_template
from fantasy_core.platform import Platform
from fantasy_core.scoring import preset
from fantasy_core.usecases.queries import SlateSchedule, slate_schedules


class GameOut(Struct, kw_only=True):
    game_id: str
    away: str
    home: str
    kickoff: datetime
    status: str


class SlateOut(Struct, kw_only=True):
    """A slate: contests are created on it (`slate_id`) and lock, unless told otherwise,
    at its first kickoff."""

    slate_id: str
    first_kickoff: datetime | None
    games: list[GameOut]


def slate_out(schedule: SlateSchedule) -> SlateOut:
    return SlateOut(
        slate_id=schedule.slate_id,
        first_kickoff=schedule.first_kickoff,
        games=[
            GameOut(
                game_id=g.game_id,
                away=g.away,
                home=g.home,
                kickoff=g.kickoff,
                status=g.status.value,
            )
            for g in schedule.games
        ],
    )


class SlateController(Controller):
    path = "/slates"
    tags = ("lobby",)

    @get(
        "/",
        exclude_from_auth=True,
        operation_id="listSlates",
        sync_to_thread=True,
        responses=problem_responses(503),
    )
    def slates(self, platform: NamedDependency[Platform]) -> list[SlateOut]:
        """The slates the stats feed offers, each with its games, their kickoffs (UTC) and
        status. 503 when the feed cannot be read."""
        return [slate_out(s) for s in slate_schedules(platform)]


class TemplateOut(Struct, kw_only=True):
    """A contest template: the terms a contest created from it gets (`template` in
    POST /operator/contests), the roster its lineups fill and the scoring rules."""

    key: str
    title: str
    sport: str
    entry_fee_minor: int
    currency: str
    capacity: int
    max_entries_per_player: int
    entry_limit: str
    min_entries: int
    guaranteed_pool_minor: int | None
    rake_bps: int
    payout: PayoutTableOut
    withdraw_cutoff_seconds: int
    correction_window_seconds: int
    late_swap: bool
    roster: RosterOut
    scoring_rules: str
    scoring_fingerprint: str


def template_out(template: ContestTemplate, currency: str) -> TemplateOut:
    rules = preset(template.rules_preset)
    return TemplateOut(
        key=template.key,
        title=template.title,
        sport=SPORT_OF_TEMPLATE.get(template.sport_template, "unknown"),
        entry_fee_minor=template.entry_fee_minor,
        currency=currency,
        capacity=template.capacity,
        max_entries_per_player=template.entry_limit.max_entries(template.capacity),
        entry_limit=template.entry_limit.describe(),
        min_entries=template.min_entries,
        guaranteed_pool_minor=template.guaranteed_minor,
        rake_bps=template.rake_bps,
        payout=payout_table_out(template.payout(template.capacity)),
        withdraw_cutoff_seconds=int(template.withdraw_cutoff.total_seconds()),
        correction_window_seconds=int(template.correction_window.total_seconds()),
        late_swap=template.late_swap,
        roster=roster_out(sport_template(template.sport_template)),
        scoring_rules=rules.name,
        scoring_fingerprint=rules.fingerprint,
    )
