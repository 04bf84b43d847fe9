"""The write-once records: ledger, audit trail, feed data, settlements, processed events.

Each is appended and never changed. Where a retry may write the same thing twice
(a posting set, a snapshot version, a payment event), a unique key decides, and the
second write is skipped and reported, never an error.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from functools import cache
from itertools import groupby
from typing import Any

from sqlalchemy import ColumnElement, Insert, Row, bindparam, func, select, text
from sqlalchemy.dialects import postgresql, sqlite

from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.records import audit_from_row, audit_values
from adapters.sqlalchemy.statements import Prepared, Statements
from fantasy_core.audit import AuditRecord
from fantasy_core.errors import DuplicateRecord, UnknownContest
from fantasy_core.ledger import Movement, Posting, PostingSet
from fantasy_core.money import Money
from fantasy_core.scoring import format_points, parse_stat_value
from fantasy_core.stats import FeedSnapshot, ProviderChange, StatCorrection

# The ledger's statements, built once (a statement built per call costs more to build
# and look up in SQLAlchemy's cache than it takes PostgreSQL to run it; see
# docs/performance.md). A posting set: one row, skipped when its key exists.
_NEW_SET = {
    dialect: insert(t.posting_sets)
    .values(
        key=bindparam("key"), contest_id=bindparam("contest_id"), movement=bindparam("movement")
    )
    .on_conflict_do_nothing()
    .returning(t.posting_sets.c.id)
    for dialect, insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}


# The batch form: the sets in one statement, returning the keys that were new. On
# PostgreSQL the sets and their postings are bound as one array a column (one text, one
# execution for any number of sets; decisions 0062, 0070): the sets are inserted in their
# order, so their ids keep it, and the postings of those that were new are inserted by the
# same statement (the foreign key's checks, at its end, see the new sets).
_NEW_SETS_POSTGRESQL = Prepared(
    text(
        "WITH sets AS ("
        "INSERT INTO posting_sets (key, contest_id, movement)"
        " SELECT key, contest_id, movement FROM unnest(CAST(:keys AS VARCHAR[]),"
        " CAST(:contest_ids AS VARCHAR[]), CAST(:movements AS VARCHAR[]))"
        " WITH ORDINALITY AS s(key, contest_id, movement, n) ORDER BY n"
        " ON CONFLICT (key) DO NOTHING RETURNING id, key"
        "), postings AS ("
        "INSERT INTO postings (set_id, position, account, amount_minor, currency)"
        " SELECT sets.id, p.position, p.account, p.amount_minor, p.currency"
        " FROM unnest(CAST(:posting_keys AS VARCHAR[]), CAST(:positions AS INTEGER[]),"
        " CAST(:accounts AS VARCHAR[]), CAST(:amounts AS BIGINT[]),"
        " CAST(:currencies AS VARCHAR[]))"
        " WITH ORDINALITY AS p(key, position, account, amount_minor, currency, n)"
        " JOIN sets ON sets.key = p.key ORDER BY p.n"
        ") SELECT id, key FROM sets"
    ),
    plan_once=True,  # it reads no table but its own new sets (decision 0075)
)
_NEW_SETS_SQLITE = (
    sqlite.insert(t.posting_sets)
    .on_conflict_do_nothing()
    .returning(t.posting_sets.c.id, t.posting_sets.c.key)
)


@cache
def _postings_insert(count: int) -> Insert:
    """One INSERT of `count` postings of one set (executemany would go through the
    driver's pipeline mode, which costs more than the statement for two or three rows)."""
    rows = [
        {
            "set_id": bindparam("set_id"),
            "position": position,
            "account": bindparam(f"account_{position}"),
            "amount_minor": bindparam(f"amount_{position}"),
            "currency": bindparam(f"currency_{position}"),
        }
        for position in range(count)
    ]
    return t.postings.insert().values(rows)


class SqlLedger:
    """Posting sets, one row each, and their postings, one row each, in recording order."""

    def __init__(self, db: Statements) -> None:
        self._db = db

    def record(self, posting_set: PostingSet) -> bool:
        new_set = _NEW_SET[self._db.dialect]
        values = {
            "key": posting_set.key,
            "contest_id": posting_set.contest_id,
            "movement": posting_set.movement.value,
        }
        set_id = self._db.execute(new_set, values).scalar()
        if set_id is None:
            return False  # recorded before, under this key
        params: dict[str, object] = {"set_id": set_id}
        for position, posting in enumerate(posting_set.postings):
            params[f"account_{position}"] = posting.account
            params[f"amount_{position}"] = posting.amount.minor
            params[f"currency_{position}"] = posting.amount.currency
        self._db.execute(_postings_insert(len(posting_set.postings)), params)
        return True

    def record_all(self, posting_sets: Sequence[PostingSet]) -> None:
        keys = [s.key for s in posting_sets]
        if len(set(keys)) < len(keys):  # the first under a key would win, silently
            raise ValueError(f"posting sets recorded twice in one call: {sorted(keys)}")
        if not posting_sets:
            return
        if self._db.dialect == "postgresql":
            postings = [(s.key, n, p) for s in posting_sets for n, p in enumerate(s.postings)]
            arrays = {
                "keys": [s.key for s in posting_sets],
                "contest_ids": [s.contest_id for s in posting_sets],
                "movements": [s.movement.value for s in posting_sets],
                "posting_keys": [key for key, _, _ in postings],
                "positions": [n for _, n, _ in postings],
                "accounts": [p.account for _, _, p in postings],
                "amounts": [p.amount.minor for _, _, p in postings],
                "currencies": [p.amount.currency for _, _, p in postings],
            }
            # With the next statement: a join batch's sets go with its COMMIT.
            self._db.defer(_NEW_SETS_POSTGRESQL, arrays)
            return
        sets = [
            {"key": s.key, "contest_id": s.contest_id, "movement": s.movement.value}
            for s in posting_sets
        ]
        new = {str(row.key): int(row.id) for row in self._db.execute(_NEW_SETS_SQLITE, sets)}
        rows = [
            {
                "set_id": new[s.key],
                "position": position,
                "account": posting.account,
                "amount_minor": posting.amount.minor,
                "currency": posting.amount.currency,
            }
            for s in posting_sets
            if s.key in new
            for position, posting in enumerate(s.postings)
        ]
        self._db.add_rows(t.postings, rows)

    def _read(self, where: ColumnElement[bool] | None) -> list[PostingSet]:
        s, p = t.posting_sets, t.postings
        columns = (s.c.id, s.c.key, s.c.contest_id, s.c.movement)
        query = select(*columns, p.c.account, p.c.amount_minor, p.c.currency).join(
            p, p.c.set_id == s.c.id
        )
        if where is not None:
            query = query.where(where)
        rows = self._db.execute(query.order_by(s.c.id, p.c.position))
        return [_posting_set(list(group)) for _, group in groupby(rows, key=lambda r: r.id)]

    def for_contest(self, contest_id: str) -> list[PostingSet]:
        return self._read(t.posting_sets.c.contest_id == contest_id)

    def all(self) -> list[PostingSet]:
        return self._read(None)

    def unbalanced(self) -> list[str]:
        # Summed in the database, so sets that would not even load are found.
        s, p = t.posting_sets, t.postings
        query = (
            select(s.c.key)
            .join(p, p.c.set_id == s.c.id)
            .group_by(s.c.key, p.c.currency)
            .having(func.sum(p.c.amount_minor) != 0)
            .order_by(s.c.key)
        )
        return sorted({row.key for row in self._db.execute(query)})


def _posting_set(rows: list[Row[Any]]) -> PostingSet:
    first = rows[0]
    return PostingSet(
        key=first.key,
        contest_id=first.contest_id,
        movement=Movement(first.movement),
        postings=tuple(Posting(r.account, Money(r.amount_minor, r.currency)) for r in rows),
    )


class SqlAuditLog:
    """Append-only: no update, no delete here; on PostgreSQL and SQLite a trigger refuses both."""

    def __init__(self, db: Statements) -> None:
        self._db = db
        self.uncommitted: list[AuditRecord] = []  # logged by the unit of work once committed
        self._unwritten: list[AuditRecord] = []

    def append(self, record: AuditRecord) -> None:
        # Written at the next read or before the commit, all in one executemany: a join
        # batch appends two records per entry, and nothing reads them in between.
        self._unwritten.append(record)
        self.uncommitted.append(record)

    def flush(self, *, commit: bool = False) -> None:
        """Write the records appended since the last flush. With `commit` (the unit of
        work's commit), the transaction is committed with them, in the same round trip on
        PostgreSQL; with no record to write, the caller's own commit does it."""
        if self._unwritten:
            records, self._unwritten = self._unwritten, []
            self._db.add_rows(t.audit, [audit_values(r) for r in records], commit=commit)

    def _read(self, where: ColumnElement[bool]) -> list[AuditRecord]:
        self.flush()
        query = select(t.audit).where(where).order_by(t.audit.c.id)
        return [audit_from_row(row) for row in self._db.execute(query)]

    def for_contest(self, contest_id: str) -> list[AuditRecord]:
        return self._read(t.audit.c.contest_id == contest_id)

    def for_actor(self, actor: str) -> list[AuditRecord]:
        return self._read(t.audit.c.actor == actor)

    def last_at(self, contest_id: str, actions: Iterable[str]) -> datetime | None:
        self.flush()
        c = t.audit.c
        query = select(func.max(c.at)).where(c.contest_id == contest_id, c.action.in_(actions))
        at: datetime | None = self._db.execute(query).scalar()  # max() keeps the column's type
        return at

    def counts(self) -> dict[str, int]:
        self.flush()
        c = t.audit.c
        rows: Iterable[Any] = self._db.execute(select(c.action, func.count()).group_by(c.action))
        return {str(row[0]): int(row[1]) for row in rows}


class SqlStats:
    """Validated feed snapshots by (slate, version), rejections, operator and provider fixes."""

    def __init__(self, db: Statements) -> None:
        self._db = db

    def store(self, snapshot: FeedSnapshot, sha256: str, received_at: datetime) -> bool:
        result = self._db.execute(
            self._db.insert_new(t.stat_snapshots),
            {
                "slate_id": snapshot.slate_id,
                "version": snapshot.version,
                "document": snapshot.canonical_bytes().decode("ascii"),
                "sha256": sha256,
                "received_at": received_at,
            },
        )
        return result.rowcount == 1

    def latest(self, slate_id: str) -> FeedSnapshot | None:
        query = (
            select(t.stat_snapshots.c.document)
            .where(t.stat_snapshots.c.slate_id == slate_id)
            .order_by(t.stat_snapshots.c.version.desc())
            .limit(1)
        )
        document = self._db.execute(query).scalar()
        return None if document is None else self._db.caches.snapshot(document)

    def received_at(self, slate_id: str) -> datetime | None:
        c = t.stat_snapshots.c
        query = (
            select(c.received_at).where(c.slate_id == slate_id).order_by(c.version.desc()).limit(1)
        )
        at: datetime | None = self._db.execute(query).scalar()
        return at

    def record_rejection(
        self, slate_id: str, version: int, sha256: str, at: datetime, document: bytes
    ) -> bool:
        result = self._db.execute(
            self._db.insert_new(t.stat_rejections),
            {
                "slate_id": slate_id,
                "version": version,
                "sha256": sha256,
                "rejected_at": at,
                "document": document.decode("ascii"),
            },
        )
        return result.rowcount == 1

    def last_rejected_version(self, slate_id: str) -> int | None:
        query = select(func.max(t.stat_rejections.c.version)).where(
            t.stat_rejections.c.slate_id == slate_id
        )
        version = self._db.execute(query).scalar()
        return None if version is None else int(version)

    def add_correction(self, slate_id: str, correction: StatCorrection) -> None:
        self._db.execute(
            t.stat_corrections.insert(),
            {
                "slate_id": slate_id,
                "player_id": correction.player_id,
                "stat": correction.stat,
                "value_text": correction.value_text,
                "reason": correction.reason,
                "actor": correction.actor,
                "at": correction.at,
            },
        )

    def corrections(self, slate_id: str) -> list[StatCorrection]:
        c = t.stat_corrections.c
        query = select(c.player_id, c.stat, c.value_text, c.reason, c.actor, c.at).where(
            c.slate_id == slate_id
        )
        rows: Iterator[Row[Any]] = iter(self._db.execute(query.order_by(c.id)))
        return [
            StatCorrection(
                str(r.player_id), str(r.stat), str(r.value_text), str(r.reason), str(r.actor), r.at
            )
            for r in rows
        ]

    def change_sequence(self, slate_id: str) -> int:
        # Two index lookups (the snapshots' primary key, the corrections' slate index).
        version = select(func.coalesce(func.max(t.stat_snapshots.c.version), 0)).where(
            t.stat_snapshots.c.slate_id == slate_id
        )
        corrections = select(func.count()).where(t.stat_corrections.c.slate_id == slate_id)
        query = select(version.scalar_subquery() + corrections.scalar_subquery())
        return int(self._db.execute(query).scalar_one())

    def add_provider_change(self, slate_id: str, change: ProviderChange) -> None:
        self._db.execute(
            t.stat_provider_changes.insert(),
            {
                "slate_id": slate_id,
                "player_id": change.player_id,
                "game_id": change.game_id,
                "stat": change.stat,
                "old_text": format_points(change.old),
                "new_text": format_points(change.new),
                "from_version": change.from_version,
                "to_version": change.to_version,
                "at": change.at,
            },
        )

    def provider_changes(self, slate_id: str) -> list[ProviderChange]:
        c = t.stat_provider_changes.c
        query = select(
            c.player_id,
            c.game_id,
            c.stat,
            c.old_text,
            c.new_text,
            c.from_version,
            c.to_version,
            c.at,
        ).where(c.slate_id == slate_id)
        rows: Iterator[Row[Any]] = iter(self._db.execute(query.order_by(c.id)))
        return [
            ProviderChange(
                str(r.player_id),
                str(r.game_id),
                str(r.stat),
                parse_stat_value(str(r.old_text)),
                parse_stat_value(str(r.new_text)),
                int(r.from_version),
                int(r.to_version),
                r.at,
            )
            for r in rows
        ]


# Settlement snapshots are stored zlib-compressed (level 1: 170 MB of a million-entry
# snapshot becomes about 50 MB in 1.3 s), which is faster than sending the raw document
# and letting the database compress it (see docs/decisions/0012-compressed-snapshots.md).
# A canonical snapshot is a JSON object, so a stored document that starts with "{" is
# one written uncompressed, before this; zlib's output never starts with "{".
_SNAPSHOT_COMPRESSION = 1


def packed_snapshot(snapshot: bytes) -> bytes:
    """The stored form of a snapshot."""
    return zlib.compress(snapshot, _SNAPSHOT_COMPRESSION)


def unpacked_snapshot(stored: bytes) -> bytes:
    """The snapshot's canonical bytes from its stored form (compressed, or from before)."""
    return stored if stored[:1] == b"{" else zlib.decompress(stored)


class SqlSettlements:
    def __init__(self, db: Statements) -> None:
        self._db = db

    def store(self, contest_id: str, snapshot: bytes, sha256: str) -> None:
        document = packed_snapshot(snapshot)
        result = self._db.execute(
            self._db.insert_new(t.settlements),
            {"contest_id": contest_id, "document": document, "sha256": sha256},
            missing_parent=UnknownContest(f"no contest {contest_id}"),
        )
        if result.rowcount != 1:
            raise DuplicateRecord(f"contest {contest_id} is settled already")

    def get(self, contest_id: str) -> tuple[bytes, str] | None:
        query = select(t.settlements.c.document, t.settlements.c.sha256).where(
            t.settlements.c.contest_id == contest_id
        )
        row = self._db.execute(query).first()
        return None if row is None else (unpacked_snapshot(bytes(row.document)), str(row.sha256))

    def digest(self, contest_id: str) -> str | None:
        query = select(t.settlements.c.sha256).where(t.settlements.c.contest_id == contest_id)
        digest = self._db.execute(query).scalar()
        return None if digest is None else str(digest)


class SqlProcessedEvents:
    def __init__(self, db: Statements) -> None:
        self._db = db

    def first_time(self, event_id: str) -> bool:
        result = self._db.execute(self._db.insert_new(t.processed_events), {"event_id": event_id})
        return result.rowcount == 1
