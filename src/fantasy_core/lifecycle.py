"""The contest lifecycle: its states, the only transitions between them, and their events."""

from __future__ import annotations

import enum
from datetime import datetime

from attrs import frozen


class ContestState(enum.Enum):
    SCHEDULED = "SCHEDULED"
    LOCKED = "LOCKED"
    LIVE = "LIVE"
    COMPLETE = "COMPLETE"
    SETTLED = "SETTLED"
    PAID = "PAID"
    CANCELLED = "CANCELLED"


S = ContestState

# One step at a time, never skipping; CANCELLED is reachable only before SETTLED.
TRANSITIONS: dict[ContestState, frozenset[ContestState]] = {
    S.SCHEDULED: frozenset({S.LOCKED, S.CANCELLED}),
    S.LOCKED: frozenset({S.LIVE, S.CANCELLED}),
    S.LIVE: frozenset({S.COMPLETE, S.CANCELLED}),
    S.COMPLETE: frozenset({S.SETTLED, S.CANCELLED}),
    S.SETTLED: frozenset({S.PAID}),
    S.PAID: frozenset(),
    S.CANCELLED: frozenset(),
}

# The order states are passed through; used to check a history only moves forward.
LIFECYCLE_ORDER: tuple[ContestState, ...] = (
    S.SCHEDULED,
    S.LOCKED,
    S.LIVE,
    S.COMPLETE,
    S.SETTLED,
    S.PAID,
)


def is_closed(state: ContestState) -> bool:
    """A closed contest moves no more money: it is PAID or CANCELLED."""
    return state in (S.PAID, S.CANCELLED)


@frozen
class ContestTransitioned:
    """A domain event: contest `contest_id` moved from `source` to `target` at `at`."""

    contest_id: str
    source: ContestState
    target: ContestState
    at: datetime
    actor: str
    reason: str
