"""Contests in SQL: read, locked for update, and saved by compare-and-set on their version."""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, bindparam, select

from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.lists import list_query, lock_in_key_order
from adapters.sqlalchemy.records import (
    contest_from_row,
    contest_values,
    terms_digest,
    terms_to_text,
)
from adapters.sqlalchemy.seats import SeatCounters
from adapters.sqlalchemy.statements import Prepared, Read, Rows, Statements
from fantasy_core.contest import Contest, ContestMark, ContestTerms
from fantasy_core.errors import (
    ConcurrentUpdate,
    DuplicateRecord,
    UnknownContest,
)
from fantasy_core.lifecycle import ContestState

# The statements of a join, built once: building and compiling a statement per call
# cost more of a join's time than running it (see docs/performance.md).
# Every column but the terms' text (tens of kilobytes): a read takes their digest, and the
# text only for terms this process has not parsed yet (decision 0066).
_READ = [column for column in t.contests.c if column.name != "terms"]
_GET = select(*_READ).where(t.contests.c.contest_id == bindparam("contest_id"))
_GET_CONTEST = Prepared(_GET)
# A contest's version and seats alone: what a reader keeping the contest checks per read.
_MARK = Prepared(
    select(t.contests.c.version, t.contests.c.seats_taken).where(
        t.contests.c.contest_id == bindparam("contest_id")
    )
)
# PostgreSQL: FOR NO KEY UPDATE serialises lockers like FOR UPDATE, but lets other
# transactions insert rows that reference the contest (their foreign key checks take
# KEY SHARE). SQLite renders nothing: BEGIN IMMEDIATE already made this unit of work the
# only writer.
_LOCK_CONTEST = Prepared(_GET.with_for_update(key_share=True))
# Several at once, in ascending id order (no deadlock between lockers of overlapping sets).
# By its key: planned once (decision 0078).
_LOCK_CONTESTS = Prepared(
    lock_in_key_order(t.contests, t.contests.c.contest_id, _READ), plan_once=True
)
# The whole rows, terms included, of contests whose terms a read had not parsed yet.
_WITH_TERMS = Prepared(
    list_query(lambda one_of: select(t.contests).where(one_of(t.contests.c.contest_id, "ids")))
)


class SqlContests:
    """Contests; `save` is a compare-and-set on the row's version."""

    def __init__(self, db: Statements, seats: SeatCounters) -> None:
        self._db = db
        self._seats = seats
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

    def _built(self, rows: Sequence[Row[Any]]) -> list[Contest]:
        """The contests `rows` (read without their terms' text) hold. Terms parsed before
        are the cache's; for the others one statement reads the whole rows again, and those
        rows are used: under a lock they are the same, and without one they are a later
        state of the contest, each read whole from one statement."""
        cache = self._db.caches.terms
        terms: dict[str, ContestTerms] = {}
        for row in rows:
            known = cache.get(row.terms_digest)
            if known is not None:
                terms[row.terms_digest] = known
        unknown = sorted({row.contest_id for row in rows if row.terms_digest not in terms})
        fresh: dict[str, Row[Any]] = {}
        if unknown:
            for row in self._db.run(_WITH_TERMS, {"ids": unknown}):
                terms[row.terms_digest] = cache.learn(row.contest_id, row.terms_digest, row.terms)
                fresh[row.contest_id] = row
        missing = [cid for cid in unknown if cid not in fresh]
        if missing:  # contests are never deleted: a row read a moment ago is still there
            raise UnknownContest(f"no contest {missing[0]}")
        whole = [fresh.get(row.contest_id, row) for row in rows]
        return [contest_from_row(row, terms[row.terms_digest]) for row in whole]

    def add(self, contest: Contest) -> None:
        text = terms_to_text(contest.terms)
        values = {
            "contest_id": contest.contest_id,
            "terms": text,
            "terms_digest": terms_digest(text),
            "slate_id": contest.terms.slate_id,
            **contest_values(contest),
        }
        if self._db.execute(self._db.insert_new(t.contests), values).rowcount != 1:
            raise DuplicateRecord(f"contest {contest.contest_id} exists")
        self._remember(contest)

    def _read(self, contest_id: str, *, for_update: bool) -> Contest:
        query = _LOCK_CONTEST if for_update else _GET_CONTEST
        row = self._db.run(query, {"contest_id": contest_id}).first()
        if row is None:
            raise UnknownContest(f"no contest {contest_id}")
        if for_update:
            self._seats.read_with_lock(contest_id, int(row.seats_taken))
        return self._remember(self._built([row])[0])

    def get(self, contest_id: str) -> Contest:
        return self._read(contest_id, for_update=False)

    def mark(self, contest_id: str) -> ContestMark:
        row = self._db.run(_MARK, {"contest_id": contest_id}).first()
        if row is None:
            raise UnknownContest(f"no contest {contest_id}")
        return ContestMark(contest_id, int(row.version), int(row.seats_taken))

    def lock(self, contest_id: str) -> Contest:
        return self._read(contest_id, for_update=True)

    def lock_all(self, contest_ids: Iterable[str]) -> dict[str, Contest]:
        return self._db.read(self.lock_all_read(contest_ids))

    def lock_all_read(self, contest_ids: Iterable[str]) -> Read[dict[str, Contest]]:
        """`lock_all` as a Read (SqlUnitOfWork.read_for_joins, lock_for_record)."""
        wanted = sorted(set(contest_ids))
        if not wanted:
            return Read((), lambda _: {})

        def meaning(results: list[Rows]) -> dict[str, Contest]:
            rows = results[0].all()
            for row in rows:
                self._seats.read_with_lock(row.contest_id, int(row.seats_taken))
            return {c.contest_id: self._remember(c) for c in self._built(rows)}

        return Read([(_LOCK_CONTESTS, {"ids": wanted})], meaning)

    def save(self, contest: Contest) -> None:
        self._save(contest, {})

    def save_terms(self, contest: Contest) -> None:
        text = terms_to_text(contest.terms)
        self._save(contest, {"terms": text, "terms_digest": terms_digest(text)})

    def _save(self, contest: Contest, extra: dict[str, object]) -> None:
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
            .values({**contest_values(contest), **extra})
        )
        if self._db.execute(update).rowcount == 1:
            self._remember(contest)
            return
        exists = select(table.c.version).where(table.c.contest_id == contest.contest_id)
        if self._db.execute(exists).first() is None:
            raise UnknownContest(f"no contest {contest.contest_id}")
        raise ConcurrentUpdate(f"contest {contest.contest_id} changed meanwhile")

    def ids_in_states(
        self, states: Iterable[ContestState], after: str | None = None, limit: int | None = None
    ) -> list[str]:
        wanted = [s.value for s in states]
        if not wanted:
            return []
        query = (
            select(t.contests.c.contest_id)
            .where(t.contests.c.state.in_(wanted))
            .order_by(t.contests.c.contest_id)
        )
        if after is not None:
            query = query.where(t.contests.c.contest_id > after)
        if limit is not None:
            query = query.limit(limit)
        return self._ids(query)

    def _ids(self, query: Select[tuple[str]]) -> list[str]:
        return [str(cid) for cid in self._db.execute(query).scalars()]

    def ids_of_slate(self, slate_id: str) -> list[str]:
        query = (
            select(t.contests.c.contest_id)
            .where(t.contests.c.slate_id == slate_id)
            .order_by(t.contests.c.contest_id)
        )
        return self._ids(query)

    def completed_between(
        self, states: Iterable[ContestState], start: datetime, end: datetime
    ) -> list[str]:
        c = t.contests.c
        wanted = [s.value for s in states]
        query = (
            select(c.contest_id)
            .where(c.state.in_(wanted), c.completed_at >= start, c.completed_at < end)
            .order_by(c.contest_id)
        )
        return self._ids(query) if wanted else []

    def latest_completed(self, states: Iterable[ContestState], limit: int) -> list[str]:
        c = t.contests.c
        wanted = [s.value for s in states]
        query = (
            select(c.contest_id)
            .where(c.state.in_(wanted), c.completed_at.is_not(None))
            .order_by(c.completed_at.desc(), c.contest_id.desc())
            .limit(limit)
        )
        return self._ids(query) if wanted else []
