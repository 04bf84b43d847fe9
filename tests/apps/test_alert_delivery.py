"""Alerts reaching people: settings naming each channel's variable, `fantasy alerts test`
and `list`, and a fault announced by the worker's passes on a real webhook, a
PagerDuty-shaped receiver and an SMTP server on 127.0.0.1 (trigger, then resolve)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import attrs
import pytest
from api_support import Api
from attrs import frozen
from litestar import Litestar

from adapters.alerts.email_channel import EmailChannel
from adapters.alerts.http_channels import PagerDutyChannel, WebhookChannel
from apps.api.state import SERVICES
from apps.bootstrap import alert_channels, watchdog_thresholds
from apps.cli import EXIT_DATA_ERROR, EXIT_OK, EXIT_USAGE, main
from apps.settings import SettingsError, load_settings
from apps.worker import Worker
from fantasy_core.alerting import AlertState
from fantasy_core.outbox import DeliveryPolicy
from fantasy_core.platform import Platform
from fantasy_core.usecases.alerts import list_alerts
from fantasy_core.usecases.delivery import deliver_notices
from fantasy_core.usecases.payment_events import set_payout_account
from fantasy_core.usecases.watchdogs import LEDGER, record_pass
from fantasy_core.usecases.worker import PassReport, run_once
from support.channels import RecordingChannel
from support.receivers import HttpReceiver, SmtpReceiver, http_receiver, smtp_receiver
from support.world import World


@frozen
class Receivers:
    webhook: HttpReceiver
    pagerduty: HttpReceiver
    smtp: SmtpReceiver

    def environment(self) -> dict[str, str]:
        return {
            "FANTASY_ALERT_WEBHOOK_URL": self.webhook.url,
            "FANTASY_PAGERDUTY_ROUTING_KEY": "R0UTING",
            "FANTASY_PAGERDUTY_URL": self.pagerduty.url,
            "FANTASY_SMTP_URL": self.smtp.url,
            "FANTASY_ALERT_EMAIL_TO": "ops@example.com",
        }


@pytest.fixture
def receivers() -> Iterator[Receivers]:
    with (
        http_receiver("/hook") as webhook,
        http_receiver("/v2/enqueue") as pagerduty,
        smtp_receiver() as smtp,
    ):
        yield Receivers(webhook, pagerduty, smtp)


# ---- settings ---------------------------------------------------------------------------


def test_each_channel_setting_is_validated_naming_its_variable() -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(
            {
                "FANTASY_ALERT_WEBHOOK_URL": "hooks.slack.com/x",
                "FANTASY_PAGERDUTY_URL": "ftp://pd",
                "FANTASY_SMTP_URL": "mail.example.com",
                "FANTASY_ALERT_CHANNEL_DOWN_SECONDS": "never",
            }
        )
    found = "\n".join(error.value.problems)
    for variable in (
        "FANTASY_ALERT_WEBHOOK_URL",
        "FANTASY_PAGERDUTY_URL",
        "FANTASY_SMTP_URL",
        "FANTASY_ALERT_CHANNEL_DOWN_SECONDS",
    ):
        assert f"{variable}:" in found
    # A mail server alone sends players' mail (password reset), and no alerts.
    mail_only = load_settings({"FANTASY_SMTP_URL": "smtp://127.0.0.1:2525"})
    assert (mail_only.smtp_url, mail_only.alert_channel_names) == ("smtp://127.0.0.1:2525", ())
    assert alert_channels(mail_only) == ()
    mailing = load_settings(
        {"FANTASY_SMTP_URL": "smtp://mail", "FANTASY_ALERT_EMAIL_TO": "ops@example.com"}
    )
    assert mailing.alert_channel_names == ("email",)
    with pytest.raises(SettingsError, match="FANTASY_MAIL_FROM: must be an e-mail address"):
        load_settings({"FANTASY_MAIL_FROM": "fantasy"})
    with pytest.raises(SettingsError, match="FANTASY_ALERT_EMAIL_TO: must list"):
        load_settings({"FANTASY_SMTP_URL": "smtp://mail", "FANTASY_ALERT_EMAIL_TO": "ops"})
    with pytest.raises(SettingsError, match="FANTASY_SMTP_URL: required with"):
        load_settings({"FANTASY_ALERT_EMAIL_TO": "ops@example.com"})


def test_no_channel_is_configured_by_default_and_the_pagerduty_endpoint_is_the_public_one() -> None:
    settings = load_settings({})
    assert settings.alert_channel_names == ()
    assert settings.pagerduty_url == "https://events.pagerduty.com/v2/enqueue"
    assert "R0UTING" not in repr(load_settings({"FANTASY_PAGERDUTY_ROUTING_KEY": "R0UTING"}))


# ---- fantasy alerts test / list ---------------------------------------------------------


def test_alerts_test_sends_one_alert_per_channel_and_says_which_worked(
    receivers: Receivers, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in receivers.environment().items():
        monkeypatch.setenv(name, value)
    assert main(["alerts", "test"]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.splitlines() == ["ok: webhook", "ok: pagerduty", "ok: email"]
    assert len(receivers.webhook.bodies()) == 1
    [page] = receivers.pagerduty.bodies()
    assert (page["event_action"], page["routing_key"]) == ("trigger", "R0UTING")
    assert len(receivers.smtp.seen()) == 1


def test_alerts_test_exits_non_zero_naming_the_channel_that_failed(
    receivers: Receivers, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in receivers.environment().items():
        monkeypatch.setenv(name, value)
    receivers.smtp.refusing = True
    assert main(["alerts", "test"]) == EXIT_DATA_ERROR
    captured = capsys.readouterr()
    assert "ok: webhook" in captured.out
    assert "FAILED: email:" in captured.out
    assert "alert channel failed: email" in captured.err


def test_alerts_test_refuses_a_misconfigured_channel_naming_its_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FANTASY_ALERT_WEBHOOK_URL", "not-a-url")
    assert main(["alerts", "test"]) == EXIT_USAGE
    assert "FANTASY_ALERT_WEBHOOK_URL" in capsys.readouterr().err
    monkeypatch.delenv("FANTASY_ALERT_WEBHOOK_URL")
    assert main(["alerts", "test"]) == EXIT_DATA_ERROR
    assert "no alert channel is configured" in capsys.readouterr().err


def test_alerts_list_prints_the_stored_alerts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'fantasy.db'}"
    assert main(["db", "upgrade", "--database-url", url]) == EXIT_OK
    assert main(["alerts", "list", "--database-url", url]) == EXIT_OK
    assert "no alerts" in capsys.readouterr().out
    from apps.bootstrap import bootstrap  # noqa: PLC0415

    platform = bootstrap(attrs.evolve(load_settings({}), database_url=url))
    platform.alert("feed-down-s1", "the feed refused", critical=True)
    platform.alert("feed-down-s1", "the feed refused")
    assert main(["alerts", "list", "--database-url", url]) == EXIT_OK
    [line] = capsys.readouterr().out.splitlines()
    assert line.startswith("open")
    assert "critical" in line
    assert "feed-down-s1#1 x2" in line
    assert line.endswith(": the feed refused")


# ---- a fault announced by the worker's passes --------------------------------------------


def test_a_refused_payout_is_triggered_then_resolved_on_every_channel_nothing_lost_or_doubled(
    receivers: Receivers,
) -> None:
    world = World()
    channels = (
        WebhookChannel(receivers.webhook.url),
        PagerDutyChannel("R0UTING", url=receivers.pagerduty.url),
        EmailChannel(receivers.smtp.url, ("ops@example.com",)),
    )
    world.p = attrs.evolve(world.p, channels=channels, delivery=DeliveryPolicy())
    contest = world.create()
    users = ("u1", "u2", "u3", "u4")
    for n, user in enumerate(users):
        assert world.join(contest, user, variant=n).accepted
        set_payout_account(world.p, user, f"acct_{user}")
        world.gateway.disabled_accounts.add(f"acct_{user}")
    receivers.webhook.status = 503  # the webhook receiver is down during the fault
    world.play_games()  # the gateway refuses every winner's account: refused, alerted
    for _ in range(3):
        world.clock.advance(timedelta(seconds=30))
        world.run()
    triggers = [b for b in receivers.pagerduty.bodies() if b["event_action"] == "trigger"]
    refused = {b["dedup_key"] for b in triggers}
    assert refused
    assert all(key.startswith("payout-rejected-") for key in refused)
    assert receivers.webhook.bodies() == []
    world.gateway.disabled_accounts.clear()  # the accounts are fixed at the gateway
    receivers.webhook.status = 202  # back
    for _ in range(4):
        world.clock.advance(timedelta(minutes=10))
        world.run()
    pages = receivers.pagerduty.bodies()
    assert sorted(b["dedup_key"] for b in pages if b["event_action"] == "resolve") == sorted(
        refused
    )
    assert len(pages) == 2 * len(refused)  # one trigger and one resolve each, no more
    texts = [b["text"] for b in receivers.webhook.bodies()]
    assert len(texts) == 2 * len(refused)  # the ones queued while it was down arrived too
    assert sum(t.startswith("[RESOLVED]") for t in texts) == len(refused)
    subjects = [str(m["Subject"]) for m in receivers.smtp.seen()]
    assert len(subjects) == 2 * len(refused)


def test_ready_shows_a_channel_down_without_taking_the_api_out_of_service(
    api: Api, app: Litestar
) -> None:
    services = app.state[SERVICES]
    hook = RecordingChannel("webhook")
    services.platform = api.world.p = attrs.evolve(services.platform, channels=(hook,))
    p = services.platform
    assert api.client.get("/ready").json()["checks"]["alert_channel_webhook"] == "ok"
    hook.down = True
    p.alert("k", "broken")
    deliver_notices(p)
    api.world.clock.advance(p.delivery.channel_down_after + timedelta(seconds=1))
    deliver_notices(p)
    ready = api.client.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"]["alert_channel_webhook"] == "down"
    report = api.client.get("/operator/health", headers=api.operator).json()
    assert report["checks"]["alert_channel_webhook"].startswith("down since ")
    assert "notices waiting" in report["checks"]["alert_channel_webhook"]
    hook.down = False
    api.world.clock.advance(timedelta(minutes=15))
    deliver_notices(p)
    assert api.client.get("/ready").json()["checks"]["alert_channel_webhook"] == "ok"
    assert "k#1/opened/webhook" in hook.ids()


def test_an_acknowledgement_through_the_api_is_announced_by_the_worker(
    api: Api, app: Litestar
) -> None:
    services = app.state[SERVICES]
    pager = RecordingChannel("pagerduty")
    services.platform = api.world.p = attrs.evolve(services.platform, channels=(pager,))
    services.platform.alert("k", "broken")
    ack = api.client.post("/operator/alerts/k/acknowledge", headers=api.operator)
    assert ack.status_code == 200
    api.world.run()
    assert pager.ids() == ["k#1/opened/pagerduty", "k#1/acknowledged/pagerduty"]


def test_ready_shows_when_a_worker_last_completed_a_pass(api: Api, app: Litestar) -> None:
    platform = app.state[SERVICES].platform
    assert "workers" not in api.client.get("/ready").json()["checks"]  # none has run yet
    record_pass(platform, "w1")
    assert api.client.get("/ready").json()["checks"]["workers"] == "ok"
    api.world.clock.advance(timedelta(minutes=6))
    ready = api.client.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"]["workers"].startswith("no pass since ")


def test_a_worker_beats_after_each_pass_and_leaves_when_it_stops() -> None:
    world = World()
    beats: list[dict[str, object]] = []

    def pass_and_look(p: Platform) -> PassReport:
        with p.uow() as uow:
            beats.append(dict(uow.workers.last_passes()))
        return run_once(p)

    worker = Worker(world.p, 0.01, run_pass=pass_and_look)
    worker.run(max_passes=2)
    assert beats[0] == {}
    assert list(beats[1]) == [worker.worker_id]
    with world.p.uow() as uow:
        assert uow.workers.last_passes() == {}  # a clean stop: nobody waits for it


def test_watchdog_thresholds_are_read_from_settings_naming_a_bad_one() -> None:
    thresholds = watchdog_thresholds(
        load_settings(
            {
                "FANTASY_WATCHDOG_GAME_LENGTH_SECONDS": "18000",
                "FANTASY_WATCHDOG_LIVE_OVERDUE_SECONDS": "3600",
                "FANTASY_WATCHDOG_PAYOUTS_STALLED_SECONDS": "900",
                "FANTASY_WATCHDOG_FEED_STALE_SECONDS": "300",
            }
        )
    )
    assert (
        thresholds.game_length,
        thresholds.live_overdue,
        thresholds.payouts_stalled,
        thresholds.feed_stale,
    ) == (
        timedelta(hours=5),
        timedelta(hours=1),
        timedelta(minutes=15),
        timedelta(minutes=5),
    )
    with pytest.raises(SettingsError, match="FANTASY_WATCHDOG_FEED_STALE_SECONDS:"):
        load_settings({"FANTASY_WATCHDOG_FEED_STALE_SECONDS": "soon"})


def test_the_worker_verifies_the_ledger_at_its_first_pass_then_on_its_schedule() -> None:
    world = World()
    contest = world.create()
    for n, user in enumerate(("u1", "u2", "u3", "u4")):
        world.give_account(user)
        assert world.join(contest, user, variant=n).accepted
    world.play_games()
    # A stored row changed behind the ledger's back (each commit stores new tables).
    key, original = next(iter(world.store._tables.ledger.items()))
    with attrs.validators.disabled():
        world.store._tables.ledger[key] = attrs.evolve(original, postings=original.postings[:1])
    worker = Worker(world.p, 0.01, ledger_every=timedelta(minutes=10))
    worker.run(max_passes=1)
    assert ledger_alert_state(world) is AlertState.OPEN
    world.store._tables.ledger[key] = original
    world.clock.advance(timedelta(minutes=9))
    worker.run(max_passes=2)
    assert ledger_alert_state(world) is AlertState.OPEN  # not verified again yet
    world.clock.advance(timedelta(minutes=1))
    worker.run(max_passes=3)
    assert ledger_alert_state(world) is AlertState.RESOLVED


def ledger_alert_state(world: World) -> AlertState:
    [alert] = [a for a in list_alerts(world.p) if a.key == LEDGER]
    return alert.state
