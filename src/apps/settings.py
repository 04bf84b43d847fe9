"""The one typed settings object, read once at start-up from the environment (and a config file).

Every value comes from a `FANTASY_*` environment variable; `FANTASY_CONFIG_FILE` may name
a TOML file whose top-level keys are the same names without the prefix, in lower case
(`database_url = "..."`); the environment wins over the file. Every problem found is
reported at once, each naming its variable. The core never reads the environment:
only `load_settings` does, and only when an entry point calls it.

Variables (default in brackets):
  FANTASY_ENV                      test or production [test]
  FANTASY_DATABASE_URL             sqlite:///..., postgresql://... or memory: [sqlite:///var/fantasy.db]
  FANTASY_DATABASE_AUTO_UPGRADE    migrate at start-up [true in test, false in production]
  FANTASY_STRIPE_API_KEY           a Stripe secret key [none: the sandbox gateway, test only]
  FANTASY_STRIPE_API_BASE          another Stripe server, tests only [Stripe's]
  FANTASY_STRIPE_PUBLISHABLE_KEY   pk_test_ (test) or pk_live_ (production): the web join
                                   page's card form (Stripe.js); needs FANTASY_STRIPE_API_KEY,
                                   required with it in production [none: no card form]
  FANTASY_STRIPE_JS_URL            another Stripe.js (an emulator's), tests only
                                   [https://js.stripe.com/v3/]
  FANTASY_PAYOUT_SENDERS           payouts the worker sends side by side [4 in production, 1]
  FANTASY_CHARGE_SENDERS           charges of one join batch sent side by side [8 in production, 1]
  FANTASY_STRIPE_REQUESTS_PER_SECOND  pace Stripe writes and reads, each [95 in production:
                                   Stripe allows 100 a second live; none in test]
  FANTASY_STRIPE_WEBHOOK_SECRET    whsec_... [none: the webhook route refuses everything]
  FANTASY_STRIPE_CONNECT_WEBHOOK_SECRET  whsec_... of the Connect endpoint
                                   (POST /webhooks/stripe/connect) [the one above]
  FANTASY_TOKEN_SECRET             signs login tokens, >= 32 characters [random per test process]
  FANTASY_TOKEN_TTL_MINUTES        [60]
  FANTASY_FEED                     replay (test only) or sportsdataio [replay]
  FANTASY_REPLAY_CSV               an nflverse player_stats CSV, plain or .gz [the packaged one]
  FANTASY_REPLAY_WEEK1_SUNDAY      the date the replay's week 1 Sunday falls on, e.g.
                                   2027-01-03: the recorded season replayed from then [2025-09-07]
  FANTASY_CALENDAR_FILE            the contest calendar (TOML), or off [the packaged
                                   apps/calendar.toml]
  FANTASY_SPORTSDATAIO_API_KEY     required with FANTASY_FEED=sportsdataio
  FANTASY_SPORTSDATAIO_BASE_URL    [https://api.sportsdata.io]
  FANTASY_SPORTSDATAIO_SEASONS     season codes slates() lists, e.g. 2025REG,2025POST [current]
  FANTASY_WORKER_INTERVAL_SECONDS  pause between worker passes [5]
  FANTASY_LOGIN_RATE_PER_MINUTE    logins per client address, or off [10]
  FANTASY_JOIN_RATE_PER_MINUTE     lineups a player may submit a minute (single and bulk
                                   joins alike), or off [300]
  FANTASY_JOIN_BATCH_MAX           joins arriving together run as one batch, at most
                                   [64; 16 with FANTASY_JOIN_LANE_PROCESS]
  FANTASY_JOIN_BATCH_LANES         join batches run at once [4 in production, 1]
  FANTASY_JOIN_MAX_WAITING         joins a process queues beyond the batches running; more
                                   are answered 503 with Retry-After [one batch a lane;
                                   two with FANTASY_JOIN_LANE_PROCESS]
  FANTASY_JOIN_LANE_PROCESS        run the join batches in a child process of each API
                                   process (apps.lane; a SQL database and the system clock)
                                   [true in production on PostgreSQL, false otherwise]
  FANTASY_OPERATOR_EMAIL, FANTASY_OPERATOR_PASSWORD  an operator account made at start-up
  FANTASY_ALERT_WEBHOOK_URL        a JSON webhook (Slack-compatible `text`) alerts go to [none]
  FANTASY_PAGERDUTY_ROUTING_KEY    a PagerDuty Events API v2 integration key [none]
  FANTASY_PAGERDUTY_URL            [https://events.pagerduty.com/v2/enqueue]
  FANTASY_SMTP_URL                 smtp://[user:password@]host[:port] or smtps://... [none:
                                   in test, players' mail is kept in the sandbox mailbox]
  FANTASY_MAIL_FROM                the sender of players' mail (password reset) [fantasy@localhost]
  FANTASY_PUBLIC_URL               where people open the app, for links in mail; https://
                                   in production, required there with FANTASY_SMTP_URL
                                   [http://127.0.0.1:8000]
  FANTASY_ALERT_EMAIL_TO           comma-separated addresses alerts are mailed to; needs
                                   FANTASY_SMTP_URL [none: no alerts by mail]
  FANTASY_ALERT_EMAIL_FROM         [fantasy-alerts@localhost]
  FANTASY_ALERT_CHANNEL_DOWN_SECONDS  a channel failing this long is alerted on the others
                                   and shown on /ready [300]
  FANTASY_WATCHDOG_LOCK_OVERDUE_SECONDS  a contest still SCHEDULED this long after its lock
                                   time is alerted [120]
  FANTASY_WATCHDOG_WORKER_SILENT_SECONDS  a worker with no completed pass for this long is
                                   alerted by the others and shown on /ready [300]
  FANTASY_CLOCK_SPEED              test only: the clock runs N times real time [1]
  FANTASY_CLOCK_SINCE              the real instant it runs faster from (ISO 8601, with a
                                   zone) [when the process starts]; processes given the
                                   same speed and instant read the same time
"""

from __future__ import annotations

import os
import secrets
import tomllib
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import attrs
from attrs import field, frozen

from adapters.alerts.http_channels import PAGERDUTY_EVENTS_URL
from adapters.feeds.replay import WEEK1_SUNDAY, default_csv_path
from adapters.stripe_gateway.keys import check_api_key, check_publishable_key
from apps.calendar_file import DEFAULT_CALENDAR_FILE, OFF, CalendarFileError, read_calendar
from apps.templates import Catalogue
from fantasy_core.calendar import Calendar
from fantasy_core.errors import InvalidConfiguration
from fantasy_core.protection.rules import US_JURISDICTIONS

Environment = Literal["test", "production"]
FeedKind = Literal["replay", "sportsdataio"]

PREFIX = "FANTASY_"
# Stripe's live-mode limit is 100 writes and 100 reads a second; 5% below it leaves room
# for the jitter of the network, so that no second ever holds more than 100.
STRIPE_LIVE_PACE = 95.0
# One payout at a time takes two transactions and a gateway call: too slow to use the
# rate Stripe allows. Four in flight keep the paced gateway busy.
PRODUCTION_PAYOUT_SENDERS = 4
PRODUCTION_CHARGE_SENDERS = 8  # a batch of joins waits on its slowest charge, not their sum
# One lane makes the biggest batches and no two of them wait on each other's contest
# locks (the fastest with the sandbox: docs/performance.md); against Stripe, whose
# charges take a few hundred ms, more lanes overlap one batch's charges with the next.
PRODUCTION_JOIN_BATCH_LANES = 4
JOIN_BATCH_MAX = 64  # joins a batch, at most, unless the lane process runs them
# With the join lane process, a batch that took every join waiting left the API process
# idle while the child ran it, then the child idle while the API process answered it and
# took the next requests in (a lane busy 0.55 of the time, batches of all 32 clients).
# Batches of at most 16 keep two groups of joins out of step, each one's HTTP work beside
# the other's batch (decision 0071). With the lane in a thread they share one GIL, and
# the smaller batches only cost more a join. Since the child takes every join queued when
# a batch ends (decision 0081), 16 is still best (32: 0.85x, 12: 0.88x).
LANE_PROCESS_JOIN_BATCH_MAX = 16
DEFAULT_DATABASE_PATH = Path("var") / "fantasy.db"
MEMORY_DATABASE = "memory:"
SPORTSDATAIO_BASE_URL = "https://api.sportsdata.io"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
MIN_SECRET_LENGTH = 32
MAX_CLOCK_SPEED = 3600  # an hour a second: a whole NFL week in under three minutes
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


# Public, in this file: seals only the test environment's made-up taxpayer ids.
TEST_TAX_ID_KEY = "NNe-IYn8VVb4Iz-BDm5snMdNizF32B0ISSRCiP7wK20="


class SettingsError(Exception):
    """The configuration cannot be used: every problem, one per line, each naming its variable."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("invalid configuration:\n  " + "\n  ".join(problems))


@frozen
class Settings:
    """Everything the apps are configured by; built by `load_settings`, never mutated."""

    environment: Environment = "test"
    database_url: str = f"sqlite:///{DEFAULT_DATABASE_PATH}"
    database_auto_upgrade: bool = True
    stripe_api_key: str | None = field(default=None, repr=False)
    stripe_api_base: str | None = None
    # The web join page's card form: Stripe.js with this key (None: no card form).
    stripe_publishable_key: str | None = None
    # Tests only: an emulator's Stripe.js instead of Stripe's (None: STRIPE_JS_URL).
    stripe_js_url: str | None = None
    stripe_requests_per_second: float | None = None
    payout_senders: int = 1
    charge_senders: int = 1
    stripe_webhook_secret: str | None = field(default=None, repr=False)
    # The Connect endpoint's own secret (account.updated, transfer.reversed, payout.failed of
    # connected accounts); None: the platform endpoint's secret signs both.
    stripe_connect_webhook_secret: str | None = field(default=None, repr=False)
    token_secret: str = field(factory=lambda: secrets.token_urlsafe(48), repr=False)
    token_ttl_minutes: int = 60
    feed: FeedKind = "replay"
    replay_csv: Path = field(factory=default_csv_path)
    replay_week1_sunday: date = WEEK1_SUNDAY
    # The contests the worker opens by itself; built directly, none (load_settings reads
    # the packaged default unless FANTASY_CALENDAR_FILE says otherwise).
    calendar: Calendar = field(factory=Calendar)
    sportsdataio_api_key: str | None = field(default=None, repr=False)
    sportsdataio_base_url: str = SPORTSDATAIO_BASE_URL
    sportsdataio_seasons: tuple[str, ...] | None = None
    worker_interval_seconds: float = 5.0
    # How often an API process asks storage whether the stats of a streamed contest
    # changed (its live leaderboard streams, apps.api.streams).
    stream_poll_seconds: float = 0.1
    # None: no limit per address (a proxy in front limits, or one address load-tests).
    login_rate_per_minute: int | None = 10
    join_rate_per_minute: int | None = 300
    join_batch_max: int = JOIN_BATCH_MAX
    join_batch_lanes: int = 1
    # Joins waiting for a lane beyond which a join is shed (503): None, one full batch a lane
    # (two with the lane process: the other group of joins, and those that came meanwhile).
    join_max_waiting: int | None = None
    # The join batches in a child process of their own (apps.lane, decision 0065).
    join_lane_process: bool = False
    operator_email: str | None = None
    operator_password: str | None = field(default=None, repr=False)
    alert_webhook_url: str | None = field(default=None, repr=False)  # Slack's holds a secret
    pagerduty_routing_key: str | None = field(default=None, repr=False)
    pagerduty_url: str = PAGERDUTY_EVENTS_URL
    smtp_url: str | None = field(default=None, repr=False)
    mail_from: str = "fantasy@localhost"
    public_url: str = DEFAULT_PUBLIC_URL
    alert_email_to: tuple[str, ...] = ()
    alert_email_from: str = "fantasy-alerts@localhost"
    alert_channel_down_seconds: float = 300.0
    # When set, /metrics asks for `Authorization: Bearer <this>` (Prometheus' bearer_token).
    metrics_token: str | None = field(default=None, repr=False)
    watchdog_lock_overdue_seconds: float = 120.0
    watchdog_worker_silent_seconds: float = 300.0
    watchdog_game_length_seconds: float = 4 * 3600.0
    watchdog_live_overdue_seconds: float = 2 * 3600.0
    watchdog_payouts_stalled_seconds: float = 1800.0
    watchdog_feed_stale_seconds: float = 600.0
    watchdog_ledger_every_seconds: float = 600.0
    # Test environments only: the clock runs `clock_speed` times real time from the real
    # instant `clock_since` (None: from when the process starts); see `accelerated`.
    clock_speed: float = 1.0
    clock_since: datetime | None = None
    # Player protection (fantasy_core.protection.rules): jurisdictions with no paid play
    # besides the shipped list, and minimum ages replacing the shipped ones.
    excluded_jurisdictions: tuple[str, ...] = ()
    minimum_ages: tuple[tuple[str, int], ...] = ()
    # The Fernet key that seals W-9 taxpayer ids (required in production; a test
    # environment without one uses TEST_TAX_ID_KEY, which is public: test data only).
    tax_id_key: str = field(default=TEST_TAX_ID_KEY, repr=False)

    @property
    def uses_sandbox_gateway(self) -> bool:
        return self.stripe_api_key is None

    @property
    def uses_memory_store(self) -> bool:
        return self.database_url == MEMORY_DATABASE

    def describe(self) -> dict[str, str]:
        """The settings as safe to log: secrets reduced to whether they are set."""
        return {
            "environment": self.environment,
            "database": _hide_password(self.database_url),
            "gateway": "sandbox" if self.stripe_api_key is None else "stripe",
            "webhooks": "on" if self.stripe_webhook_secret else "off",
            "feed": self.feed,
            "alert_channels": ", ".join(self.alert_channel_names) or "none",
            "clock": "real time"
            if self.clock_speed == 1
            else f"{self.clock_speed:g}x real time since {self.clock_since or 'start-up'}",
        }

    @property
    def alert_channel_names(self) -> tuple[str, ...]:
        """The alert channels configured, by name."""
        names = (
            ("webhook", self.alert_webhook_url),
            ("pagerduty", self.pagerduty_routing_key),
            ("email", self.smtp_url if self.alert_email_to else None),
        )
        return tuple(name for name, setting in names if setting is not None)


def _hide_password(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in credentials:
        return url
    return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}"


class _Reader:
    """Reads raw values (environment over file) and collects every problem."""

    def __init__(self, environ: Mapping[str, str], file_values: Mapping[str, str]) -> None:
        self._environ = environ
        self._file = file_values
        self.problems: list[str] = []

    def raw(self, name: str) -> str | None:
        value = self._environ.get(PREFIX + name)
        if value is None:
            value = self._file.get(name.lower())
        if value is None or not value.strip():
            return None
        return value.strip()

    def problem(self, name: str, message: str) -> None:
        self.problems.append(f"{PREFIX}{name}: {message}")

    def choice(self, name: str, allowed: tuple[str, ...], default: str) -> str:
        value = self.raw(name)
        if value is None:
            return default
        if value not in allowed:
            self.problem(name, f"must be one of {', '.join(allowed)}, got {value!r}")
            return default
        return value

    def boolean(self, name: str, default: bool) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        self.problem(name, f"must be true or false, got {value!r}")
        return default

    def positive(self, name: str, default: int) -> int:
        value = self.raw(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            number = 0
        if number <= 0:
            self.problem(name, f"must be a positive whole number, got {value!r}")
            return default
        return number

    def positive_or_none(self, name: str) -> int | None:
        """A positive whole number, or None when unset."""
        return None if self.raw(name) is None else self.positive(name, 1)

    def positive_or_off(self, name: str, default: int) -> int | None:
        """A positive whole number, or None for `off`."""
        if self.raw(name) == "off":
            return None
        return self.positive(name, default)

    def rate(self, name: str, default: float | None) -> float | None:
        number = self._number(name, 10_000, "a number of requests a second")
        return default if number is None else number

    def seconds(self, name: str, default: float, upper: int = 3600) -> float:
        number = self._number(name, upper, "a number of seconds")
        return default if number is None else number

    def speed(self, name: str) -> float:
        number = self._number(name, MAX_CLOCK_SPEED, "how many times real time the clock runs")
        if number is not None and number < 1:
            self.problem(name, f"the clock runs at least at real speed (1), got {number:g}")
            return 1.0
        return 1.0 if number is None else number

    def instant(self, name: str) -> datetime | None:
        value = self.raw(name)
        if value is None:
            return None
        try:
            instant = datetime.fromisoformat(value)
        except ValueError:
            self.problem(name, f"must be an ISO 8601 instant, got {value!r}")
            return None
        if instant.tzinfo is None:
            self.problem(name, f"needs a time zone (Z or +hh:mm), got {value!r}")
            return None
        return instant

    def _number(self, name: str, upper: int, what: str) -> float | None:
        """A number in (0, upper]; None when absent, or not one (then a problem is noted)."""
        value = self.raw(name)
        if value is None:
            return None
        try:
            number = float(value)
        except ValueError:
            number = 0.0
        if not 0 < number <= upper:  # also refuses nan and inf
            self.problem(name, f"must be {what} in (0, {upper}], got {value!r}")
            return None
        return number


def _read_file(environ: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    path_text = environ.get(PREFIX + "CONFIG_FILE")
    if not path_text:
        return {}, []
    path = Path(path_text)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        return {}, [f"{PREFIX}CONFIG_FILE: cannot read {path}: {error.strerror}"]
    except tomllib.TOMLDecodeError as error:
        return {}, [f"{PREFIX}CONFIG_FILE: {path} is not valid TOML: {error}"]
    values: dict[str, str] = {}
    problems: list[str] = []
    for key, value in data.items():
        if isinstance(value, bool):
            values[key] = "true" if value else "false"
        elif isinstance(value, str | int | float):
            values[key] = str(value)
        else:
            problems.append(f"{PREFIX}CONFIG_FILE: {path}: {key} must be a string or a number")
    return values, problems


def _week1_sunday(read: _Reader) -> date:
    value = read.raw("REPLAY_WEEK1_SUNDAY")
    if value is None:
        return WEEK1_SUNDAY
    try:
        return date.fromisoformat(value)
    except ValueError:
        read.problem("REPLAY_WEEK1_SUNDAY", f"must be a date like 2025-09-07, got {value!r}")
        return WEEK1_SUNDAY


def _calendar(read: _Reader) -> Calendar:
    value = read.raw("CALENDAR_FILE")
    if value == OFF:
        return Calendar()
    path = DEFAULT_CALENDAR_FILE if value is None else Path(value)
    try:
        return read_calendar(path, Catalogue().sport_of)
    except CalendarFileError as error:
        for problem in error.problems:
            read.problem("CALENDAR_FILE", problem)
        return Calendar()


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """The settings from `environ` (default: the process environment); SettingsError if unusable."""
    env = os.environ if environ is None else environ
    file_values, file_problems = _read_file(env)
    read = _Reader(env, file_values)
    read.problems.extend(file_problems)
    environment: Environment = (
        "production"
        if read.choice("ENV", ("test", "production"), "test") == "production"
        else "test"
    )
    production = environment == "production"
    database = read.raw("DATABASE_URL") or f"sqlite:///{DEFAULT_DATABASE_PATH}"
    # Production on PostgreSQL runs its join batches in a child of each API process, the
    # configuration measured against the lean floor (decision 0082).
    lane_process = read.boolean("JOIN_LANE_PROCESS", production and _is_postgresql(database))
    settings = Settings(
        environment=environment,
        database_url=database,
        database_auto_upgrade=read.boolean("DATABASE_AUTO_UPGRADE", not production),
        stripe_api_key=_stripe_key(read, environment),
        stripe_api_base=read.raw("STRIPE_API_BASE"),
        stripe_publishable_key=_publishable_key(read, environment),
        stripe_js_url=_http_url(read, "STRIPE_JS_URL"),
        payout_senders=read.positive(
            "PAYOUT_SENDERS", PRODUCTION_PAYOUT_SENDERS if production else 1
        ),
        charge_senders=read.positive(
            "CHARGE_SENDERS", PRODUCTION_CHARGE_SENDERS if production else 1
        ),
        stripe_requests_per_second=read.rate(
            "STRIPE_REQUESTS_PER_SECOND", STRIPE_LIVE_PACE if production else None
        ),
        stripe_webhook_secret=_webhook_secret(read),
        stripe_connect_webhook_secret=_webhook_secret(read, "STRIPE_CONNECT_WEBHOOK_SECRET"),
        token_secret=_token_secret(read, production),
        token_ttl_minutes=read.positive("TOKEN_TTL_MINUTES", 60),
        feed=_feed(read, production),
        replay_csv=Path(read.raw("REPLAY_CSV") or default_csv_path()),
        replay_week1_sunday=_week1_sunday(read),
        calendar=_calendar(read),
        sportsdataio_api_key=read.raw("SPORTSDATAIO_API_KEY"),
        sportsdataio_base_url=read.raw("SPORTSDATAIO_BASE_URL") or SPORTSDATAIO_BASE_URL,
        sportsdataio_seasons=_seasons(read.raw("SPORTSDATAIO_SEASONS")),
        worker_interval_seconds=read.seconds("WORKER_INTERVAL_SECONDS", 5.0),
        stream_poll_seconds=read.seconds("STREAM_POLL_SECONDS", 0.1, upper=60),
        login_rate_per_minute=read.positive_or_off("LOGIN_RATE_PER_MINUTE", 10),
        join_rate_per_minute=read.positive_or_off("JOIN_RATE_PER_MINUTE", 300),
        join_batch_max=read.positive(
            "JOIN_BATCH_MAX", LANE_PROCESS_JOIN_BATCH_MAX if lane_process else JOIN_BATCH_MAX
        ),
        join_batch_lanes=read.positive(
            "JOIN_BATCH_LANES", PRODUCTION_JOIN_BATCH_LANES if production else 1
        ),
        join_max_waiting=read.positive_or_none("JOIN_MAX_WAITING"),
        join_lane_process=lane_process,
        operator_email=read.raw("OPERATOR_EMAIL"),
        operator_password=read.raw("OPERATOR_PASSWORD"),
        alert_webhook_url=_http_url(read, "ALERT_WEBHOOK_URL"),
        pagerduty_routing_key=read.raw("PAGERDUTY_ROUTING_KEY"),
        pagerduty_url=_http_url(read, "PAGERDUTY_URL") or PAGERDUTY_EVENTS_URL,
        smtp_url=_smtp_url(read),
        mail_from=_address(read, "MAIL_FROM") or "fantasy@localhost",
        public_url=_http_url(read, "PUBLIC_URL") or DEFAULT_PUBLIC_URL,
        alert_email_to=_addresses(read, "ALERT_EMAIL_TO"),
        alert_email_from=read.raw("ALERT_EMAIL_FROM") or "fantasy-alerts@localhost",
        alert_channel_down_seconds=read.seconds("ALERT_CHANNEL_DOWN_SECONDS", 300.0),
        metrics_token=read.raw("METRICS_TOKEN"),
        watchdog_lock_overdue_seconds=read.seconds("WATCHDOG_LOCK_OVERDUE_SECONDS", 120.0),
        watchdog_worker_silent_seconds=read.seconds("WATCHDOG_WORKER_SILENT_SECONDS", 300.0),
        watchdog_game_length_seconds=read.seconds(
            "WATCHDOG_GAME_LENGTH_SECONDS", upper=86_400, default=4 * 3600.0
        ),
        watchdog_live_overdue_seconds=read.seconds(
            "WATCHDOG_LIVE_OVERDUE_SECONDS", upper=86_400, default=2 * 3600.0
        ),
        watchdog_payouts_stalled_seconds=read.seconds("WATCHDOG_PAYOUTS_STALLED_SECONDS", 1800.0),
        watchdog_feed_stale_seconds=read.seconds("WATCHDOG_FEED_STALE_SECONDS", 600.0),
        watchdog_ledger_every_seconds=read.seconds("WATCHDOG_LEDGER_EVERY_SECONDS", 600.0),
        clock_speed=read.speed("CLOCK_SPEED"),
        clock_since=read.instant("CLOCK_SINCE"),
        excluded_jurisdictions=_jurisdictions(read, "EXCLUDED_JURISDICTIONS"),
        minimum_ages=_minimum_ages(read, "MINIMUM_AGES"),
        tax_id_key=_tax_id_key(read, production),
    )
    _check_together(read, settings)
    if read.problems:
        raise SettingsError(read.problems)
    return settings


def _stripe_key(read: _Reader, environment: Environment) -> str | None:
    key = read.raw("STRIPE_API_KEY")
    if key is None:
        if environment == "production":
            read.problem(
                "STRIPE_API_KEY",
                "required in production (without it the sandbox gateway would take "
                "entry fees that are never collected)",
            )
        return None
    try:
        check_api_key(key, environment)
    except InvalidConfiguration as error:
        read.problem("STRIPE_API_KEY", str(error))
        return None
    return key


def _publishable_key(read: _Reader, environment: Environment) -> str | None:
    key = read.raw("STRIPE_PUBLISHABLE_KEY")
    if key is None:
        return None
    try:
        check_publishable_key(key, environment)
    except InvalidConfiguration as error:
        read.problem("STRIPE_PUBLISHABLE_KEY", str(error))
        return None
    return key


def _webhook_secret(read: _Reader, name: str = "STRIPE_WEBHOOK_SECRET") -> str | None:
    secret = read.raw(name)
    if secret is not None and not secret.startswith("whsec_"):
        read.problem(name, "must be a Stripe endpoint secret (whsec_...)")
        return None
    return secret


def _token_secret(read: _Reader, production: bool) -> str:
    secret = read.raw("TOKEN_SECRET")
    if secret is None:
        if production:
            read.problem("TOKEN_SECRET", "required in production (it signs every login token)")
        # Test only: tokens then last as long as the process.
        return secrets.token_urlsafe(48)
    if len(secret) < MIN_SECRET_LENGTH:
        read.problem(
            "TOKEN_SECRET", f"must be at least {MIN_SECRET_LENGTH} characters, got {len(secret)}"
        )
    return secret


def _feed(read: _Reader, production: bool) -> FeedKind:
    feed = read.choice("FEED", ("replay", "sportsdataio"), "replay")
    if feed == "sportsdataio":
        if read.raw("SPORTSDATAIO_API_KEY") is None:
            read.problem("SPORTSDATAIO_API_KEY", "required with FANTASY_FEED=sportsdataio")
        return "sportsdataio"
    if production:
        read.problem(
            "FEED",
            "replay is for tests and the demo: production contests cannot settle on "
            "recorded games; use sportsdataio",
        )
    return "replay"


def _seasons(text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    return tuple(code.strip() for code in text.split(",") if code.strip())


def _http_url(read: _Reader, name: str) -> str | None:
    value = read.raw(name)
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        read.problem(name, f"must be an http:// or https:// URL with a host, got {value!r}")
        return None
    return value


def _smtp_url(read: _Reader) -> str | None:
    value = read.raw("SMTP_URL")
    if value is None:
        return None
    parts = urlsplit(value)
    try:
        parts.port  # noqa: B018 - parsing it is the check
    except ValueError:
        read.problem("SMTP_URL", "has a port that is not a number from 0 to 65535")
        return None
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        read.problem(
            "SMTP_URL",
            f"must be smtp://[user:password@]host[:port] or smtps://..., got scheme "
            f"{parts.scheme!r}",
        )
        return None
    return value


def _addresses(read: _Reader, name: str) -> tuple[str, ...]:
    value = read.raw(name)
    if value is None:
        return ()
    addresses = tuple(a.strip() for a in value.split(",") if a.strip())
    wrong = [a for a in addresses if "@" not in a]
    if wrong or not addresses:
        read.problem(name, f"must list e-mail addresses separated by commas, got {value!r}")
        return ()
    return addresses


def _tax_id_key(read: _Reader, production: bool) -> str:
    key = read.raw("TAX_ID_KEY")
    if key is None:
        if production:
            read.problem("TAX_ID_KEY", "is required in production (a Fernet key, kept secret)")
        return TEST_TAX_ID_KEY
    if production and key == TEST_TAX_ID_KEY:
        read.problem("TAX_ID_KEY", "is the public test key: production needs its own")
    return key


def _jurisdictions(read: _Reader, name: str) -> tuple[str, ...]:
    """A comma-separated list of US state codes (NV,WA)."""
    value = read.raw(name)
    if value is None:
        return ()
    codes = tuple(c.strip() for c in value.split(",") if c.strip())
    wrong = [c for c in codes if c not in US_JURISDICTIONS]
    if wrong:
        read.problem(name, f"must list US state codes separated by commas, not {wrong}")
        return ()
    return codes


def _minimum_ages(read: _Reader, name: str) -> tuple[tuple[str, int], ...]:
    """Comma-separated CODE=AGE pairs (AL=19,MA=21): each replaces the shipped age."""
    value = read.raw(name)
    if value is None:
        return ()
    ages: list[tuple[str, int]] = []
    for pair in (p.strip() for p in value.split(",") if p.strip()):
        code, _, age = pair.partition("=")
        code = code.strip()
        if code not in US_JURISDICTIONS or not age.strip().isdigit():
            read.problem(name, f"must be CODE=AGE pairs (AL=19,MA=21), not {pair!r}")
            return ()
        number = int(age)
        if not 18 <= number <= 25:
            read.problem(name, f"a minimum age is 18..25, not {number} for {code}")
            return ()
        ages.append((code, number))
    return tuple(ages)


def _is_postgresql(url: str) -> bool:
    # The schemes adapters.sqlalchemy.engine takes to psycopg (apps reach it only there).
    return urlsplit(url).scheme in ("postgres", "postgresql", "postgresql+psycopg")


def _address(read: _Reader, name: str) -> str | None:
    value = read.raw(name)
    if value is not None and "@" not in value:
        read.problem(name, f"must be an e-mail address, got {value!r}")
        return None
    return value


def _check_together(read: _Reader, settings: Settings) -> None:
    if settings.join_lane_process and settings.uses_memory_store:
        read.problem("JOIN_LANE_PROCESS", "needs a database the processes share (SQL), not memory:")
    if settings.join_lane_process and settings.clock_speed != 1:
        read.problem(
            "JOIN_LANE_PROCESS",
            "needs the system clock (FANTASY_CLOCK_SPEED=1): an accelerated clock is one "
            "process's own",
        )
    waiting = settings.join_max_waiting
    if waiting is not None and waiting < settings.join_batch_max:
        read.problem(
            "JOIN_MAX_WAITING",
            f"must hold at least one batch (FANTASY_JOIN_BATCH_MAX, {settings.join_batch_max}), "
            f"got {waiting}",
        )
    if settings.environment == "production":
        if settings.uses_memory_store:
            read.problem("DATABASE_URL", "production needs a real database, not memory:")
        if settings.stripe_api_key is not None and settings.stripe_webhook_secret is None:
            read.problem(
                "STRIPE_WEBHOOK_SECRET",
                "required in production with Stripe: payments needing 3-D Secure, refunds "
                "and reversed transfers are only learnt from webhooks",
            )
        if settings.stripe_api_base is not None:
            read.problem("STRIPE_API_BASE", "only tests may point Stripe at another server")
        if settings.stripe_js_url is not None:
            read.problem("STRIPE_JS_URL", "only tests may load another Stripe.js than Stripe's")
        if settings.stripe_api_key is not None and settings.stripe_publishable_key is None:
            read.problem(
                "STRIPE_PUBLISHABLE_KEY",
                "required in production with Stripe: the web join page takes cards with "
                "Stripe.js, which needs the publishable key",
            )
        if settings.clock_speed != 1:
            read.problem("CLOCK_SPEED", PRODUCTION_CLOCK)
        if settings.smtp_url is not None and not settings.public_url.startswith("https://"):
            read.problem(
                "PUBLIC_URL",
                "an https:// address is required in production with FANTASY_SMTP_URL: "
                "password reset links in mail point there",
            )
    if settings.stripe_publishable_key is not None and settings.stripe_api_key is None:
        read.problem(
            "STRIPE_PUBLISHABLE_KEY",
            "needs FANTASY_STRIPE_API_KEY: the sandbox gateway takes its own test cards",
        )
    if settings.alert_email_to and settings.smtp_url is None:
        read.problem("SMTP_URL", "required with FANTASY_ALERT_EMAIL_TO: the server to send through")
    if (settings.operator_email is None) != (settings.operator_password is None):
        read.problem(
            "OPERATOR_EMAIL" if settings.operator_email is None else "OPERATOR_PASSWORD",
            "FANTASY_OPERATOR_EMAIL and FANTASY_OPERATOR_PASSWORD go together",
        )


PRODUCTION_CLOCK = (
    "an accelerated clock is for test environments only: production contests lock, "
    "settle and pay on real time"
)


def accelerated(settings: Settings, speed: float | None, since: datetime | None) -> Settings:
    """`settings` with the clock a command line asked for (None: as configured); a
    SettingsError naming the option for a production environment or a bad value."""
    if speed is None and since is None:
        return settings
    problems = []
    if settings.environment == "production":
        problems.append(f"--clock-speed: {PRODUCTION_CLOCK}")
    if speed is not None and not 1 <= speed <= MAX_CLOCK_SPEED:
        problems.append(f"--clock-speed: must lie in [1, {MAX_CLOCK_SPEED}], got {speed:g}")
    if since is not None and since.tzinfo is None:
        problems.append("--clock-since: needs a time zone (Z or +hh:mm)")
    if problems:
        raise SettingsError(problems)
    return attrs.evolve(
        settings,
        clock_speed=settings.clock_speed if speed is None else speed,
        clock_since=settings.clock_since if since is None else since,
    )
