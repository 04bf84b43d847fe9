"""A player's protection in the browser: limits, a cool-off, a self-exclusion (confirmed), and
the tax details (a W-9) prizes above the year's threshold need.

The same use cases as /me/limits, /me/cool-off and /me/self-exclusion: tighter limits
apply at once, looser ones after 90 days; a break from play cannot be shortened; each
refusal is the API's problem, shown beside the form.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect

from apps.api.auth import PLAYERS_ONLY
from apps.api.problems import Problem
from apps.api.protection import limits_out
from apps.api.wire import restriction_out
from apps.web.errors import api_problem
from apps.web.forms import FormBody, field, render
from apps.web.session import signed_in
from fantasy_core.errors import DomainError
from fantasy_core.platform import Platform
from fantasy_core.protection.limits import MAX_LIMIT, LimitKind
from fantasy_core.protection.restrictions import ExclusionTerm
from fantasy_core.usecases.protecting import (
    limits_of,
    player_profile,
    set_limits,
    start_cool_off,
    start_self_exclusion,
)
from fantasy_core.usecases.tax import submit_tax_details, tax_details_of

PAGE = "/web/me/protection"
LABELS = {
    LimitKind.FEES_DAY: "Entry fees a day ($)",
    LimitKind.FEES_WEEK: "Entry fees a week ($)",
    LimitKind.FEES_MONTH: "Entry fees a month ($)",
    LimitKind.ENTRIES_WEEK: "Entries a week",
}
TERMS = {"1y": "one year", "5y": "five years", "permanent": "for good"}


class ProtectionPages(Controller):
    path = PAGE
    opt = PLAYERS_ONLY

    @get("/", sync_to_thread=True)
    def page(self, request: Request[Any, Any, Any], platform: NamedDependency[Platform]) -> Any:
        return render(request, "protection.html", **_context(request, platform, None))

    @post("/limits", sync_to_thread=True)
    def limits(
        self, request: Request[Any, Any, Any], data: FormBody, platform: NamedDependency[Platform]
    ) -> Response[Any]:
        """Each field: empty lifts the limit, a number sets it (dollars for fees)."""
        user = signed_in(request)
        try:
            asked = {kind: _limit(kind, data.get(kind.value, "")) for kind in LimitKind}
            set_limits(platform, user.user_id, asked)
        except (DomainError, Problem) as refused:
            return _refused(request, platform, refused)
        return Redirect(PAGE, status_code=303)

    @post("/cool-off", sync_to_thread=True)
    def cool_off(
        self, request: Request[Any, Any, Any], data: FormBody, platform: NamedDependency[Platform]
    ) -> Response[Any]:
        user = signed_in(request)
        try:
            _confirmed(data, "a break from play")
            hours = data.get("hours", "")
            if not hours.isdigit() or not 72 <= int(hours) <= 720:
                raise Problem(
                    422, "invalid-hours", "Choose a length", "a break lasts 72 to 720 hours"
                )
            start_cool_off(platform, user.user_id, timedelta(hours=int(hours)))
        except (DomainError, Problem) as refused:
            return _refused(request, platform, refused)
        return Redirect(PAGE, status_code=303)

    @post("/self-exclusion", sync_to_thread=True)
    def self_exclusion(
        self, request: Request[Any, Any, Any], data: FormBody, platform: NamedDependency[Platform]
    ) -> Response[Any]:
        user = signed_in(request)
        try:
            _confirmed(data, "self-exclusion")
            term = data.get("term", "")
            if term not in TERMS:
                raise Problem(422, "invalid-term", "Choose a term", "one year, five or for good")
            start_self_exclusion(platform, user.user_id, ExclusionTerm(term))
        except (DomainError, Problem) as refused:
            return _refused(request, platform, refused)
        return Redirect(PAGE, status_code=303)

    @post("/tax-details", sync_to_thread=True)
    def tax_details(
        self, request: Request[Any, Any, Any], data: FormBody, platform: NamedDependency[Platform]
    ) -> Response[Any]:
        """A W-9 (legal name, address, taxpayer id): the id is sealed; only its last four
        are ever shown again, here as on the API."""
        user = signed_in(request)
        try:
            taxpayer_id = data.get("taxpayer_id", "").strip()
            if not 9 <= len(taxpayer_id) <= 11 or not set(taxpayer_id) <= set("0123456789 -"):
                raise Problem(
                    422,
                    "invalid-taxpayer-id",
                    "Taxpayer id refused",
                    "an SSN, ITIN or EIN is nine digits (dashes allowed)",
                    field="taxpayer_id",
                )
            submit_tax_details(
                platform,
                user.user_id,
                field(data, "legal_name"),
                field(data, "address"),
                taxpayer_id,
            )
        except (DomainError, Problem) as refused:
            return _refused(request, platform, refused)
        return Redirect(PAGE + "#tax-h", status_code=303)


def _limit(kind: LimitKind, text: str) -> int | None:
    """The form's value in the API's units (cents for fees), None for an empty field."""
    text = text.strip().replace(",", "").removeprefix("$")
    if not text:
        return None
    whole, _, cents = text.partition(".")
    if not whole.isdigit() or (cents and not (cents.isdigit() and len(cents) <= 2)):
        raise Problem(
            422, "invalid-limit", "Not an amount", f"{LABELS[kind]}: {text!r} is not a number"
        )
    if kind is LimitKind.ENTRIES_WEEK:
        if cents:
            raise Problem(422, "invalid-limit", "Not a count", "entries are whole numbers")
        value = int(whole)
    else:
        value = int(whole) * 100 + int(cents.ljust(2, "0") or 0)
    if value > MAX_LIMIT:
        raise Problem(422, "invalid-limit", "Too large", f"{LABELS[kind]}: at most {MAX_LIMIT}")
    return value


def _confirmed(data: dict[str, str], what: str) -> None:
    if data.get("confirm") != "yes":
        raise Problem(
            422,
            "not-confirmed",
            "Not confirmed",
            f"tick the box to confirm {what}; nothing was changed",
        )


def _refused(
    request: Request[Any, Any, Any], platform: Platform, refused: Exception
) -> Response[Any]:
    problem = api_problem(request, refused)
    status = problem.get("status")
    context = _context(request, platform, problem)
    return render(request, "protection.html", status if isinstance(status, int) else 422, **context)


def _context(
    request: Request[Any, Any, Any], platform: Platform, problem: dict[str, object] | None
) -> dict[str, Any]:
    user = signed_in(request)
    profile = player_profile(platform, user.user_id)
    restriction = None
    if profile is not None and profile.restriction is not None:
        restriction = restriction_out(profile.restriction)
    return {
        "tax": tax_details_of(platform, user.user_id),
        "limits": limits_out(limits_of(platform, user.user_id)).limits,
        "labels": {kind.value: label for kind, label in LABELS.items()},
        "restriction": restriction,
        "now": platform.clock.now(),
        "terms": TERMS,
        "problem": problem,
    }
