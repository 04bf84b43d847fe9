"""The payment gateway on Stripe: PaymentIntents collect fees, Refunds return them, Transfers pay.

Every mutating call sends the core's fingerprint as Stripe's idempotency key and
also stores it in the object's metadata (`join_fingerprint`, `refund_key`,
`payout_fingerprint`), because Stripe forgets idempotency keys after about 24
hours while metadata stays searchable:

- `find_charge` uses the Search API (`metadata['join_fingerprint']:'...'`).
  Search is eventually consistent (normally under a minute): a charge made
  seconds ago may not be found yet. The core tolerates that: a reservation is
  only resolved after a grace period, and a charge that succeeds for an entry
  already abandoned is recorded and refunded when its webhook arrives.
- `find_transfer` lists the transfers of the group (`transfer_group` = the
  contest) and matches the metadata: strongly consistent, works at any age.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, TypeVar

import stripe
from attrs import define, field

from adapters.stripe_gateway.calls import (
    RequestPacer,
    RequestRetry,
    call,
    describe,
    map_error,
    message,
    param,
    response_note,
)
from adapters.stripe_gateway.keys import check_api_key
from fantasy_core.errors import (
    GatewayRequestRefused,
    PaymentOutcomeUnknown,
    PayoutRejected,
    UnknownConnectedAccount,
)
from fantasy_core.money import Money
from fantasy_core.payments import ChargeOutcome, ChargeStatus, RefundOutcome, TransferOutcome
from fantasy_core.payout_accounts import AccountStatus, OnboardingLink

if TYPE_CHECKING:
    from stripe.params import (
        AccountCreateParams,
        AccountLinkCreateParams,
        PaymentIntentCreateParams,
        RefundCreateParams,
        TransferCreateParams,
    )

LOG = logging.getLogger("fantasy.stripe")
CARD_TOKEN_PREFIX = "tok_"  # what Stripe.js's createToken answers for a card

T = TypeVar("T")


@define
class StripeGateway:
    """PaymentGateway on the official SDK. Build it with `for_environment`.

    The StripeClient given here must have `max_network_retries=0`: this class
    owns the retries (see `calls.call`).
    """

    client: stripe.StripeClient
    retry: RequestRetry = field(factory=RequestRetry)
    sleep: Callable[[float], None] = time.sleep
    # Spacing of write and read requests (Stripe limits them separately); None: unpaced.
    writes: RequestPacer | None = None
    reads: RequestPacer | None = None

    @classmethod
    def for_environment(
        cls,
        api_key: str,
        environment: str,
        *,
        base_url: str | None = None,
        timeout_seconds: float = 30.0,
        retry: RequestRetry | None = None,
        sleep: Callable[[float], None] = time.sleep,
        requests_per_second: float | None = None,
    ) -> StripeGateway:
        """A gateway for `environment` ("test" or "production"), refusing the other's keys.

        `base_url` points the API at another server (an emulator in tests).
        `requests_per_second` paces writes and reads, each at that rate (see RequestPacer).
        """
        check_api_key(api_key, environment)
        client = stripe.StripeClient(
            api_key,
            base_addresses={"api": base_url, "connect": base_url} if base_url else None,
            max_network_retries=0,
            http_client=stripe.RequestsClient(timeout=timeout_seconds),
        )
        pace = requests_per_second
        return cls(
            client,
            retry or RequestRetry(),
            sleep,
            writes=None if pace is None else RequestPacer(pace, sleep=sleep),
            reads=None if pace is None else RequestPacer(pace, sleep=sleep),
        )

    def _call(self, operation: str, key: str, attempt: Callable[[], T], lookup: bool = False) -> T:
        pacer = self.reads if lookup else self.writes
        paced = attempt
        if pacer is not None:

            def paced() -> T:
                pacer.wait()
                return attempt()

        return call(operation, key, paced, retry=self.retry, sleep=self.sleep, lookup=lookup)

    def charge(
        self, key: str, amount: Money, payment_method: str, metadata: Mapping[str, str]
    ) -> ChargeOutcome:
        """Create and confirm a PaymentIntent; a decline is an outcome, not an error.

        The PaymentIntent id is the charge id (webhooks name it too). `key` goes
        into the metadata as `join_fingerprint`, overriding any such entry given.
        `payment_method` is a PaymentMethod id (`pm_...`: the web join page's Payment
        Element makes one, decision 0060), used as it is, or a Stripe.js card token
        (`tok_...`), made into a PaymentMethod first. Either way the PaymentIntent is
        created under `key`: the same join sent again is answered by its first outcome.
        """
        params: PaymentIntentCreateParams = {
            "amount": amount.minor,
            "currency": amount.currency,
            "payment_method": payment_method,
            # Cards only, confirmed server-side: no redirect, so no return_url. (API
            # 2026-09-30 replaced the writable `payment_method_types` with this.)
            "allowed_payment_method_types": ["card"],
            "confirm": True,
            "metadata": {**metadata, "join_fingerprint": key},
        }

        def attempt() -> ChargeOutcome:
            try:
                if payment_method.startswith(CARD_TOKEN_PREFIX):
                    params["payment_method"] = self._method_of_token(key, payment_method)
                intent = self.client.v1.payment_intents.create(params, {"idempotency_key": key})
            except stripe.CardError as error:
                return _declined(key, error)
            except stripe.InvalidRequestError as error:
                if not _about_payment_method(error):
                    raise
                # The player's payment method is unusable (unknown, detached, a card
                # token already used): nothing was charged, and the same request would
                # fail the same way.
                return _declined(key, error, default_code="invalid_payment_method")
            LOG.info(
                "stripe charge [%s]: %s is %s (%s)",
                key,
                intent.id,
                intent.status,
                response_note(intent),
            )
            return _outcome(intent)

        return self._call("charge", key, attempt)

    def _method_of_token(self, key: str, token: str) -> str:
        """The PaymentMethod of a Stripe.js card token (`createToken`, which the web join
        page used before the Payment Element, decisions 0053 and 0060; a client of the API
        may still send one), made with Stripe's documented `card[token]`: the card's details
        never reach this server. Under the join's own key (suffixed), so a retried join
        makes it once and its PaymentIntent's request is the same again."""
        made = self.client.v1.payment_methods.create(
            {"type": "card", "card": {"token": token}}, {"idempotency_key": f"{key}:card"}
        )
        return made.id

    def find_charge(self, key: str) -> ChargeOutcome | None:
        """The PaymentIntent made with `key`, found by metadata search (see the module doc)."""
        query = f"metadata['join_fingerprint']:'{_search_literal(key)}'"

        def attempt() -> ChargeOutcome | None:
            found = self.client.v1.payment_intents.search({"query": query, "limit": 10})
            intents = list(found.data)
            LOG.info(
                "stripe find_charge [%s]: %d found (%s)", key, len(intents), response_note(found)
            )
            if not intents:
                return None
            if len(intents) > 1:
                LOG.warning(
                    "stripe find_charge [%s]: %d payment intents carry this fingerprint: %s",
                    key,
                    len(intents),
                    ", ".join(i.id for i in intents),
                )
            return _outcome(max(intents, key=_preference))

        return self._call("find_charge", key, attempt, lookup=True)

    def refund(self, key: str, charge_id: str, amount: Money) -> RefundOutcome:
        """Refund `amount` of the PaymentIntent `charge_id` (in the charge's currency)."""
        params: RefundCreateParams = {
            "payment_intent": charge_id,
            "amount": amount.minor,
            "metadata": {"refund_key": key},
        }

        def attempt() -> RefundOutcome:
            refund = self.client.v1.refunds.create(params, {"idempotency_key": key})
            if refund.status in ("failed", "canceled"):
                # Created but not paid out: no money moved. Stripe replays this
                # answer for the key's lifetime, so it needs a person (alerted).
                failed = GatewayRequestRefused(
                    f"Stripe refund {refund.id} of {charge_id} is {refund.status}: "
                    f"{_text(refund, 'failure_reason') or 'no reason given'}"
                )
                LOG.error("stripe refund [%s]: %s", key, failed)
                raise failed
            LOG.info(
                "stripe refund [%s]: %s is %s (%s)",
                key,
                refund.id,
                refund.status,
                response_note(refund),
            )
            return RefundOutcome(refund.id)

        return self._call("refund", key, attempt)

    def transfer(
        self,
        key: str,
        destination: str,
        amount: Money,
        group: str,
        metadata: Mapping[str, str],
    ) -> TransferOutcome:
        """A Connect transfer to `destination`; `key` is stored as `payout_fingerprint`.

        Raises PayoutRejected when Stripe refuses the destination (no such account,
        or it lacks the transfers capability).
        """
        params: TransferCreateParams = {
            "amount": amount.minor,
            "currency": amount.currency,
            "destination": destination,
            "transfer_group": group,
            "metadata": {**metadata, "payout_fingerprint": key},
        }

        def attempt() -> TransferOutcome:
            try:
                made = self.client.v1.transfers.create(params, {"idempotency_key": key})
            except stripe.InvalidRequestError as error:
                if not _about_destination(error):
                    raise
                LOG.warning("stripe transfer [%s]: destination refused: %s", key, describe(error))
                raise PayoutRejected(
                    f"Stripe refused {destination} as a transfer destination: "
                    f"{message(error) or error.code}"
                ) from error
            LOG.info("stripe transfer [%s]: %s (%s)", key, made.id, response_note(made))
            return TransferOutcome(made.id)

        return self._call("transfer", key, attempt)

    def find_transfer(self, key: str, group: str) -> TransferOutcome | None:
        """The transfer of `group` whose metadata names `key`, at any age."""

        def attempt() -> TransferOutcome | None:
            page = self.client.v1.transfers.list({"transfer_group": group, "limit": 100})
            for made in page.auto_paging_iter():
                if _text(made.metadata, "payout_fingerprint") == key:
                    LOG.info("stripe find_transfer [%s]: %s in group %s", key, made.id, group)
                    return TransferOutcome(made.id)
            LOG.info(
                "stripe find_transfer [%s]: none in group %s (%s)", key, group, response_note(page)
            )
            return None

        return self._call("find_transfer", key, attempt, lookup=True)

    def reverse_transfer(self, key: str, transfer_id: str) -> str:
        """Reverse the whole transfer (Stripe: a transfer reversal), `key` as idempotency key."""

        def attempt() -> str:
            try:
                made = self.client.v1.transfers.reversals.create(
                    transfer_id, {"metadata": {"reversal_key": key}}, {"idempotency_key": key}
                )
            except stripe.InvalidRequestError as error:
                LOG.warning("stripe reverse_transfer [%s]: refused: %s", key, describe(error))
                raise PayoutRejected(
                    f"Stripe refused to reverse {transfer_id}: {message(error) or error.code}"
                ) from error
            LOG.info("stripe reverse_transfer [%s]: %s (%s)", key, made.id, response_note(made))
            return made.id

        return self._call("reverse_transfer", key, attempt)

    def open_account(self, key: str, email: str, country: str, metadata: Mapping[str, str]) -> str:
        """An Express account with the transfers capability requested (Stripe Connect)."""
        params: AccountCreateParams = {
            "type": "express",
            "country": country,
            "email": email,
            "capabilities": {"transfers": {"requested": True}},
            "metadata": {**metadata, "account_key": key},
        }

        def attempt() -> str:
            made = self.client.v1.accounts.create(params, {"idempotency_key": key})
            LOG.info("stripe open_account [%s]: %s (%s)", key, made.id, response_note(made))
            return made.id

        return self._call("open_account", key, attempt)

    def account_status(self, account_id: str) -> AccountStatus:
        def attempt() -> AccountStatus:
            try:
                account = self.client.v1.accounts.retrieve(account_id)
            except stripe.InvalidRequestError as error:
                if error.http_status == 404 or error.code == "resource_missing":
                    raise UnknownConnectedAccount(
                        f"Stripe has no connected account {account_id}"
                    ) from error
                raise
            return _account_status(account)

        return self._call("account_status", account_id, attempt, lookup=True)

    def onboarding_link(self, account_id: str, refresh_url: str, return_url: str) -> OnboardingLink:
        params: AccountLinkCreateParams = {
            "account": account_id,
            "refresh_url": refresh_url,
            "return_url": return_url,
            "type": "account_onboarding",
        }

        def attempt() -> OnboardingLink:
            link = self.client.v1.account_links.create(params)
            return OnboardingLink(link.url, link.expires_at)

        # Creating a link moves no money and each one is new: no idempotency key.
        return self._call("onboarding_link", account_id, attempt)

    def login_link(self, account_id: str) -> OnboardingLink:
        def attempt() -> OnboardingLink:
            try:
                link = self.client.v1.accounts.login_links.create(account_id)
            except stripe.InvalidRequestError as error:
                raise PayoutRejected(
                    f"Stripe gives no login link for {account_id}: {message(error) or error.code}"
                ) from error
            return OnboardingLink(link.url)

        return self._call("login_link", account_id, attempt)

    def check(self) -> None:
        """Retrieve the platform's balance: a read that moves nothing, tried once."""
        if self.reads is not None:
            self.reads.wait()
        try:
            self.client.v1.balance.retrieve()
        except stripe.StripeError as error:
            raise map_error(error, "check") from error


def _account_status(account: stripe.Account) -> AccountStatus:
    requirements = _child(account, "requirements")
    due: set[str] = set()
    for name in ("currently_due", "past_due"):
        listed: object = (
            requirements[name] if requirements is not None and name in requirements else None
        )
        if isinstance(listed, list):
            due.update(x for x in listed if isinstance(x, str))
    return AccountStatus(
        account.id,
        bool(account["payouts_enabled"]) if "payouts_enabled" in account else False,
        bool(account["details_submitted"]) if "details_submitted" in account else False,
        tuple(sorted(due)),
        _text(requirements, "disabled_reason"),
    )


def _outcome(intent: stripe.PaymentIntent) -> ChargeOutcome:
    status = intent.status
    if status == "succeeded":
        return ChargeOutcome(ChargeStatus.SUCCEEDED, intent.id)
    if status in ("requires_action", "processing"):
        # Both end later, by a payment_intent.succeeded or .payment_failed webhook.
        reason = "waiting for the payment to complete" if status == "processing" else None
        return ChargeOutcome(
            ChargeStatus.REQUIRES_ACTION,
            intent.id,
            reason=reason,
            client_secret=_text(intent, "client_secret"),
        )
    if status in ("requires_payment_method", "canceled"):
        error = _child(intent, "last_payment_error")
        code = _text(error, "decline_code") or _text(error, "code") or status
        reason = _text(error, "message") or f"the payment intent is {status}"
        return ChargeOutcome(ChargeStatus.DECLINED, intent.id, code, reason)
    # requires_confirmation / requires_capture: never left so by this adapter.
    unexpected = PaymentOutcomeUnknown(f"Stripe payment intent {intent.id} is {status}, unexpected")
    LOG.error("stripe: %s", unexpected)
    raise unexpected


def _preference(intent: stripe.PaymentIntent) -> tuple[bool, int]:
    # One key makes one PaymentIntent, but after Stripe forgot the key a resend makes
    # another: the one that succeeded is the answer, else the latest.
    return (intent.status == "succeeded", intent.created)


def _declined(
    key: str, error: stripe.CardError | stripe.InvalidRequestError, default_code: str = "declined"
) -> ChargeOutcome:
    detail = error.error
    intent = detail.payment_intent if detail is not None and "payment_intent" in detail else None
    code = _text(detail, "decline_code") or error.code or default_code
    LOG.info("stripe charge [%s]: declined: %s", key, describe(error))
    return ChargeOutcome(
        ChargeStatus.DECLINED,
        intent.id if intent is not None else None,
        code,
        message(error) or "the payment was declined",
    )


def _about_payment_method(error: stripe.InvalidRequestError) -> bool:
    # The PaymentIntent's `payment_method`, or the `card[token]` its PaymentMethod was
    # made from (unknown, or used already: a token works once).
    blamed = param(error) or ""
    return blamed in {"payment_method", "card"} or blamed.startswith("card[")


def _about_destination(error: stripe.InvalidRequestError) -> bool:
    # "No such destination: 'acct_...'" and "Your destination account needs to have
    # at least one of the following capabilities enabled: transfers, ..."
    return param(error) == "destination" or "destination" in (message(error) or "").lower()


def _text(obj: stripe.StripeObject | None, name: str) -> str | None:
    """A string field of a Stripe object, or None when it is absent, null or not a string."""
    if obj is None or name not in obj:
        return None
    value: object = obj[name]
    return value if isinstance(value, str) and value else None


def _child(obj: stripe.StripeObject, name: str) -> stripe.StripeObject | None:
    """A nested Stripe object that may be absent (attribute access would raise)."""
    if name not in obj:  # StripeObject is not a dict: it has no .get
        return None
    value: object = obj[name]
    return value if isinstance(value, stripe.StripeObject) else None


def _search_literal(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")
