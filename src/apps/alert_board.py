"""The operators' alert board: every alert kept (folded by key) until acknowledged, and logged.

An AlertSink the apps put in front of the platform's real sink, so the operator
API can list and acknowledge what was raised. It lives in memory for the life of
the process; a stored alert adapter would let several processes share it.
"""

from __future__ import annotations

import threading
from datetime import datetime

from attrs import define

from fantasy_core.audit import Alert
from fantasy_core.ports import AlertSink


@define
class BoardEntry:
    alert: Alert
    first_at: datetime
    count: int = 1
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None


class AlertBoard:
    """Keeps each alert key's latest alert; a repeat after acknowledgement re-opens it."""

    def __init__(self, forward: AlertSink | None = None) -> None:
        self._forward = forward
        self._entries: dict[str, BoardEntry] = {}
        self._lock = threading.Lock()

    def raise_alert(self, alert: Alert) -> None:
        with self._lock:
            entry = self._entries.get(alert.key)
            if entry is None:
                self._entries[alert.key] = BoardEntry(alert, alert.at)
            else:
                entry.alert = alert
                entry.count += 1
                entry.acknowledged_by = None
                entry.acknowledged_at = None
        if self._forward is not None:
            self._forward.raise_alert(alert)

    def entries(self, *, open_only: bool = False) -> list[BoardEntry]:
        with self._lock:
            found = [
                BoardEntry(e.alert, e.first_at, e.count, e.acknowledged_by, e.acknowledged_at)
                for e in self._entries.values()
                if not (open_only and e.acknowledged_by is not None)
            ]
        return sorted(found, key=lambda e: (e.first_at, e.alert.key))

    def acknowledge(self, key: str, by: str, at: datetime) -> bool:
        """Mark an alert seen; False if there is no alert with this key."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return False
            entry.acknowledged_by = by
            entry.acknowledged_at = at
            return True
