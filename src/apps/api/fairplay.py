"""The published fair-play figures (a Mississippi rule, decision 0041): public, per month.

Each month's figures read every contest paid that month from the ledger; one read serves
all callers for FIGURES_SECONDS (per month, for the last FIGURES_MONTHS months asked),
so that a public route cannot make the store recompute them on every request.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import FromPath

from apps.api.problems import problem_responses
from apps.api.wire import FairPlayOut, fair_play_out
from apps.web.recent import RecentEach
from fantasy_core.platform import Platform
from fantasy_core.protection.fairplay import MonthFigures
from fantasy_core.usecases.net_winnings import month_bounds, parse_month, published_figures

FAIR_PLAY = "fair_play_figures"  # the app state's RecentEach[str, MonthFigures], by month
FIGURES_SECONDS = 60.0
FIGURES_MONTHS = 36


def new_figures_cache() -> RecentEach[str, MonthFigures]:
    return RecentEach(FIGURES_SECONDS, FIGURES_MONTHS)


def month_figures_of(
    request: Request[Any, Any, Any], platform: Platform, month: str
) -> tuple[bool, MonthFigures]:
    """(the month is over, its figures); 400 for a month that is not YYYY-MM, 404 for
    one that has not begun."""
    parsed = parse_month(month)
    if parsed is None:
        raise ValidationException(f"month {month!r} is not YYYY-MM (a year from 2000)")
    start, end = month_bounds(*parsed)
    now = platform.clock.now()
    if now < start:
        raise NotFoundException(f"no figures for {month}: the month has not begun")
    cache: RecentEach[str, MonthFigures] = request.app.state[FAIR_PLAY]
    return now >= end, cache.get(platform, month, lambda: published_figures(platform, *parsed))


class FairPlayController(Controller):
    path = "/fair-play"
    tags = ("fair play",)

    @get(
        "/{month:str}",
        exclude_from_auth=True,
        operation_id="getFairPlayFigures",
        sync_to_thread=True,
        responses=problem_responses(404, 503),
    )
    def figures(
        self,
        request: Request[Any, Any, Any],
        platform: NamedDependency[Platform],
        month: FromPath[str],
    ) -> FairPlayOut:
        """A month's published figures (YYYY-MM): the median and mean net winnings of the
        players of the contests whose games completed that month, and the share of its
        prizes won by highly experienced players; from the ledger, public."""
        complete, figures = month_figures_of(request, platform, month)
        return fair_play_out(month, complete, figures)
