"""One Stripe API call: retried within a bound, each attempt logged, failures mapped to core errors.

We own the retries (the SDK's are switched off with `max_network_retries=0`) so
that every attempt is logged with its request id, Retry-After is honoured, the
total wait is bounded, and the final error says whether the request may have
taken effect. Retrying is safe because every mutating call carries an
idempotency key: Stripe replays the stored response of the first request.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import TypeVar

import stripe
from attrs import field as attr_field
from attrs import frozen, validators

from fantasy_core.errors import (
    DomainError,
    GatewayAuthError,
    GatewayRequestRefused,
    GatewayUnavailable,
    PaymentOutcomeUnknown,
)

LOG = logging.getLogger("fantasy.stripe")

T = TypeVar("T")


@frozen
class RequestRetry:
    """At most `attempts` tries of one call, waiting `first_delay` doubled after each
    failure (capped at `max_delay`, raised to Stripe's Retry-After when it asks for
    more), and never more than `sleep_budget` seconds of waiting in all.

    Worst-case wall time of one call: attempts x the HTTP timeout + sleep_budget.
    """

    attempts: int = attr_field(default=4, validator=validators.ge(1))
    first_delay: float = attr_field(default=0.5, validator=validators.ge(0))
    max_delay: float = attr_field(default=4.0, validator=validators.ge(0))
    sleep_budget: float = attr_field(default=8.0, validator=validators.ge(0))

    def backoff(self, failures: int) -> float:
        """The wait after the `failures`-th consecutive failure, before Retry-After."""
        exponent = max(0, min(failures - 1, 30))
        return float(min(self.first_delay * (2**exponent), self.max_delay))


class RequestPacer:
    """Spaces requests at least 1/`per_second` apart, across every thread that shares it.

    Stripe refuses requests beyond its rate limit (100 writes and 100 reads a second in
    live mode) with 429, and each refusal costs the caller a backoff of half a second or
    more: sending no faster than the limit gets more through than retrying refusals.
    Requests are spaced evenly, without bursts, so no one-second window holds more.
    """

    def __init__(
        self,
        per_second: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_second <= 0:
            raise ValueError(f"a request rate must be positive, got {per_second}")
        self.interval = 1.0 / per_second
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Return when this request's turn has come."""
        with self._lock:
            now = self._clock()
            turn = max(now, self._next)
            self._next = turn + self.interval
        if turn > now:
            self._sleep(turn - now)


class Failure(enum.Enum):
    """What a failed attempt tells us about the request and about trying again."""

    NOT_APPLIED = "not applied"  # refused before processing (429): retry later
    MAYBE_APPLIED = "maybe applied"  # connection lost, timeout, 5xx, 409: retry with the key
    FINAL = "final"  # retrying the same request cannot succeed: map it now


def classify(error: stripe.StripeError) -> Failure:
    """Whether a failed attempt may be retried, and whether it may have taken effect."""
    advice = header(error, "Stripe-Should-Retry")
    if isinstance(error, stripe.RateLimitError):
        return Failure.NOT_APPLIED if advice != "false" else Failure.FINAL
    if isinstance(error, stripe.APIConnectionError | stripe.APIError):
        # APIError is every status the SDK has no class for: 5xx, and 409 (a request
        # with the same idempotency key still running, or a lock timeout).
        return Failure.MAYBE_APPLIED if advice != "false" else Failure.FINAL
    if advice == "true" and not isinstance(
        error, stripe.AuthenticationError | stripe.PermissionError
    ):
        return Failure.MAYBE_APPLIED
    return Failure.FINAL


def map_error(error: stripe.StripeError, operation: str) -> DomainError:
    """The core's error for a Stripe error: the one place library errors are translated.

    AuthenticationError / PermissionError -> GatewayAuthError (the platform's account
    or key is refused: nothing can succeed until a person fixes it);
    RateLimitError -> GatewayUnavailable (Stripe did not process it);
    InvalidRequestError / IdempotencyError / CardError -> GatewayRequestRefused
    (Stripe validated and refused it: nothing took effect);
    APIConnectionError, APIError (5xx, 409) and anything unrecognised ->
    PaymentOutcomeUnknown: the SDK cannot tell a connection that failed before
    sending from one that lost the reply, so we never assume it did not happen.
    """
    text = f"Stripe {operation}: {describe(error)}"
    if isinstance(error, stripe.AuthenticationError | stripe.PermissionError):
        return GatewayAuthError(text)
    if isinstance(error, stripe.RateLimitError):
        return GatewayUnavailable(text)
    if isinstance(error, stripe.InvalidRequestError | stripe.IdempotencyError | stripe.CardError):
        return GatewayRequestRefused(text)
    return PaymentOutcomeUnknown(text)


def message(error: stripe.StripeError) -> str | None:
    """Stripe's message, without the SDK's "Request req_...:" prefix (typed: the SDK's is not)."""
    value: object = error.user_message
    return " ".join(value.split()) if isinstance(value, str) and value.strip() else None


def param(error: stripe.StripeError) -> str | None:
    """The request parameter Stripe blames, if any."""
    value: object = getattr(error, "param", None)
    return value if isinstance(value, str) and value else None


def describe(error: stripe.StripeError) -> str:
    """The error as one log-friendly line: class, status, code, param, message, request id."""
    parts = [type(error).__name__]
    if error.http_status is not None:
        parts.append(f"http {error.http_status}")
    if error.code:
        parts.append(f"code {error.code}")
    blamed = param(error)
    if blamed:
        parts.append(f"param {blamed}")
    parts.append(f"request {error.request_id or '-'}")
    return f"{message(error) or '(no message)'} ({', '.join(parts)})"


def header(error: stripe.StripeError, name: str) -> str | None:
    """A response header of a failed request, by case-insensitive name."""
    headers: Mapping[str, str] = error.headers or {}
    wanted = name.lower()
    return next((v.strip() for k, v in headers.items() if k.lower() == wanted), None)


def retry_after(error: stripe.StripeError) -> float | None:
    """Stripe's Retry-After in seconds, when it sent one as a number of seconds."""
    value = header(error, "Retry-After")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # an HTTP date: not what Stripe sends; fall back to our backoff
    return seconds if seconds >= 0 else None


def response_note(result: object) -> str:
    """The request id of a successful response, and whether Stripe replayed a stored one."""
    response = getattr(result, "last_response", None)
    rid = getattr(response, "request_id", None)
    note = f"request {rid if isinstance(rid, str) else '-'}"
    headers = getattr(response, "headers", None)
    if isinstance(headers, Mapping) and any(
        str(k).lower() == "idempotent-replayed" and str(v) == "true" for k, v in headers.items()
    ):
        note += ", replayed by Stripe"
    return note


def call(
    operation: str,
    key: str,
    attempt: Callable[[], T],
    *,
    retry: RequestRetry,
    sleep: Callable[[float], None],
    lookup: bool = False,
) -> T:
    """Run `attempt` until it succeeds, fails for good, or the retry bound is reached.

    Raises the core's error (see `map_error`). After the retries are spent the
    error is PaymentOutcomeUnknown if any attempt may have reached Stripe, and
    GatewayUnavailable if every attempt was refused before processing. A failed
    `lookup` (find_*) always leaves the earlier request's outcome unknown: its
    caller must not conclude that nothing was sent (only auth errors pass as such).
    """
    uncertain = False
    waited = 0.0
    for number in range(1, retry.attempts + 1):
        LOG.info("stripe %s [%s]: attempt %d of %d", operation, key, number, retry.attempts)
        try:
            result = attempt()
        except stripe.StripeError as error:
            failure = classify(error)
            LOG.warning(
                "stripe %s [%s]: attempt %d failed (%s): %s",
                operation,
                key,
                number,
                failure.value,
                describe(error),
            )
            if failure is Failure.FINAL:
                raise _final(map_error(error, operation), lookup) from error
            uncertain = uncertain or failure is Failure.MAYBE_APPLIED
            delay = max(retry.backoff(number), retry_after(error) or 0.0)
            if number == retry.attempts or waited + delay > retry.sleep_budget:
                raise _final(_spent(error, operation, number, uncertain), lookup) from error
            LOG.info("stripe %s [%s]: retrying in %.2f s", operation, key, delay)
            sleep(delay)
            waited += delay
            continue
        LOG.info("stripe %s [%s]: done on attempt %d", operation, key, number)
        return result
    raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover


def _spent(
    error: stripe.StripeError, operation: str, attempts: int, uncertain: bool
) -> DomainError:
    text = f"Stripe {operation}: gave up after {attempts} attempt(s); last: {describe(error)}"
    if uncertain:
        return PaymentOutcomeUnknown(text + "; an attempt may have taken effect")
    return GatewayUnavailable(text + "; no attempt was processed")


def _final(error: DomainError, lookup: bool) -> DomainError:
    if not lookup or isinstance(error, GatewayAuthError | PaymentOutcomeUnknown):
        LOG.error("%s: %s", type(error).__name__, error)
        return error
    unknown = PaymentOutcomeUnknown(f"lookup failed, outcome still unknown: {error}")
    LOG.error("PaymentOutcomeUnknown: %s", unknown)
    return unknown
