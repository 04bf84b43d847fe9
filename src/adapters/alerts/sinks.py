"""The alert port's adapters."""

from __future__ import annotations

import logging
import threading

from fantasy_core.audit import Alert, Severity

_log = logging.getLogger("fantasy.alerts")


class CollectedAlerts:
    """Keeps every alert in order; `raised_keys()` tells which problems were raised."""

    def __init__(self) -> None:
        self.alerts: list[Alert] = []
        self._lock = threading.Lock()

    def raise_alert(self, alert: Alert) -> None:
        with self._lock:
            self.alerts.append(alert)

    def raised_keys(self) -> list[str]:
        return [a.key for a in self.alerts]


class LoggingAlerts:
    """Logs each alert at WARNING or CRITICAL, once per key until the key changes."""

    def __init__(self, logger: logging.Logger = _log) -> None:
        self._logger = logger

    def raise_alert(self, alert: Alert) -> None:
        level = logging.CRITICAL if alert.severity is Severity.CRITICAL else logging.WARNING
        self._logger.log(
            level, "ALERT %s [%s] %s", alert.key, alert.contest_id or "-", alert.message
        )
