"""Translation between table rows and domain records, in both directions, field by field.

The domain classes know nothing of SQL; this module is the only place that knows
both shapes. Reading builds fresh objects, so every record handed out is a copy
(immutable parts, such as a lineup's picks, may be shared).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any

from sqlalchemy import Row

from fantasy_core.audit import AuditRecord, Outcome
from fantasy_core.codec import canonical_bytes
from fantasy_core.contest import Contest, ContestTerms
from fantasy_core.entries import Entry, EntryStatus
from fantasy_core.lifecycle import ContestState
from fantasy_core.lineups import Lineup
from fantasy_core.payments import Payout, PayoutStatus, Refund, RefundStatus
from fantasy_core.payout_accounts import PayoutAccount, PayoutAccountState
from fantasy_core.stats import FeedSnapshot

Values = dict[str, object]


def terms_to_text(terms: ContestTerms) -> str:
    """The terms as stored: their canonical JSON, as the core encodes every document."""
    return canonical_bytes(terms.canonical()).decode("ascii")


def terms_digest(text: str) -> str:
    """The SHA-256 (hex) of stored terms: stored beside them, so that a read can get the
    digest alone and parse the text only once per process (decision 0066)."""
    return hashlib.sha256(text.encode()).hexdigest()


def terms_from_text(text: str) -> ContestTerms:
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"stored contest terms are not a JSON object: {text[:80]!r}")
    return ContestTerms.from_canonical(data)


def snapshot_from_text(text: str) -> FeedSnapshot:
    return FeedSnapshot.from_canonical(json.loads(text))


# SQLAlchemy writes SQLite datetimes as "YYYY-MM-DD HH:MM:SS.ffffff" (naive UTC, here).
_SQLITE_DATETIME_LENGTH = 26


def utc(value: datetime | str) -> datetime:
    """An instant as a driver returns it (aware, naive UTC, or SQLite's text), in UTC."""
    if isinstance(value, str):
        # Parsing with the offset is five times faster than parsing and then .replace().
        naive = len(value) == _SQLITE_DATETIME_LENGTH
        value = datetime.fromisoformat(value + "+00:00" if naive else value)
    if value.tzinfo is UTC:
        return value  # PostgreSQL sessions run in UTC (engine.make_engine)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def aware(value: datetime) -> datetime:
    """`value`, refused if naive: stored as is, it would be read in some other zone."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"refusing to store a naive datetime {value!r}: give it a zone")
    return value


def contest_values(contest: Contest) -> Values:
    """The columns that change over a contest's life (terms are written once, by `add`)."""
    return {
        "state": contest.state.value,
        "completed_at": contest.completed_at,
        "cancel_reason": contest.cancel_reason,
        "version": contest.version,
    }


def contest_from_row(row: Row[Any], terms: ContestTerms) -> Contest:
    return Contest(
        contest_id=row.contest_id,
        terms=terms,
        state=ContestState(row.state),
        completed_at=row.completed_at,
        cancel_reason=row.cancel_reason,
        version=row.version,
    )


# A lineup is stored compactly: picks separated by US (\x1f), slot and player by RS
# (\x1e); it reads back with two str.split calls. A lineup with either character in a
# name (or with no picks) is stored as JSON instead. JSON escapes every control
# character, so a stored text holding a raw RS is always the compact form.
_PICK, _PAIR = "\x1f", "\x1e"


def lineup_to_text(lineup: Lineup) -> str:
    picks = lineup.picks
    if picks and not any(_PICK in name or _PAIR in name for pick in picks for name in pick):
        return _PICK.join(slot + _PAIR + player for slot, player in picks)
    return json.dumps(picks, separators=(",", ":"), ensure_ascii=False)


def _joined_lineup_text(entry: Entry) -> str | None:
    return None if entry.joined_lineup is None else lineup_to_text(entry.joined_lineup)


# Each column of `entries`, in the table's order, and how an entry gives its stored value.
_ENTRY_VALUE: dict[str, Callable[[Entry], object]] = {
    "entry_id": attrgetter("entry_id"),
    "contest_id": attrgetter("contest_id"),
    "user_id": attrgetter("user_id"),
    "fingerprint": attrgetter("fingerprint"),
    "lineup": lambda entry: lineup_to_text(entry.lineup),
    "payment_method": attrgetter("payment_method"),
    "fee_minor": attrgetter("fee_minor"),
    "created_at": attrgetter("created_at"),
    "status": lambda entry: entry.status.value,
    "charge_id": attrgetter("charge_id"),
    "reason": attrgetter("reason"),
    "joined_lineup": _joined_lineup_text,
}
ENTRY_COLUMN_NAMES = tuple(_ENTRY_VALUE)


def entry_values(entry: Entry, columns: Sequence[str] = ENTRY_COLUMN_NAMES) -> Values:
    """The stored values of `entry`'s `columns` (all of them unless given)."""
    return {name: _ENTRY_VALUE[name](entry) for name in columns}


_ENTRY_FIELDS = attrgetter(*ENTRY_COLUMN_NAMES)  # an entry's attributes bear the names


def entry_fields(entry: Entry) -> tuple[object, ...]:
    """`entry`'s fields in ENTRY_COLUMN_NAMES' order, as the entry holds them (lineups as
    objects, not text): cheap to take and to compare, to find the columns a change moved."""
    fields: tuple[object, ...] = _ENTRY_FIELDS(entry)
    return fields


class _Pairs(dict[str, tuple[str, str]]):
    """(slot, player) pairs by their stored text: a slate has a few thousand of them."""

    def __missing__(self, text: str) -> tuple[str, str]:
        slot, player = text.split(_PAIR)
        pair = self[text] = (slot, player)
        return pair


class _Players(dict[str, str]):
    """The player id of each stored pick ("slot\x1eplayer"), one shared string per pick."""

    def __missing__(self, text: str) -> str:
        _, player = text.split(_PAIR)
        self[text] = player
        return player


def _trusted_lineup(picks: tuple[tuple[str, str], ...]) -> Lineup:
    # The row holds what `lineup_to_text` wrote from a validated Lineup, so the
    # converter's checks, most of the cost of reading a big contest, are skipped
    # (object.__setattr__ is attrs' documented way to set a frozen instance's field).
    lineup = object.__new__(Lineup)
    object.__setattr__(lineup, "picks", picks)
    return lineup


_ENTRY_STATUS = {status.value: status for status in EntryStatus}


class EntryReader:
    """Builds entries from rows, cheaply enough for a million of them.

    Rows are (entry_id, contest_id, user_id, fingerprint, lineup, payment_method,
    fee_minor, created_at, status, charge_id, reason, joined_lineup) as the driver
    returns them;
    `of_contest` reads rows without the contest_id, for entries of one contest.
    Lineups share their (slot, player) pairs and repeated strings share one object,
    so a big contest takes a fraction of the memory a naive read would.
    """

    def __init__(self) -> None:
        self._pairs = _Pairs()
        self._players = _Players()
        self._shared: dict[str, str] = {}

    def player_ids(self, text: str) -> tuple[str, ...]:
        """Only the player ids of a stored lineup, in slot order."""
        if _PAIR in text:
            # map over a dict's __getitem__ runs in C: a generator here took twice as long.
            return tuple(map(self._players.__getitem__, text.split(_PICK)))
        return Lineup(json.loads(text)).player_ids

    def lineup(self, text: str) -> Lineup:
        if _PAIR in text:
            return _trusted_lineup(tuple(map(self._pairs.__getitem__, text.split(_PICK))))
        return Lineup(json.loads(text))

    def entry(self, row: Sequence[Any]) -> Entry:
        return self.of_contest(row[1], (row[0], *row[2:]))

    def of_contest(self, contest_id: str, row: Sequence[Any]) -> Entry:
        (entry_id, user_id, fingerprint, lineup, payment_method, fee, created_at, status,
         charge_id, reason, joined) = row  # fmt: skip
        return Entry(
            entry_id,
            contest_id,
            user_id,
            fingerprint,
            self.lineup(lineup),
            self._shared.setdefault(payment_method, payment_method),
            fee,
            utc(created_at),
            _ENTRY_STATUS[status],
            charge_id,
            reason,
            None if joined is None else self.lineup(joined),
        )


PAYOUT_COLUMNS = (
    "fingerprint",
    "contest_id",
    "entry_id",
    "user_id",
    "payout_id",
    "amount_minor",
    "currency",
    "status",
    "transfer_id",
    "attempts",
    "last_error",
    "retry_at",
    "reversals",
    "withheld_minor",
)


def payout_row(p: Payout) -> tuple[object, ...]:
    """A payout as values in the order of PAYOUT_COLUMNS."""
    return (
        p.fingerprint,
        p.contest_id,
        p.entry_id,
        p.user_id,
        p.payout_id,
        p.amount_minor,
        p.currency,
        p.status.value,
        p.transfer_id,
        p.attempts,
        p.last_error,
        p.retry_at,
        p.reversals,
        p.withheld_minor,
    )


def payout_values(payout: Payout) -> Values:
    return dict(zip(PAYOUT_COLUMNS, payout_row(payout), strict=True))


_PAYOUT_STATUS = {status.value: status for status in PayoutStatus}


def payout_from_row(row: Sequence[Any]) -> Payout:
    """A payout from values in PAYOUT_COLUMNS order, as SQLAlchemy or the driver returns them."""
    (fingerprint, contest_id, entry_id, user_id, payout_id, amount, currency, status,
     transfer_id, attempts, last_error, retry_at, reversals, withheld) = row  # fmt: skip
    return Payout(
        fingerprint,
        contest_id,
        entry_id,
        user_id,
        payout_id,
        amount,
        currency,
        _PAYOUT_STATUS[status],
        transfer_id,
        attempts,
        last_error,
        None if retry_at is None else utc(retry_at),
        reversals,
        withheld,
    )


def refund_values(refund: Refund) -> Values:
    return {
        "key": refund.key,
        "contest_id": refund.contest_id,
        "entry_id": refund.entry_id,
        "charge_id": refund.charge_id,
        "amount_minor": refund.amount_minor,
        "reason": refund.reason,
        "created_at": refund.created_at,
        "status": refund.status.value,
        "refund_id": refund.refund_id,
        "attempts": refund.attempts,
        "last_error": refund.last_error,
    }


def refund_from_row(row: Row[Any]) -> Refund:
    return Refund(
        key=row.key,
        contest_id=row.contest_id,
        entry_id=row.entry_id,
        charge_id=row.charge_id,
        amount_minor=row.amount_minor,
        reason=row.reason,
        created_at=row.created_at,
        status=RefundStatus(row.status),
        refund_id=row.refund_id,
        attempts=row.attempts,
        last_error=row.last_error,
    )


def audit_values(record: AuditRecord) -> Values:
    return {
        "at": record.at,
        "actor": record.actor,
        "action": record.action,
        "contest_id": record.contest_id,
        "subject": record.subject,
        "outcome": record.outcome.value,
        "detail": record.detail,
    }


def audit_from_row(row: Row[Any]) -> AuditRecord:
    return AuditRecord(
        at=row.at,
        actor=row.actor,
        action=row.action,
        contest_id=row.contest_id,
        subject=row.subject,
        outcome=Outcome(row.outcome),
        detail=row.detail,
    )


def account_values(account: PayoutAccount) -> Values:
    return {
        "user_id": account.user_id,
        "account_id": account.account_id,
        "payouts_enabled": account.payouts_enabled,
        "state": account.state.value,
        "requirements": "\n".join(account.requirements),
        "disabled_reason": account.disabled_reason,
    }


def account_from_row(row: Row[Any]) -> PayoutAccount:
    return PayoutAccount(
        row.user_id,
        row.account_id,
        PayoutAccountState(row.state),
        tuple(row.requirements.split("\n")) if row.requirements else (),
        row.disabled_reason,
    )
