"""Every player and operator page at a phone's width (375 x 740 CSS pixels), on SQLite and on
PostgreSQL: nothing wider than the screen (no sideways scrolling of the page), and every
control of every form on the screen, visible and whole.

Issue 19 asks the pages to be readable on a phone-width screen: the page never scrolls
sideways, no table needs scrolling sideways inside its box (`.scroll`) to show its last
columns (wide tables become one block per row, app.css `table.stacked`), no form's field
or button is hidden or cut off at the edge, and axe-core finds nothing serious at that
width either.
"""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

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

from apps.demo_players import LineupPicker
from fantasy_core.usecases.queries import entries_of
from fantasy_core.usecases.worker import run_once

PHONE = {"width": 375, "height": 740}
TEMPLATE = "draftkings_nfl_classic"
# Every form control a person uses (hidden inputs carry tokens, nobody sees them).
CONTROLS = "form input:not([type=hidden]), form select, form textarea, form button"

MEASURE = """(selector) => {
    const width = window.innerWidth;
    const cut = [];
    for (const el of document.querySelectorAll(selector)) {
        const box = el.getBoundingClientRect();
        const style = getComputedStyle(el);
        const name = el.tagName.toLowerCase() + " " +
            (el.id || el.name || el.textContent.trim().slice(0, 30) || el.outerHTML.slice(0, 60));
        if (box.width === 0 || box.height === 0 || style.visibility !== "visible") {
            cut.push(`${name}: not shown`);
        } else if (box.left < -0.5 || box.right > width + 0.5) {
            cut.push(`${name}: from ${box.left} to ${box.right} of ${width}`);
        }
    }
    const sideways = [];
    for (const box of document.querySelectorAll(".scroll")) {
        if (box.scrollWidth > box.clientWidth + 1) {
            const name = box.getAttribute("aria-label") || box.className;
            sideways.push(`${name}: ${box.scrollWidth} in ${box.clientWidth}`);
        }
    }
    return {
        sideways: sideways,
        scrollWidth: document.documentElement.scrollWidth,
        innerWidth: width,
        controls: document.querySelectorAll(selector).length,
        cut: cut,
    };
}"""


def assert_fits_a_phone(page: Page, shots: Path | None = None, name: str = "") -> int:
    """The page is no wider than the phone and each form control is shown whole on it;
    the number of controls checked."""
    found = page.evaluate(MEASURE, CONTROLS)
    assert found["scrollWidth"] <= found["innerWidth"], (
        f"{page.url}: the page is {found['scrollWidth']} px wide on a "
        f"{found['innerWidth']} px screen"
    )
    assert found["cut"] == [], f"{page.url}: form controls not shown whole: {found['cut']}"
    assert found["sideways"] == [], f"{page.url}: tables scrolled sideways: {found['sideways']}"
    assert_accessible(page)
    if shots is not None:
        page.screenshot(path=str(shots / f"phone-{name}.png"), full_page=True)
    return int(found["controls"])


def test_every_page_fits_a_phone_screen(site: Site, page: Page, screenshots: Path) -> None:
    shots = screenshots if site.store == "sqlite" else None
    api = Api(site)
    contest = api.contest("tournament")
    api.contest("fifty_fifty")
    api.contest("head_to_head")
    pool = site.platform.feed.player_pool(SLATE)
    picker = LineupPicker(pool, TEMPLATE, random.Random(11))
    for n in range(3):
        api.join(contest, api.player(f"phone-other-{site.store}-{n}"), picker.lineup(), f"p{n}")
    page.set_viewport_size(PHONE)
    checked: dict[str, int] = {}

    def check(label: str) -> None:
        checked[label] = assert_fits_a_phone(page, shots, label)

    # Before logging in.
    for label, path in [
        ("signup", "/web/signup"),
        ("login", "/web/login"),
        ("forgot-password", "/web/forgot-password"),
        ("password-reset", "/web/password-reset?token=not-a-token"),
        ("fair-play", "/web/fair-play"),
        ("no-such-contest", "/web/contests/no-such-contest"),
    ]:
        page.goto(site.url + path)
        check(label)

    # A player's pages, the lineup builder filled and the bank's page on the way.
    name = f"phone-{site.store}"
    sign_up(page, site, name)
    check("lobby")
    page.goto(f"{site.url}/web/contests/{contest}")
    fill_lineup(page, picker.lineup())
    expect(page.locator("#lineup-check")).to_contain_text("Valid lineup")
    check("contest")
    page.get_by_label("Card").select_option("pm_card_authenticationRequired")
    page.get_by_role("button", name="Pay and join").click()
    expect(page.get_by_role("heading", name="Your bank asks you to confirm")).to_be_visible()
    check("confirm-payment")
    page.get_by_role("button", name="Confirm the payment").click()
    expect(page.locator("#entry-status")).to_have_text("active")
    check("entry")
    for label, path in [
        ("entries", "/web/entries"),
        ("payouts", "/web/me/payouts"),
        ("protection", "/web/me/protection"),
    ]:
        page.goto(site.url + path)
        check(label)

    # Locked, with points: the live leaderboard and an entry's explanation.
    kickoffs = sorted({g.kickoff for g in site.platform.feed.snapshot(SLATE).games})
    site.clock.set(kickoffs[1] + timedelta(minutes=90))
    run_once(site.platform)
    me = api.client.get("/me", headers=api.token(f"{name}@example.com", PASSWORD))
    [entry] = entries_of(site.platform, me.json()["user_id"])
    page.goto(f"{site.url}/web/contests/{contest}/leaderboard")
    expect(page.locator(".my-points")).to_be_visible()
    check("leaderboard")
    page.goto(f"{site.url}/web/entries/{entry.entry_id}")
    check("entry-locked")
    page.goto(f"{site.url}/web/entries/{entry.entry_id}/explanation")
    expect(page.locator("table.explain tbody tr").first).to_be_visible()
    check("explanation")
    page.get_by_role("button", name=f"Log out {name.title()}").click()

    # The operator's console.
    later = api.contest("league", slate="nfl-2025-reg-wk02")
    site.platform.alert(f"phone-check-{site.store}", "The stats feed answered slowly twice")
    page.goto(f"{site.url}/web/login")
    page.get_by_label("Email").fill(OPERATOR_EMAIL)
    page.get_by_label("Password").fill(OPERATOR_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{site.url}/web/operator")
    expect(page.get_by_role("heading", name="Operator console")).to_be_visible()
    check("console")
    for label, path in [
        ("audit", f"/web/operator/audit?by=contest_id&id={contest}"),
        ("ledger", "/web/operator/ledger"),
        ("cancel", f"/web/operator/contests/{later}/cancel"),
    ]:
        page.goto(site.url + path)
        check(label)

    # Each page had its forms checked (a page that lost its form would pass unseen).
    assert all(checked[p] > 0 for p in ("signup", "contest", "entry", "console", "cancel"))
