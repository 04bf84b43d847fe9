"""The demo's simulated operator and players: seeded lineups, sent through the HTTP API.

Requests are served by the real app (routing, auth, validation, problem details)
through Litestar's in-process client, so the demo needs no free port and stays
deterministic. Webhooks are signed as Stripe signs them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import time
from typing import Any

import httpx
from litestar import Litestar
from litestar.testing import TestClient

from fantasy_core.errors import InvalidLineup
from fantasy_core.lineups import Lineup, PlayerPool, SlatePlayer, sport_template, validate_lineup

PASSWORD = "demo password, not a secret"


class LineupPicker:
    """Valid lineups drawn from the slate's pool by a seeded generator."""

    def __init__(self, pool: PlayerPool, template_name: str, rng: random.Random) -> None:
        self._pool = pool
        self._template = sport_template(template_name)
        self._rng = rng
        players = list(pool.players.values())
        self._choices = [
            [p for p in players if slot.accepts(p.position)] for slot in self._template.slots
        ]

    def lineup(self) -> Lineup:
        for _ in range(500):
            picks: list[tuple[str, str]] = []
            for slot, choices in zip(self._template.slots, self._choices, strict=True):
                taken = {player for _, player in picks}
                player: SlatePlayer = self._rng.choice(
                    [p for p in choices if p.player_id not in taken]
                )
                picks.append((slot.name, player.player_id))
            lineup = Lineup(tuple(picks))
            try:
                validate_lineup(self._template, self._pool, lineup)
            except InvalidLineup:
                continue
            return lineup
        raise RuntimeError("no valid lineup found in 500 draws: is the slate's pool complete?")


class DemoApi:
    """Accounts, tokens and the calls the demo makes, by player name."""

    def __init__(self, client: TestClient[Litestar], webhook_secret: str) -> None:
        self.client = client
        self._webhook_secret = webhook_secret
        self._headers: dict[str, dict[str, str]] = {}
        self.user_ids: dict[str, str] = {}
        self.names: dict[str, str] = {}

    def _checked(self, response: httpx.Response, *expected: int) -> Any:
        if response.status_code not in expected:
            raise RuntimeError(
                f"{response.request.method} {response.request.url.path}: "
                f"{response.status_code} {response.text}"
            )
        return response.json()

    def log_in(self, name: str, email: str, password: str) -> None:
        body = self._checked(
            self.client.post("/auth/login", json={"email": email, "password": password}), 200
        )
        self._headers[name] = {"Authorization": f"Bearer {body['access_token']}"}
        self.user_ids[name] = body["user_id"]
        self.names[body["user_id"]] = name

    def register(self, name: str) -> None:
        email = f"{name}@demo.example"
        body = {"email": email, "password": PASSWORD}
        self._checked(self.client.post("/auth/register", json=body), 201)
        self.log_in(name, email, PASSWORD)

    def create_contest(self, operator: str, template: str, slate_id: str) -> Any:
        body = {"template": template, "slate_id": slate_id}
        response = self.client.post(
            "/operator/contests", json=body, headers=self._headers[operator]
        )
        return self._checked(response, 201)

    def set_payout_account(self, name: str, account_id: str) -> None:
        response = self.client.put(
            "/me/payout-account", json={"account_id": account_id}, headers=self._headers[name]
        )
        self._checked(response, 200)

    def join(
        self, contest_id: str, name: str, lineup: Lineup, card: str, key: str
    ) -> httpx.Response:
        picks = [{"slot": slot, "player_id": player} for slot, player in lineup.picks]
        return self.client.post(
            f"/contests/{contest_id}/entries",
            json={"lineup": picks, "payment_method": card},
            headers={**self._headers[name], "Idempotency-Key": key},
        )

    def withdraw(self, name: str, entry_id: str) -> httpx.Response:
        return self.client.post(f"/entries/{entry_id}/withdraw", headers=self._headers[name])

    def entries(self, name: str) -> Any:
        return self._checked(self.client.get("/me/entries", headers=self._headers[name]), 200)

    def stripe_event(self, event_id: str, kind: str, obj: dict[str, object]) -> Any:
        """Deliver a Stripe event to the webhook route, signed with the endpoint secret."""
        payload = json.dumps(
            {
                "id": event_id,
                "object": "event",
                "type": kind,
                "created": int(time.time()),
                "data": {"object": obj},
            }
        ).encode()
        stamp = int(time.time())
        mac = hmac.new(
            self._webhook_secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256
        )
        response = self.client.post(
            "/webhooks/stripe",
            content=payload,
            headers={
                "Stripe-Signature": f"t={stamp},v1={mac.hexdigest()}",
                "Content-Type": "application/json",
            },
        )
        return self._checked(response, 200)
