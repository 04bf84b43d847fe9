"""The Litestar app factory: the one place routes, auth, dependencies, errors and docs are wired."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from litestar import Controller, Litestar
from litestar.config.app import AppConfig
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Tag
from prometheus_client import CollectorRegistry

from adapters.mail import SandboxMailbox
from adapters.sandbox import SandboxPayments
from apps.api.auth import TokenIssuer, account_lookups, jwt_auth
from apps.api.catalogue import SlateController
from apps.api.dependencies import dependencies
from apps.api.entries import EntryController, join_batcher
from apps.api.fairplay import FAIR_PLAY, FairPlayController, new_figures_cache
from apps.api.hygiene import (
    MAX_BODY_BYTES,
    StrictJsonRequest,
    checked_before_handler,
)
from apps.api.lobby import LobbyController
from apps.api.operator import OperatorController
from apps.api.payouts import PayoutsController, TestPayoutAccountController
from apps.api.players import AuthController, MeController
from apps.api.problems import exception_handlers
from apps.api.protection import ProtectionController
from apps.api.quota import Quota
from apps.api.sandbox import SandboxController, SandboxMailController
from apps.api.state import (
    ACCOUNTS,
    JOINS,
    LINEUPS,
    LOGINS,
    METRICS,
    PASS_SECONDS,
    SERVICES,
    STANDINGS,
    TOKENS,
    services_of,
)
from apps.api.streams import StandingsHub
from apps.api.system import MetricsController, SystemController
from apps.bootstrap import Services, services_for, start, watchdog_thresholds
from apps.metrics import PlatformCollector, pass_histogram
from apps.settings import Settings
from apps.web.lobby import (
    CONTEST_VIEWS,
    CONTEST_VIEWS_KEPT,
    LOBBY,
    LOBBY_SECONDS,
    VISITOR_MARK_SECONDS,
    VISITOR_MARKS,
    VISITOR_MARKS_KEPT,
    VISITOR_PAGES,
    VISITOR_PAGES_KEPT,
)
from apps.web.recent import Kept, Recent, RecentEach
from apps.web.routes import template_config, web_routers
from apps.worker import Worker
from fantasy_core.platform import Platform

API_VERSION = "0.1.0"


def create_app(
    settings: Settings,
    platform: Platform | None = None,
    *,
    services: Services | None = None,
    run_worker: bool = False,
) -> Litestar:
    """The API over `services` (or `platform`, or what the settings choose).

    With `run_worker`, the lifecycle worker runs in a thread for the app's lifetime
    and finishes its current pass at shutdown. Services the app built itself are
    closed at shutdown; services passed in belong to the caller.
    """
    owned = services is None and platform is None
    if services is None:
        services = start(settings) if platform is None else services_for(settings, platform)
    ttl = timedelta(minutes=settings.token_ttl_minutes)
    auth = jwt_auth(settings.token_secret, ttl)
    state = State({SERVICES: services, TOKENS: TokenIssuer(auth, ttl)})
    state[JOINS] = join_batcher(state, settings)
    state[STANDINGS] = StandingsHub(
        lambda: services_of(state).platform, settings.stream_poll_seconds
    )
    state[ACCOUNTS] = account_lookups(state)
    state[LOBBY] = Recent(LOBBY_SECONDS)  # what the web lobby read, reused for a second
    state[FAIR_PLAY] = new_figures_cache()  # each month's published figures, for a minute
    state[CONTEST_VIEWS] = Kept(CONTEST_VIEWS_KEPT)  # each contest's page parts, made once
    state[VISITOR_PAGES] = Kept(VISITOR_PAGES_KEPT)  # contest pages as a visitor sees them
    # Each contest's version and seats behind a visitor's page, read at most once a second.
    state[VISITOR_MARKS] = RecentEach(VISITOR_MARK_SECONDS, VISITOR_MARKS_KEPT)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(
        PlatformCollector(lambda: services_of(state).platform, shed=lambda: state[JOINS].shed)
    )
    state[METRICS] = registry
    state[PASS_SECONDS] = pass_histogram(registry) if run_worker else None
    # Logins per client address (password guessing), lineups per player (apps.api.quota).
    logins, lineups = settings.login_rate_per_minute, settings.join_rate_per_minute
    state[LOGINS] = None if logins is None else Quota(logins)
    state[LINEUPS] = None if lineups is None else Quota(lineups)
    # The sandbox's 3-D Secure page exists only where the sandbox takes the payments.
    sandbox: list[type[Controller]] = (
        [SandboxController]
        if settings.environment == "test" and isinstance(services.platform.gateway, SandboxPayments)
        else []
    )
    if settings.environment == "test" and isinstance(services.mailer, SandboxMailbox):
        sandbox.append(SandboxMailController)
    # A player names a connected account only in a test environment (tests and the demo);
    # production opens the account itself: no route takes an account id from a player.
    if settings.environment == "test":
        sandbox.append(TestPayoutAccountController)
    return Litestar(
        route_handlers=[
            AuthController,
            MeController,
            PayoutsController,
            ProtectionController,
            LobbyController,
            FairPlayController,
            SlateController,
            EntryController,
            OperatorController,
            SystemController,
            MetricsController,
            *sandbox,
            *web_routers(settings),
        ],
        template_config=template_config(settings),
        dependencies=dependencies(),
        state=state,
        exception_handlers=exception_handlers(),
        request_class=StrictJsonRequest,
        request_max_body_size=MAX_BODY_BYTES,
        before_request=checked_before_handler,
        on_app_init=[auth.on_app_init, _security_per_route],
        openapi_config=_openapi(),
        # Logging is the entry point's to configure (apps.logs), not the app factory's.
        logging_config=None,
        lifespan=[_lifespan(owned=owned, run_worker=run_worker)],
    )


def _security_per_route(app_config: AppConfig) -> AppConfig:
    """The JWT backend declares its bearer token for the whole API; the routes that need
    it declare it themselves (`security = BEARER`), so public ones are documented public."""
    if app_config.openapi_config is not None:
        app_config.openapi_config.security = None
    return app_config


def _openapi() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Fantasy contests",
        version=API_VERSION,
        description=(
            "Paid fantasy contests run end to end with no operator. Errors are RFC 9457 "
            "problem details (application/problem+json). Game data: nflverse."
        ),
        path="/schema",
        render_plugins=[ScalarRenderPlugin(path="/"), SwaggerRenderPlugin(path="/swagger")],
        tags=[
            Tag(name="accounts"),
            Tag(name="lobby"),
            Tag(name="entries"),
            Tag(name="operators", description="operator role only"),
            Tag(name="system"),
        ],
    )


def _lifespan(*, owned: bool, run_worker: bool) -> Any:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        services = services_of(app.state)
        app.state[JOINS].open()
        app.state[ACCOUNTS].open()
        worker = Worker(
            services.platform,
            services.settings.worker_interval_seconds,
            watchdogs=watchdog_thresholds(services.settings),
            ledger_every=timedelta(seconds=services.settings.watchdog_ledger_every_seconds),
            on_pass=None if app.state[PASS_SECONDS] is None else app.state[PASS_SECONDS].observe,
        )
        thread = threading.Thread(target=worker.run, name="fantasy-worker", daemon=True)
        if run_worker:
            thread.start()
        try:
            yield
        finally:
            await app.state[JOINS].close()
            await app.state[ACCOUNTS].close()
            await app.state[STANDINGS].close()
            worker.stop.set()
            if run_worker:
                thread.join()
            if owned:
                services.close()

    return lifespan
