"""The operators' console: open alerts, contests by state, the audit trail, the ledger, cancelling.

Operators only (the API's own guard). There is no page that creates, edits or approves a
payout: payouts come from settlement alone, as on the API.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect

from apps.api.auth import OPERATORS_ONLY
from apps.api.problems import Problem
from apps.api.wire import alert_out, audit_out, calendar_line_out, contest_out, ledger_out
from apps.bootstrap import Services, watchdog_thresholds
from apps.web.errors import api_problem
from apps.web.forms import FormBody, field, render
from apps.web.session import signed_in
from apps.web.views import countdown
from fantasy_core.alerting import AlertState
from fantasy_core.audit import AuditRecord
from fantasy_core.errors import DomainError
from fantasy_core.lifecycle import ContestState
from fantasy_core.platform import Platform
from fantasy_core.usecases.alerts import acknowledge_alert, list_alerts
from fantasy_core.usecases.calendar import paused_lines, set_line_paused
from fantasy_core.usecases.console import audit_of_charge, audit_of_payout, contest_board
from fantasy_core.usecases.contests import cancel_contest
from fantasy_core.usecases.queries import contest_summary, player_audit
from fantasy_core.usecases.reports import audit_trail, verify_ledger

CLOSED = (ContestState.PAID, ContestState.CANCELLED, ContestState.SETTLED)


def _contest_audit(platform: Platform, contest_id: str) -> list[AuditRecord]:
    contest_summary(platform, contest_id)  # "No such contest" for an unknown id
    return audit_trail(platform, contest_id)


# The API's audit searches (GET /operator/audit), by the query's `by`.
AUDIT_SEARCHES: dict[str, tuple[str, Callable[[Platform, str], list[AuditRecord]]]] = {
    "contest_id": ("contest id", _contest_audit),
    "player_id": ("player (user id)", player_audit),
    "payout": ("payout (fingerprint or transfer id)", audit_of_payout),
    "charge_id": ("charge id", audit_of_charge),
}


class ConsolePages(Controller):
    path = "/web/operator"
    opt = OPERATORS_ONLY

    @get("/", sync_to_thread=True)
    def console(self, request: Request[Any, Any, Any], services: NamedDependency[Services]) -> Any:
        return render(request, "console.html", **_console(services), problem=None)

    @post("/alerts/acknowledge", sync_to_thread=True)
    def acknowledge(
        self, request: Request[Any, Any, Any], data: FormBody, services: NamedDependency[Services]
    ) -> Response[Any]:
        user = signed_in(request)
        try:
            acknowledge_alert(services.platform, field(data, "key"), user.user_id)
        except DomainError as refused:
            problem = api_problem(request, refused)
            return render(request, "console.html", 409, **_console(services), problem=problem)
        return Redirect("/web/operator", status_code=303)

    @get("/audit", sync_to_thread=True)
    def audit(self, request: Request[Any, Any, Any], platform: NamedDependency[Platform]) -> Any:
        """The audit trail found by a contest, a player, a payout (its fingerprint or
        transfer id) or a charge, as the API's search finds it, narrowed by any text."""
        query = request.query_params
        kind = query.get("by") or "contest_id"
        kind = kind if kind in AUDIT_SEARCHES else "contest_id"
        wanted = (query.get("id") or "").strip()
        text = (query.get("text") or "").strip()
        records = (
            [audit_out(r) for r in AUDIT_SEARCHES[kind][1](platform, wanted)] if wanted else []
        )
        if text:
            needle = text.lower()
            records = [
                r
                for r in records
                if needle in " ".join((r.action, r.subject or "", r.detail, r.actor)).lower()
            ]
        return render(
            request,
            "audit.html",
            records=records,
            searched=bool(wanted),
            searches={key: label for key, (label, _) in AUDIT_SEARCHES.items()},
            query={"by": kind, "id": wanted, "text": text},
        )

    @post("/calendar/pause", sync_to_thread=True)
    def pause_line(
        self, request: Request[Any, Any, Any], data: FormBody, services: NamedDependency[Services]
    ) -> Response[Any]:
        """Pause a calendar line (audited): it opens no new contest until resumed."""
        return _set_paused(request, data, services, paused=True)

    @post("/calendar/resume", sync_to_thread=True)
    def resume_line(
        self, request: Request[Any, Any, Any], data: FormBody, services: NamedDependency[Services]
    ) -> Response[Any]:
        return _set_paused(request, data, services, paused=False)

    @get("/ledger", sync_to_thread=True)
    def ledger(self, request: Request[Any, Any, Any], platform: NamedDependency[Platform]) -> Any:
        return render(request, "ledger.html", ledger=ledger_out(verify_ledger(platform)))

    @get("/contests/{contest_id:str}/cancel", sync_to_thread=True)
    def cancel_form(
        self,
        contest_id: FromPath[str],
        request: Request[Any, Any, Any],
        platform: NamedDependency[Platform],
    ) -> Any:
        summary = contest_summary(platform, contest_id)
        return render(request, "cancel.html", contest=contest_out(summary), reason="", problem=None)

    @post("/contests/{contest_id:str}/cancel", sync_to_thread=True)
    def cancel(
        self,
        contest_id: FromPath[str],
        request: Request[Any, Any, Any],
        data: FormBody,
        platform: NamedDependency[Platform],
    ) -> Response[Any]:
        """Cancel with a reason once the operator confirmed; every paid entry is refunded."""
        user = signed_in(request)
        reason = data.get("reason", "").strip()
        try:
            if data.get("confirm") != "yes":
                raise Problem(
                    422,
                    "not-confirmed",
                    "Not confirmed",
                    "tick the box to confirm the cancellation; nothing was changed",
                )
            if len(reason) < 3:
                raise Problem(
                    422,
                    "reason-required",
                    "Reason required",
                    "say why the contest is cancelled (at least 3 characters); nothing was changed",
                )
            cancel_contest(platform, contest_id, reason[:500], actor=user.user_id)
        except (DomainError, Problem) as refused:
            problem = api_problem(request, refused)
            summary = contest_summary(platform, contest_id)
            status = problem.get("status")
            return render(
                request,
                "cancel.html",
                status if isinstance(status, int) else 422,
                contest=contest_out(summary),
                reason=reason,
                problem=problem,
            )
        return Redirect("/web/operator?cancelled=" + contest_id, status_code=303)


def _set_paused(
    request: Request[Any, Any, Any], data: dict[str, str], services: Services, *, paused: bool
) -> Response[Any]:
    user = signed_in(request)
    try:
        set_line_paused(services.platform, field(data, "line"), paused, user.user_id)
    except DomainError as refused:
        problem = api_problem(request, refused)
        status = problem.get("status")
        return render(
            request,
            "console.html",
            status if isinstance(status, int) else 409,
            **_console(services),
            problem=problem,
        )
    return Redirect("/web/operator#calendar-h", status_code=303)


def _console(services: Services) -> dict[str, Any]:
    platform = services.platform
    now = platform.clock.now()
    thresholds = watchdog_thresholds(services.settings)
    by_state: dict[str, list[dict[str, Any]]] = {state.value: [] for state in ContestState}
    for row in contest_board(platform, thresholds):
        by_state[row.state.value].append(
            {
                "row": row,
                "locks_in": countdown(row.lock_at, now),
                "cancellable": row.state not in CLOSED,
            }
        )
    paused = paused_lines(platform)
    return {
        "calendar": [
            calendar_line_out(line, line.key in paused) for line in platform.calendar.lines
        ],
        "alerts": [alert_out(a) for a in list_alerts(platform, {AlertState.OPEN})],
        "acknowledged": [alert_out(a) for a in list_alerts(platform, {AlertState.ACKNOWLEDGED})],
        "by_state": by_state,
        "now": now,
    }
