"""Stripe webhooks: signatures checked with Stripe's real scheme, each event type mapped once.

Signatures are built here as Stripe documents them, independently of the SDK:
`Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" with the secret>`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import UTC, datetime, timedelta

import pytest

from adapters.stripe_gateway import parse_webhook
from fantasy_core.errors import InvalidWebhook
from fantasy_core.payments import PaymentEvent, PaymentEventKind
from fantasy_core.usecases.payment_events import apply_payment_event
from support.world import World

SECRET = "whsec_contract_secret"
NOW = datetime(2025, 9, 7, 12, 0, tzinfo=UTC)


def delivery(
    kind: str,
    obj: dict[str, object],
    *,
    event_id: str = "evt_1",
    account: str | None = None,
) -> bytes:
    event: dict[str, object] = {
        "id": event_id,
        "object": "event",
        "type": kind,
        "created": int(NOW.timestamp()),
        "livemode": False,
        "api_version": "2026-10-28.endive",
        "data": {"object": obj},
    }
    if account is not None:
        event["account"] = account
    return json.dumps(event).encode()


def sign(payload: bytes, secret: str = SECRET, at: datetime = NOW) -> str:
    t = int(at.timestamp())
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def parse(payload: bytes, header: str, now: datetime = NOW) -> PaymentEvent | None:
    return parse_webhook(payload, header, SECRET, 300, now=lambda: now)


SUCCEEDED = delivery("payment_intent.succeeded", {"id": "pi_1", "object": "payment_intent"})


# Each type we act on


@pytest.mark.parametrize(
    ("payload", "kind", "reference", "reason"),
    [
        (SUCCEEDED, PaymentEventKind.CHARGE_SUCCEEDED, "pi_1", None),
        (
            delivery(
                "payment_intent.payment_failed",
                {
                    "id": "pi_2",
                    "object": "payment_intent",
                    "last_payment_error": {"code": "card_declined", "message": "Card declined."},
                },
            ),
            PaymentEventKind.CHARGE_FAILED,
            "pi_2",
            "Card declined.",
        ),
        (
            delivery(
                "charge.refunded",
                {"id": "ch_3", "object": "charge", "payment_intent": "pi_3", "amount_refunded": 10},
            ),
            PaymentEventKind.CHARGE_REFUNDED,
            "pi_3",
            "10 refunded",
        ),
        (
            delivery(
                "transfer.reversed",
                {"id": "tr_4", "object": "transfer", "amount": 2500, "amount_reversed": 2500},
            ),
            PaymentEventKind.TRANSFER_REVERSED,
            "tr_4",
            "2500 of 2500 reversed",
        ),
        (
            delivery(
                "account.updated",
                {
                    "id": "acct_5",
                    "object": "account",
                    "payouts_enabled": False,
                    "requirements": {"disabled_reason": "requirements.past_due"},
                },
                account="acct_5",
            ),
            PaymentEventKind.ACCOUNT_UPDATED,
            "acct_5",
            None,  # the core reads the account from Stripe: the event only names it
        ),
    ],
    ids=[
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "charge.refunded",
        "transfer.reversed",
        "account.updated",
    ],
)
def test_each_event_type_maps_to_its_payment_event(
    payload: bytes, kind: PaymentEventKind, reference: str, reason: str | None
) -> None:
    assert parse(payload, sign(payload)) == PaymentEvent("evt_1", kind, reference, NOW, reason)


def test_a_failed_bank_payout_names_its_account_and_amount() -> None:
    payload = delivery(
        "payout.failed",
        {
            "id": "po_6",
            "object": "payout",
            "amount": 1_250,
            "failure_code": "account_closed",
            "failure_message": "The bank account has been closed.",
        },
        account="acct_6",
    )
    assert parse(payload, sign(payload)) == PaymentEvent(
        "evt_1",
        PaymentEventKind.PAYOUT_FAILED,
        "acct_6",
        NOW,
        "The bank account has been closed. (payout po_6)",
        amount_minor=1_250,
    )


def test_a_reversed_transfer_names_the_send_it_reverses() -> None:
    reversed_transfer = {
        "id": "tr_4",
        "amount": 2500,
        "amount_reversed": 2500,
        "metadata": {"payout_fingerprint": "payout-abc/resend-1"},
    }
    payload = delivery("transfer.reversed", reversed_transfer)
    event = parse(payload, sign(payload))
    assert event is not None
    assert event.transfer_key == "payout-abc/resend-1"


def test_an_event_of_the_other_mode_is_refused() -> None:
    live = delivery("account.updated", {"id": "acct_1"}).replace(
        b'"livemode": false', b'"livemode": true'
    )
    with pytest.raises(InvalidWebhook, match="livemode True: this environment takes test"):
        parse_webhook(live, sign(live), SECRET, now=lambda: NOW, livemode=False)
    test_event = delivery("account.updated", {"id": "acct_1"})
    with pytest.raises(InvalidWebhook, match="takes live events only"):
        parse_webhook(test_event, sign(test_event), SECRET, now=lambda: NOW, livemode=True)
    assert parse_webhook(live, sign(live), SECRET, now=lambda: NOW, livemode=True) is not None


def test_a_platform_payout_failure_names_the_platform() -> None:
    payload = delivery(
        "payout.failed", {"id": "po_1", "amount": 100, "failure_message": "No such bank"}
    )
    event = parse(payload, sign(payload))
    assert event is not None
    assert event.kind is PaymentEventKind.PAYOUT_FAILED
    assert event.reference == "platform"


def test_a_refunded_charge_without_a_payment_intent_is_not_ours() -> None:
    payload = delivery("charge.refunded", {"id": "ch_1", "payment_intent": None})
    assert parse(payload, sign(payload)) is None


def test_other_types_are_ignored_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="fantasy.stripe")
    payload = delivery("customer.created", {"id": "cus_1"}, event_id="evt_other")
    assert parse(payload, sign(payload)) is None
    assert "evt_other: type customer.created ignored" in caplog.text


# Signatures


def test_a_forged_signature_is_refused() -> None:
    with pytest.raises(InvalidWebhook, match="invalid Stripe signature"):
        parse(SUCCEEDED, sign(SUCCEEDED, secret="whsec_someone_else"))


def test_a_tampered_body_is_refused() -> None:
    header = sign(SUCCEEDED)
    tampered = SUCCEEDED.replace(b"pi_1", b"pi_9")
    with pytest.raises(InvalidWebhook, match="invalid Stripe signature"):
        parse(tampered, header)


@pytest.mark.parametrize("header", ["", "nonsense", "t=abc,v1=00", "t=1757246400"])
def test_a_missing_or_malformed_header_is_refused(header: str) -> None:
    with pytest.raises(InvalidWebhook, match="invalid Stripe signature"):
        parse(SUCCEEDED, header)


def test_a_rotated_secret_still_verifies_when_one_signature_matches() -> None:
    good = sign(SUCCEEDED)
    stale = sign(SUCCEEDED, secret="whsec_old").split(",")[1]
    assert parse(SUCCEEDED, f"{good},{stale}") is not None


def test_a_replay_outside_the_tolerance_is_refused() -> None:
    header = sign(SUCCEEDED, at=NOW - timedelta(seconds=301))
    with pytest.raises(InvalidWebhook, match=r"301 s ago, outside the 300 s tolerance"):
        parse(SUCCEEDED, header)


def test_a_delivery_inside_the_tolerance_is_accepted() -> None:
    assert parse(SUCCEEDED, sign(SUCCEEDED, at=NOW - timedelta(seconds=299))) is not None


def test_a_signature_from_the_future_is_refused() -> None:
    header = sign(SUCCEEDED, at=NOW + timedelta(minutes=10))
    with pytest.raises(InvalidWebhook, match="in the future"):
        parse(SUCCEEDED, header)


def test_without_a_clock_the_real_time_is_used() -> None:
    header = sign(SUCCEEDED, at=datetime.now(UTC))
    assert parse_webhook(SUCCEEDED, header, SECRET) is not None
    with pytest.raises(InvalidWebhook, match="tolerance"):
        parse_webhook(SUCCEEDED, sign(SUCCEEDED), SECRET)  # signed in 2025


@pytest.mark.parametrize(
    ("payload", "why"),
    [(b"not json", "not JSON"), (b'{"object": "charge"}', "not an event")],
)
def test_a_signed_body_that_is_not_an_event_is_refused(payload: bytes, why: str) -> None:
    with pytest.raises(InvalidWebhook, match=why):
        parse(payload, sign(payload))


# Duplicates: Stripe may deliver an event more than once


def test_a_duplicated_delivery_parses_to_the_same_event() -> None:
    first = parse(SUCCEEDED, sign(SUCCEEDED))
    again = parse(SUCCEEDED, sign(SUCCEEDED, at=NOW + timedelta(seconds=60)), NOW)
    assert first is not None
    assert again == first


def test_the_same_event_delivered_twice_is_applied_once() -> None:
    world = World()
    world.give_account("alice")
    world.gateway.disabled_accounts.add("acct_alice")  # what Stripe says when it is read
    payload = delivery(
        "account.updated", {"id": "acct_alice", "payouts_enabled": False}, event_id="evt_twice"
    )
    events = [parse(payload, sign(payload)) for _ in range(2)]
    applied = [apply_payment_event(world.p, e) for e in events if e is not None]
    assert applied == [True, False]
    with world.store.unit_of_work() as uow:
        account = uow.accounts.get("alice")
    assert account is not None
    assert account.payouts_enabled is False
    assert len(world.alerts.alerts) == 1
