"""Operator routes (operator role only): contests, alerts, audit, stat corrections, the ledger.

There is deliberately no route that creates, edits, approves or re-routes a payout:
payouts come from settlement alone (tests/apps assert it on the route table).
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import ValidationException
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.security.jwt import Token
from litestar.status_codes import HTTP_201_CREATED

from apps.api.auth import BEARER, OPERATORS_ONLY
from apps.api.catalogue import TemplateOut, template_out
from apps.api.health import health_report
from apps.api.problems import problem_responses
from apps.api.wire import (
    AlertOut,
    AuditOut,
    BoardRowOut,
    CalendarLineOut,
    CancelIn,
    CancelOut,
    ContestDetailOut,
    CorrectionIn,
    CorrectionOut,
    CreateContestIn,
    HealthOut,
    LedgerOut,
    alert_out,
    audit_out,
    board_row_out,
    calendar_line_out,
    cancel_out,
    contest_detail_out,
    ledger_out,
)
from apps.bootstrap import Services, watchdog_thresholds
from apps.templates import CURRENCY, TEMPLATES, template
from fantasy_core.accounts import Account
from fantasy_core.alerting import AlertState
from fantasy_core.audit import Severity
from fantasy_core.lifecycle import ContestState
from fantasy_core.platform import Platform
from fantasy_core.usecases.alerts import acknowledge_alert, list_alerts, resolve_alert
from fantasy_core.usecases.calendar import paused_lines, set_line_paused
from fantasy_core.usecases.console import audit_of_charge, audit_of_payout, contest_board
from fantasy_core.usecases.contests import cancel_contest, create_contest
from fantasy_core.usecases.corrections import correct_stat
from fantasy_core.usecases.queries import contest_summary, player_audit, slate_for_contests
from fantasy_core.usecases.reports import audit_trail, verify_ledger


class OperatorController(Controller):
    path = "/operator"
    opt = OPERATORS_ONLY
    tags = ("operators",)
    security = BEARER

    @post(
        "/contests",
        status_code=HTTP_201_CREATED,
        operation_id="createContest",
        sync_to_thread=True,
        responses=problem_responses(400, 401, 403, 404, 409, 422, 503),
    )
    def create_contest(
        self,
        data: JSONBody[CreateContestIn],
        request: Request[Account, Token, Any],
        platform: NamedDependency[Platform],
    ) -> ContestDetailOut:
        """Create a contest from a template on a slate; it locks at the slate's first
        kickoff unless `lock_at` says otherwise."""
        slate = slate_for_contests(platform, data.slate_id)
        terms = template(data.template).terms(
            slate.pool, data.lock_at or slate.first_kickoff, data.name, kickoffs=slate.kickoffs
        )
        contest = create_contest(platform, terms, actor=request.user.user_id)
        return contest_detail_out(contest_summary(platform, contest.contest_id))

    @get(
        "/templates",
        operation_id="contestTemplates",
        sync_to_thread=False,
        responses=problem_responses(401, 403),
    )
    def templates(self) -> list[TemplateOut]:
        """The contest templates, by key: fee, field size, entry limit, payout table, rake,
        guarantee, withdrawal cut-off, correction window, roster and scoring rules."""
        return [template_out(TEMPLATES[key], CURRENCY) for key in sorted(TEMPLATES)]

    @post(
        "/contests/{contest_id:str}/cancel",
        status_code=200,
        operation_id="cancelContest",
        responses=problem_responses(400, 401, 403, 404, 409, 503),
        sync_to_thread=True,
    )
    def cancel(
        self,
        contest_id: FromPath[str],
        data: JSONBody[CancelIn],
        request: Request[Account, Token, Any],
        platform: NamedDependency[Platform],
    ) -> CancelOut:
        """Cancel before settlement, with a reason; every paid entry is refunded."""
        owed = cancel_contest(platform, contest_id, data.reason, actor=request.user.user_id)
        return cancel_out(contest_summary(platform, contest_id).contest, owed)

    @get(
        "/contests/{contest_id:str}/audit",
        operation_id="contestAudit",
        sync_to_thread=True,
        responses=problem_responses(401, 403, 404, 503),
    )
    def contest_audit(
        self, contest_id: FromPath[str], platform: NamedDependency[Platform]
    ) -> list[AuditOut]:
        """Every recorded action on the contest, oldest first."""
        return [audit_out(r) for r in audit_trail(platform, contest_id)]

    @get(
        "/players/{user_id:str}/audit",
        operation_id="playerAudit",
        sync_to_thread=True,
        responses=problem_responses(401, 403, 503),
    )
    def player_audit(
        self, user_id: FromPath[str], platform: NamedDependency[Platform]
    ) -> list[AuditOut]:
        """Every recorded action the player took, oldest first."""
        return [audit_out(r) for r in player_audit(platform, user_id)]

    @get(
        "/alerts",
        operation_id="alerts",
        sync_to_thread=True,
        responses=problem_responses(400, 401, 403, 503),
    )
    def alerts(
        self,
        platform: NamedDependency[Platform],
        open_only: FromQuery[bool] = False,
        status: FromQuery[AlertState | None] = None,
        severity: FromQuery[Severity | None] = None,
        contest_id: FromQuery[str | None] = None,
    ) -> list[AlertOut]:
        """Stored alerts (raised by any process), oldest first; `open_only`: neither
        acknowledged nor resolved; `status`: only alerts in that state; `severity`: only
        warnings or only critical ones; `contest_id`: only that contest's."""
        wanted = {AlertState.OPEN} if open_only else set(AlertState)
        if status is not None:
            wanted &= {status}
        return [
            alert_out(a)
            for a in list_alerts(platform, wanted)
            if (severity is None or a.severity is severity)
            and (contest_id is None or a.contest_id == contest_id)
        ]

    @get(
        "/board",
        operation_id="contestBoard",
        sync_to_thread=True,
        responses=problem_responses(400, 401, 403, 503),
    )
    def board(
        self,
        services: NamedDependency[Services],
        states: Annotated[list[ContestState] | None, QueryParameter(name="state")] = None,
    ) -> list[BoardRowOut]:
        """Every contest (only those in `state`, which may repeat) by state in lifecycle
        order, then by deadline: seats, what it waits for next (`waiting_for`) and by when
        (`deadline`), and whether that is `overdue` past its watchdog's threshold."""
        thresholds = watchdog_thresholds(services.settings)
        wanted = None if not states else set(states)
        return [board_row_out(r) for r in contest_board(services.platform, thresholds, wanted)]

    @get(
        "/audit",
        operation_id="searchAudit",
        sync_to_thread=True,
        responses=problem_responses(400, 401, 403, 404, 503),
    )
    def search_audit(
        self,
        platform: NamedDependency[Platform],
        contest_id: FromQuery[str | None] = None,
        player_id: FromQuery[str | None] = None,
        payout: FromQuery[str | None] = None,
        charge_id: FromQuery[str | None] = None,
    ) -> list[AuditOut]:
        """The audit trail found by exactly one of: `contest_id` (everything about the
        contest), `player_id` (everything the player did), `payout` (a payout's
        fingerprint or its transfer id: its attempts and alerts) or `charge_id` (the
        entry that charge paid for: its join, refund, withdrawal, lineup changes).
        Oldest first; 404 when the contest, payout or charge is unknown."""
        given = {
            name: value
            for name, value in (
                ("contest_id", contest_id),
                ("player_id", player_id),
                ("payout", payout),
                ("charge_id", charge_id),
            )
            if value is not None
        }
        if len(given) != 1:
            raise ValidationException(
                "give exactly one of contest_id, player_id, payout, charge_id "
                f"(got {', '.join(sorted(given)) or 'none'})"
            )
        if contest_id is not None:
            contest_summary(platform, contest_id)  # 404 for an unknown contest
            records = audit_trail(platform, contest_id)
        elif player_id is not None:
            records = player_audit(platform, player_id)
        elif payout is not None:
            records = audit_of_payout(platform, payout)
        else:
            records = audit_of_charge(platform, given["charge_id"])
        return [audit_out(r) for r in records]

    @get(
        "/calendar",
        operation_id="calendarLines",
        responses=problem_responses(401, 403, 503),
        sync_to_thread=True,
    )
    def calendar(self, platform: NamedDependency[Platform]) -> list[CalendarLineOut]:
        """The contest calendar's lines (the worker opens their contests by itself), and
        which an operator paused."""
        paused = paused_lines(platform)
        return [calendar_line_out(line, line.key in paused) for line in platform.calendar.lines]

    @post(
        "/calendar/{line:str}/pause",
        status_code=200,
        operation_id="pauseCalendarLine",
        responses=problem_responses(401, 403, 404, 503),
        sync_to_thread=True,
    )
    def pause_line(
        self,
        line: FromPath[str],
        request: Request[Account, Token, Any],
        platform: NamedDependency[Platform],
    ) -> CalendarLineOut:
        """Pause a calendar line (audited): it opens no new contest until resumed; contests
        it opened run on, their terms unchanged."""
        set_line_paused(platform, line, True, request.user.user_id)
        return calendar_line_out(platform.calendar.line(line), True)

    @post(
        "/calendar/{line:str}/resume",
        status_code=200,
        operation_id="resumeCalendarLine",
        responses=problem_responses(401, 403, 404, 503),
        sync_to_thread=True,
    )
    def resume_line(
        self,
        line: FromPath[str],
        request: Request[Account, Token, Any],
        platform: NamedDependency[Platform],
    ) -> CalendarLineOut:
        """Resume a paused calendar line (audited): its contests due open at the next pass."""
        set_line_paused(platform, line, False, request.user.user_id)
        return calendar_line_out(platform.calendar.line(line), False)

    @post(
        "/alerts/{key:str}/acknowledge",
        status_code=200,
        operation_id="acknowledgeAlert",
        responses=problem_responses(401, 403, 404, 409, 503),
        sync_to_thread=True,
    )
    def acknowledge(
        self,
        key: FromPath[str],
        request: Request[Account, Token, Any],
        platform: NamedDependency[Platform],
    ) -> AlertOut:
        """Take an alert: it stays acknowledged while repeats are counted, until resolved."""
        return alert_out(acknowledge_alert(platform, key, request.user.user_id))

    @post(
        "/alerts/{key:str}/resolve",
        status_code=200,
        operation_id="resolveAlert",
        responses=problem_responses(401, 403, 404, 503),
        sync_to_thread=True,
    )
    def resolve(
        self,
        key: FromPath[str],
        request: Request[Account, Token, Any],
        platform: NamedDependency[Platform],
    ) -> AlertOut:
        """Close an alert by hand; raised again, it opens a new incident."""
        return alert_out(resolve_alert(platform, key, request.user.user_id))

    @post(
        "/stats/corrections",
        status_code=HTTP_201_CREATED,
        operation_id="correctStat",
        responses=problem_responses(400, 401, 403, 404, 409, 422, 503),
        sync_to_thread=True,
    )
    def correct_stat(
        self,
        data: JSONBody[CorrectionIn],
        request: Request[Account, Token, Any],
        platform: NamedDependency[Platform],
    ) -> CorrectionOut:
        """Correct one stat of one player on a slate, with a reason, before settlement."""
        affected = correct_stat(
            platform,
            data.slate_id,
            data.player_id,
            data.stat,
            data.value,
            data.reason,
            actor=request.user.user_id,
        )
        return CorrectionOut(affected_contests=affected)

    @get(
        "/ledger",
        operation_id="verifyLedger",
        sync_to_thread=True,
        responses=problem_responses(401, 403, 503),
    )
    def ledger(self, platform: NamedDependency[Platform]) -> LedgerOut:
        """Every posting set balanced, every closed contest's money conserved to the cent."""
        return ledger_out(verify_ledger(platform))

    @get(
        "/health",
        operation_id="operatorHealth",
        sync_to_thread=True,
        responses=problem_responses(401, 403),
    )
    def health(self, services: NamedDependency[Services]) -> HealthOut:
        """Each dependency (database, stats feed, payment gateway) and, if it failed, why.

        The public /ready says only ok or failed; the reasons are for operators.
        """
        return health_report(services, reasons=True)
