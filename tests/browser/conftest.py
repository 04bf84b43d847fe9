"""Chromium (Debian's, through Playwright) once per session; the app once per module and store.

Browser downloads are impossible here: Playwright drives /usr/bin/chromium (`.ci/run`
installs it). Where it is missing the tests fail in CI and are skipped elsewhere with the
command that installs it. axe-core (vendored from the npm registry, digest checked before
use) is injected into every page for the accessibility checks.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from browser_support import OPERATOR_EMAIL, OPERATOR_PASSWORD, SLATE, Site
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from adapters.clock import ControllableClock
from adapters.ids import SequentialIds
from adapters.sandbox import SandboxGateway
from apps.api.app import create_app
from apps.bootstrap import start
from apps.settings import Settings
from support.live_server import serving
from support.postgres_schema import fresh_schema, postgres_url_from_environment

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VENDOR = Path(__file__).resolve().parent / "vendor"
AXE = VENDOR / "axe-4.11.0.min.js"
AXE_SHA256 = "e9e5863c33a874f09bc01acd9234b7e3c871479f5eef8802fa582544465e6d01"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        message = f"{CHROMIUM} is missing: apt-get install -y chromium"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    data = AXE.read_bytes()
    assert hashlib.sha256(data).hexdigest() == AXE_SHA256, "the vendored axe-core was changed"
    return data.decode("utf-8")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    store = request.param
    if store == "postgresql":
        base = postgres_url_from_environment()
        if base is None:
            pytest.skip("FANTASY_TEST_POSTGRES_URL is not set: no PostgreSQL to test against")
        with fresh_schema(base, "web") as url:
            yield from _serve(url, store)
    else:
        path = tmp_path_factory.mktemp("web") / "web.db"
        yield from _serve(f"sqlite:///{path}", store)


def _serve(database_url: str, store: str) -> Iterator[Site]:
    settings = Settings(
        environment="test",
        database_url=database_url,
        database_auto_upgrade=True,
        operator_email=OPERATOR_EMAIL,
        operator_password=OPERATOR_PASSWORD,
        login_rate_per_minute=10_000,
        join_rate_per_minute=10_000,
    )
    clock = ControllableClock(datetime(2025, 9, 1, tzinfo=UTC))
    services = start(settings, clock=clock, gateway=SandboxGateway(), ids=SequentialIds())
    try:
        kickoff = min(g.kickoff for g in services.platform.feed.snapshot(SLATE).games)
        clock.set(kickoff - timedelta(days=2))
        with serving(create_app(settings, services=services)) as url:
            yield Site(url, services, clock, store)
    finally:
        services.close()


@pytest.fixture
def context(browser: Browser, axe_source: str) -> Iterator[BrowserContext]:
    """A fresh browser profile (no cookies) with axe-core in every page."""
    made = browser.new_context(viewport={"width": 1280, "height": 900})
    made.add_init_script(script=axe_source)
    yield made
    made.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    opened = context.new_page()
    violations: list[str] = []
    opened.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield opened
    assert not violations, f"the page broke its own Content-Security-Policy: {violations}"


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: docs/img with FANTASY_WEB_SCREENSHOTS=1 (the README's), else tmp."""
    if os.environ.get("FANTASY_WEB_SCREENSHOTS") == "1":
        target = REPO / "docs" / "img"
        target.mkdir(parents=True, exist_ok=True)
        return target
    return tmp_path_factory.mktemp("screenshots")
