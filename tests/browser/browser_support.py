"""What the browser tests share: the served site, its operator, axe-core's verdict."""

from __future__ import annotations

from playwright.sync_api import Page

from adapters.clock import ControllableClock
from apps.bootstrap import Services
from fantasy_core.platform import Platform

OPERATOR_EMAIL = "ops@example.com"
OPERATOR_PASSWORD = "operator password, long"
SLATE = "nfl-2025-reg-wk01"


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
