"""What the browser tests share: the served site, its operator, axe-core's verdict."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.sync_api import Page, expect

from adapters.clock import ControllableClock
from apps.bootstrap import Services
from fantasy_core.lineups import Lineup
from fantasy_core.platform import Platform

OPERATOR_EMAIL = "ops@example.com"
OPERATOR_PASSWORD = "operator password, long"
SLATE = "nfl-2025-reg-wk01"
PASSWORD = "a browser player's password"


class Site:
    """The app served on loopback over one store, with the clock the test moves."""

    def __init__(self, url: str, services: Services, clock: ControllableClock, store: str) -> None:
        self.url = url
        self.services = services
        self.clock = clock
        self.store = store

    @property
    def platform(self) -> Platform:
        return self.services.platform


def assert_accessible(page: Page) -> None:
    """axe-core finds no serious or critical violation on the page as it stands."""
    found = page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations
                .filter(v => v.impact === "serious" || v.impact === "critical")
                .map(v => `${v.id} (${v.impact}): ${v.help} at ` +
                          v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", "));
        }"""
    )
    assert found == [], f"{page.url}: {found}"


class Api:
    """The JSON API, for what the test arranges around the browser (other players, contests)."""

    def __init__(self, site: Site) -> None:
        self.client = httpx.Client(base_url=site.url, timeout=30)

    def token(self, email: str, password: str) -> dict[str, str]:
        answer = self.client.post("/auth/login", json={"email": email, "password": password})
        answer.raise_for_status()
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    def contest(self, template: str, slate: str = SLATE, **body: Any) -> str:
        operator = self.token(OPERATOR_EMAIL, OPERATOR_PASSWORD)
        answer = self.client.post(
            "/operator/contests",
            json={"template": template, "slate_id": slate, **body},
            headers=operator,
        )
        assert answer.status_code == 201, answer.text
        return str(answer.json()["contest_id"])

    def player(self, name: str) -> dict[str, str]:
        email = f"{name}@example.com"
        born = {"date_of_birth": "1990-05-17", "jurisdiction": "NJ"}
        answer = self.client.post(
            "/auth/register", json={"email": email, "password": PASSWORD, **born}
        )
        assert answer.status_code == 201, answer.text
        headers = self.token(email, PASSWORD)
        account = {"account_id": f"acct_{name.replace('-', '_')}"}
        assert self.client.put("/me/payout-account", json=account, headers=headers).is_success
        return headers

    def join(self, contest: str, headers: dict[str, str], lineup: Lineup, key: str) -> None:
        picks = [{"slot": s, "player_id": p} for s, p in lineup.picks]
        answer = self.client.post(
            f"/contests/{contest}/entries",
            json={"lineup": picks, "payment_method": "pm_card_visa"},
            headers={**headers, "Idempotency-Key": key},
        )
        assert answer.status_code == 201, answer.text


def sign_up(page: Page, site: Site, name: str) -> None:
    page.goto(f"{site.url}/web/signup")
    assert_accessible(page)
    page.get_by_label("Email").fill(f"{name}@example.com")
    page.get_by_label("Display name").fill(name.title())
    page.get_by_label("Date of birth").fill("1990-04-01")
    page.get_by_label("State you live in").select_option("NJ")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_role("heading", name="Lobby")).to_be_visible()


def fill_lineup(page: Page, lineup: Lineup) -> None:
    for index, (_, player_id) in enumerate(lineup.picks):
        page.locator(f"#slot-{index}").select_option(value=player_id)
