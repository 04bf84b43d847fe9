"""Alerts over real processes: `fantasy serve --no-worker` and a separate `fantasy worker` on
one SQLite database, both on the same accelerated clock, with a webhook, a PagerDuty-shaped
receiver and an SMTP server on 127.0.0.1.

The fault: the winner's payout account is one the gateway refuses transfers to (the
sandbox's `acct_refuses_...`), so the gateway keeps refusing the payout. The worker
raises the alert; the API's /operator/alerts shows it; each channel gets it (the webhook
receiver, down during the fault, once it is back) and, once the winner links an account
and the payout is confirmed, its resolution: one trigger and one resolve each, counted at
the receivers. Then `fantasy alerts test` as a process.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.sandbox.gateway import REFUSING_ACCOUNT_PREFIX
from apps.demo_players import LineupPicker
from fantasy_core.lineups import PlayerPool, SlatePlayer
from support.receivers import HttpReceiver, SmtpReceiver, http_receiver, smtp_receiver

BIN = Path(sys.executable).parent
SPEED = 600  # ten simulated minutes a second: lock in seconds, a correction window in 6 s
SLATE = "nfl-2025-reg-wk01"
PLAYER_FIELDS = ("player_id", "name", "position", "team", "game_id", "salary")
PAYOUT_ALERT = "payout-rejected-"


def environment(
    tmp_path: Path, webhook: HttpReceiver, pagerduty: HttpReceiver, smtp: SmtpReceiver
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FANTASY_")}
    env |= {
        "FANTASY_DATABASE_URL": f"sqlite:///{tmp_path / 'fantasy.db'}",
        "FANTASY_OPERATOR_EMAIL": "ops@example.com",
        "FANTASY_OPERATOR_PASSWORD": "operator password",
        "FANTASY_WORKER_INTERVAL_SECONDS": "0.2",
        "FANTASY_ALERT_WEBHOOK_URL": webhook.url,
        "FANTASY_PAGERDUTY_ROUTING_KEY": "R0UTING",
        "FANTASY_PAGERDUTY_URL": pagerduty.url,
        "FANTASY_SMTP_URL": smtp.url,
        "FANTASY_ALERT_EMAIL_TO": "ops@example.com",
    }
    return env


class Processes:
    def __init__(self, tmp_path: Path, env: dict[str, str]) -> None:
        self.tmp_path = tmp_path
        self.env = env
        self.api: subprocess.Popen[str] | None = None
        self.worker: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.since = datetime.now(UTC)

    def start(self) -> None:
        serve = [str(BIN / "fantasy"), "serve", "--no-worker", "--port", "0"]
        self.api = subprocess.Popen(
            [*serve, "--clock-speed", str(SPEED)],
            env=self.env,
            cwd=self.tmp_path,
            stdout=subprocess.PIPE,
            stderr=(self.tmp_path / "api.log").open("wb"),
            text=True,
        )
        assert self.api.stdout is not None
        clock_line, serving_line = self.api.stdout.readline(), self.api.stdout.readline()
        since = re.search(r"--clock-since (\S+)", clock_line)
        url = re.search(r"serving the API on (\S+) ", serving_line)
        assert since is not None, clock_line
        assert url is not None, serving_line
        self.since, self.url = datetime.fromisoformat(since.group(1)), url.group(1)
        worker = [str(BIN / "fantasy"), "worker", "--interval", "0.2"]
        self.worker = subprocess.Popen(
            [*worker, "--clock-speed", str(SPEED), "--clock-since", since.group(1)],
            env=self.env,
            cwd=self.tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=(self.tmp_path / "worker.log").open("wb"),
        )

    def simulated_now(self) -> datetime:
        return self.since + (datetime.now(UTC) - self.since) * SPEED

    def stop(self) -> None:
        for process in (self.worker, self.api):
            if process is not None and process.poll() is None:
                process.terminate()
        for process in (self.worker, self.api):
            if process is not None:
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


@pytest.fixture
def receivers() -> Iterator[tuple[HttpReceiver, HttpReceiver, SmtpReceiver]]:
    with (
        http_receiver("/hook") as webhook,
        http_receiver("/v2/enqueue") as pagerduty,
        smtp_receiver() as smtp,
    ):
        yield webhook, pagerduty, smtp


def eventually(what: str, check: Callable[[], Any], timeout: float = 90.0) -> Any:
    """Poll `check` until it returns something true (bounded: fails naming `what`)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"not seen in {timeout} s: {what}"
        time.sleep(0.2)


def test_a_payout_the_gateway_keeps_refusing_reaches_every_channel_from_the_worker_process(
    tmp_path: Path, receivers: tuple[HttpReceiver, HttpReceiver, SmtpReceiver]
) -> None:
    webhook, pagerduty, smtp = receivers
    webhook.status = 503  # the webhook receiver is down during the fault
    processes = Processes(tmp_path, environment(tmp_path, webhook, pagerduty, smtp))
    processes.start()
    try:
        client = httpx.Client(base_url=processes.url, timeout=10)
        operator = login(client, "ops@example.com", "operator password")
        registered = client.post(
            "/auth/register",
            json={
                "email": "ann@example.com",
                "password": "a passphrase",
                "date_of_birth": "1990-05-17",
                "jurisdiction": "NJ",
            },
        )
        assert registered.status_code == 201, registered.text
        ann = login(client, "ann@example.com", "a passphrase")
        refusing = {"account_id": REFUSING_ACCOUNT_PREFIX + "ann"}
        assert client.put("/me/payout-account", json=refusing, headers=ann).status_code == 200
        contest = create_and_join(client, operator, ann, processes.simulated_now())

        # The worker settles the contest and the payout is refused by the gateway.
        def refused_on_the_board() -> list[dict[str, Any]]:
            listed = client.get("/operator/alerts", headers=operator).json()
            return [a for a in listed if a["key"].startswith(PAYOUT_ALERT)]

        [alert] = eventually("the refused payout on the API's board", refused_on_the_board)
        assert (alert["contest_id"], alert["state"]) == (contest, "open")
        incident = f"{alert['key']}#1"
        eventually("the trigger at PagerDuty", lambda: pages(pagerduty, incident, "trigger"))
        eventually("the e-mail", lambda: mails(smtp, incident))
        assert hooks(webhook, incident) == []  # nothing got through while it was down

        webhook.status = 202  # back: what waited in the outbox arrives
        eventually("the webhook once back", lambda: hooks(webhook, incident))

        # Fixed: the winner links an account; the payout is retried and confirmed.
        linked = client.put("/me/payout-account", json={"account_id": "acct_ann"}, headers=ann)
        assert linked.status_code == 200, linked.text
        eventually("the resolve at PagerDuty", lambda: pages(pagerduty, incident, "resolve"))
        eventually("the resolution by webhook", lambda: len(hooks(webhook, incident)) == 2)
        eventually("the resolution by e-mail", lambda: len(mails(smtp, incident)) == 2)
        state = client.get(f"/contests/{contest}").json()["state"]
        assert state == "PAID"
        [alert] = refused_on_the_board()
        assert (alert["state"], alert["resolved_by"]) == ("resolved", "system")
        time.sleep(1)  # several more passes: nothing is announced twice
        assert [p["event_action"] for p in pagerduty.bodies() if p["dedup_key"] == incident] == [
            "trigger",
            "resolve",
        ]
        texts = hooks(webhook, incident)
        assert len(texts) == 2
        assert texts[1].startswith("[RESOLVED]")
        assert len(mails(smtp, incident)) == 2
    finally:
        processes.stop()

    # `fantasy alerts test` as a person runs it: exit 0, and each receiver saw it.
    before = (len(webhook.bodies()), len(pagerduty.bodies()), len(smtp.seen()))
    trial = subprocess.run(
        [str(BIN / "fantasy"), "alerts", "test"],
        env=processes.env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert trial.returncode == 0, trial.stderr
    assert trial.stdout.splitlines() == ["ok: webhook", "ok: pagerduty", "ok: email"]
    after = (len(webhook.bodies()), len(pagerduty.bodies()), len(smtp.seen()))
    assert after == tuple(n + 1 for n in before)
    webhook.status = 500
    failing = subprocess.run(
        [str(BIN / "fantasy"), "alerts", "test"],
        env=processes.env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert failing.returncode == 1
    assert "alert channel failed: webhook" in failing.stderr


def login(client: httpx.Client, email: str, password: str) -> dict[str, str]:
    answer = client.post("/auth/login", json={"email": email, "password": password})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def create_and_join(
    client: httpx.Client, operator: dict[str, str], player: dict[str, str], now: datetime
) -> str:
    """A tournament locking two simulated hours ahead (12 s), one player in it."""
    created = client.post(
        "/operator/contests",
        json={
            "template": "tournament",
            "slate_id": SLATE,
            "lock_at": (now + timedelta(hours=2)).isoformat(),
        },
        headers=operator,
    )
    assert created.status_code == 201, created.text
    detail = created.json()
    players = [SlatePlayer(**{k: p[k] for k in PLAYER_FIELDS}) for p in detail["players"]]
    pool = PlayerPool.of(SLATE, players)
    picks = LineupPicker(pool, "draftkings_nfl_classic", random.Random(1)).lineup().picks
    joined = client.post(
        f"/contests/{detail['contest_id']}/entries",
        json={
            "lineup": [{"slot": s, "player_id": p} for s, p in picks],
            "payment_method": "pm_card_visa",
        },
        headers={**player, "Idempotency-Key": "one"},
    )
    assert joined.status_code == 201, joined.text
    return str(detail["contest_id"])


def pages(receiver: HttpReceiver, incident: str, action: str) -> list[dict[str, Any]]:
    return [
        b for b in receiver.bodies() if b["dedup_key"] == incident and b["event_action"] == action
    ]


def hooks(receiver: HttpReceiver, incident: str) -> list[str]:
    return [str(b["text"]) for b in receiver.bodies() if f" {incident}" in str(b["text"])]


def mails(receiver: SmtpReceiver, incident: str) -> list[str]:
    """The notice ids of the mails about `incident` (each mail names its notice)."""
    notices = [str(m["X-Fantasy-Notice"]) for m in receiver.seen()]
    return [n for n in notices if n.startswith(f"{incident}/")]
