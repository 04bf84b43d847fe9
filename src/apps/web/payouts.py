"""A player's prizes and payout account in the browser: what is owed, sent, failed and why;
onboarding with the payment gateway (the API's links), and the way back from it.

The same use cases as /me/payouts and /me/payout-account/*: the gateway's onboarding page
collects the player's details; it sends the player back here (`?onboarding=return`: the
account is read back from the gateway; `refresh`: a fresh link). No page sets, edits or
approves a payout.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Redirect

from apps.api.auth import PLAYERS_ONLY
from apps.api.payouts import REFRESH_PATH, RETURN_PATH
from apps.api.wire import payouts_out
from apps.bootstrap import Services
from apps.web.errors import api_problem
from apps.web.forms import render
from apps.web.session import signed_in
from fantasy_core.errors import DomainError
from fantasy_core.usecases.connect import (
    dashboard_link,
    payouts_of,
    refresh_account,
    start_onboarding,
)

PAGE = "/web/me/payouts"


class PayoutPages(Controller):
    path = PAGE
    opt = PLAYERS_ONLY

    @get("/", sync_to_thread=True)
    def page(
        self,
        request: Request[Any, Any, Any],
        services: NamedDependency[Services],
        onboarding: FromQuery[str | None] = None,
    ) -> Response[Any]:
        user = signed_in(request)
        platform = services.platform
        problem = None
        try:
            if onboarding == "return":
                refresh_account(platform, user.user_id)  # back from the gateway's pages
            elif onboarding == "refresh":  # the link expired: a fresh one
                return Redirect(_link(services, user.user_id, user.email), status_code=303)
        except DomainError as refused:
            problem = api_problem(request, refused)
        page = payouts_out(payouts_of(platform, user.user_id))
        return render(request, "payouts.html", payouts=page, problem=problem)

    @post("/onboarding", sync_to_thread=True)
    def onboarding(
        self, request: Request[Any, Any, Any], services: NamedDependency[Services]
    ) -> Response[Any]:
        """Open (or continue) the payout account: off to the gateway's onboarding."""
        user = signed_in(request)
        try:
            return Redirect(_link(services, user.user_id, user.email), status_code=303)
        except DomainError as refused:
            return _refused(request, services, refused)

    @post("/dashboard", sync_to_thread=True)
    def dashboard(
        self, request: Request[Any, Any, Any], services: NamedDependency[Services]
    ) -> Response[Any]:
        """Off to the gateway's dashboard of the account (bank details, its payouts)."""
        user = signed_in(request)
        try:
            return Redirect(dashboard_link(services.platform, user.user_id).url, status_code=303)
        except DomainError as refused:
            return _refused(request, services, refused)


def _link(services: Services, user_id: str, email: str) -> str:
    base = services.settings.public_url.rstrip("/")
    link = start_onboarding(
        services.platform, user_id, email, "US", base + REFRESH_PATH, base + RETURN_PATH
    )
    return link.url


def _refused(
    request: Request[Any, Any, Any], services: Services, refused: Exception
) -> Response[Any]:
    user = signed_in(request)
    problem = api_problem(request, refused)
    status = problem.get("status")
    page = payouts_out(payouts_of(services.platform, user.user_id))
    return render(
        request,
        "payouts.html",
        status if isinstance(status, int) else 409,
        payouts=page,
        problem=problem,
    )
