"""The SQL unit of work: one connection and one explicit transaction around one use case.

`SqlDatabase(engine).unit_of_work` is the factory a Platform takes, like
`MemoryStore().unit_of_work`. Inside the `with` block the first statement begins a
transaction (BEGIN IMMEDIATE on SQLite: a single writer at a time); `commit()` ends
it, and a later statement in the same block begins the next one. Leaving the block
rolls back whatever was not committed and returns the connection to the pool.

A database that cannot be reached raises the core's StoreUnavailable, from entering the
block, any repository call or `commit()` (adapters.sqlalchemy.errors says which errors
mean that); every other database error is either the core's or a bug.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from adapters.sqlalchemy.alerts import SqlAlerts
from adapters.sqlalchemy.calendar import SqlCalendar
from adapters.sqlalchemy.contests import SqlContests
from adapters.sqlalchemy.engine import READING
from adapters.sqlalchemy.entries import SqlEntries
from adapters.sqlalchemy.errors import store_unavailable, translate, unreachable
from adapters.sqlalchemy.journals import (
    SqlAuditLog,
    SqlLedger,
    SqlProcessedEvents,
    SqlSettlements,
    SqlStats,
)
from adapters.sqlalchemy.outbox import SqlOutbox
from adapters.sqlalchemy.payout_accounts import SqlPayoutAccounts
from adapters.sqlalchemy.payouts import SqlPayouts
from adapters.sqlalchemy.players import SqlPlayers, SqlTaxDetails
from adapters.sqlalchemy.refunds import SqlRefunds
from adapters.sqlalchemy.seats import SeatCounters
from adapters.sqlalchemy.statements import Caches, Statements
from adapters.sqlalchemy.workers import SqlWorkerPasses
from fantasy_core.audit import log_committed
from fantasy_core.contest import Contest
from fantasy_core.entries import Entry
from fantasy_core.ports import JoinReads


class SqlDatabase:
    """The platform's data in one SQL database. Make units of work with `unit_of_work()`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._caches = Caches()

    def unit_of_work(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, self._caches)

    def reading_unit_of_work(self) -> SqlUnitOfWork:
        """A unit of work that only reads (Platform.reads): on SQLite its transaction
        begins deferred (BEGIN, a snapshot of the database without its write lock), so
        readers never wait for each other or for a writer; `commit()` refuses."""
        return SqlUnitOfWork(self.engine, self._caches, reading=True)


class SqlUnitOfWork:
    """One transaction; rows read with `contests.lock` stay locked until commit or exit."""

    contests: SqlContests
    entries: SqlEntries
    payouts: SqlPayouts
    refunds: SqlRefunds
    ledger: SqlLedger
    audit: SqlAuditLog
    stats: SqlStats
    settlements: SqlSettlements
    accounts: SqlPayoutAccounts
    events: SqlProcessedEvents
    alerts: SqlAlerts
    outbox: SqlOutbox
    workers: SqlWorkerPasses
    players: SqlPlayers
    calendar: SqlCalendar
    tax_details: SqlTaxDetails

    def __init__(self, engine: Engine, caches: Caches, *, reading: bool = False) -> None:
        self._engine = engine
        self._caches = caches
        self._reading = reading
        self._connection: Connection | None = None
        self._seats: SeatCounters | None = None

    def __enter__(self) -> Self:
        if self._connection is not None:
            raise RuntimeError("a unit of work is not re-entrant: make a new one")
        try:
            connection = self._engine.connect()
        except DBAPIError as error:
            raise translate(error) from error
        if self._reading:
            connection.execution_options(**{READING: True})  # this connection's, until closed
        self._connection = connection
        db = self._db = Statements(connection, self._caches)
        seats = self._seats = SeatCounters(db)
        self.contests = SqlContests(db, seats)
        self.entries = SqlEntries(db, seats)
        self.payouts = SqlPayouts(db)
        self.refunds = SqlRefunds(db)
        self.ledger = SqlLedger(db)
        self.audit = SqlAuditLog(db)
        self.stats = SqlStats(db)
        self.settlements = SqlSettlements(db)
        self.accounts = SqlPayoutAccounts(db)
        self.events = SqlProcessedEvents(db)
        self.alerts = SqlAlerts(db)
        self.outbox = SqlOutbox(db)
        self.workers = SqlWorkerPasses(db)
        self.players = SqlPlayers(db)
        self.calendar = SqlCalendar(db)
        self.tax_details = SqlTaxDetails(db)
        return self

    def read_for_joins(
        self,
        fingerprints: Iterable[str],
        contest_ids: Iterable[str],
        pairs: Iterable[tuple[str, str]],
        user_ids: Iterable[str],
    ) -> JoinReads:
        """The four reads in one round trip on PostgreSQL (Statements.read_all), in the
        order the port gives; on SQLite one after the other."""
        found, contests, held, profiles = self._db.read_all(
            [
                self.entries.by_fingerprints_read(fingerprints),
                self.contests.lock_all_read(contest_ids),
                self.entries.seats_of_users_read(pairs),
                self.players.lock_all_read(user_ids),
            ]
        )
        return JoinReads(found, contests, held, profiles)

    def lock_for_record(
        self, contest_ids: Iterable[str], entry_ids: Sequence[str]
    ) -> tuple[dict[str, Contest], list[Entry]]:
        contests, entries = self._db.read_all(
            [self.contests.lock_all_read(contest_ids), self.entries.lock_all_read(entry_ids)]
        )
        return contests, entries

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection, self._connection = self._connection, None
        self._seats = None
        if connection is not None:
            # Closing rolls back anything not committed and releases every row lock.
            try:
                connection.close()
            except DBAPIError as error:
                if not unreachable(error):
                    raise
                raise store_unavailable(error.orig or error) from error
        if isinstance(exc, DBAPIError) and unreachable(exc):
            # A statement that did not go through Statements (a result read lazily): the
            # same boundary holds, nothing of SQLAlchemy leaves the unit of work.
            raise store_unavailable(exc.orig or exc) from exc

    def commit(self) -> None:
        if self._connection is None:
            raise RuntimeError("commit outside the unit of work's block")
        if self._reading:
            raise RuntimeError("a reading unit of work does not commit")
        if self._seats is not None:
            self._seats.forget()
        self.entries.forget()
        try:
            # The writes deferred (Statements.defer), the audit's rows and the COMMIT, in
            # one round trip on PostgreSQL. Then SQLAlchemy ends its transaction: the
            # commit itself when there was nothing to write, else only SQLAlchemy's own
            # state (the driver has nothing to send).
            self.audit.flush(commit=True)
            self._db.send_deferred(commit=True)
            self._connection.commit()
        except DBAPIError as error:
            raise translate(error) from error
        log_committed(self.audit.uncommitted)
        self.audit.uncommitted.clear()
