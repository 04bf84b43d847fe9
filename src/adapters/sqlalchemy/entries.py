"""Entries in SQL: one at a time for a join, in batches for joins that arrived together."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    BindParameter,
    Row,
    Select,
    Update,
    bindparam,
    func,
    literal,
    select,
)
from sqlalchemy.dialects import postgresql

from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.collector import garbage_collection_paused
from adapters.sqlalchemy.lists import (
    ListQuery,
    expanding_in,
    id_array,
    list_query,
    lock_in_key_order,
)
from adapters.sqlalchemy.records import (
    ENTRY_COLUMN_NAMES,
    EntryReader,
    entry_fields,
    entry_values,
    utc,
)
from adapters.sqlalchemy.seats import SEAT_STATUSES, SeatCounters, counted_up, seat_moves
from adapters.sqlalchemy.statements import STREAM_BATCH, Prepared, Read, Rows, Statements
from fantasy_core.entries import Entry, EntryStatus, SettlementRow
from fantasy_core.errors import (
    DuplicateRecord,
    UnknownContest,
    UnknownEntry,
)
from fantasy_core.protection.limits import Spend

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
    t.entries.c.joined_lineup,
)


def _entry_binds(prefix: str, *, but: str | None = None) -> dict[str, BindParameter[Any]]:
    """A bind parameter for every column of `entries` (`but` one), named prefix + column."""
    return {
        c.name: bindparam(prefix + c.name, type_=c.type) for c in t.entries.columns if c.name != but
    }


def _add_with_seat() -> Select[Any]:
    """PostgreSQL: insert an entry and count its seat, on the contest row and on the
    player's, in one statement.

    The one statement outside seats.py that moves the seat counters (a join's round trip
    under the contest's lock is its hot path): it returns the contest's new count, which
    the caller hands to SeatCounters.set_by_statement. The player's row is moved from
    the contest's UPDATE's rows, so after that UPDATE has locked the contest's row, as
    seats.py moves them: in the other order, two transactions could deadlock.
    """
    added = (
        postgresql.insert(t.entries)
        .values(_entry_binds("e_"))
        .on_conflict_do_nothing()
        .returning(t.entries.c.contest_id, t.entries.c.user_id)
        .cte("added")
    )
    seats = t.contests.c.seats_taken
    counted = (
        t.contests.update()
        .where(t.contests.c.contest_id == added.c.contest_id)
        .values(seats_taken=seats + 1)
        .returning(t.contests.c.contest_id, added.c.user_id, seats)
        .cte("counted")
    )
    one = literal(1, BigInteger)
    held = counted_up(
        postgresql.insert(t.player_seats).from_select(
            ["contest_id", "user_id", "seats"],
            select(counted.c.contest_id, counted.c.user_id, one),
        )
    )
    return select(counted.c.seats_taken).add_cte(held.cte("held"))


def _replace_returning_before() -> Update:
    """PostgreSQL: overwrite an entry, returning the (contest id, user id, status) it had.

    The row joins its own earlier self, read FOR UPDATE: that read locks the row first,
    so the status returned is the one this statement replaced.
    """
    c = t.entries.c
    old = (
        select(c.entry_id, c.contest_id, c.user_id, c.status)
        .where(c.entry_id == bindparam("target"))
        .with_for_update()
        .subquery("old")
    )
    return (
        t.entries.update()
        .where(c.entry_id == old.c.entry_id)
        .values(_entry_binds("new_", but="entry_id"))
        .returning(old.c.contest_id, old.c.user_id, old.c.status)
    )


_ADD_WITH_SEAT = _add_with_seat()
_REPLACE_RETURNING_BEFORE = _replace_returning_before()
# What an entry's seat is counted by: its contest, player and status.
_SEAT = (t.entries.c.contest_id, t.entries.c.user_id, t.entries.c.status)
_STATUS_BEFORE = select(*_SEAT).where(t.entries.c.entry_id == bindparam("target"))
_ENTRY_BY = {
    name: select(*_ENTRY_COLUMNS).where(t.entries.c[name] == bindparam("value"))
    for name in ("entry_id", "fingerprint", "charge_id")
}
# An entry holding a seat, for what a player spent (`_SPEND_SINCE`, read by the player's
# (user, created) index). The statuses are bound as values, not as a list SQLAlchemy
# expands into the text at each run, so that the join batch's reads can be Prepared.
_HOLDS_SEAT = t.entries.c.status.in_([literal(status) for status in SEAT_STATUSES])


def _entries_by(name: str) -> ListQuery[Select[Any]]:
    """Entries whose `name` is one of a list (the batch forms, for a join batch: one
    statement each, whatever the count; adapters.sqlalchemy.lists)."""
    return list_query(
        lambda one_of: select(*_ENTRY_COLUMNS).where(one_of(t.entries.c[name], "values"))
    )


# Reads by a key, planned once (decision 0078).
_ENTRIES_BY = {
    name: Prepared(_entries_by(name), plan_once=True) for name in ("entry_id", "fingerprint")
}
_LOCK_ENTRIES = Prepared(
    lock_in_key_order(t.entries, t.entries.c.entry_id, _ENTRY_COLUMNS), plan_once=True
)
# Where an entry's contest, player and status lie among its fields (records.entry_fields).
_CONTEST_AT = ENTRY_COLUMN_NAMES.index("contest_id")
_USER_AT = ENTRY_COLUMN_NAMES.index("user_id")
_STATUS_AT = ENTRY_COLUMN_NAMES.index("status")
# SQLite renders no FOR UPDATE: BEGIN IMMEDIATE made this unit of work the only writer.
_STATUSES_BEFORE = Prepared(
    list_query(
        lambda one_of: (
            select(t.entries.c.entry_id, *_SEAT)
            .where(one_of(t.entries.c.entry_id, "ids"))
            .with_for_update()
        )
    )
)
# The seats each (contest, user) pair holds: its counter's row (seats.py; absent for
# none). On PostgreSQL the pairs themselves are bound, as two arrays unnested side by side,
# each pair's row read by a subquery: one probe of the counters' key a pair, planned once
# (decision 0078). Joined to the arrays instead, its generic plan made on a table analyzed
# while empty read the whole key's index at every batch (3.46 ms a batch over two 8 s
# runs, decision 0079); a subquery a pair has only the probe to choose. Bound as two
# lists (contest one of these, user one of those), the planner read every row of the
# contests asked for, ANDed with the users' (docs/performance.md, 2026-12-05 morning).
# SQLite keeps the two lists (a superset of the pairs, which the caller keeps): it probes
# its key once a combination.
_PAIRS = (
    func.unnest(id_array("contests"), id_array("users"))
    .table_valued("contest_id", "user_id", name="pairs")
    .render_derived()
)
_HELD_BY_PAIR = (
    select(t.player_seats.c.seats)
    .where(
        t.player_seats.c.contest_id == _PAIRS.c.contest_id,
        t.player_seats.c.user_id == _PAIRS.c.user_id,
    )
    .scalar_subquery()
)
_SEATS_OF_USERS = Prepared(
    ListQuery(
        postgresql=select(
            _PAIRS.c.contest_id, _PAIRS.c.user_id, func.coalesce(_HELD_BY_PAIR, 0).label("seats")
        ),
        other=select(
            t.player_seats.c.contest_id, t.player_seats.c.user_id, t.player_seats.c.seats
        ).where(
            expanding_in(t.player_seats.c.contest_id, "contests"),
            expanding_in(t.player_seats.c.user_id, "users"),
        ),
    ),
    plan_once=True,
)
_SPEND_SINCE = Prepared(
    list_query(
        lambda one_of: (
            select(t.entries.c.user_id, t.entries.c.created_at, t.entries.c.fee_minor)
            .where(
                one_of(t.entries.c.user_id, "users"),
                t.entries.c.created_at >= bindparam("since"),
                _HOLDS_SEAT,
            )
            .order_by(t.entries.c.created_at, t.entries.c.entry_id)
        )
    )
)
_ACTIVE = EntryStatus.ACTIVE.value
_ENTRANTS = (
    select(t.entries.c.user_id)
    .where(t.entries.c.contest_id == bindparam("contest"), t.entries.c.status == _ACTIVE)
    .distinct()
)
_FLAGGED = select(t.player_profiles.c.user_id).where(
    t.player_profiles.c.highly_experienced_since.is_not(None)
)
# A contest's entrants (index contest_id, user_id) over N contests entered (their entries,
# index user_id, created_at), not flagged yet: one statement (decision 0044).
_ENTRANTS_OVER = (
    select(t.entries.c.user_id)
    .where(
        t.entries.c.user_id.in_(_ENTRANTS),
        t.entries.c.user_id.not_in(_FLAGGED),
        t.entries.c.status == _ACTIVE,
    )
    .group_by(t.entries.c.user_id)
    .having(func.count(func.distinct(t.entries.c.contest_id)) > bindparam("contests"))
    .order_by(t.entries.c.user_id)
)


def _distinct(entry_ids: Sequence[str]) -> None:
    if len(set(entry_ids)) < len(entry_ids):
        raise ValueError(f"entry ids given twice: {sorted(entry_ids)}")


def _replace_params(entry: Entry) -> dict[str, object]:
    return {"target": entry.entry_id, **{"new_" + k: v for k, v in entry_values(entry).items()}}


class SqlEntries:
    """Entries; every change of one's seat moves its contest's counter (seats.SeatCounters).

    The entries whose rows this transaction holds locked (read with `lock_all`, or saved)
    are kept as they are stored (`entry_fields`), so that `save_all` reads nothing before
    it writes them and writes only the columns that changed since: a join's record changes
    an entry's status and charge, and sends neither its lineups nor its fixed columns back
    (decision 0067). An entry read without a lock is written whole, as another transaction
    may have changed its row meanwhile. A commit forgets them all (`forget`).
    """

    def __init__(self, db: Statements, seats: SeatCounters) -> None:
        self._db = db
        self._seats = seats
        # The fields of each entry whose row this transaction holds locked (lock_all, or
        # saved since), as the row stores them: no one else can change them until the end.
        self._held: dict[str, tuple[object, ...]] = {}

    def _hold(self, entries: Iterable[Entry]) -> None:
        """`entries` are stored as they are now, in rows this transaction holds locked."""
        for entry in entries:
            self._held[entry.entry_id] = entry_fields(entry)

    def _held_before(self, entry_id: str) -> tuple[str, str, str]:
        """The (contest id, user id, status) a row this transaction holds locked stores."""
        fields = self._held[entry_id]
        status = cast(EntryStatus, fields[_STATUS_AT]).value
        return str(fields[_CONTEST_AT]), str(fields[_USER_AT]), status

    def forget(self) -> None:
        """The transaction ended: its locks are gone, and others may change those rows."""
        self._held.clear()

    def _changed_columns(self, entries: Sequence[Entry]) -> tuple[str, ...]:
        """The key and the columns whose value any of `entries` changed since this
        transaction locked or saved it; every column when it holds one of them unlocked."""
        moved: set[int] = set()
        for entry in entries:
            before = self._held.get(entry.entry_id)
            if before is None:
                return ENTRY_COLUMN_NAMES
            now = entry_fields(entry)
            if now != before:
                pairs = enumerate(zip(before, now, strict=True))
                moved.update(n for n, (old, new) in pairs if old != new)
        return ("entry_id", *(ENTRY_COLUMN_NAMES[n] for n in sorted(moved)))

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
            self._seats.set_by_statement(entry.contest_id, int(taken))
            return
        result = self._db.execute(self._db.insert_new(t.entries), values, missing_parent=missing)
        if result.rowcount != 1:
            raise DuplicateRecord(f"entry {entry.entry_id} ({entry.fingerprint}) exists")
        if entry.holds_seat:
            self._seats.move({(entry.contest_id, entry.user_id): 1})

    def save(self, entry: Entry) -> None:
        before = self._replace(entry)
        if before is None:
            self._db.execute(
                self._db.insert_new(t.entries),
                entry_values(entry),
                missing_parent=UnknownContest(f"no contest {entry.contest_id}"),
            )
        self._seats.move(seat_moves([entry], {} if before is None else {entry.entry_id: before}))
        self._hold([entry])

    def _replace(self, entry: Entry) -> tuple[str, str, str] | None:
        """Overwrite the stored entry; its (contest id, user id, status) before, or None if
        it is new.

        The stored row is locked before it is read, so the status it had is the one
        replaced: the seat counters move by exactly what changed.
        """
        missing = UnknownContest(f"no contest {entry.contest_id}")
        row: Row[Any] | None
        if self._db.dialect == "postgresql":
            row = self._db.execute(
                _REPLACE_RETURNING_BEFORE, _replace_params(entry), missing_parent=missing
            ).first()
        else:  # SQLite: this unit of work is the only writer (BEGIN IMMEDIATE)
            row = self._db.execute(_STATUS_BEFORE, {"target": entry.entry_id}).first()
            if row is not None:
                changed = [entry_values(entry)]
                self._db.update_rows(t.entries, "entry_id", changed, missing_parent=missing)
        if row is None:
            return None
        contest_id, user_id, status = tuple(row)
        return str(contest_id), str(user_id), str(status)

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
        return self._seats.taken(contest_id)

    def seats_of_user(self, contest_id: str, user_id: str) -> int:
        return self.seats_of_users([(contest_id, user_id)])[contest_id, user_id]

    def add_all(self, entries: Sequence[Entry]) -> None:
        # One INSERT (Statements.add_rows) and the moves of the seat counters (the
        # contests', then the players'), in one round trip on PostgreSQL. A duplicate
        # raises DuplicateRecord from the database, which then refuses the rest of the
        # transaction: the unit of work can only be abandoned.
        #
        # When this transaction holds every contest of the entries locked (a join batch
        # reads them so), no parent row can be missing and nobody reads what these
        # statements return: they go with the next statement, the audit's rows and the
        # COMMIT of a join batch's reservation, a round trip less (decision 0080). A
        # duplicate is then raised there.
        if not entries:
            return
        contests = sorted({e.contest_id for e in entries})
        deltas = Counter((e.contest_id, e.user_id) for e in entries if e.holds_seat)
        moves = self._seats.moves(deltas)
        self._db.add_rows(
            t.entries,
            [entry_values(e) for e in entries],
            missing_parent=UnknownContest(f"no contest among {contests}"),
            then=moves or (),
            deferred=moves is not None and self._seats.hold_locked(contests),
        )
        if moves is None:
            self._seats.move(deltas)
        else:
            self._seats.moved(deltas)

    def save_all(self, entries: Sequence[Entry]) -> None:
        if not entries:
            return
        _distinct([e.entry_id for e in entries])
        if all(e.entry_id in self._held for e in entries):
            before = {e.entry_id: self._held_before(e.entry_id) for e in entries}
        else:
            rows = self._db.run(_STATUSES_BEFORE, {"ids": [e.entry_id for e in entries]})
            before = {
                str(r.entry_id): (str(r.contest_id), str(r.user_id), str(r.status)) for r in rows
            }
        stored = [e for e in entries if e.entry_id in before]
        new = [e for e in entries if e.entry_id not in before]
        missing = UnknownContest(f"no contest among {sorted({e.contest_id for e in entries})}")
        columns = self._changed_columns(stored)
        if stored and len(columns) > 1:
            changed = [entry_values(e, columns) for e in stored]
            # Sent with the next statement (a join batch's: with its posting sets and its
            # COMMIT), unless it moves an entry to another contest, whose row may be missing.
            deferred = "contest_id" not in columns
            self._db.update_rows(
                t.entries, "entry_id", changed, missing_parent=missing, deferred=deferred
            )
        if new:
            self._db.add_rows(t.entries, [entry_values(e) for e in new], missing_parent=missing)
        self._seats.move(seat_moves(entries, before))
        self._hold(entries)

    def _many(self, column: str, values: Iterable[str]) -> dict[str, Entry]:
        return self._db.read(self._many_read(column, values))

    def _many_read(self, column: str, values: Iterable[str]) -> Read[dict[str, Entry]]:
        wanted = sorted(set(values))
        if not wanted:
            return Read((), lambda _: {})

        def meaning(results: list[Rows]) -> dict[str, Entry]:
            reader = EntryReader()
            entries = (reader.entry(row) for row in results[0])
            return {getattr(e, column): e for e in entries}

        return Read([(_ENTRIES_BY[column], {"values": wanted})], meaning)

    def lock_all(self, entry_ids: Sequence[str]) -> list[Entry]:
        return self._db.read(self.lock_all_read(entry_ids))

    def lock_all_read(self, entry_ids: Sequence[str]) -> Read[list[Entry]]:
        """`lock_all` as a Read (SqlUnitOfWork.lock_for_record)."""
        _distinct(entry_ids)
        if not entry_ids:
            return Read((), lambda _: [])

        def meaning(results: list[Rows]) -> list[Entry]:
            reader = EntryReader()
            found = {e.entry_id: e for e in (reader.entry(row) for row in results[0])}
            missing = [i for i in entry_ids if i not in found]
            if missing:
                raise UnknownEntry(f"no entries {missing}")
            self._hold(found.values())
            return [found[i] for i in entry_ids]

        return Read([(_LOCK_ENTRIES, {"ids": list(entry_ids)})], meaning)

    def by_fingerprints(self, fingerprints: Iterable[str]) -> dict[str, Entry]:
        return self._many("fingerprint", fingerprints)

    def by_fingerprints_read(self, fingerprints: Iterable[str]) -> Read[dict[str, Entry]]:
        """`by_fingerprints` as a Read (SqlUnitOfWork.read_for_joins)."""
        return self._many_read("fingerprint", fingerprints)

    def contests_entered(self, user_id: str) -> int:
        query = select(func.count(func.distinct(t.entries.c.contest_id))).where(
            t.entries.c.user_id == user_id, t.entries.c.status == EntryStatus.ACTIVE.value
        )
        return int(self._db.execute(query).scalar_one())

    def entrants_over(self, contest_id: str, contests: int) -> list[str]:
        rows = self._db.execute(_ENTRANTS_OVER, {"contest": contest_id, "contests": contests})
        return [str(row.user_id) for row in rows]

    def spend_since(self, user_ids: Iterable[str], since: datetime) -> dict[str, list[Spend]]:
        spent: dict[str, list[Spend]] = {user: [] for user in user_ids}
        if spent:
            params = {"users": sorted(spent), "since": since}
            for row in self._db.run(_SPEND_SINCE, params):
                spent[row.user_id].append(Spend(utc(row.created_at), int(row.fee_minor)))
        return spent

    def seats_of_users(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
        return self._db.read(self.seats_of_users_read(pairs))

    def seats_of_users_read(
        self, pairs: Iterable[tuple[str, str]]
    ) -> Read[dict[tuple[str, str], int]]:
        """`seats_of_users` as a Read (SqlUnitOfWork.read_for_joins)."""
        seats = dict.fromkeys(pairs, 0)
        if not seats:
            return Read((), lambda _: seats)

        def meaning(results: list[Rows]) -> dict[tuple[str, str], int]:
            for row in results[0]:
                pair = (str(row.contest_id), str(row.user_id))
                if pair in seats:
                    seats[pair] = int(row.seats)
            return seats

        # Each pair once (the dict's keys).
        params = {"contests": [c for c, _ in seats], "users": [u for _, u in seats]}
        return Read([(_SEATS_OF_USERS, params)], meaning)
