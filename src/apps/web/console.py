"""The operators' console: open alerts, contests by state, the audit trail, the ledger, cancelling.

Operators only (the API's own guard). There is no page that creates, edits or approves a
payout: payouts come from settlement alone, as on the API.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect

from apps.api.auth import operators_only
from apps.api.problems import Problem
from apps.api.wire import alert_out, audit_out, contest_out, ledger_out
from apps.web.errors import api_problem
from apps.web.forms import FormBody, field, render
from apps.web.session import signed_in
from apps.web.views import countdown
from fantasy_core.alerting import AlertState
from fantasy_core.errors import DomainError
from fantasy_core.lifecycle import ContestState
from fantasy_core.platform import Platform
from fantasy_core.usecases.alerts import acknowledge_alert, list_alerts
from fantasy_core.usecases.contests import cancel_contest
from fantasy_core.usecases.queries import contest_summary, list_contests, player_audit
from fantasy_core.usecases.reports import audit_trail, verify_ledger

CLOSED = (ContestState.PAID, ContestState.CANCELLED, ContestState.SETTLED)


class ConsolePages(Controller):
    path = "/web/operator"
    guards = (operators_only,)

    @get("/", sync_to_thread=True)
    def console(self, request: Request[Any, Any, Any], platform: NamedDependency[Platform]) -> Any:
        return render(request, "console.html", **_console(platform), problem=None)

    @post("/alerts/acknowledge", sync_to_thread=True)
    def acknowledge(
        self, request: Request[Any, Any, Any], data: FormBody, platform: NamedDependency[Platform]
    ) -> Response[Any]:
        user = signed_in(request)
        try:
            acknowledge_alert(platform, field(data, "key"), user.user_id)
        except DomainError as refused:
            problem = api_problem(request, refused)
            return render(request, "console.html", 409, **_console(platform), problem=problem)
        return Redirect("/web/operator", status_code=303)

    @get("/audit", sync_to_thread=True)
    def audit(self, request: Request[Any, Any, Any], platform: NamedDependency[Platform]) -> Any:
        """The audit trail of a contest or of a player, narrowed by any text (a charge or
        payout id, an action)."""
        query = request.query_params
        contest_id = (query.get("contest_id") or "").strip()
        player_id = (query.get("player_id") or "").strip()
        text = (query.get("text") or "").strip()
        records = []
        if contest_id:
            contest_summary(platform, contest_id)  # "No such contest" for an unknown id
            records = [audit_out(r) for r in audit_trail(platform, contest_id)]
        elif player_id:
            records = [audit_out(r) for r in player_audit(platform, player_id)]
        if text:
            needle = text.lower()
            records = [
                r
                for r in records
                if needle in " ".join((r.action, r.subject or "", r.detail, r.actor)).lower()
            ]
        searched = bool(contest_id or player_id)
        return render(
            request,
            "audit.html",
            records=records,
            searched=searched,
            query={"contest_id": contest_id, "player_id": player_id, "text": text},
        )

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


def _console(platform: Platform) -> dict[str, Any]:
    now = platform.clock.now()
    summaries = list_contests(platform)
    by_state: dict[str, list[dict[str, Any]]] = {state.value: [] for state in ContestState}
    for summary in sorted(summaries, key=lambda s: (s.contest.terms.lock_at, s.contest.contest_id)):
        contest = summary.contest
        by_state[contest.state.value].append(
            {
                "contest": contest_out(summary),
                "locks_in": countdown(contest.terms.lock_at, now),
                "withdraw_deadline": contest.terms.withdraw_deadline(),
                "settle_due_at": contest.settle_due_at(),
                "cancellable": contest.state not in CLOSED,
            }
        )
    return {
        "alerts": [alert_out(a) for a in list_alerts(platform, {AlertState.OPEN})],
        "acknowledged": [alert_out(a) for a in list_alerts(platform, {AlertState.ACKNOWLEDGED})],
        "by_state": by_state,
        "now": now,
    }
