"""Connect payouts end to end over HTTP, with the Stripe adapter on the emulator: a player
onboards, the emulator's account.updated enables the account, the worker pays the owed prize
with one transfer, a transfer.reversed puts it back to owed with an alert, and re-enabling
pays it once more. The ledger is verified at each step; transfers are counted by the emulator.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import attrs
import httpx
from api_support import BORN, PASSWORD, WEBHOOK_SECRET, api_settings, wire

from adapters.stripe_gateway import RequestRetry, StripeGateway
from fantasy_core.ledger import Movement, payable_account
from fantasy_core.payments import Payout, PayoutStatus
from fantasy_core.usecases.reports import verify_ledger
from support.live_server import serving
from support.stripe_emulator_fixture import API_KEY
from support.world import World

WAIT_SECONDS = 20.0  # the emulator sends each event a second after it happens


def _until(what: str, check: Callable[[], bool]) -> None:
    """Poll until `check` holds (webhooks arrive asynchronously), a bounded number of times."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not check():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.1)


def _register(client: httpx.Client, email: str) -> dict[str, str]:
    body = {"email": email, "password": PASSWORD, **BORN}
    assert client.post("/auth/register", json=body).status_code == 201
    token = client.post("/auth/login", json={"email": email, "password": PASSWORD})
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


class Emulator:
    """The emulator's test controls and its own books (what Stripe did, not what we say)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def register_webhook(self, endpoint: str, events: list[str]) -> None:
        httpx.post(
            f"{self.url}/_config/webhooks/{uuid.uuid4().hex}",
            data={"url": endpoint, "secret": WEBHOOK_SECRET, "events[]": events},
        ).raise_for_status()

    def finish_onboarding(self, account_id: str) -> None:
        httpx.post(
            f"{self.url}/_config/connect/accounts/{account_id}/onboarding",
            json={"payouts_enabled": True},
        ).raise_for_status()

    def reverse(self, transfer_id: str) -> None:
        httpx.post(f"{self.url}/_config/connect/transfers/{transfer_id}/reverse").raise_for_status()

    def transfers_to(self, account_id: str) -> list[dict[str, Any]]:
        found = httpx.get(
            f"{self.url}/v1/transfers",
            params={"destination": account_id, "limit": 100},
            auth=(API_KEY, ""),
        )
        found.raise_for_status()
        return list(found.json()["data"])


def test_an_owed_prize_is_paid_when_enabled_owed_again_when_reversed_and_paid_once_more(
    localstripe_url: str,
) -> None:
    emulator = Emulator(localstripe_url)
    world = World()
    retry = RequestRetry(attempts=3, first_delay=0.01, max_delay=0.01, sleep_budget=1.0)
    gateway = StripeGateway.for_environment(API_KEY, "test", base_url=localstripe_url, retry=retry)
    world.p = attrs.evolve(world.p, gateway=gateway)
    settings = api_settings(public_url="https://play.example")
    with serving(wire(world, settings)) as base, httpx.Client(base_url=base) as client:
        emulator.register_webhook(f"{base}/webhooks/stripe", ["transfer.reversed"])
        emulator.register_webhook(f"{base}/webhooks/stripe/connect", ["account.updated"])
        players = {
            name: _register(client, f"{name}-{uuid.uuid4().hex[:6]}@example.com")
            for name in ("ann", "bob")
        }
        users = {
            name: client.get("/me", headers=h).json()["user_id"] for name, h in players.items()
        }

        # Both start onboarding over HTTP: the platform opens each account and links to it.
        links = {}
        for name, headers in players.items():
            started = client.post(
                "/me/payout-account/onboarding", json={"country": "US"}, headers=headers
            )
            assert started.status_code == 200, started.text
            links[name] = started.json()["url"]
        assert all(url.startswith("https://") for url in links.values())
        again = client.post("/me/payout-account/onboarding", json={}, headers=players["ann"])
        assert again.json()["url"] != links["ann"]  # an expired link: a fresh one

        contest = world.create()
        for n, name in enumerate(players):
            assert world.join(contest, users[name], key=name, variant=n).accepted
        world.play_games()
        world.run()

        def payouts() -> list[Payout]:
            with world.store.unit_of_work() as uow:
                return uow.payouts.for_contest(contest.contest_id)

        def page(name: str) -> dict[str, Any]:
            return dict(client.get("/me/payouts", headers=players[name]).json())

        (prize,) = [x for x in payouts() if x.amount_minor > 0][:1]
        winner = next(name for name in players if users[name] == prize.user_id)
        account_id = page(winner)["account_id"]
        assert account_id.startswith("acct_")

        def ledger_paid() -> int:
            with world.store.unit_of_work() as uow:
                sets = [s for s in uow.ledger.all() if s.contest_id == contest.contest_id]
            paid = sum(s.amount for s in sets if s.movement is Movement.PRIZE_PAID)
            return paid - sum(s.amount for s in sets if s.movement is Movement.PRIZE_REVERSED)

        def payable() -> int:
            report = verify_ledger(world.p)
            assert not report.unbalanced
            with world.store.unit_of_work() as uow:
                return -sum(
                    p.amount.minor
                    for s in uow.ledger.for_contest(contest.contest_id)
                    for p in s.postings
                    if p.account == payable_account(contest.contest_id)
                )

        awarded = sum(x.amount_minor for x in payouts())
        # 1. Owed: nothing sent, the whole prize money a liability, the player told why.
        assert {x.status for x in payouts()} == {PayoutStatus.OWED}
        assert emulator.transfers_to(account_id) == []
        assert (ledger_paid(), payable()) == (0, awarded)
        owed = page(winner)
        assert (owed["state"], owed["owed_minor"]) == ("onboarding", prize.amount_minor)
        assert owed["missing"] == ["finish onboarding"]

        # 2. The player finishes onboarding: the emulator's account.updated enables the
        # account, and the worker pays the owed prize with one transfer.
        emulator.finish_onboarding(account_id)
        _until("the account is enabled", lambda: page(winner)["state"] == "enabled")
        world.run()
        sent = emulator.transfers_to(account_id)
        assert len(sent) == 1
        assert sent[0]["amount"] == prize.amount_minor
        mine = next(x for x in payouts() if x.fingerprint == prize.fingerprint)
        assert (mine.status, mine.transfer_id) == (PayoutStatus.CONFIRMED, sent[0]["id"])
        assert ledger_paid() == prize.amount_minor
        assert payable() == awarded - prize.amount_minor
        world.run()  # paid once: another pass sends nothing
        assert len(emulator.transfers_to(account_id)) == 1

        # 3. The transfer is reversed on Stripe's side: transfer.reversed puts it back to owed.
        emulator.reverse(sent[0]["id"])
        _until(
            "the reversal is applied",
            lambda: (
                next(x for x in payouts() if x.fingerprint == prize.fingerprint).status
                is PayoutStatus.REVERSED
            ),
        )
        assert any(k.startswith("payout-reversed-") for k in world.alerts.raised_keys())
        assert ledger_paid() == 0
        assert payable() == awarded
        reversed_page = page(winner)
        assert (reversed_page["state"], reversed_page["owed_minor"]) == (
            "disabled",
            prize.amount_minor,
        )
        assert reversed_page["prizes"][0]["reversals"] == 1
        world.run()  # owed until the account is enabled again: nothing is sent
        assert len(emulator.transfers_to(account_id)) == 1

        # 4. Enabled again: the prize goes out once more, under a new transfer key.
        emulator.finish_onboarding(account_id)
        _until("the account is enabled again", lambda: page(winner)["state"] == "enabled")
        world.run()
        world.run()
        sent = emulator.transfers_to(account_id)
        assert len(sent) == 2
        assert sum(1 for t in sent if t["reversed"]) == 1
        assert sorted(t["metadata"]["payout_fingerprint"] for t in sent) == [
            prize.fingerprint,
            prize.fingerprint + "/resend-1",
        ]
        assert next(x for x in payouts() if x.fingerprint == prize.fingerprint).status is (
            PayoutStatus.CONFIRMED
        )
        assert ledger_paid() == prize.amount_minor
        assert verify_ledger(world.p).ok
