"""What the app keeps in `app.state`: the wired services and the token issuer, by key."""

from __future__ import annotations

from litestar.datastructures import State

from apps.bootstrap import Services

SERVICES = "services"
TOKENS = "tokens"
JOINS = "joins"  # the join batcher (apps.api.batching)
ACCOUNTS = "account_lookups"  # the batcher of token checks (apps.api.auth)
LINEUPS = "lineup_quota"  # lineups per player a minute (apps.api.quota), or None when off
LOGINS = "login_quota"  # logins per client address a minute, or None when off
METRICS = "metrics"  # this process's Prometheus registry (apps.metrics)
PASS_SECONDS = "pass_seconds"  # the histogram of the in-process worker's passes
STANDINGS = "standings_hub"  # the live standings streams of this process (apps.api.streams)


def services_of(state: State) -> Services:
    services: Services = state[SERVICES]
    return services
