"""Payment records (refunds, payouts) and what the payment gateway answers; no gateway code here."""

from __future__ import annotations

import enum
import hashlib
from datetime import datetime
from json.encoder import encode_basestring_ascii

from attrs import define, field, frozen

from fantasy_core.errors import WithholdingRefused
from fantasy_core.transitions import check_move


class ChargeStatus(enum.Enum):
    SUCCEEDED = "succeeded"
    DECLINED = "declined"
    REQUIRES_ACTION = "requires_action"


@frozen
class ChargeOutcome:
    """The gateway's answer to a charge: a charge id unless it was declined outright.

    A charge that REQUIRES_ACTION carries the `client_secret` the player's client needs
    to finish it (Stripe.js `handleNextAction`, or the sandbox's confirm route); it
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


# A failed attempt leaves a refund PENDING (the move to itself); once confirmed, it is done.
REFUND_MOVES: dict[RefundStatus, frozenset[RefundStatus]] = {
    RefundStatus.PENDING: frozenset({RefundStatus.PENDING, RefundStatus.CONFIRMED}),
    RefundStatus.CONFIRMED: frozenset(),
}


@define
class Refund:
    """A fee to give back, written before the gateway is called; its key is the idempotency key.

    Its status and attempts change only through `confirm` and `attempt_failed`, each a
    move of REFUND_MOVES; a stored refund is rebuilt with whatever it was saved with.
    """

    key: str
    contest_id: str
    entry_id: str
    charge_id: str
    amount_minor: int
    reason: str
    created_at: datetime
    _status: RefundStatus = field(default=RefundStatus.PENDING, alias="status")
    _refund_id: str | None = field(default=None, alias="refund_id")
    _attempts: int = field(default=0, alias="attempts")
    _last_error: str | None = field(default=None, alias="last_error")

    @property
    def status(self) -> RefundStatus:
        return self._status

    @property
    def refund_id(self) -> str | None:
        """The gateway's refund, once confirmed (None when a webhook confirmed it)."""
        return self._refund_id

    @property
    def attempts(self) -> int:
        """Failed sends so far."""
        return self._attempts

    @property
    def last_error(self) -> str | None:
        return self._last_error

    def _move(self, target: RefundStatus) -> None:
        check_move(REFUND_MOVES, "refund", self.key, self._status, target)
        self._status = target

    def confirm(self, refund_id: str | None) -> None:
        """The gateway refunded the fee."""
        self._move(RefundStatus.CONFIRMED)
        self._refund_id = refund_id

    def attempt_failed(self, error: str) -> None:
        """A send failed or its outcome is unknown: still pending, retried with the same key."""
        self._move(RefundStatus.PENDING)
        self._attempts += 1
        self._last_error = error


def refund_key(entry_fingerprint: str) -> str:
    """One refund per entry at most, so its key derives from the entry's join fingerprint."""
    return "refund-" + entry_fingerprint.removeprefix("join-")


class PayoutStatus(enum.Enum):
    PENDING = "pending"  # written at settlement, never sent
    SENDING = "sending"  # sent; the outcome is unknown until confirmed or looked up
    CONFIRMED = "confirmed"  # the gateway made the transfer
    FAILED = "failed"  # the gateway refused; retried after `retry_at`
    REVERSED = "reversed"  # confirmed, then reversed (alerted): owed again, sent again
    OWED = "owed"  # the winner has no enabled payout account: nothing is sent until then


P = PayoutStatus

# Every legal move of a payout's status. Until the gateway confirms a transfer, any
# attempt's report may land on any unconfirmed status: several senders may work on one
# payout, each reporting its own attempt (sent again, refused, certainly not sent,
# unknown, no account to send to: a move to the same status), and the gateway's
# confirmation is a fact that holds whatever was reported before. A confirmed payout is
# never sent again under its transfer key; only the gateway can reverse it, after which
# the prize is owed again and is sent once more under the next transfer key.
_UNCONFIRMED = frozenset({P.PENDING, P.SENDING, P.FAILED, P.OWED, P.CONFIRMED})
PAYOUT_MOVES: dict[PayoutStatus, frozenset[PayoutStatus]] = {
    P.PENDING: _UNCONFIRMED,
    P.SENDING: _UNCONFIRMED,
    P.FAILED: _UNCONFIRMED,
    P.OWED: _UNCONFIRMED,
    P.REVERSED: _UNCONFIRMED,
    P.CONFIRMED: frozenset({P.REVERSED}),
}

# Where a prize is: owed to its winner (not with the gateway), in flight (sent, outcome
# not known), or paid. Every prize is in exactly one of the three.
OWED_STATUSES = frozenset({P.PENDING, P.FAILED, P.OWED, P.REVERSED})
IN_FLIGHT_STATUSES = frozenset({P.SENDING})
PAID_STATUSES = frozenset({P.CONFIRMED})


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
    """One prize to transfer to a winner; nothing creates these but settlement.

    Its status and the record of its attempts change only through the methods below,
    each a move of PAYOUT_MOVES; a stored payout is rebuilt with whatever it was saved with.
    """

    fingerprint: str
    contest_id: str
    entry_id: str
    user_id: str
    payout_id: str
    amount_minor: int
    currency: str
    _status: PayoutStatus = field(default=PayoutStatus.PENDING, alias="status")
    _transfer_id: str | None = field(default=None, alias="transfer_id")
    _attempts: int = field(default=0, alias="attempts")
    _last_error: str | None = field(default=None, alias="last_error")
    _retry_at: datetime | None = field(default=None, alias="retry_at")
    _reversals: int = field(default=0, alias="reversals")
    _withheld: int | None = field(default=None, alias="withheld")

    @property
    def status(self) -> PayoutStatus:
        return self._status

    @property
    def withheld_minor(self) -> int | None:
        """The backup withholding kept from this prize (decision 0042): None until it is
        decided, once, before the first transfer attempt; never changed after."""
        return self._withheld

    @property
    def transfer_minor(self) -> int:
        """What a send transfers to the winner: the prize less what was withheld."""
        if self._withheld is None:
            raise WithholdingRefused(
                f"payout {self.fingerprint}: its withholding is not decided, nothing can be sent"
            )
        return self.amount_minor - self._withheld

    @property
    def reversals(self) -> int:
        """How often a confirmed transfer of this prize was reversed (each sent again)."""
        return self._reversals

    @property
    def transfer_key(self) -> str:
        """The gateway's idempotency key (and metadata) for the current send of this prize.

        The fingerprint for the first send; after the k-th reversal, a key of its own, so
        that sending the prize again is a new transfer and never the reversed one replayed.
        """
        if self._reversals == 0:
            return self.fingerprint
        return f"{self.fingerprint}/resend-{self._reversals}"

    @property
    def ledger_key(self) -> str:
        """What this send's ledger postings are keyed by (one payment per send)."""
        return self.transfer_key

    @property
    def transfer_id(self) -> str | None:
        return self._transfer_id

    @property
    def attempts(self) -> int:
        """Sends started so far (each may have reached the gateway)."""
        return self._attempts

    @property
    def last_error(self) -> str | None:
        return self._last_error

    @property
    def retry_at(self) -> datetime | None:
        """Not sent again before this instant; None: due now."""
        return self._retry_at

    @property
    def settled(self) -> bool:
        return self._status is PayoutStatus.CONFIRMED

    @property
    def transferred(self) -> bool:
        """The gateway made the current send's transfer: never send it again."""
        return self._status is PayoutStatus.CONFIRMED

    @property
    def owed(self) -> bool:
        """Owed to the winner and with no send in flight (see OWED_STATUSES)."""
        return self._status in OWED_STATUSES

    def _move(self, target: PayoutStatus) -> None:
        check_move(PAYOUT_MOVES, "payout", self.fingerprint, self._status, target)
        self._status = target

    def decide_withholding(self, withheld_minor: int) -> None:
        """Fix what is withheld from this prize, before its first transfer attempt, once."""
        if self._withheld is not None or self._attempts > 0:
            raise WithholdingRefused(
                f"payout {self.fingerprint}: its withholding was decided before its first "
                f"send ({self._withheld}); it never changes"
            )
        if type(withheld_minor) is not int or not 0 <= withheld_minor < self.amount_minor:
            raise WithholdingRefused(
                f"payout {self.fingerprint}: cannot withhold {withheld_minor!r} of "
                f"{self.amount_minor}"
            )
        self._withheld = withheld_minor

    def start_attempt(self) -> None:
        """About to call the gateway: from now on the outcome is unknown until reported.
        The withholding must be decided first (what is sent depends on it)."""
        if self._withheld is None:
            raise WithholdingRefused(
                f"payout {self.fingerprint}: decide its withholding before sending it"
            )
        self._move(PayoutStatus.SENDING)
        self._attempts += 1

    def confirm(self, transfer_id: str) -> None:
        """The gateway made the transfer `transfer_id`."""
        self._move(PayoutStatus.CONFIRMED)
        self._transfer_id = transfer_id
        self._last_error = None
        self._retry_at = None

    def fail(self, reason: str, retry_at: datetime) -> None:
        """The gateway refused the transfer (or it could not be sent): retried from `retry_at`."""
        self._move(PayoutStatus.FAILED)
        self._last_error = reason
        self._retry_at = retry_at

    def not_sent(self, reason: str, retry_at: datetime) -> None:
        """The attempt certainly never reached the gateway: pending again from `retry_at`."""
        self._move(PayoutStatus.PENDING)
        self._last_error = reason
        self._retry_at = retry_at

    def outcome_unknown(self, reason: str, retry_at: datetime) -> None:
        """The attempt may have reached the gateway: the status stays, so the next attempt
        (from `retry_at`) looks the transfer up before sending again."""
        self._move(self._status)
        self._last_error = reason
        self._retry_at = retry_at

    def reverse(self, reason: str) -> None:
        """The gateway reversed the confirmed transfer: the prize is owed again, and its
        next send goes under the next transfer key."""
        self._move(PayoutStatus.REVERSED)
        self._last_error = reason
        self._reversals += 1
        self._retry_at = None

    def owe(self, reason: str) -> None:
        """Nothing can be sent (the winner has no enabled payout account): owed until it is."""
        self._move(PayoutStatus.OWED)
        self._last_error = reason
        self._retry_at = None

    def release(self) -> None:
        """The winner's account was enabled: an owed (or reversed) prize is due at once,
        whatever backoff it waited for."""
        if self._status in (PayoutStatus.OWED, PayoutStatus.REVERSED):
            self._move(PayoutStatus.PENDING)
        self._retry_at = None

    def retry_now(self) -> None:
        """Due at once, whatever backoff it waited for (its winner's account was just enabled)."""
        self._retry_at = None


class PaymentEventKind(enum.Enum):
    CHARGE_SUCCEEDED = "charge_succeeded"
    CHARGE_FAILED = "charge_failed"
    CHARGE_REFUNDED = "charge_refunded"
    TRANSFER_REVERSED = "transfer_reversed"
    ACCOUNT_UPDATED = "account_updated"
    PAYOUT_FAILED = "payout_failed"


@frozen
class PaymentEvent:
    """An asynchronous outcome from the gateway (a webhook), applied exactly once by `event_id`.

    `reference` is what the event is about: a charge id, a transfer id, or a
    connected account id, according to `kind`. A reversed transfer names the transfer
    key it was made under (`transfer_key`, from its metadata); a failed bank payout its
    `amount_minor`.
    """

    event_id: str
    kind: PaymentEventKind
    reference: str
    occurred_at: datetime
    reason: str | None = None
    transfer_key: str | None = None
    amount_minor: int | None = None
