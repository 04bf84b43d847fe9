"""A deterministic in-process payment gateway that keeps books like a payment provider would.

Payment methods are test tokens named after Stripe's test PaymentMethods, each with
a fixed behaviour (see TEST_CARDS). Connected accounts are any id starting with
"acct_" unless disabled; accounts the platform opens here go through onboarding as
Stripe's Express accounts do, and a test (or the demo) plays the player finishing the
forms (`finish_onboarding`) and the bank refusing a payout (`fail_bank_payout`).
Every call is recorded, and money actually moved is counted separately from calls,
so tests can prove nothing was charged or paid twice.
Faults can be injected: the next reply lost after the work was done, the gateway
unreachable, the platform's credentials refused; and `after_call` lets a test act
(say, arm a crash of the caller's next commit) the moment a call answers.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from attrs import define, field

from fantasy_core.errors import (
    GatewayAuthError,
    GatewayRequestRefused,
    GatewayUnavailable,
    PaymentOutcomeUnknown,
    PayoutRejected,
    UnknownConnectedAccount,
)
from fantasy_core.money import Money
from fantasy_core.payments import (
    ChargeOutcome,
    ChargeStatus,
    PaymentEvent,
    PaymentEventKind,
    RefundOutcome,
    TransferOutcome,
)
from fantasy_core.payout_accounts import AccountStatus, OnboardingLink

# A connected account id that names an account whose bank refuses every transfer (as an
# account closed at Stripe would): tests and the demo attach it to see a refused payout.
REFUSING_ACCOUNT_PREFIX = "acct_refuses_"

# What the sandbox's onboarding asks for before an account is enabled, as Stripe's does.
ONBOARDING_REQUIREMENTS = ("business_profile.url", "external_account", "tos_acceptance.date")
LINK_SECONDS = 300  # an account link's life, as Stripe's

SUCCEED = "pm_card_visa"
DECLINE = "pm_card_chargeDeclined"
INSUFFICIENT_FUNDS = "pm_card_chargeDeclinedInsufficientFunds"
REQUIRES_ACTION = "pm_card_authenticationRequired"
TIMEOUT_AFTER_SUCCESS = "pm_card_timeoutAfterSuccess"

TEST_CARDS: Mapping[str, str] = {
    SUCCEED: "charges succeed",
    DECLINE: "declined: generic_decline",
    INSUFFICIENT_FUNDS: "declined: insufficient_funds",
    REQUIRES_ACTION: "needs the player's confirmation (3-D Secure): the join answers 202 with "
    "the payment's client secret; confirm or fail it with the sandbox's confirm route",
    TIMEOUT_AFTER_SUCCESS: "the charge succeeds but the reply is lost (PaymentOutcomeUnknown)",
}


_CARD_STATUS: Mapping[str, ChargeStatus] = {
    SUCCEED: ChargeStatus.SUCCEEDED,
    TIMEOUT_AFTER_SUCCESS: ChargeStatus.SUCCEEDED,
    DECLINE: ChargeStatus.DECLINED,
    INSUFFICIENT_FUNDS: ChargeStatus.DECLINED,
    REQUIRES_ACTION: ChargeStatus.REQUIRES_ACTION,
}


@runtime_checkable
class SandboxPayments(Protocol):
    """A gateway whose payments the sandbox's 3-D Secure page confirms: a SandboxGateway,
    or a gateway forwarding to one in another process (apps.lane.LaneGateway)."""

    def confirm(self, charge_id: str, client_secret: str, succeeded: bool) -> PaymentEvent:
        """Pass or fail the challenge of the payment `charge_id` waits on, with its secret."""
        ...


@define
class Charge:
    charge_id: str
    key: str
    amount: Money
    status: ChargeStatus
    payment_method: str
    metadata: dict[str, str] = field(factory=dict)
    refunded: int = 0


@define
class Transfer:
    transfer_id: str
    key: str
    destination: str
    amount: Money
    group: str
    metadata: dict[str, str]


@define
class ConnectedAccount:
    account_id: str
    key: str
    email: str
    country: str
    metadata: dict[str, str]
    details_submitted: bool = False
    payouts_enabled: bool = False
    requirements: tuple[str, ...] = ONBOARDING_REQUIREMENTS
    disabled_reason: str | None = "requirements.past_due"

    def status(self) -> AccountStatus:
        return AccountStatus(
            self.account_id,
            self.payouts_enabled,
            self.details_submitted,
            self.requirements,
            self.disabled_reason,
        )


@define
class SandboxGateway:
    """The sandbox. Thread-safe; ids are sequential so runs are reproducible."""

    disabled_accounts: set[str] = field(factory=set)
    lose_next_replies: int = 0  # the next N calls do their work, then the reply is lost
    unavailable: bool = False  # every call fails before doing anything
    auth_broken: bool = False  # the platform's credentials are refused
    # Called with (call, key) as a charge, refund or transfer answers (its work done,
    # its reply not lost), under the gateway's lock: a test's hook, e.g. to arm a crash.
    after_call: Callable[[str, str], None] | None = None
    calls: list[tuple[str, str]] = field(factory=list)
    charges: dict[str, Charge] = field(factory=dict)  # by idempotency key
    refunds: dict[str, tuple[str, str, Money]] = field(factory=dict)  # key -> (id, charge, amt)
    transfers: dict[str, Transfer] = field(factory=dict)  # by idempotency key
    reversals: dict[str, tuple[str, str]] = field(factory=dict)  # key -> (id, transfer id)
    accounts: dict[str, ConnectedAccount] = field(factory=dict)  # by account id
    # Events the gateway sends of its own accord after a call (a reversal's
    # transfer.reversed), until a test delivers them: `sent_events`.
    outbox: list[PaymentEvent] = field(factory=list)
    # Where the sandbox's onboarding pages live (the API's sandbox routes in a test app).
    pages_url: str = "https://sandbox.invalid/connect"
    forgotten_transfers: list[Transfer] = field(factory=list)  # made under forgotten keys
    _lock: threading.Lock = field(factory=threading.Lock)
    _counter: int = 0
    # Ids are unique across gateways: each API process of `fantasy serve --workers N` has
    # its own, and so has a server started again on the same database; a counter alone
    # gave two of them the same payment id (the entries' unique charge_id refused it).
    _instance: str = field(factory=lambda: secrets.token_hex(4))

    def _next_id(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}_sandbox_{self._instance}_{self._counter:08d}"

    def _enter(self, call: str, key: str) -> None:
        self.calls.append((call, key))
        if self.unavailable:
            raise GatewayUnavailable(f"sandbox: {call} refused, gateway unreachable")
        if self.auth_broken:
            raise GatewayAuthError("sandbox: the platform's API key was refused")

    def _reply(self, call: str, key: str) -> None:
        if self.lose_next_replies > 0:
            self.lose_next_replies -= 1
            raise PaymentOutcomeUnknown(f"sandbox: the reply to {call} was lost")
        if self.after_call is not None:
            self.after_call(call, key)

    def charge(
        self, key: str, amount: Money, payment_method: str, metadata: Mapping[str, str]
    ) -> ChargeOutcome:
        with self._lock:
            self._enter("charge", key)
            existing = self.charges.get(key)
            if existing is None:
                existing = self._new_charge(key, amount, payment_method, metadata)
                if payment_method == TIMEOUT_AFTER_SUCCESS:
                    raise PaymentOutcomeUnknown(
                        "sandbox: the charge went through, the reply didn't"
                    )
            self._reply("charge", key)
            return _outcome(existing)

    def _new_charge(
        self, key: str, amount: Money, payment_method: str, metadata: Mapping[str, str]
    ) -> Charge:
        if not amount.is_positive:
            raise GatewayRequestRefused(f"sandbox: refusing to charge {amount}")
        status = _CARD_STATUS.get(payment_method, ChargeStatus.DECLINED)
        charge = Charge(self._next_id("pi"), key, amount, status, payment_method, dict(metadata))
        self.charges[key] = charge
        return charge

    def find_charge(self, key: str) -> ChargeOutcome | None:
        with self._lock:
            self._enter("find_charge", key)
            charge = self.charges.get(key)
            return None if charge is None else _outcome(charge)

    def complete_action(self, key: str, succeeded: bool, event_id: str) -> PaymentEvent:
        """The user finished (or failed) 3-D Secure: the webhook event the provider would send."""
        with self._lock:
            return self._complete(self.charges[key], succeeded, event_id)

    def confirm(self, charge_id: str, client_secret: str, succeeded: bool) -> PaymentEvent:
        """What the player's browser does with the client secret: pass (or fail) 3-D Secure.

        The event is the one Stripe would sign and send (`payment_intent.succeeded` or
        `.payment_failed`), its id fixed by the charge and the outcome. Raises
        InvalidClientSecret for a secret that is not this charge's, and NoActionPending for
        a charge that needs no action (already confirmed or failed).
        """
        with self._lock:
            charge = next((c for c in self.charges.values() if c.charge_id == charge_id), None)
            if charge is None or not hmac.compare_digest(client_secret, _secret_of(charge)):
                raise InvalidClientSecret(f"no payment {charge_id} with this client secret")
            outcome = "succeeded" if succeeded else "failed"
            return self._complete(charge, succeeded, f"evt_sandbox_{charge_id}_{outcome}")

    def _complete(self, charge: Charge, succeeded: bool, event_id: str) -> PaymentEvent:
        """Under the lock: end a charge's action and give the event that says how."""
        if charge.status is not ChargeStatus.REQUIRES_ACTION:
            raise NoActionPending(
                f"payment {charge.charge_id} waits on no confirmation: it is {charge.status.value}"
            )
        charge.status = ChargeStatus.SUCCEEDED if succeeded else ChargeStatus.DECLINED
        kind = PaymentEventKind.CHARGE_SUCCEEDED if succeeded else PaymentEventKind.CHARGE_FAILED
        return PaymentEvent(event_id, kind, charge.charge_id, datetime.now(UTC))

    def refund(self, key: str, charge_id: str, amount: Money) -> RefundOutcome:
        with self._lock:
            self._enter("refund", key)
            existing = self.refunds.get(key)
            if existing is None:
                charge = next((c for c in self.charges.values() if c.charge_id == charge_id), None)
                if charge is None or charge.status is not ChargeStatus.SUCCEEDED:
                    raise GatewayRequestRefused(
                        f"sandbox: no succeeded charge {charge_id} to refund"
                    )
                if charge.refunded + amount.minor > charge.amount.minor:
                    raise GatewayRequestRefused(f"sandbox: refund exceeds charge {charge_id}")
                charge.refunded += amount.minor
                existing = (self._next_id("re"), charge_id, amount)
                self.refunds[key] = existing
            self._reply("refund", key)
            return RefundOutcome(existing[0])

    def transfer(
        self,
        key: str,
        destination: str,
        amount: Money,
        group: str,
        metadata: Mapping[str, str],
    ) -> TransferOutcome:
        with self._lock:
            self._enter("transfer", key)
            existing = self.transfers.get(key)
            if existing is None:
                opened = self.accounts.get(destination)
                if (
                    not destination.startswith("acct_")
                    or destination.startswith(REFUSING_ACCOUNT_PREFIX)
                    or destination in self.disabled_accounts
                    or (opened is not None and not opened.payouts_enabled)
                ):
                    raise PayoutRejected(f"sandbox: {destination} cannot receive transfers")
                existing = Transfer(
                    self._next_id("tr"), key, destination, amount, group, dict(metadata)
                )
                self.transfers[key] = existing
            self._reply("transfer", key)
            return TransferOutcome(existing.transfer_id)

    def find_transfer(self, key: str, group: str) -> TransferOutcome | None:
        """Searches by group and metadata, as after Stripe forgot the idempotency key."""
        with self._lock:
            self._enter("find_transfer", key)
            for transfer in [*self.transfers.values(), *self.forgotten_transfers]:
                if transfer.group == group and transfer.metadata.get("payout_fingerprint") == key:
                    return TransferOutcome(transfer.transfer_id)
            return None

    def reverse_transfer(self, key: str, transfer_id: str) -> str:
        with self._lock:
            self._enter("reverse_transfer", key)
            existing = self.reversals.get(key)
            if existing is None:
                transfer = self._transfer_by_id(transfer_id)
                if transfer is None:
                    raise PayoutRejected(f"sandbox: no transfer {transfer_id}")
                if any(t == transfer_id for _, t in self.reversals.values()):
                    raise PayoutRejected(f"sandbox: transfer {transfer_id} is reversed already")
                existing = (self._next_id("trr"), transfer_id)
                self.reversals[key] = existing
                self.outbox.append(
                    PaymentEvent(
                        f"evt_sandbox_{existing[0]}",
                        PaymentEventKind.TRANSFER_REVERSED,
                        transfer_id,
                        datetime.now(UTC),
                        "reversed by the platform",
                        transfer_key=transfer.metadata.get("payout_fingerprint"),
                    )
                )
            self._reply("reverse_transfer", key)
            return existing[0]

    def sent_events(self) -> list[PaymentEvent]:
        """The events the gateway sent since last asked (each delivered once here)."""
        with self._lock:
            sent, self.outbox = self.outbox, []
            return sent

    def _transfer_by_id(self, transfer_id: str) -> Transfer | None:
        return next((t for t in self.all_transfers() if t.transfer_id == transfer_id), None)

    def open_account(self, key: str, email: str, country: str, metadata: Mapping[str, str]) -> str:
        with self._lock:
            self._enter("open_account", key)
            found = next((a for a in self.accounts.values() if a.key == key), None)
            if found is None:
                if len(country) != 2 or not country.isalpha() or not country.isupper():
                    raise GatewayRequestRefused(f"sandbox: {country!r} is not a country code")
                found = ConnectedAccount(self._next_id("acct"), key, email, country, dict(metadata))
                self.accounts[found.account_id] = found
            self._reply("open_account", key)
            return found.account_id

    def account_status(self, account_id: str) -> AccountStatus:
        """An account opened here as its onboarding left it; any other "acct_" id (attached
        by hand in a test) enabled unless it is among `disabled_accounts`."""
        with self._lock:
            self._enter("account_status", account_id)
            opened = self.accounts.get(account_id)
            if opened is not None:
                return opened.status()
            if not account_id.startswith("acct_"):
                raise UnknownConnectedAccount(f"sandbox: no connected account {account_id}")
            if account_id in self.disabled_accounts:
                return AccountStatus(
                    account_id, False, True, ("external_account",), "requirements.past_due"
                )
            return AccountStatus(account_id, True, True)

    def _account(self, account_id: str) -> ConnectedAccount:
        account = self.accounts.get(account_id)
        if account is None and account_id.startswith("acct_"):
            # Attached by hand in a test environment: onboarded, enabled unless disabled.
            enabled = account_id not in self.disabled_accounts
            account = ConnectedAccount(account_id, "", "", "US", {}, True, enabled)
            account.requirements = () if enabled else ("external_account",)
            account.disabled_reason = None if enabled else "requirements.past_due"
        if account is None:
            raise UnknownConnectedAccount(f"sandbox: no connected account {account_id}")
        return account

    def onboarding_link(self, account_id: str, refresh_url: str, return_url: str) -> OnboardingLink:
        with self._lock:
            self._enter("onboarding_link", account_id)
            self._account(account_id)
            self._counter += 1
            return OnboardingLink(
                f"{self.pages_url}/onboarding/{account_id}/{self._counter}",
                int(datetime.now(UTC).timestamp()) + LINK_SECONDS,
            )

    def login_link(self, account_id: str) -> OnboardingLink:
        with self._lock:
            self._enter("login_link", account_id)
            account = self._account(account_id)
            if not account.details_submitted:
                raise PayoutRejected(f"sandbox: {account_id} has not finished onboarding")
            self._counter += 1
            return OnboardingLink(f"{self.pages_url}/dashboard/{account_id}/{self._counter}")

    # What the player and their bank do on the gateway's side, each answered with the
    # event the gateway would send to the platform's Connect webhook endpoint.

    def finish_onboarding(self, account_id: str, *, enabled: bool = True) -> PaymentEvent:
        """The player filled in the forms: payouts enabled (or still needing a document)."""
        with self._lock:
            account = self._account(account_id)
            account.details_submitted = True
            account.payouts_enabled = enabled
            account.requirements = () if enabled else ("individual.verification.document",)
            account.disabled_reason = None if enabled else "requirements.past_due"
            return self._account_event(account)

    def disable_account(self, account_id: str, requirement: str) -> PaymentEvent:
        """The gateway needs something more: payouts off until the player provides it."""
        with self._lock:
            account = self._account(account_id)
            account.payouts_enabled = False
            account.requirements = (requirement,)
            account.disabled_reason = "requirements.past_due"
            return self._account_event(account)

    def _account_event(self, account: ConnectedAccount) -> PaymentEvent:
        self._counter += 1
        return PaymentEvent(
            f"evt_sandbox_account_{self._counter:08d}",
            PaymentEventKind.ACCOUNT_UPDATED,
            account.account_id,
            datetime.now(UTC),
        )

    def reverse_on_gateway(self, transfer_id: str, reason: str) -> PaymentEvent:
        """The gateway (or an operator in its dashboard) reversed a transfer."""
        with self._lock:
            transfer = self._transfer_by_id(transfer_id)
            if transfer is None:
                raise PayoutRejected(f"sandbox: no transfer {transfer_id}")
            reversal = self._next_id("trr")
            self.reversals[reversal] = (reversal, transfer_id)
            return PaymentEvent(
                f"evt_sandbox_{reversal}",
                PaymentEventKind.TRANSFER_REVERSED,
                transfer_id,
                datetime.now(UTC),
                reason,
                transfer_key=transfer.metadata.get("payout_fingerprint"),
            )

    def fail_bank_payout(self, account_id: str, amount: int, reason: str) -> PaymentEvent:
        """The connected account's payout of `amount` to its bank failed."""
        with self._lock:
            account = self._account(account_id) if account_id in self.accounts else None
            if account is not None:
                account.payouts_enabled = False
                account.requirements = ("external_account",)
                account.disabled_reason = "requirements.past_due"
            self._counter += 1
            return PaymentEvent(
                f"evt_sandbox_po_failed_{self._counter:08d}",
                PaymentEventKind.PAYOUT_FAILED,
                account_id,
                datetime.now(UTC),
                reason,
                amount_minor=amount,
            )

    def reversed_transfer_ids(self) -> set[str]:
        return {transfer_id for _, transfer_id in self.reversals.values()}

    def check(self) -> None:
        """Answers unless the sandbox was made unreachable or its key refused."""
        self._enter("check", "")

    def forget_transfer_keys(self) -> None:
        """Forget transfer idempotency keys, as Stripe does after about 24 hours.

        The transfers stay (find_transfer still sees them by metadata); a transfer
        sent again under a forgotten key is a new transfer: money moves twice.
        """
        with self._lock:
            self.forgotten_transfers.extend(self.transfers.values())
            self.transfers.clear()

    def all_transfers(self) -> list[Transfer]:
        return [*self.forgotten_transfers, *self.transfers.values()]

    def charged_total(self, key: str) -> int:
        """Money actually collected under one key (0 or the amount: never twice)."""
        charge = self.charges.get(key)
        if charge is None or charge.status is not ChargeStatus.SUCCEEDED:
            return 0
        return charge.amount.minor


def _outcome(charge: Charge) -> ChargeOutcome:
    if charge.status is ChargeStatus.DECLINED:
        code = (
            "insufficient_funds"
            if charge.payment_method == INSUFFICIENT_FUNDS
            else "generic_decline"
        )
        return ChargeOutcome(
            ChargeStatus.DECLINED, charge.charge_id, code, "your card was declined"
        )
    if charge.status is ChargeStatus.REQUIRES_ACTION:
        return ChargeOutcome(charge.status, charge.charge_id, client_secret=_secret_of(charge))
    return ChargeOutcome(charge.status, charge.charge_id)


def _secret_of(charge: Charge) -> str:
    """The charge's client secret, as Stripe spells one: "<intent id>_secret_<random>"."""
    digest = hashlib.sha256(f"sandbox client secret {charge.key}".encode()).hexdigest()
    return f"{charge.charge_id}_secret_{digest[:24]}"


class NoActionPending(ValueError):
    """A confirmation of a payment that waits on none (confirmed or failed already)."""


class InvalidClientSecret(Exception):
    """A confirmation whose client secret is not the payment's (the sandbox's 404)."""
