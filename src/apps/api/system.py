"""Unauthenticated system routes: liveness, readiness, and Stripe's webhook endpoint."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

import anyio.to_thread
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import HeaderParameter
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE
from prometheus_client import CollectorRegistry

from apps.api.health import health_report
from apps.api.problems import Problem, problem_responses
from apps.api.state import METRICS
from apps.api.wire import HealthOut, WebhookOut
from apps.bootstrap import Services
from apps.metrics import CONTENT_TYPE, exposition
from fantasy_core.ports import WebhookVerifier
from fantasy_core.usecases.payment_events import apply_payment_event

# Every event Stripe sends is signed; a missing signature is refused like a wrong one
# (400, and logged), so the parameter is optional to the framework.
SignatureHeader = Annotated[
    str | None,
    HeaderParameter(
        name="Stripe-Signature",
        description="t=<unix time>,v1=<HMAC-SHA256 of the body with the webhook secret>",
    ),
]


class SystemController(Controller):
    tags = ("system",)

    @get("/health", exclude_from_auth=True, operation_id="health", sync_to_thread=False)
    def health(self) -> HealthOut:
        """Liveness: the process answers."""
        return HealthOut(status="ok")

    @get(
        "/ready",
        exclude_from_auth=True,
        operation_id="ready",
        sync_to_thread=True,
        responses={
            HTTP_503_SERVICE_UNAVAILABLE: ResponseSpec(
                data_container=HealthOut, description="A dependency failed (see checks)"
            )
        },
    )
    def ready(self, services: NamedDependency[Services]) -> Response[HealthOut]:
        """Readiness: the database, the stats feed and the payment gateway each answer.

        The gateway is probed with a request that moves no money (Stripe: the balance).
        `gateway_kind` says which one is wired. 503 when a dependency fails (details are
        logged, and shown to operators at /operator/health).
        """
        report = health_report(services, reasons=False)
        ok = report.status == "ok"
        return Response(report, status_code=HTTP_200_OK if ok else HTTP_503_SERVICE_UNAVAILABLE)

    @post(
        "/webhooks/stripe",
        exclude_from_auth=True,
        status_code=200,
        operation_id="stripeWebhook",
        responses=problem_responses(400, 503),
    )
    async def stripe_webhook(
        self,
        request: Request[Any, Any, Any],
        services: NamedDependency[Services],
        stripe_signature: SignatureHeader = None,
    ) -> WebhookOut:
        """Stripe's events, signature-checked; each event id is applied once however often
        it arrives. 400 for a forged, stale or malformed event."""
        webhooks = services.webhooks
        if webhooks is None:
            raise Problem(
                HTTP_503_SERVICE_UNAVAILABLE,
                "webhooks-off",
                "Webhooks not configured",
                "FANTASY_STRIPE_WEBHOOK_SECRET is not set",
            )
        return await _apply(request, services, webhooks, stripe_signature)

    @post(
        "/webhooks/stripe/connect",
        exclude_from_auth=True,
        status_code=200,
        operation_id="stripeConnectWebhook",
        responses=problem_responses(400, 503),
    )
    async def stripe_connect_webhook(
        self,
        request: Request[Any, Any, Any],
        services: NamedDependency[Services],
        stripe_signature: SignatureHeader = None,
    ) -> WebhookOut:
        """Stripe's Connect endpoint: events of connected accounts (account.updated,
        transfer.reversed, payout.failed), signed with the Connect endpoint's secret and of
        this environment's mode (live in production, test elsewhere); each applied once."""
        webhooks = services.connect_webhooks
        if webhooks is None:
            raise Problem(
                HTTP_503_SERVICE_UNAVAILABLE,
                "webhooks-off",
                "Webhooks not configured",
                "FANTASY_STRIPE_CONNECT_WEBHOOK_SECRET (or FANTASY_STRIPE_WEBHOOK_SECRET) "
                "is not set",
            )
        return await _apply(request, services, webhooks, stripe_signature)


async def _apply(
    request: Request[Any, Any, Any],
    services: Services,
    webhooks: WebhookVerifier,
    signature: str | None,
) -> WebhookOut:
    payload = await request.body()
    event = webhooks.verify(payload, signature or "")
    if event is None:
        return WebhookOut(event_id=None, applied=False)
    applied = await anyio.to_thread.run_sync(apply_payment_event, services.platform, event)
    return WebhookOut(event_id=event.event_id, applied=applied)


class MetricsController(Controller):
    tags = ("system",)

    @get(
        "/metrics",
        exclude_from_auth=True,
        operation_id="metrics",
        sync_to_thread=True,
        media_type=CONTENT_TYPE,
        responses=problem_responses(401, 503),
    )
    def metrics(
        self, request: Request[Any, Any, Any], services: NamedDependency[Services]
    ) -> Response[bytes]:
        """The platform's figures in Prometheus' text format: contests by state, joins and
        charges, payouts by status, refunds, unresolved alerts by severity, the alert
        outbox's backlog, feed age per slate, workers' last passes, this process's join
        sheds (and its worker's pass durations when it runs one).

        Counts only, no person's data; with FANTASY_METRICS_TOKEN set it asks for that
        bearer token (401 without it)."""
        token = services.settings.metrics_token
        if token is not None and not hmac.compare_digest(
            request.headers.get("Authorization", "").encode(), f"Bearer {token}".encode()
        ):
            raise NotAuthorizedException("/metrics needs the bearer token FANTASY_METRICS_TOKEN")
        registry: CollectorRegistry = request.app.state[METRICS]
        return Response(exposition(registry), media_type=CONTENT_TYPE)
