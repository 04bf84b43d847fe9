"""The Stripe payment gateway and webhook verifier (official SDK); `stripe` itself is the SDK."""

from adapters.stripe_gateway.calls import RequestPacer, RequestRetry, map_error
from adapters.stripe_gateway.gateway import StripeGateway
from adapters.stripe_gateway.keys import check_api_key, check_publishable_key
from adapters.stripe_gateway.webhooks import StripeWebhooks, parse_webhook

__all__ = [
    "RequestPacer",
    "RequestRetry",
    "StripeGateway",
    "StripeWebhooks",
    "check_api_key",
    "check_publishable_key",
    "map_error",
    "parse_webhook",
]
