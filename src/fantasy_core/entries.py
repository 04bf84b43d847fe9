"""Entries: a paid lineup in a contest, and the join fingerprint that makes joining idempotent."""

from __future__ import annotations

import enum
import hashlib
import json
from datetime import datetime

from attrs import define, frozen

from fantasy_core.lineups import Lineup


class EntryStatus(enum.Enum):
    """Where an entry stands. Only ACTIVE entries play; RESERVED and PENDING_ACTION hold a seat.

    A declined join is kept as a DECLINED record so that a replay of its fingerprint
    returns the first outcome; it holds no seat and owes nothing.
    """

    RESERVED = "reserved"  # seat held, charge in flight
    PENDING_ACTION = "pending_action"  # the payment needs the user (3-D Secure); a webhook ends it
    ACTIVE = "active"  # paid and in the contest
    DECLINED = "declined"  # the charge failed: no entry
    WITHDRAWN = "withdrawn"  # the user withdrew before the cut-off; fee refunded
    REFUNDED = "refunded"  # charged, but the contest locked, filled or was cancelled: refunded
    ABANDONED = "abandoned"  # never charged (the gateway could not be reached before lock)


SEAT_HOLDING = frozenset({EntryStatus.RESERVED, EntryStatus.PENDING_ACTION, EntryStatus.ACTIVE})

# What settlement reads of an active entry: (entry id, user id, fee in minor units,
# player ids). Plain tuples, because a big contest has a million of them.
SettlementRow = tuple[str, str, int, tuple[str, ...]]


def join_fingerprint(contest_id: str, user_id: str, client_key: str) -> str:
    """The idempotency fingerprint of a join: (contest, user, the client's key), hashed.

    Hashing keeps it within Stripe's 255-character idempotency key limit whatever
    the client sends; JSON framing keeps ("a:b", "c") and ("a", "b:c") apart.
    """
    framed = json.dumps([contest_id, user_id, client_key], separators=(",", ":"))
    return "join-" + hashlib.sha256(framed.encode()).hexdigest()


@define
class Entry:
    """One join attempt and, when paid, the entry it became."""

    entry_id: str
    contest_id: str
    user_id: str
    fingerprint: str
    lineup: Lineup
    payment_method: str
    fee_minor: int
    created_at: datetime
    status: EntryStatus = EntryStatus.RESERVED
    charge_id: str | None = None
    reason: str | None = None

    @property
    def holds_seat(self) -> bool:
        return self.status in SEAT_HOLDING


@frozen
class JoinResult:
    """What a join returns, the same on every replay of its fingerprint."""

    entry_id: str
    status: EntryStatus
    reason: str | None
    decline_code: str | None = None

    @property
    def accepted(self) -> bool:
        return self.status is EntryStatus.ACTIVE
