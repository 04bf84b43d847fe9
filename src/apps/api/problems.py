"""Errors as RFC 9457 problem details, from exception handlers registered once on the app.

Handlers stay straight-line code: they call a use case and let its named errors
travel here, where each is mapped to a status, a stable `type` and its details
(which rule, which player, which decline code). Nothing a client sends can end
in a 500: malformed input is a 400, and only a bug reaches the catch-all.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_401_UNAUTHORIZED,
    HTTP_402_PAYMENT_REQUIRED,
    HTTP_403_FORBIDDEN,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)
from litestar.types import ExceptionHandlersMap

from apps.accounts import AccountError, LoginFailed
from apps.api.batching import Overloaded
from apps.api.hygiene import MAX_BODY_BYTES
from apps.api.wire import ProblemOut
from apps.templates import UnknownTemplate
from fantasy_core import errors
from fantasy_core.calendar import UnknownCalendarLine
from fantasy_core.snapshot import InvalidSnapshot

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "/problems/"
RETRY_AFTER_SECONDS = "5"

_log = logging.getLogger("fantasy.api")


class Problem(Exception):
    """An app-level problem with its status and stable code, for outcomes that are not errors
    of the core (a declined card is an outcome of joining, answered with a 402)."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str,
        headers: Mapping[str, str] | None = None,
        **extra: object,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.headers = dict(headers or {})
        self.extra = extra


def problem_body(
    instance: str,
    status: int,
    code: str,
    title: str,
    detail: str,
    extra: Mapping[str, object] | None = None,
) -> dict[str, object]:
    """An RFC 9457 problem document."""
    body: dict[str, object] = {
        "type": TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    body.update(extra or {})
    return body


def problem_response(
    request: Request[Any, Any, Any],
    status: int,
    code: str,
    title: str,
    detail: str,
    extra: Mapping[str, object] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response[dict[str, object]]:
    body = problem_body(request.url.path, status, code, title, detail, extra)
    return Response(body, status_code=status, media_type=MEDIA_TYPE, headers=dict(headers or {}))


def problem_of(error: errors.DomainError | Problem, instance: str) -> dict[str, object]:
    """The problem document a route would answer for `error` (one item of a bulk answer)."""
    if isinstance(error, Problem):
        return problem_body(
            instance, error.status, error.code, error.title, error.detail, error.extra
        )
    status, code, title = _lookup(error)
    return problem_body(instance, status, code, title, str(error), _extra(error))


# (status, code, title) by the core's error class; the most specific class wins.
_DOMAIN: dict[type[errors.DomainError], tuple[int, str, str]] = {
    errors.InvalidLineup: (HTTP_422_UNPROCESSABLE_ENTITY, "invalid-lineup", "Invalid lineup"),
    errors.JoinRefused: (HTTP_409_CONFLICT, "join-refused", "Join refused"),
    errors.NotYourEntry: (HTTP_403_FORBIDDEN, "forbidden", "Forbidden"),
    errors.WithdrawRefused: (HTTP_409_CONFLICT, "withdraw-refused", "Withdrawal refused"),
    errors.LineupChangeRefused: (HTTP_409_CONFLICT, "lineup-change-refused", "Lineup locked"),
    errors.OperatorActionRefused: (HTTP_409_CONFLICT, "action-refused", "Action refused"),
    errors.LineupsNotPublic: (HTTP_409_CONFLICT, "lineups-not-public", "Lineups not public"),
    errors.StandingsNotLive: (HTTP_409_CONFLICT, "standings-not-live", "Standings not live"),
    errors.IdempotencyKeyReused: (
        HTTP_422_UNPROCESSABLE_ENTITY,
        "idempotency-key-reused",
        "Idempotency key reused",
    ),
    errors.InvalidText: (HTTP_422_UNPROCESSABLE_ENTITY, "invalid-text", "Text refused"),
    errors.InvalidCorrection: (
        HTTP_422_UNPROCESSABLE_ENTITY,
        "invalid-correction",
        "Invalid correction",
    ),
    errors.IllegalTransition: (HTTP_409_CONFLICT, "illegal-transition", "Illegal transition"),
    errors.ConcurrentUpdate: (HTTP_409_CONFLICT, "concurrent-update", "Changed meanwhile"),
    errors.DuplicateRecord: (HTTP_409_CONFLICT, "duplicate", "Already exists"),
    errors.UnknownContest: (HTTP_404_NOT_FOUND, "unknown-contest", "No such contest"),
    errors.UnknownEntry: (HTTP_404_NOT_FOUND, "unknown-entry", "No such entry"),
    errors.UnknownPayout: (HTTP_404_NOT_FOUND, "unknown-payout", "No such payout"),
    errors.UnknownAlert: (HTTP_404_NOT_FOUND, "not-found", "Not found"),
    errors.UnknownSlate: (HTTP_404_NOT_FOUND, "unknown-slate", "No such slate"),
    UnknownTemplate: (HTTP_404_NOT_FOUND, "unknown-template", "No such contest template"),
    UnknownCalendarLine: (HTTP_404_NOT_FOUND, "unknown-calendar-line", "No such calendar line"),
    errors.InvalidWebhook: (HTTP_400_BAD_REQUEST, "invalid-webhook", "Webhook refused"),
    errors.NoPayoutAccount: (HTTP_409_CONFLICT, "no-payout-account", "No payout account yet"),
    errors.UnknownConnectedAccount: (
        HTTP_409_CONFLICT,
        "unknown-connected-account",
        "Stripe has no such account",
    ),
    errors.PayoutRejected: (HTTP_409_CONFLICT, "payout-account-refused", "Refused by Stripe"),
    errors.GatewayUnavailable: (
        HTTP_503_SERVICE_UNAVAILABLE,
        "gateway-unavailable",
        "Payments unavailable",
    ),
    errors.PaymentOutcomeUnknown: (
        HTTP_503_SERVICE_UNAVAILABLE,
        "payment-outcome-unknown",
        "Payment outcome unknown",
    ),
    errors.GatewayAuthError: (
        HTTP_503_SERVICE_UNAVAILABLE,
        "gateway-unavailable",
        "Payments unavailable",
    ),
    errors.FeedUnavailable: (
        HTTP_503_SERVICE_UNAVAILABLE,
        "feed-unavailable",
        "Game data unavailable",
    ),
    InvalidSnapshot: (HTTP_422_UNPROCESSABLE_ENTITY, "invalid-snapshot", "Invalid snapshot"),
    errors.InvalidProtectionRequest: (
        HTTP_422_UNPROCESSABLE_ENTITY,
        "protection-request-refused",
        "Request refused",
    ),
    errors.DomainError: (HTTP_422_UNPROCESSABLE_ENTITY, "domain-rule", "Refused by a rule"),
}
_RETRYABLE = frozenset({HTTP_503_SERVICE_UNAVAILABLE})
_RETRY_HINT = {
    errors.GatewayUnavailable: "retry the same request with the same Idempotency-Key",
    errors.PaymentOutcomeUnknown: "retry the same request with the same Idempotency-Key",
}


# Player protection: each rule its own problem type, /problems/<reason> (age, jurisdiction,
# limit, cool-off, self-excluded, beginner-only, ...); a limit is a 409 as a full contest
# is (it changes with time), a location that cannot be checked a 422, the rest 403.
_PLAY_REFUSED_STATUS = {"limit": HTTP_409_CONFLICT, "location": HTTP_422_UNPROCESSABLE_ENTITY}
_PLAY_REFUSED_TITLE = {
    "age": "Under the minimum age",
    "jurisdiction": "Not offered where you are",
    "limit": "Limit reached",
    "cool_off": "In a cool-off",
    "self_excluded": "Self-excluded",
    "location": "Location not established",
    "profile_incomplete": "Profile incomplete",
    "beginner_only": "For beginners only",
    "highly_experienced_excluded": "Closed to highly experienced players",
}


def _lookup(error: errors.DomainError) -> tuple[int, str, str]:
    if isinstance(error, errors.PlayRefused):
        reason = error.reason
        return (
            _PLAY_REFUSED_STATUS.get(reason, HTTP_403_FORBIDDEN),
            reason.replace("_", "-"),
            _PLAY_REFUSED_TITLE.get(reason, "Not open to you"),
        )
    for cls in type(error).__mro__:
        if cls in _DOMAIN:
            return _DOMAIN[cls]
    return _DOMAIN[errors.DomainError]


def _extra(error: errors.DomainError) -> dict[str, object]:
    if isinstance(error, errors.InvalidLineup):
        return {"rule": error.rule, "player_id": error.player_id}
    if isinstance(error, errors.JoinRefused):
        return {"reason": error.reason}
    if isinstance(error, errors.LineupChangeRefused):
        return {"reason": error.reason, "player_id": error.player_id}
    if isinstance(error, errors.IdempotencyKeyReused):
        return {"idempotency_key": error.key}
    if isinstance(error, errors.InvalidCorrection | errors.InvalidProtectionRequest):
        return {"rule": error.rule}
    if isinstance(error, errors.LimitReached):
        resets = error.resets_at
        return {
            "reason": error.reason,
            "limit": error.limit,
            "left": error.left,
            "resets_at": resets.isoformat() if isinstance(resets, datetime) else None,
        }
    if isinstance(error, errors.PlayerRestricted):
        until = error.until
        return {
            "reason": error.reason,
            "until": until.isoformat() if isinstance(until, datetime) else None,
        }
    if isinstance(error, errors.PlayRefused):
        return {"reason": error.reason}
    if isinstance(error, errors.InvalidText):
        return {"field": error.field, "rule": error.rule}
    for cls, hint in _RETRY_HINT.items():
        if isinstance(error, cls):
            return {"hint": hint}
    return {}


def domain_problem(
    request: Request[Any, Any, Any], error: errors.DomainError
) -> Response[dict[str, object]]:
    status, code, title = _lookup(error)
    if status == HTTP_503_SERVICE_UNAVAILABLE:
        _log.warning("%s %s: %s", request.method, request.url.path, error)
    headers = {"Retry-After": RETRY_AFTER_SECONDS} if status in _RETRYABLE else None
    return problem_response(request, status, code, title, str(error), _extra(error), headers)


def app_problem(request: Request[Any, Any, Any], error: Problem) -> Response[dict[str, object]]:
    return problem_response(
        request, error.status, error.code, error.title, error.detail, error.extra, error.headers
    )


# (status, title, the field at fault) by AccountError reason; others: 422.
_ACCOUNT_REFUSALS: dict[str, tuple[int, str, str | None]] = {
    "email_taken": (HTTP_409_CONFLICT, "Registration refused", "email"),
    "identity_taken": (HTTP_409_CONFLICT, "Registration refused", "email"),
    "profile_exists": (HTTP_409_CONFLICT, "Already on file", None),
    "bad_email": (HTTP_422_UNPROCESSABLE_ENTITY, "Registration refused", "email"),
    "bad_display_name": (HTTP_422_UNPROCESSABLE_ENTITY, "Registration refused", "display_name"),
    "weak_password": (HTTP_422_UNPROCESSABLE_ENTITY, "Password refused", "password"),
    "wrong_password": (HTTP_403_FORBIDDEN, "Password change refused", "current_password"),
    "unknown_user": (HTTP_404_NOT_FOUND, "No such account", None),
    "reset_token_invalid": (HTTP_422_UNPROCESSABLE_ENTITY, "Password reset refused", "token"),
}


def account_problem(
    request: Request[Any, Any, Any], error: AccountError
) -> Response[dict[str, object]]:
    status, title, field = _ACCOUNT_REFUSALS.get(
        error.reason, (HTTP_422_UNPROCESSABLE_ENTITY, "Refused", None)
    )
    extra: dict[str, object] = {"reason": error.reason}
    if field is not None:
        extra["field"] = field
    return problem_response(
        request, status, error.reason.replace("_", "-"), title, str(error), extra
    )


def login_problem(
    request: Request[Any, Any, Any], error: LoginFailed
) -> Response[dict[str, object]]:
    return problem_response(
        request, HTTP_401_UNAUTHORIZED, "login-failed", "Login failed", str(error)
    )


def http_problem(
    request: Request[Any, Any, Any], error: HTTPException
) -> Response[dict[str, object]]:
    status = error.status_code
    extra: dict[str, object] = {}
    if isinstance(error, ValidationException):
        extra["errors"] = error.extra if error.extra is not None else []
        title = "Malformed request"
    else:
        title = _TITLES.get(status, "HTTP error")
    headers = dict(error.headers or {})
    return problem_response(
        request,
        status,
        _CODES.get(status, f"http-{status}"),
        title,
        _DETAILS.get(status, error.detail),
        extra,
        headers,
    )


def store_problem(
    request: Request[Any, Any, Any], error: errors.StoreUnavailable
) -> Response[dict[str, object]]:
    """The database cannot be reached (or went away mid-request): 503, nothing half-written.

    A unit of work that did not commit rolled back with its connection, so the
    client may retry the same request (a join with the same Idempotency-Key).
    Any other database error is a bug: the store lets it through to the catch-all's 500.
    """
    _log.warning("%s %s: %s", request.method, request.url.path, error)
    return problem_response(
        request,
        HTTP_503_SERVICE_UNAVAILABLE,
        "database-unavailable",
        "Service unavailable",
        "the database cannot be reached; nothing was changed by this request, retry later",
        {"hint": "retry the same request (with the same Idempotency-Key) after Retry-After"},
        {"Retry-After": RETRY_AFTER_SECONDS},
    )


def internal_problem(
    request: Request[Any, Any, Any], error: Exception
) -> Response[dict[str, object]]:
    _log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=error)
    return problem_response(
        request,
        HTTP_500_INTERNAL_SERVER_ERROR,
        "internal",
        "Internal error",
        "something went wrong on our side; it is logged",
    )


_TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    413: "Request body too large",
    429: "Too many requests",
}
_CODES = {
    400: "malformed",
    401: "not-authenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    413: "body-too-large",
    429: "rate-limited",
}
# The framework's own words, where they say less than we can ("Request Entity Too Large").
_DETAILS = {
    413: f"the request body is larger than the {MAX_BODY_BYTES:,} bytes this API accepts",
}


def shed(error: Overloaded) -> Problem:
    """The problem for a request shed under overload: 503 with Retry-After, nothing done."""
    return Problem(
        HTTP_503_SERVICE_UNAVAILABLE,
        "overloaded",
        "Too busy",
        f"{error}; nothing was done for this request",
        headers={"Retry-After": str(error.retry_after)},
        hint="retry the same request (with the same Idempotency-Key) after Retry-After",
    )


def overloaded_problem(
    request: Request[Any, Any, Any], error: Overloaded
) -> Response[dict[str, object]]:
    return app_problem(request, shed(error))


def exception_handlers() -> ExceptionHandlersMap:
    """Every handler the app registers, in one mapping (Litestar picks the closest class)."""
    return {
        errors.DomainError: domain_problem,
        Problem: app_problem,
        Overloaded: overloaded_problem,
        AccountError: account_problem,
        LoginFailed: login_problem,
        HTTPException: http_problem,
        errors.StoreUnavailable: store_problem,
        Exception: internal_problem,
    }


def payment_declined(entry_id: str, decline_code: str | None, reason: str | None) -> Problem:
    return Problem(
        HTTP_402_PAYMENT_REQUIRED,
        "payment-declined",
        "Payment declined",
        reason or "the payment was declined",
        entry_id=entry_id,
        decline_code=decline_code,
    )


# ---- what the OpenAPI document says each route may answer ------------------------------

_DESCRIPTIONS = {
    400: "Malformed request: a path, query, header or body value the schema refuses",
    401: "Not authenticated: no valid bearer token (or, at login, wrong credentials)",
    402: "Payment declined (with the decline code); nothing was charged",
    403: "Forbidden for this caller's role, or another player's record",
    404: "No such resource",
    409: "Refused in the current state: locked, full, over the limit, already taken",
    422: "Refused by a rule: the lineup's roster rule, a bad email, a reused idempotency key",
    429: "Rate limited: retry after Retry-After",
    503: "A dependency (database, payments, stats feed) is unavailable: retry after Retry-After",
}


def problem_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """The problem responses a route documents (application/problem+json, ProblemOut).

    Always 400 too: any path, query, header or body value may be refused as malformed
    (and documenting it here replaces the framework's own 400, which is not ours).
    """
    return {
        status: ResponseSpec(
            data_container=ProblemOut,
            media_type=MEDIA_TYPE,
            description=_DESCRIPTIONS[status],
            generate_examples=False,
        )
        for status in sorted({400, *statuses})
    }
