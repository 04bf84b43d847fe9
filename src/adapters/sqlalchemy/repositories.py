"""The records a use case reads and changes: contests, entries, payouts, refunds, accounts.

Each repository runs on its unit of work's connection (`Statements`) and hands out
fresh objects built from rows, so mutating a record changes nothing until it is saved.
`save` writes the whole record and inserts it if it is new, as the memory store does.
"""

from __future__ import annotations

import weakref
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import BindParameter, Row, Update, bindparam, exists, func, select
from sqlalchemy.dialects import postgresql

from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.records import (
    PAYOUT_COLUMNS,
    EntryReader,
    account_from_row,
    account_values,
    contest_from_row,
    contest_values,
    entry_values,
    payout_from_row,
    payout_row,
    payout_values,
    refund_from_row,
    refund_values,
    terms_to_text,
)
from adapters.sqlalchemy.statements import Statements
from fantasy_core.collector import garbage_collection_paused
from fantasy_core.contest import Contest
from fantasy_core.entries import SEAT_HOLDING, Entry, EntryStatus, SettlementRow
from fantasy_core.errors import (
    ConcurrentUpdate,
    DuplicateRecord,
    UnknownContest,
    UnknownEntry,
    UnknownPayout,
)
from fantasy_core.lifecycle import ContestState
from fantasy_core.payments import Payout, PayoutAccount, PayoutStatus, Refund, RefundStatus

# Rows streamed per fetch when reading a contest's entries (a server-side cursor on
# PostgreSQL): big enough to amortise round trips, small enough to bound memory.
STREAM_BATCH = 20_000

_SEATS = sorted(s.value for s in SEAT_HOLDING)


# The statements of a join, built once: building and compiling a statement per call
# cost more of a join's time than running it (see docs/performance.md).
_GET_CONTEST = select(t.contests).where(t.contests.c.contest_id == bindparam("contest_id"))
# PostgreSQL: FOR NO KEY UPDATE serialises lockers like FOR UPDATE, but lets other
# transactions insert rows that reference the contest (their foreign key checks take
# KEY SHARE). SQLite renders nothing: BEGIN IMMEDIATE already made this unit of work the
# only writer.
_LOCK_CONTEST = _GET_CONTEST.with_for_update(key_share=True)
# Several at once, in ascending id order: rows are locked as they are read, so two
# lockers of overlapping sets both take them in one order and cannot deadlock.
_LOCK_CONTESTS = (
    select(t.contests)
    .where(t.contests.c.contest_id.in_(bindparam("ids", expanding=True)))
    .order_by(t.contests.c.contest_id)
    .with_for_update(key_share=True)
)


class SqlContests:
    """Contests; `save` is a compare-and-set on the row's version."""

    def __init__(self, db: Statements) -> None:
        self._db = db
        # The version each contest object had when this unit of work read it, by object:
        # two reads of one contest give two objects, each saved against its own version.
        self._loaded: dict[int, tuple[weakref.ref[Contest], int]] = {}

    def _remember(self, contest: Contest) -> Contest:
        self._loaded[id(contest)] = (weakref.ref(contest), contest.version)
        return contest

    def _loaded_version(self, contest: Contest) -> int | None:
        known = self._loaded.get(id(contest))
        if known is None or known[0]() is not contest:
            return None
        return known[1]

    def add(self, contest: Contest) -> None:
        values = {
            "contest_id": contest.contest_id,
            "terms": terms_to_text(contest.terms),
            **contest_values(contest),
        }
        if self._db.execute(self._db.insert_new(t.contests), values).rowcount != 1:
            raise DuplicateRecord(f"contest {contest.contest_id} exists")
        self._remember(contest)

    def _read(self, contest_id: str, *, for_update: bool) -> Contest:
        query = _LOCK_CONTEST if for_update else _GET_CONTEST
        row = self._db.execute(query, {"contest_id": contest_id}).first()
        if row is None:
            raise UnknownContest(f"no contest {contest_id}")
        if for_update:
            self._db.locked_seats[contest_id] = int(row.seats_taken)
        return self._remember(contest_from_row(row, self._db.caches.terms(row.terms)))

    def get(self, contest_id: str) -> Contest:
        return self._read(contest_id, for_update=False)

    def lock(self, contest_id: str) -> Contest:
        return self._read(contest_id, for_update=True)

    def lock_all(self, contest_ids: Iterable[str]) -> dict[str, Contest]:
        wanted = sorted(set(contest_ids))
        if not wanted:
            return {}
        locked: dict[str, Contest] = {}
        for row in self._db.execute(_LOCK_CONTESTS, {"ids": wanted}):
            self._db.locked_seats[row.contest_id] = int(row.seats_taken)
            contest = contest_from_row(row, self._db.caches.terms(row.terms))
            locked[contest.contest_id] = self._remember(contest)
        return locked

    def save(self, contest: Contest) -> None:
        table = t.contests
        loaded = self._loaded_version(contest)
        # A contest read in this unit of work must still have the version it was read
        # at; one that was not (the memory store's rule) must not be behind the row.
        expected = (
            table.c.version == loaded if loaded is not None else table.c.version <= contest.version
        )
        update = (
            table.update()
            .where(table.c.contest_id == contest.contest_id, expected)
            .values(contest_values(contest))
        )
        if self._db.execute(update).rowcount == 1:
            self._remember(contest)
            return
        exists = select(table.c.version).where(table.c.contest_id == contest.contest_id)
        if self._db.execute(exists).first() is None:
            raise UnknownContest(f"no contest {contest.contest_id}")
        raise ConcurrentUpdate(f"contest {contest.contest_id} changed meanwhile")

    def ids_in_states(self, states: Iterable[ContestState]) -> list[str]:
        wanted = [s.value for s in states]
        if not wanted:
            return []
        query = (
            select(t.contests.c.contest_id)
            .where(t.contests.c.state.in_(wanted))
            .order_by(t.contests.c.contest_id)
        )
        return [str(cid) for cid in self._db.execute(query).scalars()]


_ENTRY_COLUMNS = (
    t.entries.c.entry_id,
    t.entries.c.contest_id,
    t.entries.c.user_id,
    t.entries.c.fingerprint,
    t.entries.c.lineup,
    t.entries.c.payment_method,
    t.entries.c.fee_minor,
    t.entries.c.created_at,
    t.entries.c.status,
    t.entries.c.charge_id,
    t.entries.c.reason,
)


def _entry_binds(prefix: str, *, but: str | None = None) -> dict[str, BindParameter[Any]]:
    """A bind parameter for every column of `entries` (`but` one), named prefix + column."""
    return {
        c.name: bindparam(prefix + c.name, type_=c.type) for c in t.entries.columns if c.name != but
    }


def _add_with_seat() -> Update:
    """PostgreSQL: insert an entry and count its seat on the contest row, in one statement."""
    added = (
        postgresql.insert(t.entries)
        .values(_entry_binds("e_"))
        .on_conflict_do_nothing()
        .returning(t.entries.c.contest_id)
        .cte("added")
    )
    seats = t.contests.c.seats_taken
    return (
        t.contests.update()
        .where(t.contests.c.contest_id == added.c.contest_id)
        .values(seats_taken=seats + 1)
        .returning(seats)
        .add_cte(added)
    )


def _replace_returning_before() -> Update:
    """PostgreSQL: overwrite an entry, returning the (contest id, status) it had.

    The row joins its own earlier self, read FOR UPDATE: that read locks the row first,
    so the status returned is the one this statement replaced.
    """
    c = t.entries.c
    old = (
        select(c.entry_id, c.contest_id, c.status)
        .where(c.entry_id == bindparam("target"))
        .with_for_update()
        .subquery("old")
    )
    return (
        t.entries.update()
        .where(c.entry_id == old.c.entry_id)
        .values(_entry_binds("new_", but="entry_id"))
        .returning(old.c.contest_id, old.c.status)
    )


_ADD_WITH_SEAT = _add_with_seat()
_REPLACE_RETURNING_BEFORE = _replace_returning_before()
_STATUS_BEFORE = select(t.entries.c.contest_id, t.entries.c.status).where(
    t.entries.c.entry_id == bindparam("target")
)
_REPLACE = (
    t.entries.update()
    .where(t.entries.c.entry_id == bindparam("target"))
    .values(_entry_binds("new_", but="entry_id"))
)
_ENTRY_BY = {
    name: select(*_ENTRY_COLUMNS).where(t.entries.c[name] == bindparam("value"))
    for name in ("entry_id", "fingerprint", "charge_id")
}
# The statuses are counted, not searched for: with them in the WHERE clause PostgreSQL
# may read the contest's whole (contest, status) index, every seat of the contest, when
# its statistics are older than the contest's rush of joins (a contest fills from empty
# in minutes): a join batch slowed from 439 to 295 joins/s as 18,000 entries came in.
# Counted, only the (contest, user) index serves the WHERE clause.
_HOLDS_SEAT = t.entries.c.status.in_(_SEATS)
_SEATS_OF_USER = select(func.count().filter(_HOLDS_SEAT)).where(
    t.entries.c.contest_id == bindparam("contest_id"),
    t.entries.c.user_id == bindparam("user_id"),
)
_SEATS_TAKEN = select(t.contests.c.seats_taken).where(
    t.contests.c.contest_id == bindparam("contest_id")
)
# The batch forms (a join batch): one statement each, whatever the count.
_ENTRIES_BY = {
    name: select(*_ENTRY_COLUMNS).where(t.entries.c[name].in_(bindparam("values", expanding=True)))
    for name in ("entry_id", "fingerprint")
}
# SQLite renders no FOR UPDATE: BEGIN IMMEDIATE made this unit of work the only writer.
_STATUSES_BEFORE = (
    select(t.entries.c.entry_id, t.entries.c.contest_id, t.entries.c.status)
    .where(t.entries.c.entry_id.in_(bindparam("ids", expanding=True)))
    .with_for_update()
)
# The contests asked for times the users asked for: a superset of the pairs, which the
# caller keeps; one statement, on the (contest, user) index (statuses counted, as above).
_SEATS_OF_USERS = (
    select(
        t.entries.c.contest_id,
        t.entries.c.user_id,
        func.count().filter(_HOLDS_SEAT).label("held"),
    )
    .where(
        t.entries.c.contest_id.in_(bindparam("contests", expanding=True)),
        t.entries.c.user_id.in_(bindparam("users", expanding=True)),
    )
    .group_by(t.entries.c.contest_id, t.entries.c.user_id)
)
_INSERT_ENTRY = t.entries.insert()


def _distinct(entry_ids: Sequence[str]) -> None:
    if len(set(entry_ids)) < len(entry_ids):
        raise ValueError(f"entry ids given twice: {sorted(entry_ids)}")


def _seat_moves(entries: Sequence[Entry], before: dict[str, tuple[str, str]]) -> Counter[str]:
    """How saving `entries` moves each contest's seat counter, given the (contest id,
    status) each stored one had before (absent: the entry is new)."""
    moves: Counter[str] = Counter()
    for entry in entries:
        moves[entry.contest_id] += int(entry.holds_seat)
        if entry.entry_id in before and before[entry.entry_id][1] in _SEATS:
            moves[before[entry.entry_id][0]] -= 1
    return moves


def _replace_params(entry: Entry) -> dict[str, object]:
    return {"target": entry.entry_id, **{"new_" + k: v for k, v in entry_values(entry).items()}}


class SqlEntries:
    def __init__(self, db: Statements) -> None:
        self._db = db

    def add(self, entry: Entry) -> None:
        # A join adds its entry under the contest's lock, so that on PostgreSQL the entry
        # and its seat go in one statement: one round trip less while the lock is held.
        missing = UnknownContest(f"no contest {entry.contest_id}")
        values = entry_values(entry)
        if entry.holds_seat and self._db.dialect == "postgresql":
            params = {"e_" + k: v for k, v in values.items()}
            taken = self._db.execute(_ADD_WITH_SEAT, params, missing_parent=missing).scalar()
            if taken is None:
                raise DuplicateRecord(f"entry {entry.entry_id} ({entry.fingerprint}) exists")
            self._db.seats_now(entry.contest_id, int(taken))
            return
        result = self._db.execute(self._db.insert_new(t.entries), values, missing_parent=missing)
        if result.rowcount != 1:
            raise DuplicateRecord(f"entry {entry.entry_id} ({entry.fingerprint}) exists")
        if entry.holds_seat:
            self._db.move_seats({entry.contest_id: 1})

    def save(self, entry: Entry) -> None:
        before = self._replace(entry)
        if before is None:
            self._db.execute(
                self._db.insert_new(t.entries),
                entry_values(entry),
                missing_parent=UnknownContest(f"no contest {entry.contest_id}"),
            )
        self._db.move_seats(
            _seat_moves([entry], {} if before is None else {entry.entry_id: before})
        )

    def _replace(self, entry: Entry) -> tuple[str, str] | None:
        """Overwrite the stored entry; its (contest id, status) before, or None if it is new.

        The stored row is locked before it is read, so the status it had is the one
        replaced: the seat counter moves by exactly what changed.
        """
        params = _replace_params(entry)
        missing = UnknownContest(f"no contest {entry.contest_id}")
        row: Row[Any] | None
        if self._db.dialect == "postgresql":
            row = self._db.execute(
                _REPLACE_RETURNING_BEFORE, params, missing_parent=missing
            ).first()
        else:  # SQLite: this unit of work is the only writer (BEGIN IMMEDIATE)
            row = self._db.execute(_STATUS_BEFORE, {"target": entry.entry_id}).first()
            if row is not None:
                self._db.execute(_REPLACE, params, missing_parent=missing)
        if row is None:
            return None
        contest_id, status = tuple(row)
        return str(contest_id), str(status)

    def _one(self, column: str, value: str) -> Entry | None:
        row = self._db.execute(_ENTRY_BY[column], {"value": value}).first()
        return None if row is None else EntryReader().entry(row)

    def get(self, entry_id: str) -> Entry:
        entry = self._one("entry_id", entry_id)
        if entry is None:
            raise UnknownEntry(f"no entry {entry_id}")
        return entry

    def by_fingerprint(self, fingerprint: str) -> Entry | None:
        return self._one("fingerprint", fingerprint)

    def by_charge(self, charge_id: str) -> Entry | None:
        return self._one("charge_id", charge_id)

    def for_contest(
        self, contest_id: str, statuses: Iterable[EntryStatus] | None = None
    ) -> list[Entry]:
        # The hot read of settlement: see Statements.stream and records.EntryReader.
        columns = [c for c in _ENTRY_COLUMNS if c is not t.entries.c.contest_id]
        query = select(*columns).where(t.entries.c.contest_id == contest_id)
        if statuses is not None:
            query = query.where(t.entries.c.status.in_([s.value for s in statuses]))
        rows = self._db.stream(query.order_by(t.entries.c.entry_id), STREAM_BATCH)
        reader = EntryReader()
        with garbage_collection_paused():
            return [reader.of_contest(contest_id, row) for row in rows]

    def for_settlement(self, contest_id: str) -> list[SettlementRow]:
        # Only what settlement needs, streamed: no Entry objects for a million rows.
        c = t.entries.c
        query = (
            select(c.entry_id, c.user_id, c.fee_minor, c.lineup)
            .where(c.contest_id == contest_id, c.status == EntryStatus.ACTIVE.value)
            .order_by(c.entry_id)
        )
        players = EntryReader().player_ids
        with garbage_collection_paused():
            rows = self._db.stream(query, STREAM_BATCH, at_once=True)
            return [
                (entry_id, user_id, fee, players(lineup)) for entry_id, user_id, fee, lineup in rows
            ]

    def count(self, contest_id: str, statuses: Iterable[EntryStatus]) -> int:
        query = select(func.count()).where(
            t.entries.c.contest_id == contest_id,
            t.entries.c.status.in_([s.value for s in statuses]),
        )
        return int(self._db.execute(query).scalar_one())

    def for_user(self, user_id: str) -> list[Entry]:
        query = select(*_ENTRY_COLUMNS).where(t.entries.c.user_id == user_id)
        reader = EntryReader()
        return [reader.entry(row) for row in self._db.execute(query.order_by(t.entries.c.entry_id))]

    def with_status(self, statuses: Iterable[EntryStatus]) -> list[Entry]:
        query = select(*_ENTRY_COLUMNS).where(t.entries.c.status.in_([s.value for s in statuses]))
        rows = self._db.stream(query.order_by(t.entries.c.entry_id), STREAM_BATCH)
        reader = EntryReader()
        with garbage_collection_paused():
            return [reader.entry(row) for row in rows]

    def seats_taken(self, contest_id: str) -> int:
        locked = self._db.locked_seats.get(contest_id)
        if locked is not None:
            return locked  # read with the lock this transaction holds
        seats = self._db.execute(_SEATS_TAKEN, {"contest_id": contest_id}).scalar()
        return 0 if seats is None else int(seats)

    def seats_of_user(self, contest_id: str, user_id: str) -> int:
        params = {"contest_id": contest_id, "user_id": user_id}
        return int(self._db.execute(_SEATS_OF_USER, params).scalar_one())

    def add_all(self, entries: Sequence[Entry]) -> None:
        # One executemany (pipelined by psycopg) and one for the contests' seat counters. A
        # duplicate raises DuplicateRecord from the database, which then refuses the rest
        # of the transaction: the unit of work can only be abandoned.
        if not entries:
            return
        contests = sorted({e.contest_id for e in entries})
        self._db.execute(
            _INSERT_ENTRY,
            [entry_values(e) for e in entries],
            missing_parent=UnknownContest(f"no contest among {contests}"),
        )
        self._db.move_seats(Counter(e.contest_id for e in entries if e.holds_seat))

    def save_all(self, entries: Sequence[Entry]) -> None:
        if not entries:
            return
        _distinct([e.entry_id for e in entries])
        rows = self._db.execute(_STATUSES_BEFORE, {"ids": [e.entry_id for e in entries]})
        before = {str(r.entry_id): (str(r.contest_id), str(r.status)) for r in rows}
        stored = [e for e in entries if e.entry_id in before]
        new = [e for e in entries if e.entry_id not in before]
        missing = UnknownContest(f"no contest among {sorted({e.contest_id for e in entries})}")
        if stored:
            self._db.execute(_REPLACE, [_replace_params(e) for e in stored], missing_parent=missing)
        if new:
            self._db.execute(_INSERT_ENTRY, [entry_values(e) for e in new], missing_parent=missing)
        self._db.move_seats(_seat_moves(entries, before))

    def _many(self, column: str, values: Iterable[str]) -> dict[str, Entry]:
        wanted = sorted(set(values))
        if not wanted:
            return {}
        reader = EntryReader()
        rows = self._db.execute(_ENTRIES_BY[column], {"values": wanted})
        entries = (reader.entry(row) for row in rows)
        return {getattr(e, column): e for e in entries}

    def get_all(self, entry_ids: Sequence[str]) -> list[Entry]:
        _distinct(entry_ids)
        found = self._many("entry_id", entry_ids)
        missing = [i for i in entry_ids if i not in found]
        if missing:
            raise UnknownEntry(f"no entries {missing}")
        return [found[i] for i in entry_ids]

    def by_fingerprints(self, fingerprints: Iterable[str]) -> dict[str, Entry]:
        return self._many("fingerprint", fingerprints)

    def seats_of_users(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
        seats = dict.fromkeys(pairs, 0)
        if seats:
            params = {
                "contests": sorted({c for c, _ in seats}),
                "users": sorted({u for _, u in seats}),
            }
            for row in self._db.execute(_SEATS_OF_USERS, params):
                pair = (str(row.contest_id), str(row.user_id))
                if pair in seats:
                    seats[pair] = int(row.held)
        return seats


_PAYOUT_COLUMNS = tuple(t.payouts.c[name] for name in PAYOUT_COLUMNS)


class SqlPayouts:
    def __init__(self, db: Statements) -> None:
        self._db = db

    def add_all(self, payouts: Sequence[Payout]) -> None:
        """Settlement writes a contest's payouts at once (a fifth of a big contest's entries)."""
        if payouts:
            self._db.insert_many(t.payouts, PAYOUT_COLUMNS, [payout_row(p) for p in payouts])

    def save(self, payout: Payout) -> None:
        self._db.execute(self._db.upsert(t.payouts, payout_values(payout)))

    def for_contest(self, contest_id: str) -> list[Payout]:
        """A big contest has a payout for a fifth of its entries: streamed like entries."""
        query = (
            select(*_PAYOUT_COLUMNS)
            .where(t.payouts.c.contest_id == contest_id)
            .order_by(t.payouts.c.entry_id, t.payouts.c.fingerprint)
        )
        rows = self._db.stream(query, STREAM_BATCH)
        with garbage_collection_paused():
            return [payout_from_row(row) for row in rows]

    def any_unconfirmed(self, contest_id: str) -> bool:
        c = t.payouts.c
        query = select(
            exists().where(c.contest_id == contest_id, c.status != PayoutStatus.CONFIRMED.value)
        )
        return bool(self._db.execute(query).scalar_one())

    def get(self, fingerprint: str) -> Payout:
        return self._read(fingerprint, for_update=False)

    def lock(self, fingerprint: str) -> Payout:
        return self._read(fingerprint, for_update=True)

    def _read(self, fingerprint: str, *, for_update: bool) -> Payout:
        query = select(*_PAYOUT_COLUMNS).where(t.payouts.c.fingerprint == fingerprint)
        if for_update:  # SQLite ignores it: its units of work already hold the write lock
            query = query.with_for_update()
        row = self._db.execute(query).first()
        if row is None:
            raise UnknownPayout(f"no payout {fingerprint}")
        return payout_from_row(row)

    def by_transfer(self, transfer_id: str) -> Payout | None:
        query = select(*_PAYOUT_COLUMNS).where(t.payouts.c.transfer_id == transfer_id)
        row = self._db.execute(query).first()
        return None if row is None else payout_from_row(row)


class SqlRefunds:
    def __init__(self, db: Statements) -> None:
        self._db = db

    def add(self, refund: Refund) -> bool:
        result = self._db.execute(
            self._db.insert_new(t.refunds),
            refund_values(refund),
            missing_parent=UnknownEntry(f"no entry {refund.entry_id} in {refund.contest_id}"),
        )
        return result.rowcount == 1

    def save(self, refund: Refund) -> None:
        self._db.execute(
            self._db.upsert(t.refunds, refund_values(refund)),
            missing_parent=UnknownEntry(f"no entry {refund.entry_id} in {refund.contest_id}"),
        )

    def get(self, key: str) -> Refund | None:
        row = self._db.execute(select(t.refunds).where(t.refunds.c.key == key)).first()
        return None if row is None else refund_from_row(row)

    def pending(self) -> list[Refund]:
        query = (
            select(t.refunds)
            .where(t.refunds.c.status == RefundStatus.PENDING.value)
            .order_by(t.refunds.c.created_at, t.refunds.c.key)
        )
        return [refund_from_row(row) for row in self._db.execute(query)]

    def for_contest(self, contest_id: str) -> list[Refund]:
        query = (
            select(t.refunds)
            .where(t.refunds.c.contest_id == contest_id)
            .order_by(t.refunds.c.entry_id, t.refunds.c.key)
        )
        return [refund_from_row(row) for row in self._db.execute(query)]


class SqlPayoutAccounts:
    def __init__(self, db: Statements) -> None:
        self._db = db

    def get(self, user_id: str) -> PayoutAccount | None:
        query = select(t.payout_accounts).where(t.payout_accounts.c.user_id == user_id)
        row = self._db.execute(query).first()
        return None if row is None else account_from_row(row)

    def by_account(self, account_id: str) -> PayoutAccount | None:
        query = (
            select(t.payout_accounts)
            .where(t.payout_accounts.c.account_id == account_id)
            .order_by(t.payout_accounts.c.user_id)
            .limit(1)
        )
        row = self._db.execute(query).first()
        return None if row is None else account_from_row(row)

    def save(self, account: PayoutAccount) -> None:
        self._db.execute(self._db.upsert(t.payout_accounts, account_values(account)))
