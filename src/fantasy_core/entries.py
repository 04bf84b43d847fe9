"""Entries: a paid lineup in a contest, and the join fingerprint that makes joining idempotent."""

from __future__ import annotations

import enum
import hashlib
import json
from datetime import datetime

from attrs import define, field, frozen

from fantasy_core.lineups import Lineup
from fantasy_core.transitions import check_move


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


E = EntryStatus

# Every legal move of an entry's status. A charge may succeed after its entry was
# declined or abandoned (a late webhook, a reply found by recovery): the fee is then
# collected and refunded at once, so DECLINED and ABANDONED may still become REFUNDED.
ENTRY_MOVES: dict[EntryStatus, frozenset[EntryStatus]] = {
    E.RESERVED: frozenset({E.PENDING_ACTION, E.ACTIVE, E.DECLINED, E.ABANDONED, E.REFUNDED}),
    E.PENDING_ACTION: frozenset({E.ACTIVE, E.DECLINED, E.ABANDONED, E.REFUNDED}),
    E.ACTIVE: frozenset({E.WITHDRAWN, E.REFUNDED}),
    E.DECLINED: frozenset({E.REFUNDED}),
    E.ABANDONED: frozenset({E.REFUNDED}),
    E.WITHDRAWN: frozenset(),
    E.REFUNDED: frozenset(),
}

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
    """One join attempt and, when paid, the entry it became.

    Its status, charge and reason change only through the methods below, each one
    move of ENTRY_MOVES; an illegal move raises IllegalTransition and changes nothing.
    A stored entry is rebuilt with whatever status it was saved with.
    """

    entry_id: str
    contest_id: str
    user_id: str
    fingerprint: str
    lineup: Lineup
    payment_method: str
    fee_minor: int
    created_at: datetime
    _status: EntryStatus = field(default=EntryStatus.RESERVED, alias="status")
    _charge_id: str | None = field(default=None, alias="charge_id")
    _reason: str | None = field(default=None, alias="reason")
    # The lineup the entry was joined with, kept once the lineup has been edited (None
    # while it never was): a replay of the join is compared with it, not with the edit.
    joined_lineup: Lineup | None = None

    @property
    def status(self) -> EntryStatus:
        return self._status

    @property
    def charge_id(self) -> str | None:
        """The gateway's charge for this entry's fee, once one is known."""
        return self._charge_id

    @property
    def reason(self) -> str | None:
        """Why the entry is not (or no longer) active; None while it plays or waits."""
        return self._reason

    @property
    def holds_seat(self) -> bool:
        return self._status in SEAT_HOLDING

    def _move(self, target: EntryStatus) -> None:
        check_move(ENTRY_MOVES, "entry", self.entry_id, self._status, target)
        self._status = target

    def await_action(self, charge_id: str) -> None:
        """The charge needs the user (3-D Secure): the seat stays held until a webhook ends it."""
        self._move(EntryStatus.PENDING_ACTION)
        self._charge_id = charge_id

    def accept(self, charge_id: str) -> None:
        """The fee was collected by `charge_id` while the contest took entries: the entry plays."""
        self._move(EntryStatus.ACTIVE)
        self._charge_id = charge_id
        self._reason = None

    def decline(self, reason: str) -> None:
        """The charge failed: no entry, no seat, nothing owed."""
        self._move(EntryStatus.DECLINED)
        self._reason = reason

    def abandon(self, reason: str) -> None:
        """Never charged before the contest locked (or the client gave up): the seat is freed."""
        self._move(EntryStatus.ABANDONED)
        self._reason = reason

    def withdraw(self, reason: str) -> None:
        """The user withdrew an active entry before the cut-off; its fee is owed back."""
        self._move(EntryStatus.WITHDRAWN)
        self._reason = reason

    def refund(self, reason: str, charge_id: str | None = None) -> None:
        """The fee is owed back (the contest was cancelled, or the charge came too late).

        `charge_id` records a charge that succeeded only now, for an entry that was not
        waiting for it any more or whose contest stopped taking entries meanwhile.
        """
        self._move(EntryStatus.REFUNDED)
        if charge_id is not None:
            self._charge_id = charge_id
        self._reason = reason

    @property
    def lineup_joined_with(self) -> Lineup:
        """The lineup of the join request that made this entry, whatever edits followed."""
        return self.lineup if self.joined_lineup is None else self.joined_lineup

    def replace_lineup(self, lineup: Lineup) -> None:
        """Play `lineup` from now on (the caller checked the rules), keeping the joined one."""
        if self.joined_lineup is None:
            self.joined_lineup = self.lineup
        self.lineup = lineup


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
