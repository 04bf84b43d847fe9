"""Payment records (refunds, payouts) and what the payment gateway answers; no gateway code here."""

from __future__ import annotations

import enum
import hashlib
from datetime import datetime
from json.encoder import encode_basestring_ascii

from attrs import define, field, frozen


class ChargeStatus(enum.Enum):
    SUCCEEDED = "succeeded"
    DECLINED = "declined"
    REQUIRES_ACTION = "requires_action"


@frozen
class ChargeOutcome:
    """The gateway's answer to a charge: a charge id unless it was declined outright.

    A charge that REQUIRES_ACTION carries the `client_secret` the player's client needs
    to finish it (Stripe.js `confirmCardPayment`, or the sandbox's confirm route); it
    authorises that one payment only, and is never logged or stored.
    """

    status: ChargeStatus
    charge_id: str | None
    decline_code: str | None = None
    reason: str | None = None
    client_secret: str | None = field(default=None, repr=False)


@frozen
class TransferOutcome:
    transfer_id: str


@frozen
class RefundOutcome:
    refund_id: str


class RefundStatus(enum.Enum):
    PENDING = "pending"  # recorded, not yet confirmed by the gateway
    CONFIRMED = "confirmed"


@define
class Refund:
    """A fee to give back, written before the gateway is called; its key is the idempotency key."""

    key: str
    contest_id: str
    entry_id: str
    charge_id: str
    amount_minor: int
    reason: str
    created_at: datetime
    status: RefundStatus = RefundStatus.PENDING
    refund_id: str | None = None
    attempts: int = 0
    last_error: str | None = None


def refund_key(entry_fingerprint: str) -> str:
    """One refund per entry at most, so its key derives from the entry's join fingerprint."""
    return "refund-" + entry_fingerprint.removeprefix("join-")


class PayoutStatus(enum.Enum):
    PENDING = "pending"  # written at settlement, never sent
    SENDING = "sending"  # sent; the outcome is unknown until confirmed or looked up
    CONFIRMED = "confirmed"  # the gateway made the transfer
    FAILED = "failed"  # the gateway refused; retried after `retry_at`
    REVERSED = "reversed"  # confirmed, then reversed by the gateway (alerted)


def payout_fingerprint(contest_id: str, entry_id: str, payout_id: str) -> str:
    """The payout's idempotency fingerprint: (contest, entry, payout id), hashed.

    The hashed text is json.dumps([contest_id, entry_id, payout_id], separators=(",", ":")),
    written out with the encoder's own string escaping: the same bytes, without building
    an encoder per call (settling a big contest computes 200,000 of these).
    """
    framed = (
        f"[{encode_basestring_ascii(contest_id)},{encode_basestring_ascii(entry_id)},"
        f"{encode_basestring_ascii(payout_id)}]"
    )
    return "payout-" + hashlib.sha256(framed.encode()).hexdigest()


@define
class Payout:
    """One prize to transfer to a winner; nothing creates these but settlement."""

    fingerprint: str
    contest_id: str
    entry_id: str
    user_id: str
    payout_id: str
    amount_minor: int
    currency: str
    status: PayoutStatus = PayoutStatus.PENDING
    transfer_id: str | None = None
    attempts: int = 0
    last_error: str | None = None
    retry_at: datetime | None = None

    @property
    def settled(self) -> bool:
        return self.status is PayoutStatus.CONFIRMED


@define
class PayoutAccount:
    """A user's connected account for receiving prizes (a Stripe Connect account id)."""

    user_id: str
    account_id: str | None = None
    payouts_enabled: bool = True


class PaymentEventKind(enum.Enum):
    CHARGE_SUCCEEDED = "charge_succeeded"
    CHARGE_FAILED = "charge_failed"
    CHARGE_REFUNDED = "charge_refunded"
    TRANSFER_REVERSED = "transfer_reversed"
    ACCOUNT_PAYOUTS_DISABLED = "account_payouts_disabled"
    PAYOUT_FAILED = "payout_failed"


@frozen
class PaymentEvent:
    """An asynchronous outcome from the gateway (a webhook), applied exactly once by `event_id`.

    `reference` is what the event is about: a charge id, a transfer id, or a
    connected account id, according to `kind`.
    """

    event_id: str
    kind: PaymentEventKind
    reference: str
    occurred_at: datetime
    reason: str | None = None
