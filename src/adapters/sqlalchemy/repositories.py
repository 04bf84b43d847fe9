"""The records a use case reads and changes: contests, entries, payouts, refunds, accounts.

Each repository runs on its unit of work's connection (`Statements`) and hands out
fresh objects built from rows, so mutating a record changes nothing until it is saved.
`save` writes the whole record and inserts it if it is new, as the memory store does.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence

from sqlalchemy import Select, exists, func, select

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
        query = select(t.contests).where(t.contests.c.contest_id == contest_id)
        if for_update:
            # PostgreSQL: FOR NO KEY UPDATE serialises lockers like FOR UPDATE, but lets
            # other transactions insert rows that reference the contest (their foreign
            # key checks take KEY SHARE). SQLite renders nothing: BEGIN IMMEDIATE already
            # made this unit of work the only writer.
            query = query.with_for_update(key_share=True)
        row = self._db.execute(query).first()
        if row is None:
            raise UnknownContest(f"no contest {contest_id}")
        return self._remember(contest_from_row(row, self._db.caches.terms(row.terms)))

    def get(self, contest_id: str) -> Contest:
        return self._read(contest_id, for_update=False)

    def lock(self, contest_id: str) -> Contest:
        return self._read(contest_id, for_update=True)

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


class SqlEntries:
    def __init__(self, db: Statements) -> None:
        self._db = db

    def add(self, entry: Entry) -> None:
        result = self._db.execute(
            self._db.insert_new(t.entries),
            entry_values(entry),
            missing_parent=UnknownContest(f"no contest {entry.contest_id}"),
        )
        if result.rowcount != 1:
            raise DuplicateRecord(f"entry {entry.entry_id} ({entry.fingerprint}) exists")

    def save(self, entry: Entry) -> None:
        self._db.execute(
            self._db.upsert(t.entries, entry_values(entry)),
            missing_parent=UnknownContest(f"no contest {entry.contest_id}"),
        )

    def _one(self, query: Select[tuple[object, ...]]) -> Entry | None:
        row = self._db.execute(query).first()
        return None if row is None else EntryReader().entry(row)

    def get(self, entry_id: str) -> Entry:
        entry = self._one(select(*_ENTRY_COLUMNS).where(t.entries.c.entry_id == entry_id))
        if entry is None:
            raise UnknownEntry(f"no entry {entry_id}")
        return entry

    def by_fingerprint(self, fingerprint: str) -> Entry | None:
        return self._one(select(*_ENTRY_COLUMNS).where(t.entries.c.fingerprint == fingerprint))

    def by_charge(self, charge_id: str) -> Entry | None:
        return self._one(select(*_ENTRY_COLUMNS).where(t.entries.c.charge_id == charge_id))

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
            return [
                (entry_id, user_id, fee, players(lineup))
                for entry_id, user_id, fee, lineup in self._db.stream(query, STREAM_BATCH)
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
        query = select(func.count()).where(
            t.entries.c.contest_id == contest_id, t.entries.c.status.in_(_SEATS)
        )
        return int(self._db.execute(query).scalar_one())

    def seats_of_user(self, contest_id: str, user_id: str) -> int:
        query = select(func.count()).where(
            t.entries.c.contest_id == contest_id,
            t.entries.c.user_id == user_id,
            t.entries.c.status.in_(_SEATS),
        )
        return int(self._db.execute(query).scalar_one())


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
