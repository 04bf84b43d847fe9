"""Stripe's webhook route: signature checked, each event applied once, forgeries refused."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator

import httpx
import pytest
from api_support import WEBHOOK_SECRET, Api, api_settings, assert_problem, wire
from litestar import Litestar
from litestar.testing import TestClient

from fantasy_core.entries import join_fingerprint
from support.world import World


def signed(payload: bytes, secret: str = WEBHOOK_SECRET, at: int | None = None) -> str:
    stamp = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256)
    return f"t={stamp},v1={mac.hexdigest()}"


def event(event_id: str, kind: str, obj: dict[str, object]) -> bytes:
    body = {
        "id": event_id,
        "object": "event",
        "type": kind,
        "created": int(time.time()),
        "livemode": False,  # the tests' app is a test environment
        "data": {"object": obj},
    }
    return json.dumps(body).encode()


def post(api: Api, payload: bytes, signature: str) -> httpx.Response:
    return api.client.post(
        "/webhooks/stripe",
        content=payload,
        headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
    )


def test_a_confirmed_3d_secure_payment_activates_the_entry_once(api: Api) -> None:
    contest = api.contest()
    ann = api.player("ann")
    pending = api.join(contest, ann, key="3ds", card="pm_card_authenticationRequired").json()
    fingerprint = join_fingerprint(contest, api.user_id(ann), "3ds")
    charge_id = api.world.gateway.charges[fingerprint].charge_id
    payload = event("evt_1", "payment_intent.succeeded", {"id": charge_id})
    first = post(api, payload, signed(payload))
    assert first.status_code == 200
    assert first.json() == {"event_id": "evt_1", "applied": True}
    again = post(api, payload, signed(payload))
    assert again.json() == {"event_id": "evt_1", "applied": False}
    entry = api.client.get(f"/entries/{pending['entry_id']}", headers=ann).json()
    assert entry["status"] == "active"


def test_an_event_type_we_ignore_is_acknowledged(api: Api) -> None:
    payload = event("evt_2", "customer.created", {"id": "cus_1"})
    response = post(api, payload, signed(payload))
    assert response.json() == {"event_id": None, "applied": False}


def test_forged_stale_and_unsigned_webhooks_are_400(api: Api) -> None:
    payload = event("evt_3", "payment_intent.succeeded", {"id": "pi_x"})
    assert_problem(
        post(api, payload, signed(payload, secret="whsec_other")), 400, "invalid-webhook"
    )
    stale = signed(payload, at=int(time.time()) - 3_600)
    assert_problem(post(api, payload, stale), 400, "invalid-webhook")
    assert_problem(post(api, payload, ""), 400, "invalid-webhook")
    tampered = payload.replace(b"pi_x", b"pi_y")
    assert_problem(post(api, tampered, signed(payload)), 400, "invalid-webhook")


@pytest.fixture
def unconfigured() -> Iterator[TestClient[Litestar]]:
    with TestClient(wire(World(), api_settings(stripe_webhook_secret=None))) as client:
        yield client


def test_without_a_webhook_secret_every_webhook_is_refused(
    unconfigured: TestClient[Litestar],
) -> None:
    payload = event("evt_4", "payment_intent.succeeded", {"id": "pi_x"})
    response = unconfigured.post(
        "/webhooks/stripe", content=payload, headers={"Stripe-Signature": signed(payload)}
    )
    assert_problem(response, 503, "webhooks-off")
