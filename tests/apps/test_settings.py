"""Settings: read once from the environment, validated, every problem naming its variable."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

import pytest

from apps.cli import CommandError, _settings
from apps.settings import TEST_TAX_ID_KEY, Settings, SettingsError, accelerated, load_settings

SECRET = "s" * 40
LIVE_KEY = "sk_live_" + "x" * 24
TEST_KEY = "sk_test_" + "x" * 24
TAX_ID_KEY = "Zm9yLXRlc3RzLW9ubHktbm90LWEtcmVhbC1rZXktMDA="  # 32 bytes, base64
# A complete production configuration, on the default database (a SQLite file).
PRODUCTION = {
    "FANTASY_ENV": "production",
    "FANTASY_STRIPE_API_KEY": LIVE_KEY,
    "FANTASY_STRIPE_PUBLISHABLE_KEY": "pk_live_" + "x" * 24,
    "FANTASY_STRIPE_WEBHOOK_SECRET": "whsec_live",
    "FANTASY_TOKEN_SECRET": SECRET,
    "FANTASY_FEED": "sportsdataio",
    "FANTASY_SPORTSDATAIO_API_KEY": "key",
    "FANTASY_TAX_ID_KEY": TAX_ID_KEY,
}
ON_POSTGRES = {**PRODUCTION, "FANTASY_DATABASE_URL": "postgresql://app@db/fantasy"}


def problems(environ: dict[str, str]) -> str:
    with pytest.raises(SettingsError) as error:
        load_settings(environ)
    return "\n".join(error.value.problems)


def test_an_empty_environment_is_a_test_platform_on_sqlite_with_the_sandbox_and_replay() -> None:
    settings = load_settings({})
    assert settings.environment == "test"
    assert settings.database_url == "sqlite:///var/fantasy.db"
    assert settings.uses_sandbox_gateway
    assert settings.feed == "replay"
    assert settings.database_auto_upgrade
    assert len(settings.token_secret) >= 32


def test_production_demands_stripe_a_token_secret_and_a_real_feed() -> None:
    found = problems({"FANTASY_ENV": "production"})
    assert "FANTASY_STRIPE_API_KEY: required in production" in found
    assert "FANTASY_TOKEN_SECRET: required in production" in found
    assert "FANTASY_FEED: replay is for tests" in found
    assert "FANTASY_TAX_ID_KEY: is required in production" in found
    public = problems({"FANTASY_ENV": "production", "FANTASY_TAX_ID_KEY": TEST_TAX_ID_KEY})
    assert "FANTASY_TAX_ID_KEY: is the public test key" in public


def test_production_refuses_a_stripe_test_key_and_test_refuses_a_live_key() -> None:
    assert "refuses a Stripe test key" in problems(
        {"FANTASY_ENV": "production", "FANTASY_STRIPE_API_KEY": TEST_KEY}
    )
    assert "FANTASY_STRIPE_API_KEY: the test configuration refuses a Stripe live key" in problems(
        {"FANTASY_STRIPE_API_KEY": LIVE_KEY}
    )


def test_malformed_values_name_their_variable() -> None:
    found = problems(
        {
            "FANTASY_ENV": "staging",
            "FANTASY_TOKEN_SECRET": "short",
            "FANTASY_TOKEN_TTL_MINUTES": "-3",
            "FANTASY_WORKER_INTERVAL_SECONDS": "soon",
            "FANTASY_DATABASE_AUTO_UPGRADE": "maybe",
            "FANTASY_STRIPE_WEBHOOK_SECRET": "not-a-secret",
            "FANTASY_OPERATOR_EMAIL": "ops@example.com",
        }
    )
    for variable in (
        "FANTASY_ENV",
        "FANTASY_TOKEN_SECRET",
        "FANTASY_TOKEN_TTL_MINUTES",
        "FANTASY_WORKER_INTERVAL_SECONDS",
        "FANTASY_DATABASE_AUTO_UPGRADE",
        "FANTASY_STRIPE_WEBHOOK_SECRET",
        "FANTASY_OPERATOR_PASSWORD",
    ):
        assert f"{variable}:" in found


def test_sportsdataio_needs_its_api_key() -> None:
    found = problems({"FANTASY_FEED": "sportsdataio"})
    assert "FANTASY_SPORTSDATAIO_API_KEY: required with FANTASY_FEED=sportsdataio" in found
    settings = load_settings(
        {
            "FANTASY_FEED": "sportsdataio",
            "FANTASY_SPORTSDATAIO_API_KEY": "key",
            "FANTASY_SPORTSDATAIO_SEASONS": "2025REG, 2025POST",
        }
    )
    assert settings.sportsdataio_seasons == ("2025REG", "2025POST")
    assert settings.sportsdataio_base_url == "https://api.sportsdata.io"


def test_a_complete_production_configuration_loads() -> None:
    settings = load_settings(ON_POSTGRES)
    assert settings.environment == "production"
    assert settings.tax_id_key == TAX_ID_KEY
    assert TAX_ID_KEY not in repr(settings)
    assert not settings.database_auto_upgrade
    assert not settings.uses_sandbox_gateway


def test_production_mail_links_point_at_an_https_public_address() -> None:
    production = {**ON_POSTGRES, "FANTASY_SMTP_URL": "smtps://mail.example.com"}
    assert "FANTASY_PUBLIC_URL: an https:// address is required" in problems(production)
    loaded = load_settings({**production, "FANTASY_PUBLIC_URL": "https://play.example.com"})
    assert loaded.public_url == "https://play.example.com"
    assert "FANTASY_PUBLIC_URL: must be an http" in problems({"FANTASY_PUBLIC_URL": "play"})


def test_a_config_file_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    config = tmp_path / "fantasy.toml"
    config.write_text(
        'database_url = "sqlite:///from-file.db"\ntoken_ttl_minutes = 5\n', encoding="utf-8"
    )
    settings = load_settings({"FANTASY_CONFIG_FILE": str(config), "FANTASY_TOKEN_TTL_MINUTES": "7"})
    assert settings.database_url == "sqlite:///from-file.db"
    assert settings.token_ttl_minutes == 7


def test_an_unreadable_config_file_is_a_problem(tmp_path: Path) -> None:
    assert "FANTASY_CONFIG_FILE: cannot read" in problems(
        {"FANTASY_CONFIG_FILE": str(tmp_path / "absent.toml")}
    )


def test_secrets_are_not_shown_by_repr_or_describe() -> None:
    settings = Settings(
        stripe_api_key=TEST_KEY,
        token_secret=SECRET,
        database_url="postgresql://app:hunter2@db/fantasy",
    )
    assert TEST_KEY not in repr(settings)
    assert SECRET not in repr(settings)
    assert "hunter2" not in str(settings.describe())


def test_production_paces_stripe_below_its_live_limit_and_sends_payouts_side_by_side() -> None:
    production = PRODUCTION
    assert load_settings(production).stripe_requests_per_second == 95.0
    assert load_settings(production).payout_senders == 4
    assert load_settings({}).stripe_requests_per_second is None
    assert load_settings({}).payout_senders == 1
    # Join batches: charges side by side and lanes overlapping them against real Stripe.
    live = load_settings(production)
    assert (live.charge_senders, live.join_batch_lanes, live.join_batch_max) == (8, 4, 64)
    local = load_settings({})
    assert (local.charge_senders, local.join_batch_lanes, local.join_batch_max) == (1, 1, 64)
    assert load_settings({"FANTASY_JOIN_BATCH_MAX": "1"}).join_batch_max == 1  # no batching
    # With the lane process, batches of 16 keep two groups of joins out of step (0071).
    db = {"FANTASY_DATABASE_URL": "sqlite:///var/x.db", "FANTASY_JOIN_LANE_PROCESS": "true"}
    assert load_settings(db).join_batch_max == 16
    assert load_settings({**db, "FANTASY_JOIN_BATCH_MAX": "64"}).join_batch_max == 64
    assert load_settings({**production, **db}).join_batch_max == 16
    # The joins a process queues before shedding: one full batch a lane unless set.
    assert local.join_max_waiting is None
    assert load_settings({"FANTASY_JOIN_MAX_WAITING": "200"}).join_max_waiting == 200
    assert problems({"FANTASY_JOIN_MAX_WAITING": "63"}).startswith("FANTASY_JOIN_MAX_WAITING")
    assert problems({"FANTASY_JOIN_MAX_WAITING": "none"}).startswith("FANTASY_JOIN_MAX_WAITING")
    # A limit per client address, or none (a proxy in front limits, or a load test).
    assert load_settings({}).join_rate_per_minute == 300
    assert load_settings({"FANTASY_JOIN_RATE_PER_MINUTE": "off"}).join_rate_per_minute is None
    assert load_settings({"FANTASY_LOGIN_RATE_PER_MINUTE": "off"}).login_rate_per_minute is None
    for name in (
        "FANTASY_JOIN_BATCH_MAX",
        "FANTASY_JOIN_BATCH_LANES",
        "FANTASY_CHARGE_SENDERS",
        "FANTASY_JOIN_RATE_PER_MINUTE",
    ):
        assert problems({name: "0"}).startswith(name), name
    paced = load_settings({"FANTASY_STRIPE_REQUESTS_PER_SECOND": "20"})
    assert paced.stripe_requests_per_second == 20.0
    found = problems({"FANTASY_STRIPE_REQUESTS_PER_SECOND": "fast"})
    assert "FANTASY_STRIPE_REQUESTS_PER_SECOND: must be a number of requests a second" in found


def test_production_on_postgresql_runs_its_join_batches_in_a_child_unless_told_not_to() -> None:
    production = PRODUCTION
    for scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        on_postgres = {**production, "FANTASY_DATABASE_URL": f"{scheme}://app@db/fantasy"}
        live = load_settings(on_postgres)
        assert live.join_lane_process, scheme
        # ... with the lane process's batches (decision 0071), four lanes against Stripe.
        assert (live.join_batch_max, live.join_batch_lanes) == (16, 4)
        off = load_settings({**on_postgres, "FANTASY_JOIN_LANE_PROCESS": "false"})
        assert (off.join_lane_process, off.join_batch_max) == (False, 64)
    # SQLite (one writer) and every test environment keep one process unless told.
    assert not load_settings(production).join_lane_process
    sqlite = {**production, "FANTASY_DATABASE_URL": "sqlite:///var/x.db"}
    assert not load_settings(sqlite).join_lane_process
    assert not load_settings({"FANTASY_DATABASE_URL": "postgresql://app@db/f"}).join_lane_process
    assert load_settings({**sqlite, "FANTASY_JOIN_LANE_PROCESS": "true"}).join_lane_process


def test_a_database_url_on_the_command_line_is_read_with_what_follows_from_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`--database-url` is read as FANTASY_DATABASE_URL: production's lane-process default
    and the checks of the lane process see it, not the variable's default."""
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("FANTASY_DATABASE_URL", raising=False)
    url = "postgresql://app@db/fantasy"
    settings = _settings(argparse.Namespace(database_url=url))
    assert (settings.database_url, settings.join_lane_process) == (url, True)
    assert not _settings(argparse.Namespace(database_url=None)).join_lane_process  # SQLite
    monkeypatch.setenv("FANTASY_ENV", "test")
    monkeypatch.setenv("FANTASY_JOIN_LANE_PROCESS", "true")
    with pytest.raises(CommandError, match="FANTASY_JOIN_LANE_PROCESS"):
        _settings(argparse.Namespace(database_url="memory:"))


def test_an_accelerated_clock_is_read_from_the_environment_in_a_test_environment() -> None:
    settings = load_settings(
        {"FANTASY_CLOCK_SPEED": "60", "FANTASY_CLOCK_SINCE": "2026-12-03T15:00:00Z"}
    )
    assert (settings.clock_speed, settings.clock_since) == (
        60.0,
        datetime(2026, 12, 3, 15, tzinfo=UTC),
    )
    assert load_settings({}).clock_speed == 1
    assert "FANTASY_CLOCK_SPEED: the clock runs at least at real speed" in problems(
        {"FANTASY_CLOCK_SPEED": "0.5"}
    )
    assert "FANTASY_CLOCK_SINCE: needs a time zone" in problems(
        {"FANTASY_CLOCK_SINCE": "2026-12-03T15:00:00"}
    )


def test_production_refuses_an_accelerated_clock() -> None:
    assert "FANTASY_CLOCK_SPEED: an accelerated clock is for test environments only" in problems(
        {"FANTASY_ENV": "production", "FANTASY_CLOCK_SPEED": "60"}
    )
    production = Settings(environment="production", token_secret=SECRET)
    with pytest.raises(SettingsError, match="--clock-speed: an accelerated clock is for test"):
        accelerated(production, 60, None)
    assert accelerated(production, None, None) is production


def test_the_publishable_key_matches_the_environment_and_the_js_url_is_for_tests_only() -> None:
    live = {"FANTASY_ENV": "production", "FANTASY_STRIPE_API_KEY": LIVE_KEY}
    assert "FANTASY_STRIPE_PUBLISHABLE_KEY: required in production with Stripe" in problems(live)
    found = problems(
        {
            **live,
            "FANTASY_STRIPE_PUBLISHABLE_KEY": "pk_test_" + "x" * 24,
            "FANTASY_STRIPE_JS_URL": "http://127.0.0.1:9/js.stripe.com/v3/",
        }
    )
    assert "FANTASY_STRIPE_PUBLISHABLE_KEY: the production configuration needs a pk_live_" in found
    assert "got a test key (pk_test_...)" in found
    assert "FANTASY_STRIPE_JS_URL: only tests may load another Stripe.js" in found
    assert "a live key (pk_live_...)" in problems(
        {"FANTASY_STRIPE_API_KEY": TEST_KEY, "FANTASY_STRIPE_PUBLISHABLE_KEY": "pk_live_x"}
    )
    assert "not a publishable key (sk_test_...)" in problems(
        {"FANTASY_STRIPE_API_KEY": TEST_KEY, "FANTASY_STRIPE_PUBLISHABLE_KEY": TEST_KEY}
    )
    assert "FANTASY_STRIPE_PUBLISHABLE_KEY: needs FANTASY_STRIPE_API_KEY" in problems(
        {"FANTASY_STRIPE_PUBLISHABLE_KEY": "pk_test_x"}
    )
    settings = load_settings(
        {
            "FANTASY_STRIPE_API_KEY": TEST_KEY,
            "FANTASY_STRIPE_PUBLISHABLE_KEY": "pk_test_abc",
            "FANTASY_STRIPE_JS_URL": "http://127.0.0.1:9/js.stripe.com/v3/",
        }
    )
    assert settings.stripe_publishable_key == "pk_test_abc"
    assert settings.stripe_js_url == "http://127.0.0.1:9/js.stripe.com/v3/"
