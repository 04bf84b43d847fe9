"""Paying with Stripe's Payment Element in Chromium, on SQLite and on PostgreSQL, without
the internet: the app on the Stripe gateway against localstripe (extended, tests/support),
whose signed webhooks enter the player. The page loads, through FANTASY_STRIPE_JS_URL, the
emulator's test double of the Stripe.js calls it makes (tests/support/stripe_js_double.js):
plain card fields in the page where Stripe's are in its frame, a PaymentMethod made with the
publishable key, 3-D Secure answered on localstripe's own authenticate endpoint.

A declined card enters nothing; a card asking 3-D Secure gets the bank's challenge from
handleNextAction, and once it is passed localstripe's `payment_intent.succeeded`, signed
with the endpoint's secret, makes the entry active while its page is open; the join form
sent once more is the same join, charged once (decisions 0053, 0060).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest
from browser_support import (
    OPERATOR_EMAIL,
    OPERATOR_PASSWORD,
    PASSWORD,
    SLATE,
    Api,
    Site,
    assert_accessible,
    fill_lineup,
    sign_up,
)
from playwright.sync_api import Page, Request, expect

from adapters.clock import ControllableClock
from adapters.ids import SequentialIds
from apps.api.app import create_app
from apps.bootstrap import start
from apps.demo_players import LineupPicker
from apps.settings import Settings
from apps.web.routes import content_security_policy
from fantasy_core.entries import EntryStatus
from fantasy_core.usecases.queries import contest_summary, entries_of
from support.live_server import serving
from support.postgres_schema import fresh_schema, postgres_url_from_environment
from support.stripe_emulator_fixture import API_KEY, running_emulator

WEBHOOK_SECRET = "whsec_browser_" + "x" * 16
PUBLISHABLE_KEY = "pk_test_browser"
TEMPLATE = "draftkings_nfl_classic"
CARD_3DS = "4000002760003184"  # localstripe (as Stripe) asks the bank's challenge for it
CARD_DECLINED = "4000000000000341"  # attaches, then its charge is declined


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stripe_site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Site, str]]:
    """The app on the Stripe gateway against an emulator of its own (its webhooks go to
    this app alone), over the store of the parameter; (the site, the emulator's URL)."""
    folder = tmp_path_factory.mktemp("stripe-web")
    with running_emulator(folder / "emulator.log") as emulator:
        if request.param == "postgresql":
            base = postgres_url_from_environment()
            if base is None:
                pytest.skip("FANTASY_TEST_POSTGRES_URL is not set: no PostgreSQL to test against")
            with fresh_schema(base, "webpay") as url:
                yield from _serve(url, request.param, emulator)
        else:
            yield from _serve(f"sqlite:///{folder / 'web.db'}", request.param, emulator)


def _serve(database_url: str, store: str, emulator: str) -> Iterator[tuple[Site, str]]:
    settings = Settings(
        environment="test",
        database_url=database_url,
        database_auto_upgrade=True,
        stripe_api_key=API_KEY,
        stripe_api_base=emulator,
        stripe_publishable_key=PUBLISHABLE_KEY,
        stripe_js_url=f"{emulator}/stripe-js-double/v3/",
        stripe_webhook_secret=WEBHOOK_SECRET,
        operator_email=OPERATOR_EMAIL,
        operator_password=OPERATOR_PASSWORD,
        login_rate_per_minute=10_000,
        join_rate_per_minute=10_000,
    )
    clock = ControllableClock(datetime(2025, 9, 1, tzinfo=UTC))
    services = start(settings, clock=clock, ids=SequentialIds())
    try:
        kickoff = min(g.kickoff for g in services.platform.feed.snapshot(SLATE).games)
        clock.set(kickoff - timedelta(days=2))
        with serving(create_app(settings, services=services)) as url:
            httpx.post(
                f"{emulator}/_config/webhooks/{uuid.uuid4().hex}",
                data={
                    "url": f"{url}/webhooks/stripe",
                    "secret": WEBHOOK_SECRET,
                    "events[]": ["payment_intent.succeeded", "payment_intent.payment_failed"],
                },
            ).raise_for_status()
            yield Site(url, services, clock, store), emulator
    finally:
        services.close()


def fill_card(page: Page, number: str) -> None:
    """Type a card into the Payment Element's fields (the double's, in the page)."""
    card = page.locator("#payment-element")
    card.get_by_label("Card number").fill(number)
    card.get_by_label("Expiry month").fill("12")
    card.get_by_label("Expiry year").fill("30")
    card.get_by_label("Security code").fill("123")
    card.get_by_label("ZIP code").fill("07030")


def intents_of(emulator: str, fingerprint: str) -> list[dict[str, object]]:
    """The PaymentIntents Stripe holds for a join (its fingerprint is in their metadata)."""
    found = httpx.get(
        f"{emulator}/v1/payment_intents/search",
        params={"query": f"metadata['join_fingerprint']:'{fingerprint}'"},
        auth=(API_KEY, ""),
    )
    found.raise_for_status()
    return list(found.json()["data"])


def test_a_player_pays_with_stripe_js_passes_3ds_and_the_webhook_enters_him(
    stripe_site: tuple[Site, str], page: Page, screenshots: Path
) -> None:
    site, emulator = stripe_site
    api = Api(site)
    contest = api.contest("tournament")
    name = f"carla-{site.store}"
    sign_up(page, site, name)
    page.goto(f"{site.url}/web/contests/{contest}")
    expect(page.get_by_role("heading", name="Build your lineup and join")).to_be_visible()
    policy = content_security_policy(site.services.settings)
    response = httpx.get(f"{site.url}/web/contests/{contest}")
    assert response.headers["content-security-policy"] == policy
    assert f"script-src 'self' {emulator};" in policy  # the emulator stands in for Stripe
    assert page.locator("#payment_method").get_attribute("type") == "hidden"
    lineup = LineupPicker(site.platform.feed.player_pool(SLATE), TEMPLATE, random.Random(5))
    picks = lineup.lineup()
    fill_lineup(page, picks)
    expect(page.locator("#lineup-check")).to_contain_text("Valid lineup")
    expect(page.locator("#payment-element input")).to_have_count(5)  # Stripe.js mounted it
    assert_accessible(page)
    me = api.client.get("/me", headers=api.token(f"{name}@example.com", PASSWORD))
    user_id = me.json()["user_id"]
    joins: list[Request] = []
    page.on("request", lambda r: joins.append(r) if r.url.endswith("/join") else None)

    # A card left incomplete: elements.submit() says why, and nothing is sent.
    page.get_by_role("button", name="Pay and join").click()
    expect(page.locator("#payment-errors")).to_have_text(
        "Your card could not be used: Your card number is incomplete. Nothing was charged."
    )
    assert joins == []
    assert entries_of(site.platform, user_id) == []

    # A declined card: why, and nothing entered.
    fill_card(page, CARD_DECLINED)
    page.get_by_role("button", name="Pay and join").click()
    expect(page.locator("#problem")).to_contain_text("card_declined")
    assert [e.status for e in entries_of(site.platform, user_id)] == [EntryStatus.DECLINED]
    assert contest_summary(site.platform, contest).seats_taken == 0
    assert_accessible(page)

    # A card the bank wants confirmed: the challenge, passed, then the webhook enters him.
    joins.clear()
    fill_lineup(page, picks)
    fill_card(page, CARD_3DS)
    page.get_by_role("button", name="Pay and join").click()
    expect(page.get_by_role("heading", name="Your bank asks you to confirm")).to_be_visible()
    assert_accessible(page)
    [pending] = [
        e for e in entries_of(site.platform, user_id) if e.status is not EntryStatus.DECLINED
    ]
    assert pending.status is EntryStatus.PENDING_ACTION
    page.get_by_role("button", name="Confirm with your bank").click()
    page.get_by_role("button", name="Complete authentication").click()  # the bank's page
    expect(page).to_have_url(f"{site.url}/web/entries/{pending.entry_id}")
    expect(page.locator("#entry-status")).to_have_text("active", timeout=20_000)
    expect(page.get_by_text(re.compile(r"Charged \$3\.00"))).to_be_visible()
    assert_accessible(page)
    if site.store == "sqlite":
        page.screenshot(path=str(screenshots / "paid-with-3ds.png"), full_page=True)
    assert contest_summary(site.platform, contest).seats_taken == 1
    [intent] = intents_of(emulator, pending.fingerprint)
    assert intent["status"] == "succeeded"
    # The form carried the PaymentMethod Stripe.js made, and the server charged it.
    [sent] = joins
    [method] = parse_qs(sent.post_data or "")["payment_method"]
    assert method.startswith("pm_")
    assert intent["payment_method"] == method

    # The same form sent again (the browser's replay): the same join, answered by its
    # outcome, and no second payment.
    again = page.request.post(
        sent.url,
        data=sent.post_data or "",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        max_redirects=0,
    )
    assert again.status == 303
    assert again.headers["location"] == f"/web/entries/{pending.entry_id}"
    assert len(intents_of(emulator, pending.fingerprint)) == 1
    assert [e.status for e in entries_of(site.platform, user_id)] == [
        EntryStatus.DECLINED,
        EntryStatus.ACTIVE,
    ]


def _signed_event(kind: str, intent: dict[str, object]) -> tuple[bytes, str]:
    """An event as Stripe signs it for the endpoint (`t=...,v1=HMAC-SHA256`)."""
    body = {
        "id": f"evt_{uuid.uuid4().hex}",
        "object": "event",
        "type": kind,
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": intent},
    }
    payload = json.dumps(body).encode()
    stamp = int(time.time())
    mac = hmac.new(WEBHOOK_SECRET.encode(), f"{stamp}.".encode() + payload, hashlib.sha256)
    return payload, f"t={stamp},v1={mac.hexdigest()}"


def test_a_challenge_the_player_fails_charges_nothing_and_stripes_word_frees_the_seat(
    stripe_site: tuple[Site, str], page: Page
) -> None:
    site, emulator = stripe_site
    api = Api(site)
    contest = api.contest("fifty_fifty")
    name = f"emil-{site.store}"
    sign_up(page, site, name)
    page.goto(f"{site.url}/web/contests/{contest}")
    pool = site.platform.feed.player_pool(SLATE)
    fill_lineup(page, LineupPicker(pool, TEMPLATE, random.Random(8)).lineup())
    expect(page.locator("#lineup-check")).to_contain_text("Valid lineup")
    fill_card(page, CARD_3DS)
    page.get_by_role("button", name="Pay and join").click()
    page.get_by_role("button", name="Confirm with your bank").click()
    page.get_by_role("button", name="Fail authentication").click()  # the bank's page
    expect(page.locator("#bank-result")).to_contain_text("nothing was charged")
    assert_accessible(page)
    me = api.client.get("/me", headers=api.token(f"{name}@example.com", PASSWORD))
    [entry] = entries_of(site.platform, me.json()["user_id"])
    assert entry.status is EntryStatus.PENDING_ACTION  # holds its seat until Stripe's word
    [intent] = intents_of(emulator, entry.fingerprint)
    assert intent["status"] == "requires_payment_method"  # nothing charged
    assert intent["latest_charge"] is None

    # Stripe's payment_intent.payment_failed (localstripe sends none for a failed
    # challenge: the test posts it, signed as Stripe signs): the seat goes back.
    payload, signature = _signed_event("payment_intent.payment_failed", intent)
    answer = httpx.post(
        f"{site.url}/webhooks/stripe",
        content=payload,
        headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
    )
    assert answer.json()["applied"] is True
    page.goto(f"{site.url}/web/entries/{entry.entry_id}")
    expect(page.locator("#entry-status")).to_have_text("declined")
    expect(
        page.get_by_text(re.compile(r"Payment of \$10\.00 not made .*nothing charged"))
    ).to_be_visible()
    assert contest_summary(site.platform, contest).seats_taken == 0
