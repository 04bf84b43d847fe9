"""An alert channel for tests: records what it delivered, refuses while `down`."""

from __future__ import annotations

import threading

from fantasy_core.errors import AlertDeliveryFailed
from fantasy_core.outbox import AlertNotice


class RecordingChannel:
    def __init__(self, name: str) -> None:
        self.name = name
        self.down = False
        self.delivered: list[AlertNotice] = []
        self.attempts = 0
        self._lock = threading.Lock()

    def deliver(self, notice: AlertNotice) -> None:
        with self._lock:
            self.attempts += 1
            if self.down:
                raise AlertDeliveryFailed(f"{self.name}: receiver down")
            self.delivered.append(notice)

    def ids(self) -> list[str]:
        with self._lock:
            return [n.notice_id for n in self.delivered]
