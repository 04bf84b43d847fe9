"""Campaign: the worker SIGKILLed while it delivers alerts, again and again.

Alerts are raised, acknowledged and resolved in the store (as the API and the use cases
do), which queues one notice per change per channel in the outbox. A worker process
(`support.worker_process`: the production worker, on a clock read from a shared file)
delivers them to a webhook, a PagerDuty-shaped receiver and an SMTP server on 127.0.0.1,
each slow to answer (`delay`), and is killed with SIGKILL at random moments, restarted,
killed again; more changes are made between kills. At the end one last worker runs
until the outbox is empty.

Counted at the receivers, by notice id: every notice arrives; each arrives once, except
that a kill while a receiver was answering (it had taken the notice, the worker had not
yet recorded that) makes the next worker send that one notice again, with the same id.
The worker sends one notice at a time, so a kill causes at most one such repeat: the
repeats are bounded by the kills, and each carries the id a receiver drops it by
(PagerDuty itself folds a repeated trigger or resolve of one dedup_key). On each channel
an incident's changes arrive in order: opened, acknowledged, resolved.
"""

from __future__ import annotations

import itertools
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from attrs import frozen

from apps.bootstrap import start
from apps.settings import Settings
from fantasy_core.platform import Platform
from fantasy_core.usecases.alerts import acknowledge_alert, clear_now
from support.campaign import CampaignReport
from support.postgres_schema import fresh_schema
from support.processes import WorkerProcess, clocked_worker, worker_environment
from support.receivers import HttpReceiver, SmtpReceiver, http_receiver, smtp_receiver
from support.shared_clock import FileClock

START = datetime(2025, 9, 7, 12, 0, tzinfo=UTC)
CHANGES = ("opened", "acknowledged", "resolved")
FINISH_TIMEOUT_SECONDS = 120.0


@frozen
class AlertDeliveryConfig:
    alerts: int = 24
    kills: int = 12
    receiver_delay: float = 0.03  # seconds each receiver takes to answer
    seed: int = 2025


@frozen
class Receivers:
    webhook: HttpReceiver
    pagerduty: HttpReceiver
    smtp: SmtpReceiver

    def arrivals(self) -> dict[str, Counter[str]]:
        """By channel: how often each notice id arrived."""
        return {
            "webhook": Counter(r.headers["Idempotency-Key"] for r in self.webhook.received),
            "pagerduty": Counter(r.headers["Idempotency-Key"] for r in self.pagerduty.received),
            "email": Counter(str(m["X-Fantasy-Notice"]) for m in self.smtp.seen()),
        }

    def total(self) -> int:
        return sum(sum(counts.values()) for counts in self.arrivals().values())

    def orders(self) -> dict[str, list[str]]:
        """By channel: the notice ids in the order they first arrived."""
        seen = self.arrivals()
        return {channel: list(dict.fromkeys(ids)) for channel, ids in seen.items()}


@contextmanager
def receivers(delay: float) -> Iterator[Receivers]:
    with (
        http_receiver("/hook") as webhook,
        http_receiver("/v2/enqueue") as pagerduty,
        smtp_receiver() as smtp,
    ):
        webhook.delay = pagerduty.delay = smtp.delay = delay
        yield Receivers(webhook, pagerduty, smtp)


def run_campaign(
    config: AlertDeliveryConfig, postgres_url: str, workdir: Path, mode: str = "short"
) -> CampaignReport:
    report = CampaignReport("alert_delivery", "Worker killed while delivering alerts", mode=mode)
    report.checked = [
        "receivers: every notice queued arrived (each change of each alert on each channel)",
        "receivers: repeats only by id, at most one per kill (the one in flight)",
        "receivers: an incident's changes in order on each channel (opened, ack, resolved)",
        "outbox: nothing left undelivered",
    ]
    started = time.monotonic()
    rng = random.Random(config.seed)
    with receivers(config.receiver_delay) as rx, fresh_schema(postgres_url, "alerts") as url:
        clock = FileClock(workdir / "clock.txt")
        clock.set(START)
        channels = {
            "alert_webhook_url": rx.webhook.url,
            "pagerduty_routing_key": "R0UTING",
            "pagerduty_url": rx.pagerduty.url,
            "smtp_url": rx.smtp.url,
            "alert_email_to": ("ops@example.com",),
        }
        settings = Settings(
            environment="test", database_url=url, database_auto_upgrade=False, **channels
        )
        env = worker_environment(
            url,
            None,
            FANTASY_ALERT_WEBHOOK_URL=rx.webhook.url,
            FANTASY_PAGERDUTY_ROUTING_KEY="R0UTING",
            FANTASY_PAGERDUTY_URL=rx.pagerduty.url,
            FANTASY_SMTP_URL=rx.smtp.url,
            FANTASY_ALERT_EMAIL_TO="ops@example.com",
        )
        with start(settings, clock=clock) as services:
            p = services.platform
            keys = [f"campaign-{n:03d}" for n in range(config.alerts)]
            # Alerts added when a kill would find nothing to deliver join the plan.
            plan = _plan(keys, rng)
            worker = WorkerProcess(clocked_worker(clock.path, 0.05), env, workdir / "worker.log")
            _change(p, plan, "opened")
            for kill in range(config.kills):
                if not _backlog(p):  # nothing left to interrupt: more alerts
                    more = [f"campaign-{len(plan) + n:03d}" for n in range(config.alerts // 4)]
                    fresh = _plan(more, rng)
                    plan.update(fresh)
                    _change(p, fresh, "opened")
                worker.start()
                _wait_for_start(worker, kill + 1)
                # It is delivering once a receiver takes a notice in; kill it at some
                # moment of the next few sends (a receiver may be answering right then).
                taken = rx.total()
                _wait(lambda taken=taken: rx.total() > taken, "the restarted worker delivers")
                time.sleep(rng.uniform(0, 3 * config.receiver_delay))
                worker.kill()
                report.fault("worker SIGKILLed while delivering")
                if kill == config.kills // 3:
                    _change(p, plan, "acknowledged")
                if kill == 2 * config.kills // 3:
                    _change(p, plan, "resolved")
                # Past the longest backoff: what a killed worker had claimed is due again.
                clock.advance(p.delivery.max_delay + timedelta(seconds=1))
            _change(p, plan, "acknowledged")
            _change(p, plan, "resolved")
            worker.start()
            deadline = time.monotonic() + FINISH_TIMEOUT_SECONDS
            while _backlog(p) and time.monotonic() < deadline:
                clock.advance(p.delivery.max_delay + timedelta(seconds=1))
                time.sleep(0.5)
            code = worker.stop()
            report.check(code == 0, f"the last worker exited with {code}")
            left = _backlog(p)
            report.check(left == 0, f"{left} notices still undelivered")
            expected = _expected(plan, [c.name for c in p.channels])
            report.figures["alerts"] = len(plan)
        _check(rx, expected, config.kills, report)
    report.runs = 1
    report.seconds = round(time.monotonic() - started, 1)
    f = report.figures
    report.summary = (
        f"{config.kills} SIGKILLs while delivering {f['notices expected']} notices "
        f"({f['alerts']} alerts x their changes x 3 channels): {f['notices delivered']} "
        f"delivered, {f['notices missing']} missing, {f['repeats (same id)']} sent again "
        f"with the same id (bound: one per kill), {f['out of order']} out of order"
    )
    return report


def _wait_for_start(worker: WorkerProcess, starts: int) -> None:
    """Until the worker's log says it started `starts` times (this start included)."""
    _wait(
        lambda: worker.log.read_text(errors="replace").count("worker started") >= starts,
        f"start {starts} of the worker",
    )


def _wait(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not seen in {timeout:.0f} s: {what}")
        time.sleep(0.01)


def _plan(keys: list[str], rng: random.Random) -> dict[str, tuple[str, ...]]:
    """Each alert's changes: opened; a third also acknowledged; two thirds resolved."""
    plan: dict[str, tuple[str, ...]] = {}
    for key in keys:
        roll = rng.random()
        if roll < 1 / 3:
            plan[key] = ("opened", "acknowledged", "resolved")
        elif roll < 2 / 3:
            plan[key] = ("opened", "resolved")
        else:
            plan[key] = ("opened",)
    return plan


def _change(p: Platform, plan: dict[str, tuple[str, ...]], change: str) -> None:
    """Make `change` for every alert whose plan has it (again: nothing new happens)."""
    for key, changes in plan.items():
        if change not in changes:
            continue
        if change == "opened":
            p.alert(key, f"campaign alert {key}", critical=key.endswith(("0", "5")))
        elif change == "acknowledged":
            current = _current(p, key)
            if current == "open":
                acknowledge_alert(p, key, "ops@example.com")
        else:
            clear_now(p, [key])


def _current(p: Platform, key: str) -> str | None:
    with p.uow() as uow:
        alert = uow.alerts.get(key)
    return None if alert is None else alert.state.value


def _backlog(p: Platform) -> int:
    with p.uow() as uow:
        return sum(uow.outbox.backlog().values())


def _expected(plan: dict[str, tuple[str, ...]], channels: list[str]) -> dict[str, list[str]]:
    """By channel: the notice ids of the campaign's changes, in the order they must arrive
    within each incident."""
    return {
        channel: [
            f"{key}#1/{change}/{channel}" for key, changes in plan.items() for change in changes
        ]
        for channel in channels
    }


def _check(
    rx: Receivers, expected: dict[str, list[str]], kills: int, report: CampaignReport
) -> None:
    arrivals = rx.arrivals()
    orders = rx.orders()
    wanted = sum(len(ids) for ids in expected.values())
    missing = [i for channel, ids in expected.items() for i in ids if not arrivals[channel][i]]
    repeats = sum(n - 1 for counts in arrivals.values() for n in counts.values() if n > 1)
    out_of_order = 0
    for channel, ids in expected.items():
        position = {notice: n for n, notice in enumerate(orders[channel])}
        for first, then in itertools.pairwise(ids):
            same_incident = first.split("/")[0] == then.split("/")[0]
            if same_incident and position.get(first, -1) > position.get(then, -1):
                out_of_order += 1
    delivered = wanted - len(missing)
    report.figures.update(
        {
            "notices expected": wanted,
            "notices delivered": delivered,
            "notices missing": len(missing),
            "repeats (same id)": repeats,
            "out of order": out_of_order,
            "arrivals at the receivers": sum(sum(c.values()) for c in arrivals.values()),
            "other notices delivered": sum(
                1
                for channel, counts in arrivals.items()
                for notice in counts
                if notice not in set(expected[channel])
            ),
        }
    )
    report.check(not missing, f"never delivered: {missing[:5]}")
    report.check(repeats <= kills, f"{repeats} repeats for {kills} kills")
    report.check(out_of_order == 0, f"{out_of_order} changes arrived before an earlier one")
