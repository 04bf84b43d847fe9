"""The PaymentGateway contract, run against every adapter: the sandbox, and Stripe over HTTP.

The Stripe adapter talks to localstripe (a Stripe emulator) started here on a
free 127.0.0.1 port and stopped at the end of the session. localstripe lacks
some of what the adapter uses: tests/support/stripe_emulator.py adds, from
outside, Connect accounts and Transfers, PaymentIntent search by metadata,
`allowed_payment_method_types`, Idempotency-Key replay, and fault injection (lost
replies, 429s, keys forgotten as after 24 hours); its docstring says exactly how.
What the adapter sends beyond that (PaymentIntents, declines, 3-D Secure,
refunds) is localstripe's own behaviour.

Money moved is counted on the server's side: the sandbox's books, or
localstripe's own lists (PaymentIntents and Refunds are localstripe's, Transfers
the extension's).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import stripe
from attrs import define

from adapters.sandbox import SandboxGateway
from adapters.stripe_gateway import RequestRetry, StripeGateway, parse_webhook
from fantasy_core.errors import (
    GatewayAuthError,
    GatewayRequestRefused,
    PaymentOutcomeUnknown,
    PayoutRejected,
    UnknownConnectedAccount,
)
from fantasy_core.money import Money
from fantasy_core.payments import ChargeStatus, PaymentEventKind
from fantasy_core.ports import PaymentGateway
from support.stripe_emulator_fixture import API_KEY

FEE = Money(1_000, "usd")
PRIZE = Money(2_500, "usd")


@define
class GatewayUnderTest:
    """An adapter plus the means to set up its world and read its books."""

    gateway: PaymentGateway
    card_ok: str
    card_declined: str
    card_needs_action: str
    new_destination: Callable[[], str]
    bad_destinations: dict[str, str]  # why -> account id
    charges_with_key: Callable[[str], int]
    refunds_of: Callable[[str], int]
    transfers_in_group: Callable[[str], int]
    lose_replies: Callable[[int], None]
    attempts_per_call: int
    with_refused_credentials: Callable[[], PaymentGateway]
    forget_idempotency_keys: Callable[[], None] | None
    # The player finishing the gateway's onboarding forms (payouts enabled, or not yet).
    finish_onboarding: Callable[[str, bool], None]
    reversals_of: Callable[[str], int]  # how many reversals a transfer has


def _key(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex}"


def _sandbox() -> GatewayUnderTest:
    sandbox = SandboxGateway(disabled_accounts={"acct_disabled"})
    counter = iter(range(1, 1_000_000))

    def lose(n: int) -> None:
        sandbox.lose_next_replies = n

    return GatewayUnderTest(
        gateway=sandbox,
        card_ok="pm_card_visa",
        card_declined="pm_card_chargeDeclined",
        card_needs_action="pm_card_authenticationRequired",
        new_destination=lambda: f"acct_winner{next(counter)}",
        bad_destinations={"disabled account": "acct_disabled", "not an account": "bank_123"},
        charges_with_key=lambda key: sum(1 for c in sandbox.charges.values() if c.key == key),
        refunds_of=lambda cid: sum(1 for _, c, _ in sandbox.refunds.values() if c == cid),
        transfers_in_group=lambda g: sum(1 for t in sandbox.all_transfers() if t.group == g),
        lose_replies=lose,
        attempts_per_call=1,
        with_refused_credentials=lambda: SandboxGateway(auth_broken=True),
        forget_idempotency_keys=sandbox.forget_transfer_keys,
        finish_onboarding=lambda account, enabled: (
            sandbox.finish_onboarding(account, enabled=enabled) and None
        ),
        reversals_of=lambda tid: sum(1 for _, t in sandbox.reversals.values() if t == tid),
    )


def _stripe(url: str) -> GatewayUnderTest:
    retry = RequestRetry(attempts=3, first_delay=0.01, max_delay=0.01, sleep_budget=1.0)
    gateway = StripeGateway.for_environment(API_KEY, "test", base_url=url, retry=retry)
    # A second client reads localstripe's books, independently of the adapter.
    books = stripe.StripeClient(
        API_KEY, base_addresses={"api": url, "connect": url}, max_network_retries=0
    )

    def new_account(capabilities: dict[str, dict[str, bool]]) -> str:
        params = {"type": "custom", "country": "US", "capabilities": capabilities}
        return books.v1.accounts.create(params).id

    def charges_with_key(key: str) -> int:
        intents = books.v1.payment_intents.list({"limit": 100}).auto_paging_iter()
        return sum(1 for i in intents if i.metadata.to_dict().get("join_fingerprint") == key)

    def refunds_of(charge_id: str) -> int:
        return len(books.v1.refunds.list({"payment_intent": charge_id, "limit": 100}).data)

    def transfers_in_group(group: str) -> int:
        return len(books.v1.transfers.list({"transfer_group": group, "limit": 100}).data)

    def lose(n: int) -> None:
        httpx.post(f"{url}/_config/faults", json={"lose_replies": n}).raise_for_status()

    def forget() -> None:
        httpx.delete(f"{url}/_config/idempotency_keys").raise_for_status()

    def finish_onboarding(account: str, enabled: bool) -> None:
        httpx.post(
            f"{url}/_config/connect/accounts/{account}/onboarding",
            json={"payouts_enabled": enabled},
        ).raise_for_status()

    def reversals_of(transfer_id: str) -> int:
        made = books.v1.transfers.retrieve(transfer_id)
        return len(made["reversals"]["data"])

    # localstripe declines 4000000000000341 at charge time and asks 3-D Secure for
    # 4000002760003184; it has no canonical id for the latter, so it is created.
    needs_action = books.v1.payment_methods.create(
        {
            "type": "card",
            "card": {"number": "4000002760003184", "exp_month": 12, "exp_year": 2030, "cvc": "123"},
        }
    ).id
    return GatewayUnderTest(
        gateway=gateway,
        card_ok="pm_card_visa",
        card_declined="pm_card_chargeCustomerFail",
        card_needs_action=needs_action,
        new_destination=lambda: new_account({"transfers": {"requested": True}}),
        bad_destinations={
            "no such account": "acct_doesnotexist",
            "no transfers capability": new_account({}),
        },
        charges_with_key=charges_with_key,
        refunds_of=refunds_of,
        transfers_in_group=transfers_in_group,
        lose_replies=lose,
        attempts_per_call=retry.attempts,
        # localstripe accepts any sk_ key and refuses others with 401, as Stripe
        # refuses a revoked key.
        with_refused_credentials=lambda: StripeGateway.for_environment(
            "rk_test_revoked", "test", base_url=url, retry=retry
        ),
        forget_idempotency_keys=forget,
        finish_onboarding=finish_onboarding,
        reversals_of=reversals_of,
    )


@pytest.fixture(params=["sandbox", "stripe"])
def under_test(request: pytest.FixtureRequest) -> GatewayUnderTest:
    if request.param == "sandbox":
        return _sandbox()
    return _stripe(request.getfixturevalue("localstripe_url"))


def _charge(t: GatewayUnderTest, key: str, card: str | None = None) -> ChargeStatus:
    outcome = t.gateway.charge(key, FEE, card or t.card_ok, {"contest_id": "c1", "user_id": "u1"})
    return outcome.status


# Charges


def test_a_successful_charge_succeeds_with_an_id(under_test: GatewayUnderTest) -> None:
    outcome = under_test.gateway.charge(_key("join"), FEE, under_test.card_ok, {"entry_id": "e1"})
    assert outcome.status is ChargeStatus.SUCCEEDED
    assert outcome.charge_id
    assert outcome.decline_code is None


def test_two_sandbox_gateways_never_give_the_same_payment_id() -> None:
    # Each API process of `fantasy serve --workers N` has its own sandbox, and a server
    # started again on a database has a new one: their ids meet in the entries' unique
    # charge_id column. A counter alone gave both processes pi_sandbox_00000001.
    first, second = SandboxGateway(), SandboxGateway()
    a = first.charge("k1", FEE, "pm_card_visa", {"entry_id": "e1"})
    b = second.charge("k1", FEE, "pm_card_visa", {"entry_id": "e1"})
    assert a.charge_id is not None
    assert b.charge_id is not None
    assert a.charge_id != b.charge_id


def test_the_same_key_charges_once_and_answers_the_same(under_test: GatewayUnderTest) -> None:
    key = _key("join")
    first = under_test.gateway.charge(key, FEE, under_test.card_ok, {"entry_id": "e1"})
    again = under_test.gateway.charge(key, FEE, under_test.card_ok, {"entry_id": "e1"})
    assert again == first
    assert under_test.charges_with_key(key) == 1


def test_a_declined_card_is_an_outcome_with_a_decline_code(under_test: GatewayUnderTest) -> None:
    key = _key("join")
    outcome = under_test.gateway.charge(key, FEE, under_test.card_declined, {"entry_id": "e1"})
    assert outcome.status is ChargeStatus.DECLINED
    assert outcome.decline_code
    assert outcome.reason


def test_a_card_needing_3ds_requires_action(under_test: GatewayUnderTest) -> None:
    outcome = under_test.gateway.charge(
        _key("join"), FEE, under_test.card_needs_action, {"entry_id": "e1"}
    )
    assert outcome.status is ChargeStatus.REQUIRES_ACTION
    assert outcome.charge_id


def test_find_charge_finds_what_a_key_charged(under_test: GatewayUnderTest) -> None:
    key = _key("join")
    made = under_test.gateway.charge(key, FEE, under_test.card_ok, {"entry_id": "e1"})
    assert under_test.gateway.find_charge(key) == made


def test_find_charge_finds_a_decline(under_test: GatewayUnderTest) -> None:
    key = _key("join")
    under_test.gateway.charge(key, FEE, under_test.card_declined, {"entry_id": "e1"})
    found = under_test.gateway.find_charge(key)
    assert found is not None
    assert found.status is ChargeStatus.DECLINED


def test_find_charge_of_an_unused_key_is_none(under_test: GatewayUnderTest) -> None:
    assert under_test.gateway.find_charge(_key("join")) is None


def test_a_lost_reply_then_a_retry_charges_once(under_test: GatewayUnderTest) -> None:
    key = _key("join")
    under_test.lose_replies(under_test.attempts_per_call)  # every attempt of one call
    with pytest.raises(PaymentOutcomeUnknown):
        _charge(under_test, key)
    assert under_test.charges_with_key(key) == 1  # it went through all the same
    assert _charge(under_test, key) is ChargeStatus.SUCCEEDED
    assert under_test.charges_with_key(key) == 1


# Refunds


def test_a_refund_with_the_same_key_refunds_once(under_test: GatewayUnderTest) -> None:
    charge = under_test.gateway.charge(_key("join"), FEE, under_test.card_ok, {"entry_id": "e1"})
    assert charge.charge_id is not None
    key = _key("refund")
    first = under_test.gateway.refund(key, charge.charge_id, FEE)
    again = under_test.gateway.refund(key, charge.charge_id, FEE)
    assert again == first
    assert under_test.refunds_of(charge.charge_id) == 1


# Transfers


def _transfer(t: GatewayUnderTest, key: str, destination: str, group: str) -> str:
    metadata = {"payout_fingerprint": key, "contest_id": group, "entry_id": "e1"}
    return t.gateway.transfer(key, destination, PRIZE, group, metadata).transfer_id


def test_a_transfer_with_the_same_key_transfers_once(under_test: GatewayUnderTest) -> None:
    key, group, winner = _key("payout"), _key("contest"), under_test.new_destination()
    first = _transfer(under_test, key, winner, group)
    again = _transfer(under_test, key, winner, group)
    assert first
    assert again == first
    assert under_test.transfers_in_group(group) == 1


def test_find_transfer_finds_it_by_group_and_fingerprint(under_test: GatewayUnderTest) -> None:
    group, winner = _key("contest"), under_test.new_destination()
    keys = [_key("payout") for _ in range(3)]
    made = [_transfer(under_test, key, winner, group) for key in keys]
    found = [under_test.gateway.find_transfer(key, group) for key in keys]
    assert [f.transfer_id if f else None for f in found] == made


def test_find_transfer_of_an_unknown_payout_is_none(under_test: GatewayUnderTest) -> None:
    key, group = _key("payout"), _key("contest")
    _transfer(under_test, key, under_test.new_destination(), group)
    assert under_test.gateway.find_transfer(_key("payout"), group) is None
    assert under_test.gateway.find_transfer(key, _key("contest")) is None


def test_find_transfer_works_after_the_gateway_forgot_the_key(
    under_test: GatewayUnderTest,
) -> None:
    if under_test.forget_idempotency_keys is None:
        pytest.skip("this gateway never forgets idempotency keys")
    key, group, winner = _key("payout"), _key("contest"), under_test.new_destination()
    made = _transfer(under_test, key, winner, group)
    under_test.forget_idempotency_keys()
    found = under_test.gateway.find_transfer(key, group)
    assert found is not None
    assert found.transfer_id == made
    # Why the core looks up before resending: the key alone no longer protects.
    _transfer(under_test, key, winner, group)
    assert under_test.transfers_in_group(group) == 2


def test_a_transfer_to_a_bad_destination_is_rejected(under_test: GatewayUnderTest) -> None:
    assert len(under_test.bad_destinations) >= 2
    group = _key("contest")
    for why, destination in under_test.bad_destinations.items():
        with pytest.raises(PayoutRejected, match=destination):
            _transfer(under_test, _key("payout"), destination, group)
        assert under_test.transfers_in_group(group) == 0, why


# Connected accounts (Connect Express) and reversals


def _open(t: GatewayUnderTest, key: str | None = None) -> str:
    return t.gateway.open_account(
        key or _key("connect-account"), "ann@example.com", "US", {"user_id": "ann"}
    )


def test_an_account_is_opened_once_per_key_and_waits_for_onboarding(
    under_test: GatewayUnderTest,
) -> None:
    key = _key("connect-account")
    account = _open(under_test, key)
    assert _open(under_test, key) == account
    assert _open(under_test) != account
    status = under_test.gateway.account_status(account)
    assert (status.account_id, status.payouts_enabled, status.details_submitted) == (
        account,
        False,
        False,
    )
    assert "external_account" in status.requirements
    with pytest.raises(PayoutRejected):  # nobody's bank behind it yet
        _transfer(under_test, _key("payout"), account, _key("contest"))


def test_every_onboarding_link_is_a_fresh_one(under_test: GatewayUnderTest) -> None:
    account = _open(under_test)
    links = [
        under_test.gateway.onboarding_link(
            account, "https://play.example/refresh", "https://play.example/return"
        )
        for _ in range(2)
    ]
    assert links[0].url != links[1].url
    assert all(link.url.startswith("https://") for link in links)
    assert all(link.expires_at_epoch is not None for link in links)


def test_onboarding_enables_payouts_and_a_login_link(under_test: GatewayUnderTest) -> None:
    account = _open(under_test)
    with pytest.raises(PayoutRejected):
        under_test.gateway.login_link(account)
    under_test.finish_onboarding(account, False)
    pending = under_test.gateway.account_status(account)
    assert (pending.payouts_enabled, pending.details_submitted) == (False, True)
    assert pending.requirements
    under_test.finish_onboarding(account, True)
    enabled = under_test.gateway.account_status(account)
    assert (enabled.payouts_enabled, enabled.requirements) == (True, ())
    assert under_test.gateway.login_link(account).url.startswith("https://")
    group = _key("contest")
    assert _transfer(under_test, _key("payout"), account, group)
    assert under_test.transfers_in_group(group) == 1


def test_an_unknown_account_is_unknown(under_test: GatewayUnderTest) -> None:
    with pytest.raises(UnknownConnectedAccount):
        under_test.gateway.account_status("no_such_account")


def test_a_reversal_with_the_same_key_reverses_once(under_test: GatewayUnderTest) -> None:
    account = _open(under_test)
    under_test.finish_onboarding(account, True)
    made = _transfer(under_test, _key("payout"), account, _key("contest"))
    key = _key("reverse")
    first = under_test.gateway.reverse_transfer(key, made)
    assert under_test.gateway.reverse_transfer(key, made) == first
    assert under_test.reversals_of(made) == 1
    with pytest.raises(PayoutRejected):  # reversed already: another key takes nothing more
        under_test.gateway.reverse_transfer(_key("reverse"), made)
    assert under_test.reversals_of(made) == 1


# The platform's own account


def test_refused_credentials_are_a_gateway_auth_error(under_test: GatewayUnderTest) -> None:
    refused = under_test.with_refused_credentials()
    with pytest.raises(GatewayAuthError):
        refused.charge(_key("join"), FEE, under_test.card_ok, {})
    with pytest.raises(GatewayAuthError):
        refused.find_transfer(_key("payout"), _key("contest"))


def test_check_returns_when_the_gateway_answers(under_test: GatewayUnderTest) -> None:
    under_test.gateway.check()


def test_check_with_refused_credentials_is_a_gateway_auth_error(
    under_test: GatewayUnderTest,
) -> None:
    with pytest.raises(GatewayAuthError):
        under_test.with_refused_credentials().check()


def test_refunding_an_unknown_charge_is_refused(under_test: GatewayUnderTest) -> None:
    # A refusal moves nothing and is a GatewayUnavailable, which every use case handles.
    with pytest.raises(GatewayRequestRefused):
        under_test.gateway.refund(_key("refund"), "pi_doesnotexist", FEE)


# Stripe only: webhooks as an independent implementation signs them


def test_a_webhook_signed_by_the_emulator_parses_to_the_charge(localstripe_url: str) -> None:
    """localstripe signs its deliveries itself (t=...,v1=HMAC); the adapter must accept them.

    Events of earlier tests may still be on their way (localstripe sends each a
    second later, to every endpoint registered by then): all must verify, and one
    must name this charge.
    """
    secret = "whsec_" + uuid.uuid4().hex
    deliveries: list[tuple[bytes, str]] = []
    seen = threading.Condition()

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.end_headers()
            with seen:
                deliveries.append((body, self.headers["Stripe-Signature"]))
                seen.notify_all()

        def log_message(self, *_: object) -> None:
            pass

    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, kwargs={"poll_interval": 0.02}).start()
    try:
        httpx.post(
            f"{localstripe_url}/_config/webhooks/{uuid.uuid4().hex}",
            data={
                "url": f"http://127.0.0.1:{receiver.server_address[1]}/",
                "secret": secret,
                "events[]": ["payment_intent.succeeded"],
            },
        ).raise_for_status()
        charged = _stripe(localstripe_url).gateway.charge(_key("join"), FEE, "pm_card_visa", {})

        def references() -> list[str | None]:
            events = [parse_webhook(body, signature, secret) for body, signature in deliveries]
            assert all(e and e.kind is PaymentEventKind.CHARGE_SUCCEEDED for e in events)
            return [e.reference if e else None for e in events]

        with seen:
            found = seen.wait_for(lambda: charged.charge_id in references(), timeout=5)
    finally:
        receiver.shutdown()
        receiver.server_close()
    assert found, f"no webhook named {charged.charge_id}; got {references()}"


def _card_token(url: str, number: str) -> str:
    """A card token as Stripe.js's createToken makes it: POST /v1/tokens with the
    publishable key in the form (the web join page's card form, decision 0053)."""
    made = httpx.post(
        f"{url}/v1/tokens",
        data={
            "card[number]": number,
            "card[exp_month]": "12",
            "card[exp_year]": "2030",
            "card[cvc]": "123",
            "key": "pk_test_contract",
        },
    )
    made.raise_for_status()
    token = made.json()["id"]
    assert token.startswith("tok_")
    return str(token)


def _payment_method(url: str, number: str) -> str:
    """A PaymentMethod as Stripe.js's createPaymentMethod makes it from the Payment Element:
    POST /v1/payment_methods with the publishable key in the form (decision 0060)."""
    made = httpx.post(
        f"{url}/v1/payment_methods",
        data={
            "type": "card",
            "card[number]": number,
            "card[exp_month]": "12",
            "card[exp_year]": "30",
            "card[cvc]": "123",
            "billing_details[address][postal_code]": "07030",
            "key": "pk_test_contract",
        },
    )
    made.raise_for_status()
    method = made.json()["id"]
    assert method.startswith("pm_")
    return str(method)


def test_a_payment_method_from_the_payment_element_is_charged_once_and_may_ask_3ds(
    localstripe_url: str,
) -> None:
    gateway = _stripe(localstripe_url).gateway
    method = _payment_method(localstripe_url, "4242424242424242")
    key = _key("join")
    paid = gateway.charge(key, FEE, method, {"entry_id": "e1"})
    assert paid.status is ChargeStatus.SUCCEEDED
    assert gateway.charge(key, FEE, method, {"entry_id": "e1"}) == paid  # the key's replay
    found = httpx.get(
        f"{localstripe_url}/v1/payment_intents/search",
        params={"query": f"metadata['join_fingerprint']:'{key}'"},
        auth=(API_KEY, ""),
    ).json()["data"]
    assert [(i["id"], i["payment_method"]) for i in found] == [(paid.charge_id, method)]

    challenged = gateway.charge(
        _key("join"), FEE, _payment_method(localstripe_url, "4000002760003184"), {}
    )
    assert challenged.status is ChargeStatus.REQUIRES_ACTION
    assert challenged.client_secret is not None
    declined = gateway.charge(
        _key("join"), FEE, _payment_method(localstripe_url, "4000000000000341"), {}
    )
    assert declined.status is ChargeStatus.DECLINED
    assert declined.decline_code == "card_declined"


def test_the_publishable_key_makes_payment_methods_and_nothing_else(localstripe_url: str) -> None:
    """The emulator lets the publishable key through where Stripe does (Stripe.js's
    createPaymentMethod) and nowhere else: an intent still needs the secret key."""
    refused = httpx.post(
        f"{localstripe_url}/v1/payment_intents",
        data={"amount": "300", "currency": "usd", "key": "pk_test_contract"},
    )
    assert refused.status_code == 401
    anonymous = httpx.post(
        f"{localstripe_url}/v1/payment_methods",
        data={"type": "card", "card[number]": "4242424242424242"},
    )
    assert anonymous.status_code == 401


def test_a_card_token_from_stripe_js_is_charged_once_and_may_ask_3ds(localstripe_url: str) -> None:
    gateway = _stripe(localstripe_url).gateway
    token = _card_token(localstripe_url, "4242424242424242")
    key = _key("join")
    paid = gateway.charge(key, FEE, token, {"entry_id": "e1"})
    assert paid.status is ChargeStatus.SUCCEEDED
    assert gateway.charge(key, FEE, token, {"entry_id": "e1"}) == paid  # the key's replay
    reused = gateway.charge(_key("join"), FEE, token, {"entry_id": "e2"})
    assert reused.status is ChargeStatus.DECLINED  # a token works once: nothing charged
    assert reused.decline_code == "token_already_used"
    assert reused.charge_id is None

    challenged = gateway.charge(
        _key("join"), FEE, _card_token(localstripe_url, "4000002760003184"), {"entry_id": "e3"}
    )
    assert challenged.status is ChargeStatus.REQUIRES_ACTION
    assert challenged.client_secret is not None
    declined = gateway.charge(
        _key("join"), FEE, _card_token(localstripe_url, "4000000000000341"), {"entry_id": "e4"}
    )
    assert declined.status is ChargeStatus.DECLINED
