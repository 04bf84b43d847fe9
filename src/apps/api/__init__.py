"""The HTTP API (Litestar): players, operators, Stripe webhooks. Build it with `create_app`."""

from apps.api.app import create_app, freeze_startup_heap

__all__ = ["create_app", "freeze_startup_heap"]
