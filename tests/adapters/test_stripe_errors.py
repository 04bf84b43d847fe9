"""The Stripe adapter's own logic: error mapping, retries with backoff, and the environment guard.

Retries are driven two ways: with the SDK's exception objects, and over real HTTP
against a tiny scripted server on 127.0.0.1 (so the SDK parses the status codes
and headers itself). The sleep is injected: nothing here waits.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import stripe

from adapters.stripe_gateway import RequestRetry, StripeGateway, check_api_key, map_error
from adapters.stripe_gateway.calls import Failure, call, classify
from fantasy_core.errors import (
    GatewayAuthError,
    GatewayRequestRefused,
    GatewayUnavailable,
    InvalidConfiguration,
    PaymentOutcomeUnknown,
)
from fantasy_core.money import Money
from fantasy_core.payments import ChargeStatus


def _body(error_type: str, message: str, **extra: str) -> dict[str, object]:
    return {"error": {"type": error_type, "message": message, **extra}}


def rate_limited(retry_after: str | None = "1") -> stripe.RateLimitError:
    headers = {"request-id": "req_429"}
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    message = "Too many requests hit the API too quickly."
    return stripe.RateLimitError(
        message, None, 429, _body("invalid_request_error", message), headers
    )


def connection_lost() -> stripe.APIConnectionError:
    return stripe.APIConnectionError("Network error: Connection aborted.", should_retry=True)


def server_error(should_retry: str | None = None) -> stripe.APIError:
    headers = {"request-id": "req_500"}
    if should_retry is not None:
        headers["Stripe-Should-Retry"] = should_retry
    return stripe.APIError("Internal error", None, 500, _body("api_error", "boom"), headers)


def invalid(
    message: str = "No such payment_intent: 'pi_x'", param: str = "payment_intent"
) -> stripe.InvalidRequestError:
    body = _body("invalid_request_error", message, param=param, code="resource_missing")
    return stripe.InvalidRequestError(
        message, param, "resource_missing", None, 404, body, {"request-id": "req_404"}
    )


def unauthorised() -> stripe.AuthenticationError:
    return stripe.AuthenticationError(
        "Invalid API Key provided: rk_test_****oked", None, 401, None, {"request-id": "req_401"}
    )


def forbidden() -> stripe.PermissionError:
    return stripe.PermissionError("The provided key does not have access", None, 403)


def key_reused() -> stripe.IdempotencyError:
    message = "Keys for idempotent requests can only be used with the same parameters"
    return stripe.IdempotencyError(message, None, 400, _body("idempotency_error", message))


# The one mapping function


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (unauthorised(), GatewayAuthError),
        (forbidden(), GatewayAuthError),
        (rate_limited(), GatewayUnavailable),
        (invalid(), GatewayRequestRefused),
        (key_reused(), GatewayRequestRefused),
        (connection_lost(), PaymentOutcomeUnknown),
        (server_error(), PaymentOutcomeUnknown),
        (stripe.StripeError("something new"), PaymentOutcomeUnknown),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else v.__name__,
)
def test_each_stripe_error_maps_to_one_core_error(
    error: stripe.StripeError, expected: type[Exception]
) -> None:
    mapped = map_error(error, "charge")
    assert type(mapped) is expected


def test_a_rate_limit_is_not_a_refusal() -> None:
    # Both are GatewayUnavailable; only a refusal says retrying unchanged is useless.
    assert not isinstance(map_error(rate_limited(), "charge"), GatewayRequestRefused)


def test_a_mapped_error_keeps_stripes_message_and_request_id() -> None:
    text = str(map_error(invalid("No such payment_intent: 'pi_x'"), "refund"))
    assert "refund" in text
    assert "No such payment_intent: 'pi_x'" in text
    assert "req_404" in text
    assert "param payment_intent" in text


@pytest.mark.parametrize(
    ("error", "failure"),
    [
        (rate_limited(), Failure.NOT_APPLIED),
        (connection_lost(), Failure.MAYBE_APPLIED),
        (server_error(), Failure.MAYBE_APPLIED),
        (server_error(should_retry="false"), Failure.FINAL),
        (invalid(), Failure.FINAL),
        (unauthorised(), Failure.FINAL),
        (key_reused(), Failure.FINAL),
    ],
)
def test_what_a_failure_says_about_retrying(error: stripe.StripeError, failure: Failure) -> None:
    assert classify(error) is failure


def test_stripe_asking_for_a_retry_of_a_lock_timeout_is_honoured() -> None:
    error = stripe.InvalidRequestError(
        "lock timeout", None, "lock_timeout", None, 400, None, {"Stripe-Should-Retry": "true"}
    )
    assert classify(error) is Failure.MAYBE_APPLIED


# Retrying one call


class Script:
    """An attempt that fails with the given errors in turn, then answers `result`."""

    def __init__(self, *errors: stripe.StripeError, result: str = "ok") -> None:
        self.errors = list(errors)
        self.result = result
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return self.result


@pytest.fixture
def slept() -> list[float]:
    return []


def run(script: Script, slept: list[float], retry: RequestRetry | None = None, **kw: bool) -> str:
    return call("charge", "join-1", script, retry=retry or RequestRetry(), sleep=slept.append, **kw)


def test_a_429_storm_is_ridden_out_honouring_retry_after(slept: list[float]) -> None:
    script = Script(rate_limited("1"), rate_limited("1"), rate_limited("1"))
    assert run(script, slept) == "ok"
    assert script.calls == 4
    # Exponential backoff 0.5, 1, 2, raised to Stripe's Retry-After when it asks more.
    assert slept == [1.0, 1.0, 2.0]


def test_retry_after_longer_than_the_backoff_is_waited_in_full(slept: list[float]) -> None:
    assert run(Script(rate_limited("3")), slept) == "ok"
    assert slept == [3.0]


def test_a_retry_after_beyond_the_budget_gives_up_at_once(slept: list[float]) -> None:
    script = Script(rate_limited("30"))
    with pytest.raises(GatewayUnavailable, match="no attempt was processed"):
        run(script, slept)
    assert script.calls == 1
    assert slept == []


def test_the_total_wait_stays_within_the_budget(slept: list[float]) -> None:
    script = Script(*[rate_limited("3") for _ in range(10)])
    with pytest.raises(GatewayUnavailable):
        run(script, slept)
    assert sum(slept) <= RequestRetry().sleep_budget
    assert script.calls == 3  # 3 + 3 s waited; a third wait of 3 s would pass 8 s


def test_only_429s_mean_nothing_happened(slept: list[float]) -> None:
    script = Script(*[rate_limited("0") for _ in range(4)])
    with pytest.raises(GatewayUnavailable) as raised:
        run(script, slept)
    assert not isinstance(raised.value, GatewayRequestRefused)
    assert script.calls == RequestRetry().attempts


def test_a_lost_connection_anywhere_makes_the_outcome_unknown(slept: list[float]) -> None:
    script = Script(connection_lost(), rate_limited("0"), rate_limited("0"), rate_limited("0"))
    with pytest.raises(PaymentOutcomeUnknown, match="may have taken effect"):
        run(script, slept)


def test_a_server_error_is_retried_with_the_same_call(slept: list[float]) -> None:
    script = Script(server_error(), connection_lost())
    assert run(script, slept) == "ok"
    assert slept == [0.5, 1.0]


@pytest.mark.parametrize("error", [invalid(), unauthorised(), key_reused()])
def test_a_final_error_is_not_retried(error: stripe.StripeError, slept: list[float]) -> None:
    script = Script(error)
    with pytest.raises((GatewayRequestRefused, GatewayAuthError)):
        run(script, slept)
    assert script.calls == 1
    assert slept == []


def test_a_failed_lookup_leaves_the_outcome_unknown(slept: list[float]) -> None:
    # Never GatewayUnavailable from find_*: a caller would take it for "not sent".
    with pytest.raises(PaymentOutcomeUnknown, match="lookup failed"):
        run(Script(invalid()), slept, lookup=True)
    with pytest.raises(PaymentOutcomeUnknown):
        run(Script(*[rate_limited("0") for _ in range(4)]), slept, lookup=True)
    with pytest.raises(GatewayAuthError):
        run(Script(unauthorised()), slept, lookup=True)


def test_every_attempt_and_the_outcome_are_logged(
    slept: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="fantasy.stripe")
    with pytest.raises(PaymentOutcomeUnknown):
        run(Script(*[server_error() for _ in range(4)]), slept)
    lines = [r.getMessage() for r in caplog.records if r.name == "fantasy.stripe"]
    assert sum("attempt" in line and "failed" in line for line in lines) == 4
    assert all("req_500" in line for line in lines if "failed" in line)
    assert caplog.records[-1].levelno == logging.ERROR
    assert "gave up after 4 attempt(s)" in lines[-1]


# Over HTTP: the SDK parses real responses, and never retries on its own


Reply = tuple[int, dict[str, str], dict[str, object]]

INTENT = {
    "id": "pi_scripted",
    "object": "payment_intent",
    "status": "succeeded",
    "amount": 1000,
    "currency": "usd",
    "metadata": {},
}


class ScriptedStripe:
    """A tiny HTTP server answering each request with the next scripted reply."""

    def __init__(self, replies: list[Reply]) -> None:
        self.replies = replies
        self.requests: list[dict[str, str]] = []
        script = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                self.rfile.read(length)
                self._answer()

            def do_GET(self) -> None:
                self._answer()

            def _answer(self) -> None:
                script.requests.append(dict(self.headers.items()))
                status, headers, body = script.replies.pop(0)
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Request-Id", f"req_{len(script.requests)}")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def scripted() -> Iterator[Callable[[list[Reply]], ScriptedStripe]]:
    servers: list[ScriptedStripe] = []

    def start(replies: list[Reply]) -> ScriptedStripe:
        server = ScriptedStripe(replies)
        serve = server.server.serve_forever
        threading.Thread(target=serve, kwargs={"poll_interval": 0.02}, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.server.shutdown()
        server.server.server_close()


def _gateway(url: str, slept: list[float]) -> StripeGateway:
    return StripeGateway.for_environment(
        "sk_test_unit", "test", base_url=url, timeout_seconds=5, sleep=slept.append
    )


TOO_MANY = _body("invalid_request_error", "Too many requests", code="rate_limit")


def test_over_http_a_429_storm_charges_once_with_one_key(
    scripted: Callable[[list[Reply]], ScriptedStripe], slept: list[float]
) -> None:
    server = scripted(
        [
            (429, {"Retry-After": "2"}, TOO_MANY),
            (429, {"Retry-After": "2"}, TOO_MANY),
            (200, {}, INTENT),
        ]
    )
    outcome = _gateway(server.url, slept).charge("join-abc", Money(1000, "usd"), "pm_card_visa", {})
    assert outcome.status is ChargeStatus.SUCCEEDED
    assert outcome.charge_id == "pi_scripted"
    assert slept == [2.0, 2.0]
    keys = [r.get("Idempotency-Key") for r in server.requests]
    assert keys == ["join-abc"] * 3


def test_over_http_the_sdk_does_not_retry_by_itself(
    scripted: Callable[[list[Reply]], ScriptedStripe], slept: list[float]
) -> None:
    server = scripted([(500, {}, _body("api_error", "boom"))] * 4)
    with pytest.raises(PaymentOutcomeUnknown):
        _gateway(server.url, slept).charge("join-abc", Money(1000, "usd"), "pm_card_visa", {})
    assert len(server.requests) == 4  # ours, one per attempt: none hidden in the SDK
    assert len(slept) == 3


def test_over_http_refused_credentials_stop_at_once(
    scripted: Callable[[list[Reply]], ScriptedStripe], slept: list[float]
) -> None:
    server = scripted([(401, {}, _body("invalid_request_error", "Invalid API Key provided"))])
    with pytest.raises(GatewayAuthError, match="Invalid API Key"):
        _gateway(server.url, slept).transfer("payout-1", "acct_1", Money(1, "usd"), "c1", {})
    assert len(server.requests) == 1


def test_an_unreachable_stripe_leaves_the_outcome_unknown(slept: list[float]) -> None:
    # The SDK cannot tell a refused connection from a reply lost after sending.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"  # bound, never listening
        with pytest.raises(PaymentOutcomeUnknown):
            _gateway(url, slept).charge("join-abc", Money(1000, "usd"), "pm_card_visa", {})
    assert len(slept) == RequestRetry().attempts - 1


# Stripe's answers in shapes localstripe does not produce


def test_a_real_card_decline_keeps_the_decline_code_and_the_payment_intent(
    scripted: Callable[[list[Reply]], ScriptedStripe], slept: list[float]
) -> None:
    declined = {
        "error": {
            "type": "card_error",
            "code": "card_declined",
            "decline_code": "insufficient_funds",
            "message": "Your card has insufficient funds.",
            "payment_intent": {**INTENT, "id": "pi_declined", "status": "requires_payment_method"},
        }
    }
    server = scripted([(402, {}, declined)])
    outcome = _gateway(server.url, slept).charge("join-1", Money(1000, "usd"), "pm_x", {})
    assert (outcome.status, outcome.charge_id) == (ChargeStatus.DECLINED, "pi_declined")
    assert outcome.decline_code == "insufficient_funds"
    assert outcome.reason == "Your card has insufficient funds."


def test_an_unknown_payment_method_is_a_decline_not_an_error(
    scripted: Callable[[list[Reply]], ScriptedStripe], slept: list[float]
) -> None:
    missing = _body(
        "invalid_request_error",
        "No such PaymentMethod: 'pm_gone'",
        code="resource_missing",
        param="payment_method",
    )
    server = scripted([(400, {}, missing)])
    outcome = _gateway(server.url, slept).charge("join-1", Money(1000, "usd"), "pm_gone", {})
    assert outcome.status is ChargeStatus.DECLINED
    assert outcome.decline_code == "resource_missing"


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("succeeded", ChargeStatus.SUCCEEDED),
        ("requires_action", ChargeStatus.REQUIRES_ACTION),
        ("processing", ChargeStatus.REQUIRES_ACTION),  # settled later by its webhook
        ("canceled", ChargeStatus.DECLINED),
    ],
)
def test_what_a_payment_intent_status_means(
    scripted: Callable[[list[Reply]], ScriptedStripe],
    slept: list[float],
    status: str,
    expected: ChargeStatus,
) -> None:
    server = scripted([(200, {}, {**INTENT, "status": status})])
    outcome = _gateway(server.url, slept).charge("join-1", Money(1000, "usd"), "pm_card_visa", {})
    assert outcome.status is expected
    assert outcome.charge_id == "pi_scripted"


def test_a_payment_intent_left_uncaptured_is_not_guessed_at(
    scripted: Callable[[list[Reply]], ScriptedStripe], slept: list[float]
) -> None:
    server = scripted([(200, {}, {**INTENT, "status": "requires_capture"})])
    with pytest.raises(PaymentOutcomeUnknown, match="requires_capture"):
        _gateway(server.url, slept).charge("join-1", Money(1000, "usd"), "pm_card_visa", {})


def test_a_failed_refund_is_refused_not_confirmed(
    scripted: Callable[[list[Reply]], ScriptedStripe], slept: list[float]
) -> None:
    refund = {"id": "re_1", "object": "refund", "status": "failed", "failure_reason": "expired"}
    server = scripted([(200, {}, refund)])
    with pytest.raises(GatewayRequestRefused, match=r"re_1 .* failed: expired"):
        _gateway(server.url, slept).refund("refund-1", "pi_1", Money(1000, "usd"))


# The environment guard


@pytest.mark.parametrize("key", ["sk_test_abc123secret", "rk_test_abc123secret"])
def test_production_refuses_a_test_key(key: str) -> None:
    with pytest.raises(InvalidConfiguration, match=r"production .* refuses a Stripe test key") as e:
        check_api_key(key, "production")
    assert "abc123secret" not in str(e.value)  # the key is a secret: only its prefix shows


@pytest.mark.parametrize("key", ["sk_live_abc123secret", "rk_live_abc123secret"])
def test_a_test_environment_refuses_a_live_key(key: str) -> None:
    with pytest.raises(InvalidConfiguration, match=r"test .* refuses a Stripe live key") as e:
        check_api_key(key, "test")
    assert "real money" in str(e.value)
    assert "abc123secret" not in str(e.value)


@pytest.mark.parametrize(
    ("key", "environment"),
    [("sk_live_x", "production"), ("rk_live_x", "production"), ("sk_test_x", "test")],
)
def test_a_key_of_the_right_environment_is_accepted(key: str, environment: str) -> None:
    check_api_key(key, environment)


def test_a_publishable_key_or_an_unknown_environment_is_refused() -> None:
    with pytest.raises(InvalidConfiguration, match="publishable"):
        check_api_key("pk_test_abc", "test")
    with pytest.raises(InvalidConfiguration, match="unknown environment 'staging'"):
        check_api_key("sk_test_abc", "staging")


def test_the_gateway_is_only_built_through_the_guard() -> None:
    with pytest.raises(InvalidConfiguration):
        StripeGateway.for_environment("sk_live_abc", "test")
