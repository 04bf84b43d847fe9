"""The web app in headless Chromium, on SQLite and on PostgreSQL: what a player and an
operator do, end to end, with axe-core's check on every page.

One app per module and store (conftest.site): the player's week moves the shared clock,
so the operator's test works on a later week of its own.
"""

from __future__ import annotations

import random
import re
from datetime import timedelta
from pathlib import Path

import httpx
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
from playwright.sync_api import Page, expect

from adapters.feeds.replay import ReplayFeed
from apps.demo_players import LineupPicker
from fantasy_core.lifecycle import ContestState
from fantasy_core.lineups import Lineup
from fantasy_core.scoring import preset
from fantasy_core.usecases.queries import contest_summary, entries_of
from fantasy_core.usecases.worker import run_once

TEMPLATE = "draftkings_nfl_classic"
OTHERS = 6  # players joining the tournament through the API beside the browser's


def lineups_by_points(site: Site) -> list[Lineup]:
    """Valid lineups of the slate, best first by the week's final points (so the browser's
    player, given the best, wins a prize whatever the draw)."""
    pool = site.platform.feed.player_pool(SLATE)
    final = ReplayFeed.recorded(lambda: site.clock.now() + timedelta(days=30)).snapshot(SLATE)
    rules = preset(TEMPLATE)
    points = {line.player_id: rules.score(line.as_dict()) for line in final.lines}
    picker = LineupPicker(pool, TEMPLATE, random.Random(19))
    drawn = {picker.lineup() for _ in range(200)}
    return sorted(drawn, key=lambda lu: (-sum(points.get(p, 0) for p in lu.player_ids), lu.picks))


def run_worker(site: Site) -> None:
    run_once(site.platform)


def test_a_player_signs_up_joins_watches_the_week_live_and_is_paid(
    site: Site, page: Page, screenshots: Path
) -> None:
    api = Api(site)
    best, *rest = lineups_by_points(site)
    tournament = api.contest("tournament")
    api.contest("fifty_fifty")
    api.contest("head_to_head")
    api.contest("double_up")
    for n, lineup in enumerate(rest[-OTHERS:]):  # the weakest draws
        api.join(tournament, api.player(f"other-{site.store}-{n}"), lineup, f"k{n}")

    name = f"ann-{site.store}"
    sign_up(page, site, name)
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: nothing wider than it
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert_accessible(page)
    page.set_viewport_size({"width": 1280, "height": 900})
    if site.store == "sqlite":
        page.screenshot(path=str(screenshots / "lobby.png"), full_page=True)
    page.get_by_role("link", name=re.compile(r"Tournament")).click()
    expect(page.get_by_role("heading", name="Build your lineup and join")).to_be_visible()
    assert_accessible(page)

    # The builder: the core's verdict and the salary left follow each pick (htmx).
    fill_lineup(page, best)
    expect(page.locator("#lineup-check")).to_contain_text("Valid lineup")
    salary = sum(site.platform.feed.player_pool(SLATE).get(p).salary for p in best.player_ids)
    expect(page.locator("#salary-left")).to_have_text(f"${50_000 - salary:,}")
    if site.store == "sqlite":
        builder = page.locator("section[aria-labelledby=builder-h]")
        builder.screenshot(path=str(screenshots / "lineup-builder.png"))

    # A declined card: why, and nothing entered.
    page.get_by_label("Card").select_option("pm_card_chargeDeclined")
    page.get_by_role("button", name="Pay and join").click()
    expect(page.get_by_role("alert")).to_contain_text("generic_decline")
    assert_accessible(page)
    user_id = _user_id(api, name)
    assert [e.status.value for e in entries_of(site.platform, user_id)] == ["declined"]
    assert contest_summary(site.platform, tournament).seats_taken == OTHERS

    # The test card: the entry, active, and its payment.
    page.get_by_label("Card").select_option("pm_card_visa")
    page.get_by_role("button", name="Pay and join").click()
    expect(page.locator("#entry-status")).to_have_text("active")
    expect(page.get_by_text(re.compile(r"Charged \$3\.00"))).to_be_visible()
    assert_accessible(page)
    entry_id = page.url.rsplit("/", 1)[1]
    page.get_by_role("link", name="Limits and breaks").click()
    expect(page.get_by_role("heading", name="Limits and breaks from play")).to_be_visible()
    assert_accessible(page)
    api.client.put(  # prizes need a payout account (onboarding is issue 15's)
        "/me/payout-account",
        json={"account_id": "acct_browser"},
        headers=api.token(f"{name}@example.com", PASSWORD),
    ).raise_for_status()

    # Lock, then the week replays while the page stays open: the points move by themselves.
    kickoffs = sorted({g.kickoff for g in site.platform.feed.snapshot(SLATE).games})
    site.clock.set(kickoffs[0])
    run_worker(site)
    streams: list[str] = []
    page.on("request", lambda r: streams.append(r.url) if "/stream" in r.url else None)
    page.goto(f"{site.url}/web/contests/{tournament}/leaderboard")
    points = page.locator(".my-points")
    expect(points).to_have_text("0")
    page.evaluate("window.stillTheSamePage = true")
    site.clock.set(kickoffs[1] + timedelta(minutes=90))
    run_worker(site)
    expect(points).not_to_have_text("0", timeout=15_000)
    assert page.evaluate("window.stillTheSamePage === true"), "the page reloaded"
    assert streams == [f"{site.url}/contests/{tournament}/leaderboard/stream"]  # the API's SSE
    assert_accessible(page)
    if site.store == "sqlite":
        page.screenshot(path=str(screenshots / "leaderboard.png"), full_page=True)

    page.get_by_role("link", name="explanation").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Score of entry {entry_id}")
    expect(page.locator("table.explain tbody tr").first).to_be_visible()
    assert_accessible(page)

    # The games end, the corrections window passes: settled and paid.
    site.clock.set(kickoffs[-1] + timedelta(hours=3, minutes=1))
    run_worker(site)
    site.clock.advance(timedelta(hours=1, minutes=1))
    for _ in range(4):
        run_worker(site)
        if contest_summary(site.platform, tournament).contest.state is ContestState.PAID:
            break
    assert contest_summary(site.platform, tournament).contest.state is ContestState.PAID
    page.goto(f"{site.url}/web/contests/{tournament}/leaderboard")
    expect(page.get_by_role("columnheader", name="Prize paid")).to_be_visible()
    published = api.client.get(f"/contests/{tournament}/settlement").json()["sha256"]
    expect(page.locator("#snapshot-sha256")).to_have_text(published)
    expect(page.get_by_role("link", name="Download the snapshot")).to_be_visible()
    assert_accessible(page)
    page.goto(f"{site.url}/web/entries/{entry_id}")
    expect(page.get_by_text(re.compile(r"Prize of \$[\d,.]+: "))).to_contain_text("paid")
    page.get_by_role("link", name="Prizes").click()
    expect(page.locator("#payout-state")).to_contain_text("enabled")
    expect(page.get_by_role("cell", name=re.compile(r"^paid"))).to_be_visible()
    assert_accessible(page)


def test_an_operator_acknowledges_an_alert_and_cancels_a_contest(
    site: Site, page: Page, screenshots: Path
) -> None:
    api = Api(site)
    # A later week of its own: the player's test moves the clock through week 1.
    week2 = "nfl-2025-reg-wk02"
    contest = api.contest("league", slate=week2)
    site.platform.alert(f"feed-check-{site.store}", "The stats feed answered slowly twice")
    page.goto(f"{site.url}/web/operator")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()  # operators only
    page.get_by_label("Email").fill(OPERATOR_EMAIL)
    page.get_by_label("Password").fill(OPERATOR_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Operator console")).to_be_visible()
    expect(page.get_by_text("The stats feed answered slowly twice")).to_be_visible()
    assert_accessible(page)
    if site.store == "sqlite":
        page.screenshot(path=str(screenshots / "operator-console.png"), full_page=False)
    page.get_by_role("button", name=f"Acknowledge feed-check-{site.store}").click()
    expect(page.get_by_text("The stats feed answered slowly twice")).to_be_visible()
    expect(page.get_by_role("button", name=f"Acknowledge feed-check-{site.store}")).to_have_count(0)

    page.goto(f"{site.url}/web/operator/contests/{contest}/cancel")
    assert_accessible(page)
    page.get_by_label("Reason").fill("Week 2 replay withdrawn by the provider")
    page.get_by_role("button", name="Cancel the contest").click()
    # The box was not ticked: the browser refuses the form (required), nothing is sent.
    assert contest_summary(site.platform, contest).contest.state is ContestState.SCHEDULED
    page.get_by_label("Yes, cancel this contest").check()
    page.get_by_role("button", name="Cancel the contest").click()
    expect(page.get_by_role("heading", name="Operator console")).to_be_visible()
    cancelled = contest_summary(site.platform, contest).contest
    assert cancelled.state is ContestState.CANCELLED
    assert cancelled.cancel_reason == "Week 2 replay withdrawn by the provider"

    page.goto(f"{site.url}/web/operator/audit?by=contest_id&id={contest}")
    expect(page.get_by_text("Week 2 replay withdrawn by the provider").first).to_be_visible()
    assert_accessible(page)
    page.goto(f"{site.url}/web/operator/ledger")
    expect(page.locator("#ledger-verdict")).to_contain_text("Verified")
    assert_accessible(page)


def _user_id(api: Api, name: str) -> str:
    headers = api.token(f"{name}@example.com", PASSWORD)
    return str(api.client.get("/me", headers=headers).json()["user_id"])


def test_a_player_resets_a_forgotten_password_from_the_mail_and_logs_in_with_it(
    site: Site, page: Page
) -> None:
    name = f"forgetful-{site.store}"
    email = f"{name}@example.com"
    Api(site).player(name)
    page.goto(f"{site.url}/web/login")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", name="Forgot your password")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Mail me a reset link").click()
    expect(page.get_by_role("heading", name="Check your mail")).to_be_visible()
    assert_accessible(page)

    # The mail, from the sandbox's mailbox (the test environment's mail sink).
    mail = httpx.get(f"{site.url}/sandbox/mail", params={"to": email}).json()
    [link] = re.findall(r"https?://\S+/web/password-reset\?token=\S+", mail[-1]["body"])
    page.goto(site.url + link[link.index("/web/") :])  # the mail names the public URL
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    assert_accessible(page)
    new_password = "a password I will remember"
    page.get_by_label("New password").fill(new_password)
    page.get_by_label("The same password again").fill(new_password)
    page.get_by_role("button", name="Set the new password").click()
    expect(page.locator("#reset-done")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(new_password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Lobby")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Log out"))).to_be_visible()

    # The link worked once: opened again, it says so and offers a new one.
    page.goto(site.url + link[link.index("/web/") :])
    expect(page.get_by_role("alert")).to_contain_text("invalid, used or expired")
    expect(page.get_by_role("link", name="Ask for a new link")).to_be_visible()
    assert_accessible(page)


def test_the_pages_the_other_tests_pass_by_are_accessible_too(site: Site, page: Page) -> None:
    """My entries, the sandbox's 3-D Secure page, an error page and the published fair-play
    figures, each checked by axe-core (the other tests go through them without checking,
    or not at all)."""
    week3 = "nfl-2025-reg-wk03"  # after the weeks the other tests move through
    contest = Api(site).contest("fifty_fifty", slate=week3)
    sign_up(page, site, f"dora-{site.store}")
    page.goto(f"{site.url}/web/contests/{contest}")
    pool = site.platform.feed.player_pool(week3)
    fill_lineup(page, LineupPicker(pool, TEMPLATE, random.Random(3)).lineup())
    expect(page.locator("#lineup-check")).to_contain_text("Valid lineup")
    page.get_by_label("Card").select_option("pm_card_authenticationRequired")
    page.get_by_role("button", name="Pay and join").click()
    expect(page.get_by_role("heading", name="Your bank asks you to confirm")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Confirm the payment").click()
    expect(page.locator("#entry-status")).to_have_text("active")
    assert_accessible(page)
    page.get_by_role("link", name="My entries").click()
    expect(page.get_by_role("heading", name="My entries")).to_be_visible()
    expect(page.get_by_role("cell", name="active")).to_be_visible()
    assert_accessible(page)
    page.goto(f"{site.url}/web/contests/no-such-contest")
    expect(page.get_by_role("heading", level=1)).to_contain_text("No such contest")
    assert_accessible(page)
    page.get_by_role("link", name="Fair play figures").click()  # from the footer
    expect(page.get_by_role("heading", level=1)).to_contain_text("Fair play figures")
    assert_accessible(page)
