"""localstripe (a stateful Stripe emulator, GPL, test-only), extended from outside for our adapter.

Run as a script: `python tests/support/stripe_emulator.py --port 0` listens on
127.0.0.1 (a free port when 0) and prints `listening on <port>` once bound.
localstripe is imported as a library and extended through its own extension
points (its StripeObject base, its aiohttp app, its request helpers); none of its
code is copied. What is emulated here, beyond localstripe 1.15.10, follows
Stripe's documented behaviour:

- Connect accounts: POST /v1/accounts, GET /v1/accounts/{id}. A custom account's
  requested `transfers` capability is active at once. An Express account's is
  inactive until the player finishes onboarding: `details_submitted` and
  `payouts_enabled` false, `requirements.currently_due` listing what Stripe's forms
  ask, `disabled_reason` "requirements.past_due".
- Account Links (POST /v1/account_links, type `account_onboarding`, with refresh and
  return URLs: a new single-use URL each time, expiring in 300 s) and Express login
  links (POST /v1/accounts/{id}/login_links, refused before onboarding is finished).
- Transfer reversals: POST /v1/transfers/{id}/reversals (the whole transfer; a
  second reversal of it is refused) marks the transfer reversed and sends
  `transfer.reversed` (with the transfer's metadata) to the registered webhooks.
- What happens on Stripe's side, as test controls: POST
  /_config/connect/accounts/{id}/onboarding {"payouts_enabled": bool} (the player
  finished the forms; false: a document is still due), POST
  /_config/connect/accounts/{id}/payout_failed {"amount": n} (its bank payout failed),
  each sending the Connect event (`account.updated`, `payout.failed`, with `account`)
  to the registered webhooks; POST /_config/connect/transfers/{id}/reverse (reversed
  from Stripe's dashboard). GET /_config/connect/counts: transfers, reversals,
  account links and login links made.
- Transfers: POST /v1/transfers refuses an unknown destination ("No such
  destination: 'acct_...'") and one lacking the transfers capability, with
  Stripe's messages and `param=destination`; the platform's balance is not
  checked. GET /v1/transfers filters by transfer_group and destination and pages
  with starting_after; GET /v1/transfers/{id}.
- PaymentIntent search: GET /v1/payment_intents/search, for the one query form
  the adapter sends, metadata['key']:'value'. Stripe's search lags writes by up to
  a minute; this one is immediate.
- `allowed_payment_method_types` on PaymentIntent create (API 2026-09-30 removed
  the writable `payment_method_types`), handed to localstripe under its old name.
- `card[token]` on PaymentMethod create: a PaymentMethod of the card that a token of
  localstripe's Stripe.js holds (`createToken`, with the publishable key); a token
  works once, as on Stripe (`token_already_used`).
- Idempotency-Key on POST (localstripe ignores the header): the same key with the
  same body replays the first response, status and body, with
  `Idempotent-Replayed: true`; with another body or path it is refused with an
  `idempotency_error`. A response is kept only when the endpoint ran (2xx, and
  402 declines), not for validation errors, as Stripe does. While a request is
  being processed, another with its key is refused with 409
  `idempotency_key_in_use`, as Stripe does (it never runs the endpoint twice).
- A `Request-Id` header on every response, as Stripe sends.
- Test controls, unauthenticated like localstripe's own /_config routes:
  POST /_config/faults {"lose_replies": n, "rate_limit": n, "retry_after": s}:
    the next n API requests are processed and then the connection is closed
    without a reply; or the next n are refused with 429 and Retry-After.
  POST /_config/faults {"hold_transfers": n}: the next n transfers are made and
    their replies held for two minutes (`held` counts them), so a campaign can kill
    the client after a transfer and before it records it. GET /_config/faults
    reads the counters.
  DELETE /_config/idempotency_keys: forget every key (Stripe prunes after 24 h).
- `card[...]` on PaymentMethod create with the publishable key (`key=pk_...` in the
  form), as Stripe.js's `createPaymentMethod` sends it and Stripe accepts; localstripe
  takes the publishable key only for tokens, sources and its 3-D Secure answers.
- A test double of Stripe.js's Payment Element calls (`stripe_js_double.js`, decision
  0060) at /stripe-js-double/v3/, for the browser tests' FANTASY_STRIPE_JS_URL: it posts
  cards to /v1/payment_methods and 3-D Secure answers to localstripe's own
  /v1/payment_intents/{id}/_authenticate. localstripe's own Stripe.js (Card Element
  only) is left as it is and unused.
- localstripe's store is never loaded from or saved to /tmp/localstripe.pickle,
  so concurrent test runs share nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import secrets
import socket
import time
from pathlib import Path
from typing import Any

from aiohttp import web
from localstripe import server
from localstripe.errors import UserError
from localstripe.resources import (
    Event,
    PaymentIntent,
    PaymentMethod,
    StripeObject,
    store,
    try_convert_to_int,
)
from localstripe.webhooks import schedule_webhook

store.try_load_from_disk = lambda: None
store.dump_to_disk = lambda: None

NO_TRANSFERS = (
    "Your destination account needs to have at least one of the following capabilities "
    "enabled: transfers, crypto_transfers, legacy_payments"
)


def _unexpected(kwargs: dict[str, Any]) -> None:
    if kwargs:
        raise UserError(400, "Unexpected " + ", ".join(kwargs))


ONBOARDING_DUE = ["business_profile.url", "external_account", "tos_acceptance.date"]


class Account(StripeObject):
    object = "account"
    _id_prefix = "acct_"

    def __init__(
        self,
        type: str | None = None,
        country: str | None = None,
        email: str | None = None,
        capabilities: dict[str, Any] | None = None,
        metadata: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        _unexpected(kwargs)
        requested = capabilities or {}
        if type not in (None, "custom", "express", "standard"):
            raise UserError(400, f"Invalid type: {type}", {"param": "type"})
        super().__init__()
        self.type = type or "custom"
        self.country = country or "US"
        self.email = email
        self.metadata = metadata or {}
        wanted = [
            name
            for name, wish in requested.items()
            if isinstance(wish, dict) and str(wish.get("requested")).lower() == "true"
        ]
        # Express and standard accounts are enabled by the player's onboarding, not at once.
        onboarded = self.type == "custom"
        self.capabilities = dict.fromkeys(wanted, "active" if onboarded else "inactive")
        self.details_submitted = onboarded
        self.payouts_enabled = onboarded and "transfers" in self.capabilities
        self.charges_enabled = onboarded and "card_payments" in self.capabilities
        self.requirements = {
            "currently_due": [] if onboarded else list(ONBOARDING_DUE),
            "past_due": [],
            "disabled_reason": None if onboarded else "requirements.past_due",
        }

    def _onboarded(self, payouts_enabled: bool) -> None:
        """The player finished Stripe's forms (with a document still due unless enabled)."""
        self.details_submitted = True
        self.payouts_enabled = payouts_enabled
        self.capabilities = dict.fromkeys(
            self.capabilities, "active" if payouts_enabled else "inactive"
        )
        self.requirements = {
            "currently_due": [] if payouts_enabled else ["individual.verification.document"],
            "past_due": [],
            "disabled_reason": None if payouts_enabled else "requirements.past_due",
        }

    def _bank_payout_failed(self) -> None:
        self.payouts_enabled = False
        self.requirements = {
            "currently_due": ["external_account"],
            "past_due": ["external_account"],
            "disabled_reason": "requirements.past_due",
        }


class AccountLink(StripeObject):
    object = "account_link"
    _id_prefix = "acctlink_"

    def __init__(
        self,
        account: str | None = None,
        refresh_url: str | None = None,
        return_url: str | None = None,
        type: str | None = None,
        **kwargs: Any,
    ) -> None:
        _unexpected(kwargs)
        if store.get(f"account:{account}") is None:
            raise UserError(
                400,
                f"No such account: '{account}'",
                {"code": "resource_missing", "param": "account"},
            )
        if type not in ("account_onboarding", "account_update"):
            raise UserError(400, f"Invalid type: {type}", {"param": "type"})
        for name, url in (("refresh_url", refresh_url), ("return_url", return_url)):
            if not url or not url.startswith(("http://", "https://")):
                raise UserError(400, f"Not a valid URL: {name}", {"param": name})
        super().__init__()
        self.account = account
        self.refresh_url = refresh_url
        self.return_url = return_url
        self.expires_at = self.created + 300
        self.url = f"https://connect.stripe.test/setup/e/{account}/{self.id}"
        COUNTS["account_links"] += 1


class Transfer(StripeObject):
    object = "transfer"
    _id_prefix = "tr_"

    def __init__(
        self,
        amount: Any = None,
        currency: str | None = None,
        destination: str | None = None,
        transfer_group: str | None = None,
        description: str | None = None,
        metadata: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        _unexpected(kwargs)
        amount = try_convert_to_int(amount)
        if type(amount) is not int or amount <= 0 or not currency:
            raise UserError(400, "Bad request")
        account = store.get(f"account:{destination}")
        if account is None:
            raise UserError(
                400,
                f"No such destination: '{destination}'",
                {"code": "resource_missing", "param": "destination"},
            )
        if account.capabilities.get("transfers") != "active":
            raise UserError(400, NO_TRANSFERS, {"param": "destination"})
        super().__init__()
        self.amount = amount
        self.amount_reversed = 0
        self.currency = currency
        self.description = description
        self.destination = destination
        self.metadata = metadata or {}
        self.reversed = False
        self.reversals: dict[str, Any] = {"object": "list", "data": []}
        self.transfer_group = transfer_group
        COUNTS["transfers"] += 1

    def _reverse(self) -> dict[str, Any]:
        """Take the whole transfer back, and tell the platform's webhooks (transfer.reversed)."""
        if self.reversed:
            raise UserError(400, f"Transfer {self.id} is already fully reversed.")
        reversal = {
            "id": "trr_" + secrets.token_hex(7),
            "object": "transfer_reversal",
            "amount": self.amount,
            "currency": self.currency,
            "transfer": self.id,
        }
        self.reversed = True
        self.amount_reversed = self.amount
        self.reversals = {"object": "list", "data": [reversal]}
        COUNTS["reversals"] += 1
        schedule_webhook(Event("transfer.reversed", self))
        return reversal

    @classmethod
    def _api_list_all(
        cls,
        url: str,
        transfer_group: str | None = None,
        destination: str | None = None,
        limit: Any = None,
        starting_after: str | None = None,
        **kwargs: Any,
    ) -> Any:
        _unexpected(kwargs)
        page = super()._api_list_all(url, limit=limit, starting_after=starting_after)
        page._list = [
            t
            for t in page._list
            if transfer_group in (None, t.transfer_group) and destination in (None, t.destination)
        ]
        return page


_create_intent = PaymentIntent._api_create.__func__


def _create_intent_with_allowed_types(
    cls: type, allowed_payment_method_types: Any = None, **data: Any
) -> Any:
    if allowed_payment_method_types is not None:
        data["payment_method_types"] = allowed_payment_method_types
    return _create_intent(cls, **data)


_create_method = PaymentMethod._api_create.__func__
USED_TOKENS: set[str] = set()


def _create_method_from_token(cls: type, card: Any = None, **data: Any) -> Any:
    """`card[token]`: a PaymentMethod of the card a Stripe.js token holds (made by
    localstripe's Stripe.js, createToken, with the publishable key); a token works once."""
    token_id = card.get("token") if isinstance(card, dict) else None
    if token_id is None:
        return _create_method(cls, card=card, **data)
    token = store.get(f"token:{token_id}")
    if token is None:
        raise UserError(
            400,
            f"No such token: '{token_id}'",
            {"code": "resource_missing", "param": "card[token]"},
        )
    if token_id in USED_TOKENS:
        raise UserError(
            400,
            f"You cannot use a Stripe token more than once: {token_id}.",
            {"code": "token_already_used", "param": "card[token]"},
        )
    USED_TOKENS.add(token_id)
    held = token.card
    details = {  # the CVC was checked when the token was made; a token does not keep it
        "number": held._card_number,
        "exp_month": held.exp_month,
        "exp_year": held.exp_year,
        "cvc": "000",
    }
    return _create_method(cls, card=details, **data)


PaymentMethod._api_create = classmethod(_create_method_from_token)
PaymentIntent._api_create = classmethod(_create_intent_with_allowed_types)

_SEARCH = re.compile(r"^metadata\['(?P<key>[^']+)'\]:'(?P<value>(?:[^'\\]|\\.)*)'$")


async def search_payment_intents(request: web.Request) -> web.Response:
    query = request.query.get("query", "").strip()
    match = _SEARCH.match(query)
    if match is None:
        raise UserError(400, f"this emulator only searches metadata['k']:'v', not {query!r}")
    value = re.sub(r"\\(.)", r"\1", match["value"])
    found = [
        intent._export()
        for name, intent in list(store.items())
        if name.startswith("payment_intent:") and intent.metadata.get(match["key"]) == value
    ]
    body = {
        "object": "search_result",
        "url": "/v1/payment_intents/search",
        "has_more": False,
        "next_page": None,
        "data": found,
    }
    return server.json_response(body)


COUNTS = {"transfers": 0, "reversals": 0, "account_links": 0, "login_links": 0}


def _connect_event(kind: str, account: Account, obj: StripeObject | dict[str, Any]) -> None:
    """A Connect event: about a connected account, naming it in `account`."""
    if isinstance(obj, StripeObject):
        event = Event(kind, obj)
    else:
        event = Event(kind, account)
        event.data = {"object": obj}
    event.account = account.id
    schedule_webhook(event)


def _account(request: web.Request) -> Account:
    account = store.get(f"account:{request.match_info['id']}")
    if account is None:
        raise UserError(404, f"No such account: '{request.match_info['id']}'")
    assert isinstance(account, Account)
    return account


def _transfer(request: web.Request) -> Transfer:
    transfer = store.get(f"transfer:{request.match_info['id']}")
    if transfer is None:
        raise UserError(404, f"No such transfer: '{request.match_info['id']}'")
    assert isinstance(transfer, Transfer)
    return transfer


async def create_login_link(request: web.Request) -> web.Response:
    account = _account(request)
    if not account.details_submitted:
        raise UserError(
            400, "Cannot create a login link for an account that has not completed onboarding."
        )
    COUNTS["login_links"] += 1
    return server.json_response(
        {
            "object": "login_link",
            "created": int(time.time()),
            "url": f"https://connect.stripe.test/express/{account.id}/{secrets.token_hex(6)}",
        }
    )


async def create_reversal(request: web.Request) -> web.Response:
    return server.json_response(_transfer(request)._reverse())


async def onboard(request: web.Request) -> web.Response:
    account = _account(request)
    wanted = await request.json()
    account._onboarded(bool(wanted.get("payouts_enabled", True)))
    _connect_event("account.updated", account, account)
    return server.json_response(account._export())


async def payout_failed(request: web.Request) -> web.Response:
    account = _account(request)
    amount = int((await request.json())["amount"])
    account._bank_payout_failed()
    payout = {
        "id": "po_" + secrets.token_hex(7),
        "object": "payout",
        "amount": amount,
        "currency": "usd",
        "status": "failed",
        "failure_code": "account_closed",
        "failure_message": "The bank account has been closed.",
    }
    _connect_event("payout.failed", account, payout)
    _connect_event("account.updated", account, account)
    return server.json_response(payout)


async def reverse_from_dashboard(request: web.Request) -> web.Response:
    return server.json_response(_transfer(request)._reverse())


async def get_counts(_: web.Request) -> web.Response:
    return web.json_response(COUNTS)


FAULTS = {"lose_replies": 0, "rate_limit": 0, "retry_after": 0, "hold_transfers": 0, "held": 0}
# How long a held reply waits: far longer than any campaign needs to kill its client.
HOLD_SECONDS = 120.0
# (authorization, idempotency key) -> (method, path, body, status, response body)
REPLAYS: dict[tuple[str, str], tuple[str, str, bytes, int, bytes]] = {}
IN_FLIGHT: set[tuple[str, str]] = set()


def _is_api(request: web.Request) -> bool:
    return request.path.startswith("/v1/")


STRIPE_JS_DOUBLE = Path(__file__).resolve().parent / "stripe_js_double.js"
STRIPE_JS_DOUBLE_PATH = "/stripe-js-double/v3/"


async def stripe_js_double(_: web.Request) -> web.Response:
    return web.Response(
        text=STRIPE_JS_DOUBLE.read_text(encoding="utf-8"), content_type="application/javascript"
    )


@web.middleware
async def publishable_key_makes_payment_methods(
    request: web.Request, handler: Any
) -> web.StreamResponse:
    """localstripe's authentication, and beside it what Stripe also accepts: POST
    /v1/payment_methods with the publishable key in the form (`key=pk_...`), as
    Stripe.js's createPaymentMethod sends it; the Stripe.js double is public, as
    localstripe's own script. Anything else goes to localstripe's check."""
    if request.method == "GET" and request.path == STRIPE_JS_DOUBLE_PATH:
        script: web.StreamResponse = await handler(request)
        return script
    if (
        request.method == "POST"
        and request.path == "/v1/payment_methods"
        and server.get_api_key(request) is None
    ):
        data = await server.get_post_data(request, remove_auth=False)
        key = data.get("key") if isinstance(data, dict) else None
        if isinstance(key, str) and key.startswith("pk_") and len(key) > len("pk_"):
            response: web.StreamResponse = await handler(request)
            return response
    checked: web.StreamResponse = await server.auth_middleware(request, handler)
    return checked


@web.middleware
async def request_ids(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
    except UserError as error:
        response = error.to_response()
    response.headers["Request-Id"] = "req_" + secrets.token_hex(7)
    return response


@web.middleware
async def faults(request: web.Request, handler: Any) -> web.StreamResponse:
    if not _is_api(request):
        return await handler(request)
    if FAULTS["rate_limit"] > 0:
        FAULTS["rate_limit"] -= 1
        return server.json_response(
            {
                "error": {
                    "type": "invalid_request_error",
                    "code": "rate_limit",
                    "message": "Too many requests hit the API too quickly.",
                }
            },
            status=429,
            headers={"Retry-After": str(FAULTS["retry_after"]), "Stripe-Should-Retry": "true"},
        )
    response: web.StreamResponse = await handler(request)
    transfer = request.method == "POST" and request.path == "/v1/transfers"
    if transfer and FAULTS["hold_transfers"] > 0:
        FAULTS["hold_transfers"] -= 1
        FAULTS["held"] += 1
        # The transfer is made (and its idempotent result kept); its reply waits, so the
        # client can be killed between the transfer and its record, at will.
        await asyncio.sleep(HOLD_SECONDS)
    if FAULTS["lose_replies"] > 0:
        FAULTS["lose_replies"] -= 1
        # The work is done (and its idempotent result kept); the reply never arrives.
        if request.transport is not None:
            request.transport.abort()
    return response


@web.middleware
async def idempotency(request: web.Request, handler: Any) -> web.StreamResponse:
    key = request.headers.get("Idempotency-Key")
    if request.method != "POST" or key is None or not _is_api(request):
        return await handler(request)
    scope = (request.headers.get("Authorization", ""), key)
    body = await request.read()
    stored = REPLAYS.get(scope)
    if stored is not None:
        method, path, first_body, status, text = stored
        if (method, path, first_body) != (request.method, request.path, body):
            return server.json_response(
                {
                    "error": {
                        "type": "idempotency_error",
                        "message": "Keys for idempotent requests can only be used with the "
                        "same parameters they were first used with. Try using a key other "
                        f"than '{key}' if you meant to execute a different request.",
                    }
                },
                status=400,
            )
        return web.Response(
            status=status,
            body=text,
            content_type="application/json",
            headers={"Idempotent-Replayed": "true"},
        )
    if scope in IN_FLIGHT:
        return server.json_response(
            {
                "error": {
                    "type": "invalid_request_error",
                    "code": "idempotency_key_in_use",
                    "message": "There is currently another in-progress request using this "
                    f"Idempotency-Key ({key}). Please try again later.",
                }
            },
            status=409,
        )
    IN_FLIGHT.add(scope)
    try:
        response = await handler(request)
    except UserError as error:
        response = error.to_response()
    finally:
        IN_FLIGHT.discard(scope)
    if (response.status < 300 or response.status == 402) and isinstance(response, web.Response):
        REPLAYS[scope] = (request.method, request.path, body, response.status, response.body)
    return response


async def get_faults(_: web.Request) -> web.Response:
    return web.json_response(FAULTS)


async def set_faults(request: web.Request) -> web.Response:
    wanted = await request.json()
    for name in FAULTS:
        if name in wanted:
            FAULTS[name] = int(wanted[name])
    return web.json_response(FAULTS)


async def forget_idempotency_keys(_: web.Request) -> web.Response:
    REPLAYS.clear()
    return web.Response()


def extend(app: web.Application) -> None:
    for cls in (Account, Transfer):
        plural = f"/v1/{cls.object}s"
        app.router.add_route("POST", plural, server.api_create(cls, plural))
        app.router.add_route("GET", plural + "/{id}", server.api_retrieve(cls, plural + "/{id}"))
        app.router.add_route("GET", plural, server.api_list_all(cls, plural))
    app.router.add_post("/v1/account_links", server.api_create(AccountLink, "/v1/account_links"))
    app.router.add_post("/v1/accounts/{id}/login_links", create_login_link)
    app.router.add_post("/v1/transfers/{id}/reversals", create_reversal)
    app.router.add_post("/_config/connect/accounts/{id}/onboarding", onboard)
    app.router.add_post("/_config/connect/accounts/{id}/payout_failed", payout_failed)
    app.router.add_post("/_config/connect/transfers/{id}/reverse", reverse_from_dashboard)
    app.router.add_get("/_config/connect/counts", get_counts)
    # A plain path is matched before localstripe's /v1/payment_intents/{id}.
    app.router.add_get("/v1/payment_intents/search", search_payment_intents)
    app.router.add_get("/_config/faults", get_faults)
    app.router.add_post("/_config/faults", set_faults)
    app.router.add_delete("/_config/idempotency_keys", forget_idempotency_keys)
    app.router.add_get(STRIPE_JS_DOUBLE_PATH, stripe_js_double)
    app.middlewares[app.middlewares.index(server.auth_middleware)] = (
        publishable_key_makes_payment_methods
    )
    # Innermost last: ids on every reply, faults around the idempotent result.
    app.middlewares.extend([request_ids, faults, idempotency])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    extend(server.app)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    print(f"listening on {sock.getsockname()[1]}", flush=True)
    web.run_app(server.app, sock=sock, print=None, access_log=None)


if __name__ == "__main__":
    main()
