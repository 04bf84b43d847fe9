"""The Stripe payment gateway (official SDK) and its webhook parser; `stripe` itself is the SDK."""

from adapters.stripe_gateway.calls import RequestPacer, RequestRetry, map_error
from adapters.stripe_gateway.gateway import StripeGateway, check_api_key
from adapters.stripe_gateway.webhooks import parse_webhook

__all__ = [
    "RequestPacer",
    "RequestRetry",
    "StripeGateway",
    "check_api_key",
    "map_error",
    "parse_webhook",
]
