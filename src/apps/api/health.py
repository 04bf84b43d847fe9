"""Checks of the platform's dependencies (database, stats feed, payment gateway), for the
public readiness route and the operators' health report."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.exc import DBAPIError

from apps.bootstrap import Services
from fantasy_core.errors import (
    FeedUnavailable,
    GatewayAuthError,
    GatewayUnavailable,
    PaymentOutcomeUnknown,
)
from fantasy_core.usecases.queries import check_store, feed_slates

_log = logging.getLogger("fantasy.api")

# What a dependency that cannot answer raises; anything else is a bug and stays loud.
_UNAVAILABLE = (
    DBAPIError,
    FeedUnavailable,
    GatewayAuthError,
    GatewayUnavailable,
    PaymentOutcomeUnknown,
    OSError,
)


def dependency_failures(services: Services) -> dict[str, str | None]:
    """Each dependency's failure (its error, said plainly), or None when it answered."""
    platform = services.platform
    probes: dict[str, Callable[[], object]] = {
        "database": lambda: check_store(platform),
        "feed": lambda: feed_slates(platform),
        "gateway": platform.gateway.check,
    }
    return {name: _failure(name, probe) for name, probe in probes.items()}


def gateway_kind(services: Services) -> str:
    return "sandbox" if services.settings.uses_sandbox_gateway else "stripe"


def _failure(name: str, probe: Callable[[], object]) -> str | None:
    try:
        probe()
    except _UNAVAILABLE as error:
        _log.warning("readiness: %s failed: %s", name, error)
        return f"{type(error).__name__}: {error}"
    return None
