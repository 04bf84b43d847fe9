"""The lifecycle worker: `run_once` every few seconds until told to stop, never half a pass.

Stopping (SIGTERM, SIGINT, or `stop` set by the caller) is only looked at between
passes: a pass in progress finishes; a worker waiting between passes stops at
once. Each pass's work is logged with its ids. When the database cannot be
reached the worker waits longer and longer (up to `max_backoff`) and carries on
when it is back; any other failure is logged with its traceback, alerted, and
retried after the same backoff. Several workers may run against one database:
every step of a pass is safe to race (see fantasy_core.usecases.lifecycle).
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from types import FrameType

from fantasy_core.errors import StoreUnavailable
from fantasy_core.platform import Platform
from fantasy_core.usecases.alerts import clear_now
from fantasy_core.usecases.watchdogs import (
    WatchdogThresholds,
    forget_worker,
    record_pass,
    watch,
    watch_ledger,
)
from fantasy_core.usecases.worker import PassReport, run_once

_log = logging.getLogger("fantasy.worker")

PASS_FAILED_ALERT = "worker-pass-failed"


class Worker:
    def __init__(
        self,
        platform: Platform,
        interval: float,
        *,
        max_backoff: float = 60.0,
        run_pass: Callable[[Platform], PassReport] = run_once,
        watchdogs: WatchdogThresholds | None = None,
        ledger_every: timedelta = timedelta(minutes=10),
        on_pass: Callable[[float], None] | None = None,
    ) -> None:
        self.platform = platform
        self.interval = interval
        self.max_backoff = max(max_backoff, interval)
        self.stop = threading.Event()
        self._run_pass = run_pass
        self.passes = 0
        self.failures = 0
        self.watchdogs = watchdogs or WatchdogThresholds()
        # The ledger's verification reads every posting: it runs after the first good
        # pass, then once every `ledger_every` (by the platform's clock).
        self.ledger_every = ledger_every
        self._ledger_due: datetime | None = None
        # Told each good pass's duration in seconds, watchdogs included (the metrics).
        self._on_pass = on_pass
        # Unique per process, readable in an alert: which machine, which process.
        self.worker_id = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"

    def run(self, max_passes: int | None = None) -> None:
        """Run passes until `stop` is set (or `max_passes` were attempted)."""
        _log.info("worker started: a pass every %.1f s", self.interval)
        delay = self.interval
        while not self.stop.is_set():
            delay = self._one_pass(delay)
            if max_passes is not None and self.passes + self.failures >= max_passes:
                break
            self.stop.wait(delay)
        self._forget()
        _log.info("worker stopped after %d passes (%d failed)", self.passes, self.failures)

    def _one_pass(self, delay: float) -> float:
        started = time.perf_counter()
        try:
            report = self._run_pass(self.platform)
            self._keep_watch()
        except StoreUnavailable as error:  # "try again later", not "this pass is wrong"
            self.failures += 1
            backoff = min(max(delay, self.interval) * 2, self.max_backoff)
            _log.warning("database unreachable (%s); next try in %g s", _first_line(error), backoff)
            return backoff
        except Exception as error:
            self.failures += 1
            backoff = min(max(delay, self.interval) * 2, self.max_backoff)
            _log.exception("worker pass failed; next try in %g s", backoff)
            try:
                self.platform.alert(
                    PASS_FAILED_ALERT, f"a worker pass failed: {error!r}", critical=True
                )
            except StoreUnavailable as unstored:
                # The log has the alert (the platform's sink comes first); the store does not.
                _log.warning("the alert could not be stored: %s", _first_line(unstored))
            return backoff
        self.passes += 1
        if self._on_pass is not None:
            self._on_pass(time.perf_counter() - started)
        log_report(report)
        return self.interval

    def _keep_watch(self) -> None:
        """After a good pass: its failure alert resolves, the heartbeat, then the watchdogs
        (a worker never alerts about itself)."""
        clear_now(self.platform, [PASS_FAILED_ALERT])
        record_pass(self.platform, self.worker_id)
        watch(self.platform, self.watchdogs, self.worker_id)
        now = self.platform.clock.now()
        if self._ledger_due is None or now >= self._ledger_due:
            watch_ledger(self.platform)
            self._ledger_due = now + self.ledger_every

    def _forget(self) -> None:
        try:
            forget_worker(self.platform, self.worker_id)
        except StoreUnavailable as error:
            # Stopping with the database away: the others will see this worker silent.
            _log.warning("could not record this worker's stop: %s", _first_line(error))

    def install_signal_handlers(self) -> None:
        """SIGTERM and SIGINT ask for a stop after the current pass (main thread only)."""

        def ask_to_stop(signum: int, _frame: FrameType | None) -> None:
            _log.info("signal %s: stopping after the current pass", signal.Signals(signum).name)
            self.stop.set()

        signal.signal(signal.SIGTERM, ask_to_stop)
        signal.signal(signal.SIGINT, ask_to_stop)


def log_report(report: PassReport) -> None:
    for opening in report.calendar_opened:
        _log.info(
            "calendar %s opened contest %s",
            opening.key.text,
            opening.contest_id,
            extra={"contest_id": opening.contest_id},
        )
    if report.locks_moved:
        _log.info("calendar: %d locks moved earlier with the schedule", report.locks_moved)
    for event in report.transitions:
        _log.info(
            "contest %s: %s -> %s (%s)",
            event.contest_id,
            event.source.value,
            event.target.value,
            event.reason,
            extra={"contest_id": event.contest_id},
        )
    if (
        report.slates_ingested
        or report.reservations_resolved
        or report.payouts_confirmed
        or report.refunds_confirmed
        or report.notices_delivered
    ):
        _log.info(
            "pass: %d snapshots stored, %d reservations resolved, %d payouts, %d refunds, "
            "%d alert notices",
            report.slates_ingested,
            report.reservations_resolved,
            report.payouts_confirmed,
            report.refunds_confirmed,
            report.notices_delivered,
        )


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
