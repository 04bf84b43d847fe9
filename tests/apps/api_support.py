"""Helpers for the API tests: settings, an app over a World, and short-hands over the client."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from apps.api.app import create_app
from apps.bootstrap import Services, services_for
from apps.settings import Settings
from support.world import SLATE, World, lineup

OPERATOR_EMAIL = "ops@example.com"
OPERATOR_PASSWORD = "operator-password"
WEBHOOK_SECRET = "whsec_test_secret"
PASSWORD = "correct horse battery"
# What registration asks besides the credentials: an adult in New Jersey.
BORN = {"date_of_birth": "1990-05-17", "jurisdiction": "NJ"}
Headers = dict[str, str]


def api_settings(**changes: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": "test",
        "database_url": "memory:",
        "operator_email": OPERATOR_EMAIL,
        "operator_password": OPERATOR_PASSWORD,
        "stripe_webhook_secret": WEBHOOK_SECRET,
        "login_rate_per_minute": 1_000,
        "join_rate_per_minute": 1_000,
    }
    values.update(changes)
    return Settings(**values)


def wire(world: World, settings: Settings) -> Litestar:
    """An app over the world's platform (the world then runs on the app's platform, so what
    its worker passes raise reaches the operators' alert board)."""
    return create_app(settings, services=services_over(world, settings))


def services_over(world: World, settings: Settings) -> Services:
    services = services_for(settings, world.p, getattr(world, "engine", None))
    world.p = services.platform
    return services


class Api:
    """Short-hands over the test client: accounts, tokens, contests and joins."""

    def __init__(self, client: TestClient[Litestar], world: World) -> None:
        self.client = client
        self.world = world
        self._operator: Headers | None = None

    def login(self, email: str, password: str = PASSWORD) -> Headers:
        response = self.client.post("/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def player(self, name: str, display_name: str | None = None) -> Headers:
        email = f"{name}@example.com"
        body = {"email": email, "password": PASSWORD, **BORN}
        if display_name is not None:
            body["display_name"] = display_name
        response = self.client.post("/auth/register", json=body)
        assert response.status_code == 201, response.text
        return self.login(email)

    def user_id(self, headers: Headers) -> str:
        return str(self.client.get("/me", headers=headers).json()["user_id"])

    @property
    def operator(self) -> Headers:
        if self._operator is None:
            self._operator = self.login(OPERATOR_EMAIL, OPERATOR_PASSWORD)
        return self._operator

    def contest(self, template: str = "fifty_fifty", **body: Any) -> str:
        response = self.client.post(
            "/operator/contests",
            json={"template": template, "slate_id": SLATE, **body},
            headers=self.operator,
        )
        assert response.status_code == 201, response.text
        return str(response.json()["contest_id"])

    def join(
        self,
        contest_id: str,
        headers: Headers,
        key: str = "key-1",
        variant: int = 0,
        card: str = "pm_card_visa",
    ) -> Any:
        picks = [{"slot": s, "player_id": p} for s, p in lineup(variant).picks]
        return self.client.post(
            f"/contests/{contest_id}/entries",
            json={"lineup": picks, "payment_method": card},
            headers={**headers, "Idempotency-Key": key},
        )

    def world_lineup_picks(self, variant: int = 0) -> list[tuple[str, str]]:
        return list(lineup(variant).picks)


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"] == f"/problems/{code}", body
    assert body["title"]
    assert "detail" in body
    return body
