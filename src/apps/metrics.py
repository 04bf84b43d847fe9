"""The platform's figures in Prometheus' exposition format (prometheus-client), and the
worker's pass durations.

Every scrape reads the figures afresh (`platform_figures`, one unit of work): the
numbers are the database's, the same whichever API process is scraped, except the
few that only a process knows (its join batcher's sheds, the passes of the worker
it runs). Each process has its own registry: nothing is module-global.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from fantasy_core.alerting import AlertState
from fantasy_core.audit import Severity
from fantasy_core.platform import Platform
from fantasy_core.usecases.figures import PlatformFigures, platform_figures

# prometheus-client's exposition type for the text format, version 0.0.4.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# The audit actions counted, by metric: (name, help, audit prefix, label).
_COUNTED = (
    ("fantasy_joins", "Joins by outcome (reserved is every attempt that got a seat)", "join."),
    ("fantasy_payout_attempts", "Payout attempts and their outcomes", "payout."),
    ("fantasy_refunds", "Refunds owed, confirmed and failed", "refund."),
)


class PlatformCollector(Collector):
    """Reads the platform's figures at each scrape."""

    def __init__(
        self, platform: Callable[[], Platform], shed: Callable[[], int] | None = None
    ) -> None:
        self._platform = platform
        self._shed = shed

    def collect(self) -> Iterator[Metric]:
        figures = platform_figures(self._platform())
        yield from figures_metrics(figures)
        if self._shed is not None:
            shed = CounterMetricFamily(
                "fantasy_join_overload_shed",
                "Joins refused at once (503) because too many were waiting in this process",
            )
            shed.add_metric([], self._shed())
            yield shed


def figures_metrics(f: PlatformFigures) -> Iterator[Metric]:
    contests = GaugeMetricFamily("fantasy_contests", "Contests by state", labels=["state"])
    for state, n in f.contests.items():
        contests.add_metric([state.value], n)
    yield contests
    for name, text, prefix in _COUNTED:
        family = CounterMetricFamily(name, text, labels=["outcome"])
        for outcome, n in f.counted(prefix).items():
            family.add_metric([outcome], n)
        yield family
    charges = CounterMetricFamily(
        "fantasy_charges", "Entry-fee charges by result", labels=["result"]
    )
    joins = f.counted("join.")
    charges.add_metric(["succeeded"], joins.get("accepted", 0))
    charges.add_metric(["declined"], joins.get("declined", 0))
    charges.add_metric(["needs_action"], joins.get("pending_action", 0))
    yield charges
    payouts = GaugeMetricFamily("fantasy_payouts", "Payouts by status", labels=["status"])
    for status, n in f.payouts.items():
        payouts.add_metric([status.value], n)
    yield payouts
    alerts = GaugeMetricFamily(
        "fantasy_alerts_unresolved",
        "Alerts not yet resolved, by severity and state (open or acknowledged)",
        labels=["severity", "state"],
    )
    for severity in Severity:
        for unresolved in (AlertState.OPEN, AlertState.ACKNOWLEDGED):
            n = f.alerts.get((severity, unresolved), 0)
            alerts.add_metric([severity.value, unresolved.value], n)
    yield alerts
    backlog = GaugeMetricFamily(
        "fantasy_alert_outbox_backlog",
        "Alert notices not yet delivered, by channel",
        labels=["channel"],
    )
    down = GaugeMetricFamily(
        "fantasy_alert_channel_down",
        "1 while a channel has failed for longer than the delivery policy allows",
        labels=["channel"],
    )
    for channel, n in f.outbox_backlog.items():
        backlog.add_metric([channel], n)
        down.add_metric([channel], 1 if channel in f.channels_down else 0)
    yield backlog
    yield down
    feed = GaugeMetricFamily(
        "fantasy_feed_age_seconds",
        "Age of the newest valid data stored for each slate with a locked or live contest",
        labels=["slate"],
    )
    for slate, age in f.feed_age.items():
        if age is not None:
            feed.add_metric([slate], age.total_seconds())
    yield feed
    quiet = GaugeMetricFamily(
        "fantasy_worker_seconds_since_pass",
        "Seconds since each running worker completed a pass",
        labels=["worker"],
    )
    for worker, span in f.worker_quiet.items():
        quiet.add_metric([worker], span.total_seconds())
    yield quiet


def pass_histogram(registry: CollectorRegistry) -> Histogram:
    """How long a worker's passes take (seconds), in `registry`."""
    return Histogram(
        "fantasy_worker_pass_seconds",
        "Duration of the worker's passes (lifecycle, payouts, refunds, alerts, watchdogs)",
        buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
        registry=registry,
    )


def exposition(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
