"""The demo's simulated operator and players: seeded lineups, sent through the HTTP API.

Requests are served by the real app (routing, auth, validation, problem details) in
this process, through httpx's ASGI transport (InProcessClient), so the demo needs no
free port and stays deterministic. Webhooks are signed as Stripe signs them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import time
from contextlib import ExitStack
from functools import partial
from types import TracebackType
from typing import Any, Self

import httpx
from anyio.from_thread import BlockingPortal, start_blocking_portal
from litestar import Litestar

from fantasy_core.errors import InvalidLineup
from fantasy_core.lineups import Lineup, PlayerPool, SlatePlayer, sport_template, validate_lineup

PASSWORD = "demo password, not a secret"


class LineupPicker:
    """Valid lineups drawn from the slate's pool by a seeded generator, under the salary cap
    by construction: each slot draws among the players that leave enough of the cap for the
    cheapest players to fill the slots after it. The teams and games rules are checked
    after the draw (a draw that breaks them is drawn again)."""

    def __init__(self, pool: PlayerPool, template_name: str, rng: random.Random) -> None:
        self._pool = pool
        self._template = sport_template(template_name)
        self._rng = rng
        players = list(pool.players.values())
        self._choices = [
            [p for p in players if slot.accepts(p.position)] for slot in self._template.slots
        ]
        # What the slots from i on cost at the least: the cap must leave that much.
        cheapest = [min(p.salary for p in choices) for choices in self._choices]
        self._reserve = [sum(cheapest[i + 1 :]) for i in range(len(cheapest))]

    def lineup(self) -> Lineup:
        for _ in range(500):
            lineup = self._draw()
            try:
                validate_lineup(self._template, self._pool, lineup)
            except InvalidLineup:
                continue
            return lineup
        raise RuntimeError("no valid lineup found in 500 draws: is the slate's pool complete?")

    def _draw(self) -> Lineup:
        picks: list[tuple[str, str]] = []
        budget = self._template.salary_cap
        for slot, choices, reserve in zip(
            self._template.slots, self._choices, self._reserve, strict=True
        ):
            taken = {player for _, player in picks}
            affordable = [
                p for p in choices if p.player_id not in taken and p.salary <= budget - reserve
            ]
            player: SlatePlayer = self._rng.choice(affordable)
            picks.append((slot.name, player.player_id))
            budget -= player.salary
        return Lineup(tuple(picks))


class InProcessClient:
    """Blocking HTTP calls to an app served in this process, as a server would serve it.

    The app runs on an event loop of its own thread (anyio's blocking portal) with its
    lifespan entered, as under uvicorn; requests reach it through httpx's ASGI transport,
    with no socket. Use it as a context manager: leaving closes the client, ends the
    app's lifespan and stops the loop.
    """

    def __init__(self, app: Litestar, base_url: str = "http://demo.invalid") -> None:
        self._app = app
        self._base_url = base_url
        self._stack = ExitStack()
        self._portal: BlockingPortal | None = None
        self._client: httpx.AsyncClient | None = None

    def __enter__(self) -> Self:
        with ExitStack() as stack:
            portal = stack.enter_context(start_blocking_portal())
            stack.enter_context(portal.wrap_async_context_manager(self._app.lifespan()))
            # One ASGI protocol, typed twice: Litestar's own scope and event types, httpx's
            # plain mappings.
            asgi_app: Any = self._app
            client = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=asgi_app), base_url=self._base_url
            )
            stack.callback(portal.call, client.aclose)
            self._stack = stack.pop_all()
        self._portal, self._client = portal, client
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._portal = self._client = None
        self._stack.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        json: object = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        if self._portal is None or self._client is None:
            raise RuntimeError("an InProcessClient is used inside its `with` block")
        send = partial(
            self._client.request, method, url, json=json, content=content, headers=headers
        )
        return self._portal.call(send)

    def get(self, url: str, *, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.request("GET", url, headers=headers)

    def post(
        self,
        url: str,
        *,
        json: object = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        return self.request("POST", url, json=json, content=content, headers=headers)

    def put(
        self, url: str, *, json: object = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        return self.request("PUT", url, json=json, headers=headers)


class DemoApi:
    """Accounts, tokens and the calls the demo makes, by player name."""

    def __init__(self, client: InProcessClient, webhook_secret: str) -> None:
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

    def register(self, name: str, born: str = "1990-05-17", jurisdiction: str = "NJ") -> None:
        email = f"{name}@demo.example"
        body = {
            "email": email,
            "password": PASSWORD,
            "date_of_birth": born,
            "jurisdiction": jurisdiction,
        }
        self._checked(self.client.post("/auth/register", json=body), 201)
        self.log_in(name, email, PASSWORD)

    def try_register(self, name: str, born: str, jurisdiction: str) -> httpx.Response:
        """A registration that may be refused (its problem is the answer)."""
        body = {
            "email": f"{name}@demo.example",
            "password": PASSWORD,
            "date_of_birth": born,
            "jurisdiction": jurisdiction,
        }
        return self.client.post("/auth/register", json=body)

    def set_limits(self, name: str, limits: dict[str, int | None]) -> Any:
        response = self.client.put("/me/limits", json=limits, headers=self._headers[name])
        return self._checked(response, 200)

    def self_exclude(self, name: str, term: str) -> Any:
        response = self.client.post(
            "/me/self-exclusion", json={"term": term}, headers=self._headers[name]
        )
        return self._checked(response, 200)

    def entry(self, name: str, entry_id: str) -> Any:
        return self._checked(
            self.client.get(f"/entries/{entry_id}", headers=self._headers[name]), 200
        )

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
                "livemode": False,  # the demo runs in a test environment
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
