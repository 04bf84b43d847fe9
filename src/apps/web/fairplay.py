"""The published fair-play figures in the browser: public, one page per month, the same
figures (and the same minute-long reuse) as `GET /fair-play/{month}`."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect

from apps.api.fairplay import month_figures_of
from apps.api.wire import fair_play_out
from apps.web.forms import render
from fantasy_core.platform import Platform

PAGE = "/web/fair-play"


def _month(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def _around(month: str) -> tuple[str, str]:
    year, number = int(month[:4]), int(month[5:])
    before = _month(year - 1, 12) if number == 1 else _month(year, number - 1)
    after = _month(year + 1, 1) if number == 12 else _month(year, number + 1)
    return before, after


class FairPlayPages(Controller):
    path = PAGE

    @get("/", sync_to_thread=True)
    def latest(self, platform: NamedDependency[Platform]) -> Redirect:
        """The last month that is over."""
        now = platform.clock.now()
        last = _month(now.year - 1, 12) if now.month == 1 else _month(now.year, now.month - 1)
        return Redirect(f"{PAGE}/{last}", status_code=302)

    @get("/{month:str}", sync_to_thread=True)
    def month(
        self,
        request: Request[Any, Any, Any],
        platform: NamedDependency[Platform],
        month: FromPath[str],
    ) -> Any:
        complete, figures = month_figures_of(request, platform, month)
        before, after = _around(month)
        now = platform.clock.now()
        return render(
            request,
            "fair_play.html",
            figures=fair_play_out(month, complete, figures),
            before=before,
            after=after if after <= _month(now.year, now.month) else None,
        )
