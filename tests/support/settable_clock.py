"""A clock the test sets, forwards or back: a callable, as the stats feeds take their `now`.

Unlike the product's ControllableClock (which never goes backwards, as a platform clock
must not), a feed under test is asked about any moment, in any order.
"""

from __future__ import annotations

from datetime import datetime


class SettableClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now
