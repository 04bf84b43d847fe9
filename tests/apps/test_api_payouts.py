"""A player's payout account over HTTP on the sandbox: onboarding, links, the Connect webhook,
the payouts page."""

from __future__ import annotations

import json
import time

from api_support import Api, assert_problem
from test_api_webhooks import signed

from adapters.sandbox import SandboxGateway
from fantasy_core.money import Money
from fantasy_core.payouts import winner_take_all


def account_updated(event_id: str, account_id: str, livemode: bool = False) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": "account.updated",
            "created": int(time.time()),
            "livemode": livemode,
            "account": account_id,
            "data": {"object": {"id": account_id, "object": "account"}},
        }
    ).encode()


def gateway(api: Api) -> SandboxGateway:
    found = api.world.p.gateway
    assert isinstance(found, SandboxGateway)
    return found


def test_a_player_onboards_through_the_gateway_and_its_word_enables_the_account(
    api: Api,
) -> None:
    ann = api.player("ann")
    before = api.client.get("/me/payouts", headers=ann).json()
    assert (before["state"], before["missing"], before["prizes"]) == (
        "none",
        ["start onboarding"],
        [],
    )
    assert_problem(
        api.client.post("/me/payout-account/login-link", headers=ann), 409, "no-payout-account"
    )
    first = api.client.post("/me/payout-account/onboarding", json={"country": "US"}, headers=ann)
    assert first.status_code == 200, first.text
    again = api.client.post("/me/payout-account/onboarding", json={}, headers=ann)
    assert first.json()["url"] != again.json()["url"]  # a fresh link each time
    (account,) = gateway(api).accounts.values()  # one account, opened by the platform
    assert account.email == "ann@example.com"
    onboarding = api.client.get("/me/payouts", headers=ann).json()
    assert (onboarding["state"], onboarding["account_id"]) == ("onboarding", account.account_id)
    assert_problem(
        api.client.post("/me/payout-account/login-link", headers=ann),
        409,
        "payout-account-refused",
    )

    gateway(api).finish_onboarding(account.account_id)
    payload = account_updated("evt_acct_1", account.account_id)
    for _ in range(2):  # delivered twice: applied once
        delivered = api.client.post(
            "/webhooks/stripe/connect",
            content=payload,
            headers={"Stripe-Signature": signed(payload), "Content-Type": "application/json"},
        )
        assert delivered.status_code == 200, delivered.text
    enabled = api.client.get("/me/payouts", headers=ann).json()
    assert (enabled["state"], enabled["missing"]) == ("enabled", [])
    link = api.client.post("/me/payout-account/login-link", headers=ann)
    assert "/dashboard/" in link.json()["url"]


def test_a_live_event_is_refused_by_a_test_environment(api: Api) -> None:
    payload = account_updated("evt_live", "acct_1", livemode=True)
    refused = api.client.post(
        "/webhooks/stripe/connect",
        content=payload,
        headers={"Stripe-Signature": signed(payload), "Content-Type": "application/json"},
    )
    problem = assert_problem(refused, 400, "invalid-webhook")
    assert "takes test events only" in problem["detail"]


def test_coming_back_from_onboarding_reads_the_account_and_says_what_is_missing(
    api: Api,
) -> None:
    bob = api.player("bob")
    assert_problem(
        api.client.post("/me/payout-account/refresh", headers=bob), 409, "no-payout-account"
    )
    api.client.post("/me/payout-account/onboarding", json={"country": "GB"}, headers=bob)
    (account,) = gateway(api).accounts.values()
    assert account.country == "GB"
    gateway(api).finish_onboarding(account.account_id, enabled=False)
    back = api.client.post("/me/payout-account/refresh", headers=bob).json()
    assert (back["state"], back["missing"]) == ("disabled", ["individual.verification.document"])


def test_a_country_that_is_not_a_code_is_refused(api: Api) -> None:
    ann = api.player("ann")
    refused = api.client.post(
        "/me/payout-account/onboarding", json={"country": "United States"}, headers=ann
    )
    assert refused.status_code == 400
    assert gateway(api).accounts == {}


def test_a_prize_withheld_for_tax_shows_on_the_payouts_api_and_page(api: Api) -> None:
    """Four players at $500, winner take all; nobody gave a W-9: the winner's $1,800 (net
    $1,300, over 2025's $600) is paid $1,368 and $432 withheld (decision 0042)."""
    players = {name: api.player(name) for name in ("ann", "bob", "cat", "dan")}
    ids = {name: api.user_id(headers) for name, headers in players.items()}
    contest = api.world.create(entry_fee=Money(50_000, "usd"), payout=winner_take_all(), capacity=4)
    for n, user_id in enumerate(ids.values()):
        api.world.give_account(user_id)
        assert api.world.join(contest, user_id, key=f"k{n}", variant=n).accepted
    api.world.play_games()
    pages = {name: api.client.get("/me/payouts", headers=h).json() for name, h in players.items()}
    (winner,) = [name for name, page in pages.items() if page["prizes"]]
    page = pages[winner]
    (prize,) = page["prizes"]
    assert (prize["amount_minor"], prize["withheld_minor"], prize["transfer_minor"]) == (
        180_000,
        43_200,
        136_800,
    )
    assert (page["paid_minor"], page["withheld_minor"]) == (136_800, 43_200)
    transfers = api.world.gateway.all_transfers()
    assert [t.amount.minor for t in transfers] == [136_800]
