"""Stripe webhooks: verified by the SDK's own signature check, then turned into the core's events.

Exactly-once is not decided here: the event id is Stripe's, and the core's
`apply_payment_event` applies each id once however often Stripe sends it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

import stripe
from attrs import field, frozen

from adapters.stripe_gateway.calls import message
from fantasy_core.errors import InvalidWebhook
from fantasy_core.payments import PaymentEvent, PaymentEventKind

LOG = logging.getLogger("fantasy.stripe")

DEFAULT_TOLERANCE_SECONDS = 300

_Object = Mapping[str, object]
_Mapper = Callable[[str, datetime, _Object, _Object], PaymentEvent | None]


@frozen
class StripeWebhooks:
    """The WebhookVerifier port for a Stripe endpoint: its secret signs every delivery."""

    secret: str = field(repr=False)
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS
    # Production takes live events only and a test environment test events only: an event
    # of the other mode (a test account's `account.updated` sent to production) is refused.
    livemode: bool | None = None

    def verify(self, payload: bytes, signature: str) -> PaymentEvent | None:
        return parse_webhook(
            payload, signature, self.secret, self.tolerance_seconds, livemode=self.livemode
        )


def parse_webhook(
    payload: bytes,
    signature_header: str,
    secret: str,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: Callable[[], datetime] | None = None,
    *,
    livemode: bool | None = None,
) -> PaymentEvent | None:
    """The PaymentEvent a signed Stripe webhook carries, or None for a type we ignore.

    Raises InvalidWebhook, naming the reason, when the signature does not match
    (forged, tampered, wrong secret, missing header), when it was signed more than
    `tolerance_seconds` before or after `now` (a replay, or a skewed clock), or
    when the verified body is not a Stripe event, or (with `livemode` given) when the
    event's `livemode` is not `livemode`.
    """
    _verify(payload, signature_header, secret, tolerance_seconds, now)
    try:
        return _parse(payload, livemode)
    except InvalidWebhook as error:
        # Signed by the secret's holder, yet not an event we can read: refused, and on record.
        LOG.warning("stripe webhook refused: %s", error)
        raise


def _parse(payload: bytes, livemode: bool | None) -> PaymentEvent | None:
    event = _event(payload)
    event_id = _required(event, "id")
    kind = _required(event, "type")
    if livemode is not None and event.get("livemode") is not livemode:
        expected = "live" if livemode else "test"
        raise InvalidWebhook(
            f"Stripe event {event_id} has livemode {event.get('livemode')!r}: this "
            f"environment takes {expected} events only"
        )
    created = event.get("created")
    if not isinstance(created, int):
        raise InvalidWebhook(f"Stripe event {event_id} has no integer 'created' time")
    data = event.get("data")
    obj = data.get("object") if isinstance(data, Mapping) else None
    if not isinstance(obj, Mapping):
        raise InvalidWebhook(f"Stripe event {event_id} ({kind}) has no data.object")
    mapper = _MAPPERS.get(kind)
    if mapper is None:
        LOG.info("stripe webhook %s: type %s ignored", event_id, kind)
        return None
    mapped = mapper(event_id, datetime.fromtimestamp(created, UTC), obj, event)
    if mapped is None:
        LOG.info("stripe webhook %s: %s needs no action", event_id, kind)
    else:
        LOG.info(
            "stripe webhook %s: %s -> %s %s", event_id, kind, mapped.kind.value, mapped.reference
        )
    return mapped


def _verify(
    payload: bytes,
    header: str,
    secret: str,
    tolerance_seconds: int,
    now: Callable[[], datetime] | None,
) -> None:
    # The SDK checks the HMAC; its own age check reads time.time() and lets a
    # timestamp from the future pass, so the tolerance is checked here, both ways.
    try:
        stripe.WebhookSignature.verify_header(payload, header, secret, tolerance=None)
    except stripe.SignatureVerificationError as error:
        why = message(error) or "no reason given"
        LOG.warning("stripe webhook refused: signature: %s", why)
        raise InvalidWebhook(f"invalid Stripe signature: {why}") from error
    except UnicodeDecodeError as error:
        LOG.warning("stripe webhook refused: the body is not UTF-8")
        raise InvalidWebhook("Stripe webhook body is not UTF-8") from error
    signed_at = _signed_at(header)
    current = (now or _utc_now)().timestamp()
    skew = current - signed_at
    if abs(skew) > tolerance_seconds:
        LOG.warning("stripe webhook refused: signed %d s from now", int(skew))
        when = "ago" if skew > 0 else "in the future"
        raise InvalidWebhook(
            f"Stripe signature timestamp {signed_at} is {abs(int(skew))} s {when}, outside "
            f"the {tolerance_seconds} s tolerance: a replayed webhook or a skewed clock"
        )


def _signed_at(header: str) -> int:
    # verify_header has parsed the same header successfully, so `t` is there.
    for item in header.split(","):
        name, _, value = item.partition("=")
        if name.strip() == "t":
            return int(value)
    raise InvalidWebhook("Stripe-Signature header has no timestamp")  # pragma: no cover


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _event(payload: bytes) -> _Object:
    try:
        parsed: object = json.loads(payload)
    except ValueError as error:
        raise InvalidWebhook(f"Stripe webhook body is not JSON: {error}") from error
    if not isinstance(parsed, Mapping) or parsed.get("object") != "event":
        raise InvalidWebhook("Stripe webhook body is not an event object")
    return parsed


def _required(obj: _Object, name: str) -> str:
    value = obj.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidWebhook(f"Stripe event has no {name!r}")
    return value


def _text(obj: object, *path: str) -> str | None:
    """A string found by following `path` through nested objects, or None."""
    for name in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(name)
    return obj if isinstance(obj, str) and obj else None


def _charge_succeeded(eid: str, at: datetime, obj: _Object, _: _Object) -> PaymentEvent:
    return PaymentEvent(eid, PaymentEventKind.CHARGE_SUCCEEDED, _required(obj, "id"), at)


def _charge_failed(eid: str, at: datetime, obj: _Object, _: _Object) -> PaymentEvent:
    reason = _text(obj, "last_payment_error", "message") or "the payment failed"
    return PaymentEvent(eid, PaymentEventKind.CHARGE_FAILED, _required(obj, "id"), at, reason)


def _charge_refunded(eid: str, at: datetime, obj: _Object, _: _Object) -> PaymentEvent | None:
    intent = _text(obj, "payment_intent")
    if intent is None:
        LOG.warning(
            "stripe webhook %s: refunded charge %s has no payment intent", eid, obj.get("id")
        )
        return None  # not one of ours: every charge we make is a PaymentIntent's
    refunded = obj.get("amount_refunded")
    return PaymentEvent(eid, PaymentEventKind.CHARGE_REFUNDED, intent, at, f"{refunded} refunded")


def _transfer_reversed(eid: str, at: datetime, obj: _Object, _: _Object) -> PaymentEvent:
    reversed_amount = obj.get("amount_reversed")
    return PaymentEvent(
        eid,
        PaymentEventKind.TRANSFER_REVERSED,
        _required(obj, "id"),
        at,
        f"{reversed_amount} of {obj.get('amount')} reversed",
        transfer_key=_text(obj, "metadata", "payout_fingerprint"),
    )


def _account_updated(eid: str, at: datetime, obj: _Object, _: _Object) -> PaymentEvent:
    # The core reads the account from Stripe when it applies the event (order-proof):
    # the event only says which account changed.
    return PaymentEvent(eid, PaymentEventKind.ACCOUNT_UPDATED, _required(obj, "id"), at)


def _payout_failed(eid: str, at: datetime, obj: _Object, event: _Object) -> PaymentEvent:
    # A Connect event names the connected account whose payout to its bank failed;
    # without one it is the platform's own payout.
    account = _text(event, "account") or "platform"
    message = _text(obj, "failure_message") or _text(obj, "failure_code") or "payout failed"
    reason = f"{message} (payout {obj.get('id')})"
    amount = obj.get("amount")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
        raise InvalidWebhook(f"Stripe event {eid} (payout.failed) has no amount")
    return PaymentEvent(
        eid, PaymentEventKind.PAYOUT_FAILED, account, at, reason, amount_minor=amount
    )


_MAPPERS: Mapping[str, _Mapper] = {
    "payment_intent.succeeded": _charge_succeeded,
    "payment_intent.payment_failed": _charge_failed,
    "charge.refunded": _charge_refunded,
    "transfer.reversed": _transfer_reversed,
    "account.updated": _account_updated,
    "payout.failed": _payout_failed,
}
