"""The one place adapters are chosen and wired into a Platform, from the settings.

    services = start(load_settings())          # the platform and the app's own services
    platform = bootstrap(load_settings())      # just the platform, for short-lived commands

Tests and the demo pass their own clock, feed, gateway or ids; everything not
passed is chosen here from the settings and nowhere else.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from types import TracebackType
from typing import Self

import attrs
from attrs import define
from sqlalchemy import Engine

from adapters.alerts import LoggingAlerts
from adapters.alerts.email_channel import EmailChannel
from adapters.alerts.http_channels import PagerDutyChannel, WebhookChannel
from adapters.clock import AcceleratedClock, SystemClock
from adapters.crypto import FernetTaxIds
from adapters.feeds.replay import ReplayFeed
from adapters.feeds.sportsdataio import SportsDataIOFeed
from adapters.ids import TimeOrderedIds
from adapters.location import DeclaredLocation
from adapters.mail import Mailer, SandboxMailbox, SmtpMailer
from adapters.memory import MemoryAccountStore, MemoryStore
from adapters.sandbox import SandboxGateway
from adapters.sqlalchemy import (
    SqlAccountStore,
    SqlDatabase,
    garbage_collection_paused,
    open_database,
)
from adapters.stripe_gateway import StripeGateway, StripeWebhooks
from apps.accounts import Accounts, Passwords, normalise_email
from apps.lane import LANE_LOST_ALERT, LaneGateway, LaneProcess
from apps.settings import Settings
from apps.templates import Catalogue
from fantasy_core.accounts import Role
from fantasy_core.errors import InvalidConfiguration
from fantasy_core.outbox import DeliveryPolicy
from fantasy_core.platform import Platform, Protection
from fantasy_core.ports import (
    AccountStore,
    AlertChannel,
    Clock,
    IdSource,
    PaymentGateway,
    StatsFeed,
    UnitOfWork,
    WebhookVerifier,
)
from fantasy_core.protection.rules import JurisdictionRules
from fantasy_core.usecases.watchdogs import WatchdogThresholds

_log = logging.getLogger("fantasy.bootstrap")


@define
class Services:
    """A wired platform and the app-level services around it; close it when done.

    `webhooks` reads the payment provider's events (None: no webhook secret is set, and
    the webhook route refuses everything); `engine` is the SQL database, if one is used.
    """

    settings: Settings
    platform: Platform
    accounts: Accounts
    webhooks: WebhookVerifier | None = None
    engine: Engine | None = None
    # Players' mail (password reset): SMTP, the sandbox's mailbox in test environments
    # without SMTP, or None (production without SMTP: reset by mail is unavailable).
    mailer: Mailer | None = None
    # The Connect endpoint's events (connected accounts'): its own secret, or `webhooks`'.
    connect_webhooks: WebhookVerifier | None = None
    # The child process the join batches run in (FANTASY_JOIN_LANE_PROCESS), if any.
    lane: LaneProcess | None = None

    def close(self) -> None:
        if self.lane is not None:
            self.lane.close()
        if self.engine is not None:
            self.engine.dispose()
        if isinstance(self.platform.feed, SportsDataIOFeed):
            self.platform.feed.close()
        for channel in self.platform.channels:
            if isinstance(channel, WebhookChannel | PagerDutyChannel):
                channel.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def start(
    settings: Settings,
    *,
    clock: Clock | None = None,
    feed: StatsFeed | None = None,
    gateway: PaymentGateway | None = None,
    ids: IdSource | None = None,
) -> Services:
    """Wire every adapter the settings choose (unless passed in) into a Platform and services.

    With FANTASY_JOIN_LANE_PROCESS the join lane's process is started last, with services
    of its own made here from the same settings; the sandbox gateway is then its, and this
    process's platform forwards to it (apps.lane)."""
    lane = None
    if settings.join_lane_process:
        if any(given is not None for given in (clock, feed, gateway, ids)):
            raise InvalidConfiguration(
                "FANTASY_JOIN_LANE_PROCESS: the join lane builds its services from the "
                "settings, so a clock, feed, gateway or id source passed in would not be its"
            )
        lane = LaneProcess(settings, start)
        if settings.uses_sandbox_gateway:
            gateway = LaneGateway(lane)
    clock = clock or _clock(settings)
    uow, reads, engine = _store(settings)
    try:
        platform = Platform(
            uow=uow,
            reads=reads,
            gateway=gateway or _gateway(settings),
            feed=feed or _feed(settings, clock),
            clock=clock,
            alerts=LoggingAlerts(),
            ids=ids or TimeOrderedIds(),
            payout_senders=settings.payout_senders,
            charge_senders=settings.charge_senders,
            bulk=garbage_collection_paused,
            channels=alert_channels(settings),
            delivery=DeliveryPolicy(
                channel_down_after=timedelta(seconds=settings.alert_channel_down_seconds)
            ),
            protection=protection_of(settings),
            calendar=settings.calendar,
            catalogue=Catalogue(),
        )
    except BaseException:
        if engine is not None:
            engine.dispose()
        raise
    services = Services(
        settings,
        platform,
        _accounts(settings, engine),
        _webhooks(settings),
        engine,
        _mailer(settings),
        connect_webhooks=_connect_webhooks(settings),
        lane=lane,
    )
    if lane is not None:
        lane.on_lost = lambda what: platform.alert(LANE_LOST_ALERT, what)
    try:
        _seed_operator(services)
        if lane is not None:
            lane.start()
    except BaseException:
        services.close()
        raise
    return services


def services_for(settings: Settings, platform: Platform, engine: Engine | None = None) -> Services:
    """App services around a platform wired elsewhere (tests).

    `engine`: the platform's SQL database, which then keeps the accounts too.
    """
    if platform.protection is None:
        platform = attrs.evolve(platform, protection=protection_of(settings))
    services = Services(
        settings,
        platform,
        _accounts(settings, engine),
        _webhooks(settings),
        engine,
        _mailer(settings),
        connect_webhooks=_connect_webhooks(settings),
    )
    _seed_operator(services)
    return services


def protection_of(settings: Settings) -> Protection:
    """Player protection as configured: the shipped values with the operator's changes, and
    the locator that takes the location a join declares (README: geolocation)."""
    shipped = JurisdictionRules()
    rules = JurisdictionRules(
        minimum_ages={**shipped.minimum_ages, **dict(settings.minimum_ages)},
        excluded=shipped.excluded | frozenset(settings.excluded_jurisdictions),
        monthly_caps=shipped.monthly_caps,
    )
    return Protection(rules, DeclaredLocation(), FernetTaxIds(settings.tax_id_key))


def bootstrap(
    settings: Settings,
    *,
    clock: Clock | None = None,
    feed: StatsFeed | None = None,
    gateway: PaymentGateway | None = None,
    ids: IdSource | None = None,
) -> Platform:
    """The platform alone, for a command that lives no longer than its process."""
    return start(settings, clock=clock, feed=feed, gateway=gateway, ids=ids).platform


def watchdog_thresholds(settings: Settings) -> WatchdogThresholds:
    return WatchdogThresholds(
        lock_overdue=timedelta(seconds=settings.watchdog_lock_overdue_seconds),
        worker_silent=timedelta(seconds=settings.watchdog_worker_silent_seconds),
        game_length=timedelta(seconds=settings.watchdog_game_length_seconds),
        live_overdue=timedelta(seconds=settings.watchdog_live_overdue_seconds),
        payouts_stalled=timedelta(seconds=settings.watchdog_payouts_stalled_seconds),
        feed_stale=timedelta(seconds=settings.watchdog_feed_stale_seconds),
    )


def alert_channels(settings: Settings) -> tuple[AlertChannel, ...]:
    """The alert channels the settings configure (validated there), in a fixed order."""
    channels: list[AlertChannel] = []
    if settings.alert_webhook_url is not None:
        channels.append(WebhookChannel(settings.alert_webhook_url))
    if settings.pagerduty_routing_key is not None:
        channels.append(
            PagerDutyChannel(
                settings.pagerduty_routing_key,
                url=settings.pagerduty_url,
                source=f"fantasy-{settings.environment}",
            )
        )
    if settings.smtp_url is not None and settings.alert_email_to:
        channels.append(
            EmailChannel(
                settings.smtp_url, settings.alert_email_to, sender=settings.alert_email_from
            )
        )
    return tuple(channels)


def _store(
    settings: Settings,
) -> tuple[Callable[[], UnitOfWork], Callable[[], UnitOfWork] | None, Engine | None]:
    """The units of work, those that only read (None: the same), and the SQL engine."""
    if settings.uses_memory_store:
        return MemoryStore().unit_of_work, None, None
    engine = open_database(
        settings.database_url, settings.environment, upgrade=settings.database_auto_upgrade
    )
    database = SqlDatabase(engine)
    return database.unit_of_work, database.reading_unit_of_work, engine


def _accounts(settings: Settings, engine: Engine | None) -> Accounts:
    store: AccountStore = MemoryAccountStore() if engine is None else SqlAccountStore(engine)
    return Accounts(store, Passwords(cheap=settings.environment == "test"))


def _mailer(settings: Settings) -> Mailer | None:
    if settings.smtp_url is not None:
        return SmtpMailer(settings.smtp_url, settings.mail_from)
    return SandboxMailbox() if settings.environment == "test" else None


def _connect_webhooks(settings: Settings) -> WebhookVerifier | None:
    secret = settings.stripe_connect_webhook_secret
    if secret is None:
        return _webhooks(settings)
    return StripeWebhooks(secret, livemode=settings.environment == "production")


def _webhooks(settings: Settings) -> WebhookVerifier | None:
    # Stripe's signature whatever the gateway: the sandbox's tests post Stripe-shaped events.
    secret = settings.stripe_webhook_secret
    # Events of the other mode are refused: production takes live events, test ones test.
    livemode = settings.environment == "production"
    return None if secret is None else StripeWebhooks(secret, livemode=livemode)


def _gateway(settings: Settings) -> PaymentGateway:
    if settings.stripe_api_key is None:
        if settings.environment != "test":
            raise InvalidConfiguration("the sandbox payment gateway is for the test environment")
        return SandboxGateway()
    return StripeGateway.for_environment(
        settings.stripe_api_key,
        settings.environment,
        base_url=settings.stripe_api_base,
        requests_per_second=settings.stripe_requests_per_second,
    )


def _clock(settings: Settings) -> Clock:
    if settings.clock_speed == 1:
        return SystemClock()
    if settings.environment != "test":
        raise InvalidConfiguration("an accelerated clock is for the test environment only")
    since = settings.clock_since or SystemClock().now()
    return AcceleratedClock(settings.clock_speed, since)


def _feed(settings: Settings, clock: Clock) -> StatsFeed:
    if settings.feed == "replay":
        return ReplayFeed(settings.replay_csv, clock.now, settings.replay_week1_sunday)
    if settings.sportsdataio_api_key is None:
        raise InvalidConfiguration("FANTASY_SPORTSDATAIO_API_KEY is required for sportsdataio")
    return SportsDataIOFeed(
        settings.sportsdataio_base_url,
        settings.sportsdataio_api_key,
        seasons=settings.sportsdataio_seasons,
        clock=clock.now,
    )


def _seed_operator(services: Services) -> None:
    settings = services.settings
    if settings.operator_email is None or settings.operator_password is None:
        return
    if services.accounts.store.by_email(normalise_email(settings.operator_email)) is not None:
        return
    account = services.accounts.register(
        services.platform.ids.new_id("user"),
        settings.operator_email,
        settings.operator_password,
        Role.OPERATOR,
        services.platform.clock.now(),
    )
    _log.info("operator account %s created for %s", account.user_id, account.email)
