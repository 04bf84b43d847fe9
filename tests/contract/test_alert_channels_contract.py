"""The alert channel contract, on every channel against a real receiver on 127.0.0.1:
a notice accepted arrives once with its id; a refusal or an unreachable receiver is
AlertDeliveryFailed naming the channel. Then each channel's own wire format."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from attrs import frozen

from adapters.alerts.email_channel import EmailChannel
from adapters.alerts.http_channels import PagerDutyChannel, WebhookChannel
from fantasy_core.alerting import AlertChange, StoredAlert
from fantasy_core.audit import Severity
from fantasy_core.errors import AlertDeliveryFailed, InvalidConfiguration
from fantasy_core.outbox import AlertNotice
from fantasy_core.ports import AlertChannel
from support.receivers import HttpReceiver, SmtpReceiver, http_receiver, smtp_receiver

AT = datetime(2025, 9, 7, 12, tzinfo=UTC)
ALERT = StoredAlert("payout-rejected-f1", 2, Severity.CRITICAL, "refused", "c-1", 3, AT, AT)


def notice(change: AlertChange, channel: str) -> AlertNotice:
    return AlertNotice.of(ALERT, change, channel, AT)


@frozen
class Rig:
    """A channel wired to its receiver: `seen` lists the notice ids that arrived;
    `refuse(True)` makes the receiver refuse."""

    channel: AlertChannel
    seen: Callable[[], list[str]]
    refuse: Callable[[bool], None]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _http_rig(channel: AlertChannel, receiver: HttpReceiver) -> Rig:
    def refuse(on: bool) -> None:
        receiver.status = 503 if on else 202

    def seen() -> list[str]:
        return [r.headers["Idempotency-Key"] for r in receiver.received]

    return Rig(channel, seen, refuse)


def _smtp_rig(channel: AlertChannel, receiver: SmtpReceiver) -> Rig:
    def refuse(on: bool) -> None:
        receiver.refusing = on

    def seen() -> list[str]:
        return [str(m["X-Fantasy-Notice"]) for m in receiver.seen()]

    return Rig(channel, seen, refuse)


@pytest.fixture(params=["webhook", "pagerduty", "email"])
def rig(request: pytest.FixtureRequest) -> Iterator[Rig]:
    if request.param == "email":
        with smtp_receiver() as smtp:
            yield _smtp_rig(EmailChannel(smtp.url, ("ops@example.com",)), smtp)
        return
    with http_receiver() as receiver:
        channel: WebhookChannel | PagerDutyChannel = (
            WebhookChannel(receiver.url)
            if request.param == "webhook"
            else PagerDutyChannel("R0UTING", url=receiver.url)
        )
        try:
            yield _http_rig(channel, receiver)
        finally:
            channel.close()


def test_an_accepted_notice_arrives_once_with_its_id(rig: Rig) -> None:
    sent = notice(AlertChange.OPENED, rig.channel.name)
    rig.channel.deliver(sent)
    assert rig.seen() == [sent.notice_id]


def test_a_long_notice_id_arrives_exactly_as_sent(rig: Rig) -> None:
    """A payout's alert key holds its 64-hex fingerprint: its id must not come back folded
    or encoded (a receiver drops a repeat by comparing ids)."""
    key = "payout-rejected-payout-" + "f8073013930ca2a3" * 4
    long = StoredAlert(key, 1, Severity.WARNING, "refused", "c-1", 1, AT, AT)
    sent = AlertNotice.of(long, AlertChange.OPENED, rig.channel.name, AT)
    rig.channel.deliver(sent)
    assert rig.seen() == [sent.notice_id]


def test_every_change_arrives_as_its_own_notice(rig: Rig) -> None:
    sent = [notice(change, rig.channel.name) for change in AlertChange]
    for one in sent:
        rig.channel.deliver(one)
    assert rig.seen() == [n.notice_id for n in sent]


def test_a_refusing_receiver_is_a_failed_delivery_naming_the_channel(rig: Rig) -> None:
    rig.refuse(True)
    with pytest.raises(AlertDeliveryFailed, match=rig.channel.name):
        rig.channel.deliver(notice(AlertChange.OPENED, rig.channel.name))
    assert rig.seen() == []
    rig.refuse(False)
    rig.channel.deliver(notice(AlertChange.OPENED, rig.channel.name))
    assert len(rig.seen()) == 1


@pytest.mark.parametrize("name", ["webhook", "pagerduty", "email"])
def test_an_unreachable_receiver_is_a_failed_delivery_naming_the_channel(name: str) -> None:
    port = _free_port()  # nothing listens there
    channel: AlertChannel = {
        "webhook": lambda: WebhookChannel(f"http://127.0.0.1:{port}/hook", timeout=2),
        "pagerduty": lambda: PagerDutyChannel("R", url=f"http://127.0.0.1:{port}/", timeout=2),
        "email": lambda: EmailChannel(f"smtp://127.0.0.1:{port}", ("a@b.c",), timeout=2),
    }[name]()
    with pytest.raises(AlertDeliveryFailed, match=name):
        channel.deliver(notice(AlertChange.OPENED, name))


# ---- each channel's wire format ---------------------------------------------------------


def test_the_webhook_posts_slack_compatible_text_and_the_alert() -> None:
    with http_receiver() as receiver:
        channel = WebhookChannel(receiver.url)
        channel.deliver(notice(AlertChange.OPENED, "webhook"))
        channel.close()
    [body] = receiver.bodies()
    assert body["text"] == "[CRITICAL] payout-rejected-f1#2 (contest c-1): refused"
    assert body["alert"]["dedup_key"] == "payout-rejected-f1#2"
    assert body["alert"]["event"] == "opened"
    assert body["alert"]["severity"] == "critical"


def test_pagerduty_triggers_acknowledges_and_resolves_one_incident() -> None:
    with http_receiver() as receiver:
        channel = PagerDutyChannel("R0UTING", url=receiver.url, source="fantasy-test")
        for change in AlertChange:
            channel.deliver(notice(change, "pagerduty"))
        channel.close()
    trigger, acknowledge, resolve = receiver.bodies()
    assert [b["event_action"] for b in (trigger, acknowledge, resolve)] == [
        "trigger",
        "acknowledge",
        "resolve",
    ]
    assert {b["dedup_key"] for b in (trigger, acknowledge, resolve)} == {"payout-rejected-f1#2"}
    assert {b["routing_key"] for b in (trigger, acknowledge, resolve)} == {"R0UTING"}
    assert trigger["payload"]["summary"] == "[CRITICAL] payout-rejected-f1#2 (contest c-1): refused"
    assert trigger["payload"]["source"] == "fantasy-test"
    assert trigger["payload"]["severity"] == "critical"
    assert "payload" not in acknowledge
    assert "payload" not in resolve


def test_an_email_goes_to_every_recipient_with_the_alert_in_its_subject() -> None:
    with smtp_receiver() as smtp:
        EmailChannel(smtp.url, ("ops@example.com", "cto@example.com"), sender="a@fantasy").deliver(
            notice(AlertChange.RESOLVED, "email")
        )
    [message] = smtp.seen()
    assert smtp.recipients == [["ops@example.com", "cto@example.com"]]
    assert message["Subject"] == "[RESOLVED] payout-rejected-f1#2 (contest c-1): refused"
    assert message["From"] == "a@fantasy"
    assert "payout-rejected-f1" in str(message["Message-ID"])


@pytest.mark.parametrize(
    ("make", "names"),
    [
        (lambda: WebhookChannel("ftp://example.com/x"), "FANTASY_ALERT_WEBHOOK_URL"),
        (lambda: PagerDutyChannel("R", url="not a url"), "FANTASY_PAGERDUTY_URL"),
        (lambda: PagerDutyChannel(" "), "FANTASY_PAGERDUTY_ROUTING_KEY"),
        (lambda: EmailChannel("http://mail", ("a@b.c",)), "FANTASY_SMTP_URL"),
        (lambda: EmailChannel("smtp://mail", ("nobody",)), "FANTASY_ALERT_EMAIL_TO"),
    ],
)
def test_a_channel_refuses_a_configuration_it_cannot_use_naming_the_variable(
    make: Callable[[], object], names: str
) -> None:
    with pytest.raises(InvalidConfiguration, match=names):
        make()
