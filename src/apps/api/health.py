"""Checks of the platform's dependencies (database, stats feed, payment gateway), for the
public readiness route and the operators' health report."""

from __future__ import annotations

import logging
from collections.abc import Callable

from apps.api.wire import HealthOut
from apps.bootstrap import Services, watchdog_thresholds
from fantasy_core.errors import (
    FeedUnavailable,
    GatewayAuthError,
    GatewayUnavailable,
    PaymentOutcomeUnknown,
    StoreUnavailable,
)
from fantasy_core.usecases.delivery import channel_health
from fantasy_core.usecases.queries import check_store, feed_slates
from fantasy_core.usecases.watchdogs import worker_silence

_log = logging.getLogger("fantasy.api")

# What a dependency that cannot answer raises; anything else is a bug and stays loud.
_UNAVAILABLE = (
    StoreUnavailable,
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


def health_report(services: Services, *, reasons: bool) -> HealthOut:
    """Each dependency "ok" or "failed" (with why, when `reasons`), and the gateway's kind."""
    failures = dependency_failures(services)
    checks = {
        name: "ok" if why is None else f"failed: {why}" if reasons else "failed"
        for name, why in failures.items()
    }
    checks["gateway_kind"] = "sandbox" if services.settings.uses_sandbox_gateway else "stripe"
    ok = all(why is None for why in failures.values())
    if ok:
        checks.update(_channel_checks(services, reasons=reasons))
        checks.update(_worker_check(services))
    return HealthOut(status="ok" if ok else "unavailable", checks=checks)


def _channel_checks(services: Services, *, reasons: bool) -> dict[str, str]:
    """Each alert channel "ok" or "down" (since when, with `reasons`): shown, not counted.

    A channel that cannot deliver does not make the API unready (it serves players as
    well as before), but whoever watches /ready sees it, and the other channels carry
    its "down" alert.
    """
    checks = {}
    for health in channel_health(services.platform):
        name = f"alert_channel_{health.name}"
        if not health.down or health.failing_since is None:
            checks[name] = "ok"
        elif reasons:
            since = health.failing_since.isoformat()
            checks[name] = f"down since {since}, {health.backlog} notices waiting"
        else:
            checks[name] = "down"
    return checks


def _worker_check(services: Services) -> dict[str, str]:
    """ "ok" while some worker completed a pass recently, else since when none has; shown
    once any worker has run against this database (a worker stopping cleanly leaves)."""
    silence = worker_silence(services.platform, watchdog_thresholds(services.settings))
    if silence.last_pass is None:
        return {}
    quiet = services.platform.clock.now() - silence.last_pass
    if quiet < watchdog_thresholds(services.settings).worker_silent:
        return {"workers": "ok"}
    return {"workers": f"no pass since {silence.last_pass.isoformat()}"}


def _failure(name: str, probe: Callable[[], object]) -> str | None:
    try:
        probe()
    except _UNAVAILABLE as error:
        _log.warning("readiness: %s failed: %s", name, error)
        return f"{type(error).__name__}: {error}"
    return None
