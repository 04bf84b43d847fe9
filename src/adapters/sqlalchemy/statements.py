"""How a unit of work talks to the database: dialect-specific INSERTs, bulk paths, errors.

Every statement's database error goes through adapters.sqlalchemy.errors, which makes
it the core's (DuplicateRecord, ConcurrentUpdate, StoreUnavailable, the caller's
Unknown*). Expected conflicts use INSERT ... ON CONFLICT DO NOTHING (both dialects),
which leaves the transaction usable; after any other database error, as PostgreSQL
aborts the transaction, the unit of work must be abandoned.
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict, namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache, lru_cache
from typing import Any, Generic, TypeVar

from psycopg.pq import ExecStatus
from psycopg.pq.abc import PGresult
from sqlalchemy import (
    ClauseElement,
    Connection,
    CursorResult,
    Executable,
    Select,
    Table,
    bindparam,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.sql.compiler import SQLCompiler

from adapters.sqlalchemy import libpq
from adapters.sqlalchemy.errors import translate, translate_driver
from adapters.sqlalchemy.lists import ListQuery
from adapters.sqlalchemy.records import (
    aware,
    snapshot_from_text,
    terms_digest,
    terms_from_text,
)
from fantasy_core.contest import ContestTerms
from fantasy_core.errors import DomainError, StoreUnavailable
from fantasy_core.stats import FeedSnapshot

T = TypeVar("T")

Insert = postgresql.Insert | sqlite.Insert

_cursor_names = itertools.count(1)

STREAM_BATCH = 20_000
"""Rows fetched at a time when `stream`ing a big read (a server-side cursor on PostgreSQL):
big enough to amortise round trips, small enough to bound memory."""


ARRAYS_UP_TO = 1_000
"""The most rows `Statements.add_rows` sends in one INSERT over arrays on PostgreSQL (a join
batch's, in one round trip); more are streamed by COPY, which holds no whole array in
memory."""


def _sqlite_instant(value: datetime) -> str:
    """An instant as SQLAlchemy stores it in SQLite: naive UTC text, microseconds included."""
    return aware(value).astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _with_instants(
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[object]],
    convert: Callable[[datetime], object],
) -> Iterator[Sequence[object]]:
    """`rows` with `convert` applied to every non-null value of a datetime column."""
    instants = [i for i, name in enumerate(columns) if table.c[name].type.python_type is datetime]
    if not instants:
        yield from rows
        return
    for row in rows:
        if all(row[i] is None for i in instants):
            yield row
            continue
        values = list(row)
        for i in instants:
            value = values[i]
            if isinstance(value, datetime):
                values[i] = convert(value)
        yield values


@cache
def _plain_insert(table: Table) -> Executable:
    """`table`'s INSERT of the columns given, built once (SQLAlchemy caches its compiled
    form by the statement's key, which an INSERT built anew must be traversed for)."""
    return table.insert()


@cache
def _update_each(table: Table, key: str, columns: tuple[str, ...]) -> Executable:
    """UPDATE of one row of `table` by its `key`, the values bound as new_<column>."""
    where = table.c[key] == bindparam(f"new_{key}")
    changes: dict[str, Any] = {c: bindparam(f"new_{c}") for c in columns if c != key}
    return table.update().where(where).values(changes)


def _cast_arrays(table: Table, columns: tuple[str, ...], dialect: Dialect) -> str:
    """The arrays bound as a0, a1, ... (one a column of `table`, in `columns`' order), each
    cast to its column's PostgreSQL array type (without its collation: an array takes the
    element type), as unnest's arguments."""
    return ", ".join(
        f"CAST(:a{i} AS {table.c[c].type.compile(dialect=dialect).split(' COLLATE ')[0]}[])"
        for i, c in enumerate(columns)
    )


def _column_arrays(
    rows: Sequence[Mapping[str, object]], columns: Sequence[str]
) -> dict[str, object]:
    """`rows` bound as `_cast_arrays` names them: one list a column."""
    return {f"a{i}": [row[name] for row in rows] for i, name in enumerate(columns)}


@cache
def _update_from_arrays(
    table: Table, key: str, columns: tuple[str, ...], dialect: Dialect
) -> Prepared:
    """PostgreSQL's (`dialect`'s) UPDATE of `table` from arrays bound as a0, a1, ... (one a
    column, in `columns`' order), joined to the rows by `key`."""
    quote = dialect.identifier_preparer.quote
    arrays = _cast_arrays(table, columns, dialect)
    names = ", ".join(quote(c) for c in columns)
    changes = ", ".join(f"{quote(c)} = v.{quote(c)}" for c in columns if c != key)
    name = quote(table.name)
    return Prepared(
        text(
            f"UPDATE {name} SET {changes} FROM unnest({arrays}) AS v({names}) "
            f"WHERE {name}.{quote(key)} = v.{quote(key)}"
        )
    )


@cache
def _insert_from_arrays(table: Table, columns: tuple[str, ...], dialect: Dialect) -> Prepared:
    """PostgreSQL's (`dialect`'s) INSERT into `table` of the rows of arrays bound as a0, a1,
    ... (one a column, in `columns`' order), in the arrays' order (the audit's ids follow
    it). It reads no table: planned once a connection, with its foreign keys' checks
    (decision 0075)."""
    quote = dialect.identifier_preparer.quote
    arrays = _cast_arrays(table, columns, dialect)
    names = ", ".join(quote(c) for c in columns)
    return Prepared(
        text(
            f"INSERT INTO {quote(table.name)} ({names}) SELECT {names} "
            f"FROM unnest({arrays}) WITH ORDINALITY AS v({names}, row_number) "
            "ORDER BY row_number"
        ),
        plan_once=True,
    )


class Prepared:
    """A statement built once, at import, that a join batch runs (decision 0069).

    On PostgreSQL it is compiled once, and each run goes to libpq under the driver's
    connection (`libpq.execute_all`, decision 0070) with the parameters it is given, the
    values bound in the statement, and each bound value converted by its column's type as
    SQLAlchemy would (`UtcDateTime`): a run through SQLAlchemy's execution costs about 0.1
    ms of CPU more (docs/performance.md, 2026-12-04, late night), and one through psycopg's
    cursor about 45 µs more, out of a join batch's twenty or so statements.
    Its rows are named tuples, named after the statement's columns, as SQLAlchemy names
    them, with each column's type's result conversion applied. Other dialects run the
    statement through SQLAlchemy, as `Statements.execute` does.

    A statement with an expanding IN (a list rendered into the text at each run) is
    refused: bind the list as one array (`lists.list_query`), or its fixed values as
    literals.
    """

    __slots__ = ("_compiled", "_row", "plan_once", "statement")

    def __init__(self, statement: Executable | ListQuery[Any], *, plan_once: bool = False) -> None:
        """`plan_once`: a statement that reads no table, or reads by a key only, planned
        once a connection on PostgreSQL (libpq.Statement, decisions 0075 and 0078)."""
        self.statement = statement
        self.plan_once = plan_once
        self._compiled: _Compiled | None = None
        self._row: Callable[[Sequence[Any]], Any] | None = None

    def for_dialect(self, connection: Connection) -> Executable:
        statement = self.statement
        return statement.for_(connection) if isinstance(statement, ListQuery) else statement

    def compiled(self, connection: Connection) -> _Compiled:
        """The statement compiled for `connection`'s dialect (PostgreSQL), once."""
        known = self._compiled
        if known is None:
            known = self._compiled = _Compiled.of(
                self.for_dialect(connection), connection.dialect, plan_once=self.plan_once
            )
        return known

    def row_maker(self, names: Callable[[], list[str]]) -> Callable[[Sequence[Any]], Any]:
        """The named tuple type of this statement's rows, made at its first run from the
        `names` of the result's columns."""
        maker = self._row
        if maker is None:
            maker = self._row = namedtuple("Row", names())._make  # type: ignore[attr-defined]
        return maker


class _Compiled:
    """A statement's PostgreSQL text, its bound values, and its types' conversions."""

    __slots__ = ("binds", "bound", "results", "sql", "wire")

    def __init__(
        self,
        sql: str,
        bound: dict[str, object],
        binds: dict[str, Callable[[Any], Any]],
        results: tuple[tuple[int, Callable[[Any], Any]], ...],
        *,
        plan_once: bool = False,
    ) -> None:
        self.sql = sql
        self.wire = libpq.Statement(sql, plan_once=plan_once)
        self.bound = bound
        self.binds = binds
        self.results = results

    @classmethod
    def of(cls, statement: Executable, dialect: Dialect, *, plan_once: bool = False) -> _Compiled:
        selected = list(statement.selected_columns) if isinstance(statement, Select) else []
        if not isinstance(statement, ClauseElement):
            raise TypeError(f"not a statement SQLAlchemy can compile: {statement!r}")
        compiled = statement.compile(dialect=dialect)
        if not isinstance(compiled, SQLCompiler):
            raise TypeError(f"not a SQL statement: {statement!r}")
        sql = str(compiled)
        if "POSTCOMPILE" in sql:
            raise TypeError(
                f"a prepared statement cannot expand a list into its text: {sql[:200]!r}"
            )
        bound = {name: value for name, value in compiled.params.items() if value is not None}
        binds: dict[str, Callable[[Any], Any]] = {}
        for name, parameter in compiled.binds.items():
            process = parameter.type.bind_processor(dialect)
            if process is not None:
                binds[name] = process
        results: list[tuple[int, Callable[[Any], Any]]] = []
        for position, column in enumerate(selected):
            convert = column.type.result_processor(dialect, None)
            if convert is not None:
                results.append((position, convert))
        return cls(sql, bound, binds, tuple(results), plan_once=plan_once)


class Rows:
    """The rows a `Prepared` statement returned (all fetched), and how many it touched."""

    __slots__ = ("rowcount", "rows")

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self.rows = rows
        self.rowcount = rowcount

    def __iter__(self) -> Iterator[Any]:
        return iter(self.rows)

    def all(self) -> list[Any]:
        return self.rows

    def first(self) -> Any:
        return self.rows[0] if self.rows else None

    def scalar(self) -> Any:
        return self.rows[0][0] if self.rows else None

    def scalar_one(self) -> Any:
        """The one row's first column; ValueError unless there is exactly one row."""
        if len(self.rows) != 1:
            raise ValueError(f"one row expected, {len(self.rows)} returned")
        return self.rows[0][0]


# A statement built once and its values, as `Statements.run_all` runs them.
Run = tuple["Prepared", Mapping[str, object] | None]


class Read(Generic[T]):
    """A read as statements and what their rows mean: made by a repository, run alone
    (`Statements.read`) or with other reads in one round trip on PostgreSQL
    (`Statements.read_all`: a join batch's reads under its locks, decision 0074)."""

    __slots__ = ("meaning", "runs")

    def __init__(self, runs: Sequence[Run], meaning: Callable[[list[Rows]], T]) -> None:
        self.runs = runs  # none: the answer needs no statement (nothing was asked)
        self.meaning = meaning


def _bound(compiled: _Compiled, parameters: Mapping[str, object] | None) -> dict[str, object]:
    """A run's values: the statement's own, then the caller's, each converted by its
    column type's bind processor."""
    values = {**compiled.bound, **(parameters or {})}
    for name, process in compiled.binds.items():
        if values.get(name) is not None:
            values[name] = process(values[name])
    return values


def _rows_of(prepared: Prepared, compiled: _Compiled, driver: Any, result: PGresult) -> Rows:
    """A run's result as `Rows`: named tuples, each value converted by its column type's
    result processor."""
    if result.status != ExecStatus.TUPLES_OK:  # no rows returned
        return Rows([], libpq.touched(result))
    found: list[Any] = libpq.rows(driver, result)
    make = prepared.row_maker(lambda: libpq.column_names(result))
    if compiled.results:
        found = [list(row) for row in found]
        for row in found:
            for position, convert in compiled.results:
                if row[position] is not None:
                    row[position] = convert(row[position])
    return Rows(list(map(make, found)), libpq.touched(result))


class TermsByDigest:
    """Parsed contest terms by the SHA-256 of their stored text, the `size` most recently
    used (decision 0066).

    A contest's row carries its terms' digest (`terms_digest`), so a read selects the
    digest alone (64 characters, where the terms are tens of kilobytes) and asks for the
    text only when the digest is new here. Keying by the digest of the text means the
    cache can never return terms the row does not hold; `learn` checks the text against
    the digest it was stored with and refuses a mismatch.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._parsed: OrderedDict[str, ContestTerms] = OrderedDict()
        self._lock = threading.Lock()  # the API's worker threads share one cache

    def get(self, digest: str) -> ContestTerms | None:
        with self._lock:
            terms = self._parsed.get(digest)
            if terms is not None:
                self._parsed.move_to_end(digest)
            return terms

    def learn(self, contest_id: str, digest: str, text: str) -> ContestTerms:
        """The terms `text` holds, kept under `digest`; ValueError if it is not their digest."""
        if terms_digest(text) != digest:
            raise ValueError(
                f"contest {contest_id}: its stored terms do not match their digest {digest}"
            )
        terms = terms_from_text(text)
        with self._lock:
            self._parsed[digest] = terms
            self._parsed.move_to_end(digest)
            while len(self._parsed) > self._size:
                self._parsed.popitem(last=False)
        return terms


class Caches:
    """Parsed forms of immutable stored documents, keyed by their exact text or its digest.

    Contest terms and feed snapshots never change once written (a contest's changed terms
    are a new text), and parsing them (rules, player pools, stat lines) costs far more than
    reading them; keying by the text, or by its SHA-256, means a cache can never return
    something the row does not say.
    """

    def __init__(self, size: int = 256) -> None:
        self.terms = TermsByDigest(size)
        self.snapshot: Callable[[str], FeedSnapshot] = lru_cache(maxsize=size // 8)(
            snapshot_from_text
        )


class Statements:
    """One unit of work's connection: run statements, translating errors to the core's."""

    def __init__(self, connection: Connection, caches: Caches) -> None:
        self.connection = connection
        self.caches = caches
        self.dialect = connection.dialect.name
        # Writes whose rows and count nobody reads (`defer`), sent with the next statement.
        self._deferred: list[Run] = []

    def insert(self, table: Table) -> Insert:
        """The dialect's INSERT, which knows ON CONFLICT (both dialects spell it the same)."""
        if self.dialect == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)

    def insert_new(self, table: Table) -> Insert:
        """INSERT that skips a row whose unique key exists (its rowcount says which)."""
        # SQLAlchemy keeps an INSERT's rowcount only when asked to.
        return self.insert(table).on_conflict_do_nothing().execution_options(preserve_rowcount=True)

    def upsert(self, table: Table, values: Mapping[str, object]) -> Insert:
        """INSERT, or UPDATE every column when the primary key exists (save = put)."""
        keys = [c.name for c in table.primary_key.columns]
        statement = self.insert(table).values(dict(values))
        changed = {name: statement.excluded[name] for name in values if name not in keys}
        return statement.on_conflict_do_update(index_elements=keys, set_=changed)

    def execute(
        self,
        statement: Executable | ListQuery[Any],
        parameters: Mapping[str, object] | Sequence[Mapping[str, object]] | None = None,
        *,
        missing_parent: DomainError | None = None,
    ) -> CursorResult[Any]:
        runnable = (
            statement.for_(self.connection) if isinstance(statement, ListQuery) else statement
        )
        self.send_deferred()
        try:
            return self.connection.execute(runnable, parameters)
        except DBAPIError as error:
            raise translate(error, missing_parent) from error
        except StatementError as error:
            # A value no column can take (a naive datetime): the caller's bug, said plainly.
            if isinstance(error.orig, ValueError):
                raise error.orig from error
            raise

    def run(
        self,
        prepared: Prepared,
        parameters: Mapping[str, object] | None = None,
        *,
        missing_parent: DomainError | None = None,
    ) -> Rows:
        """Run a statement built once (`Prepared`): on PostgreSQL through libpq under the
        driver's connection (`libpq.execute_all`), elsewhere as `execute` runs it. Its errors
        are the core's, as for `execute`. SQLAlchemy's cursor listeners are called (with no
        cursor on PostgreSQL), but one that rewrites the statement (`retval=True`) is not
        honoured there."""
        return self.run_all([(prepared, parameters)], missing_parent=missing_parent)[0]

    def read(self, read: Read[T]) -> T:
        """`read`'s answer: its statements run (in one round trip on PostgreSQL)."""
        answer: T = self.read_all([read])[0]
        return answer

    def read_all(self, reads: Sequence[Read[Any]]) -> list[Any]:
        """Each read's answer, in order: their statements run in turn, all in one round
        trip on PostgreSQL, then each read's rows given their meaning in turn (which may
        read more: a contest's terms not cached yet). The first error is raised, and no
        statement after it runs."""
        runs = [run for read in reads for run in read.runs]
        results = self.run_all(runs) if runs else []
        answers = []
        start = 0
        for read in reads:
            end = start + len(read.runs)
            answers.append(read.meaning(results[start:end]))
            start = end
        return answers

    def defer(self, prepared: Prepared, parameters: Mapping[str, object] | None = None) -> None:
        """Run `prepared`, a write whose rows and count nobody reads, at the latest with
        this unit of work's next statement or its COMMIT: on PostgreSQL in that one's round
        trip (a join batch's UPDATE of its entries and its posting sets go with its
        COMMIT), elsewhere now. Its error is raised there, translated as that statement's
        are: so a deferred write must be one that cannot miss a parent row. The database
        refuses the rest of a transaction after any failed write, so either way the unit
        of work can only be abandoned."""
        if self.dialect != "postgresql":
            self.run(prepared, parameters)
        else:
            self._deferred.append((prepared, parameters))

    def send_deferred(self, *, commit: bool = False) -> None:
        """Send the deferred writes now, if any, and the COMMIT with them if `commit`."""
        if self._deferred:
            self.run_all([], commit=commit)

    def run_all(
        self,
        runs: Sequence[Run],
        *,
        missing_parent: DomainError | None = None,
        commit: bool = False,
    ) -> list[Rows]:
        """`run` each of `runs` in turn, then commit the transaction if `commit`: on
        PostgreSQL all in one round trip (`libpq.execute_all`). The first error is raised,
        and nothing after it runs. Each run's rows."""
        if self.dialect != "postgresql":
            done = []
            for prepared, parameters in runs:
                executed = self.execute(
                    prepared.for_dialect(self.connection), parameters, missing_parent=missing_parent
                )
                rows = list(executed.all()) if executed.returns_rows else []
                done.append(Rows(rows, executed.rowcount))
            if commit:
                self.connection.commit()
            return done
        deferred, self._deferred = self._deferred, []
        runs = [*deferred, *runs]
        compiled = [prepared.compiled(self.connection) for prepared, _ in runs]
        values = [_bound(c, parameters) for c, (_, parameters) in zip(compiled, runs, strict=True)]
        dispatch = self.connection.dispatch
        with self._translating(missing_parent):
            driver = self._driver_connection()
            # SQLAlchemy's cursor events still see each statement (instrumentation,
            # statement logs, the tests that count a batch's statements); there is no cursor.
            for c, v in zip(compiled, values, strict=True):
                for before in dispatch.before_cursor_execute:
                    before(self.connection, None, c.sql, v, None, False)
            results = libpq.execute_all(
                driver, [(c.wire, v) for c, v in zip(compiled, values, strict=True)], commit=commit
            )
            for c, v in zip(compiled, values, strict=True):
                for after in dispatch.after_cursor_execute:
                    after(self.connection, None, c.sql, v, None, False)
            return [
                _rows_of(prepared, c, driver, result)
                for (prepared, _), c, result in zip(runs, compiled, results, strict=True)
            ][len(deferred) :]

    def _driver_connection(self) -> Any:
        """The DBAPI connection, inside this unit of work's transaction."""
        if not self.connection.in_transaction():
            self.connection.begin()  # BEGIN IMMEDIATE on SQLite, as for any statement
        return self.connection.connection.driver_connection

    def stream(
        self, query: Select[Any], batch: int, *, at_once: bool = False
    ) -> Iterator[Sequence[Any]]:
        """The rows of a big SELECT as the driver returns them, fetched `batch` at a time.

        For the reads that must scale (a million entries): SQLAlchemy's per-row result
        processing would double their time, so the statement compiled from `query`
        runs on the driver's cursor, a server-side one in binary format on PostgreSQL.
        No result processing means the caller converts values (time zones: `utc`).
        `at_once`: on PostgreSQL the server sends every row in one go (a client-side
        cursor), which is a fifth faster than fetching batches but holds the whole
        result's wire form in memory (250 MB for a million settlement rows).
        """
        compiled = query.compile(
            dialect=self.connection.dialect, compile_kwargs={"render_postcompile": True}
        )
        self.send_deferred()
        with self._translating():
            driver = self._driver_connection()
            if self.dialect == "postgresql" and at_once:
                cursor = driver.cursor(binary=True)
                cursor.execute(str(compiled), compiled.params)
            elif self.dialect == "postgresql":
                cursor = driver.cursor(name=f"stream_{next(_cursor_names)}", binary=True)
                cursor.itersize = batch
                cursor.execute(str(compiled), compiled.params)
            else:
                cursor = driver.cursor()
                positions = compiled.positiontup or []
                cursor.execute(str(compiled), [compiled.params[name] for name in positions])
            try:
                while rows := cursor.fetchmany(batch):
                    yield from rows
            finally:
                cursor.close()

    def insert_many(
        self, table: Table, columns: Sequence[str], rows: Sequence[Sequence[object]]
    ) -> None:
        """Insert many rows at once: COPY on PostgreSQL, executemany on SQLite.

        Runs in a savepoint, so that a violated key leaves none of the rows behind and
        the unit of work usable; a duplicate key raises DuplicateRecord.
        """
        self.send_deferred()
        with self._translating():
            savepoint = self.connection.begin_nested()
            try:
                if self.dialect == "postgresql":
                    self._copy(table, columns, rows)
                else:
                    self._executemany(table, columns, rows)
            except BaseException:
                savepoint.rollback()
                raise
            savepoint.commit()

    def _executemany(
        self, table: Table, columns: Sequence[str], rows: Sequence[Sequence[object]]
    ) -> None:
        quote = self.connection.dialect.identifier_preparer.quote
        names = ", ".join(quote(name) for name in columns)
        marks = ", ".join("?" for _ in columns)
        driver = self._driver_connection()
        driver.executemany(
            f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})",
            _with_instants(table, columns, rows, _sqlite_instant),
        )

    def add_rows(
        self,
        table: Table,
        rows: Sequence[Mapping[str, object]],
        *,
        missing_parent: DomainError | None = None,
        then: Sequence[tuple[Prepared, Mapping[str, object] | None]] = (),
        commit: bool = False,
        deferred: bool = False,
    ) -> None:
        """INSERT `rows` (each with the same columns) in one command, in their order, then
        `run` each of `then`, then commit the transaction if `commit`. On PostgreSQL the
        INSERT is one statement over arrays, sent with the rest in one round trip
        (decision 0070), or, beyond `ARRAYS_UP_TO` rows, a COPY; elsewhere an executemany
        (decision 0062). `deferred` (not with `commit`): the INSERT over arrays and `then`
        are sent with the unit of work's next statement (`defer`), for rows and statements
        that cannot miss a parent row; a COPY, or another dialect's executemany, runs now.

        An executemany is one execution a row on the server, and psycopg's pipeline costs
        the client more than the COPY of the same rows. As for any INSERT, a violated key
        raises DuplicateRecord and a missing parent `missing_parent`; the database then
        refuses the rest of the transaction, so the unit of work can only be abandoned
        (`insert_many` is a COPY in a savepoint, which leaves the unit of work usable at
        two round trips more).
        """
        if deferred and commit:
            raise ValueError("a deferred INSERT is sent with the next statement, not a COMMIT")
        postgresql = self.dialect == "postgresql"
        columns = list(rows[0]) if rows else []
        if rows and postgresql and len(rows) <= ARRAYS_UP_TO:
            statement = _insert_from_arrays(table, tuple(columns), self.connection.dialect)
            arrays = _column_arrays(rows, columns)
            if deferred:
                for prepared, parameters in [(statement, arrays), *then]:
                    self.defer(prepared, parameters)
                return
            self.run_all([(statement, arrays), *then], missing_parent=missing_parent, commit=commit)
            return
        if rows and postgresql:
            self.send_deferred()
            with self._translating(missing_parent):
                self._copy(table, columns, [[row[name] for name in columns] for row in rows])
        elif rows:
            self.execute(_plain_insert(table), list(rows), missing_parent=missing_parent)
        if then or commit:
            self.run_all(then, missing_parent=missing_parent, commit=commit)

    def update_rows(
        self,
        table: Table,
        key: str,
        rows: Sequence[Mapping[str, object]],
        *,
        missing_parent: DomainError | None = None,
        deferred: bool = False,
    ) -> None:
        """UPDATE the row whose `key` is each of `rows`' own (distinct) to that row's other
        columns (each of `rows` with the same columns): on PostgreSQL one statement joining
        the rows bound as one array a column (one text for any number of rows, one
        execution), executemany elsewhere (decision 0062). `deferred`: sent with the next
        statement (`defer`), for an UPDATE that changes no foreign key."""
        if not rows:
            return
        columns = tuple(rows[0])
        if self.dialect != "postgresql":
            named = [{f"new_{name}": row[name] for name in columns} for row in rows]
            self.execute(_update_each(table, key, columns), named, missing_parent=missing_parent)
            return
        # (libpq.as_text refuses a naive instant, as `aware` does for COPY.)
        statement = _update_from_arrays(table, key, columns, self.connection.dialect)
        if deferred:
            self.defer(statement, _column_arrays(rows, columns))
        else:
            self.run(statement, _column_arrays(rows, columns), missing_parent=missing_parent)

    def _copy(self, table: Table, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        quote = self.connection.dialect.identifier_preparer.quote
        names = ", ".join(quote(name) for name in columns)
        driver = self._driver_connection()
        with (
            driver.cursor() as cursor,
            cursor.copy(f"COPY {quote(table.name)} ({names}) FROM STDIN") as copy,
        ):
            for row in _with_instants(table, columns, rows, aware):
                copy.write_row(row)

    @contextmanager
    def _translating(self, missing_parent: DomainError | None = None) -> Iterator[None]:
        """The core's errors for SQLAlchemy's, and for the driver's own (the paths that run on
        the driver's cursor, which SQLAlchemy does not wrap)."""
        try:
            yield
        except DBAPIError as error:
            translated = translate(error, missing_parent)
            if translated is error:
                raise
            raise translated from error
        except Exception as error:
            dbapi = self.connection.dialect.loaded_dbapi
            translated = translate_driver(error, dbapi, missing_parent)
            if isinstance(translated, StoreUnavailable):
                # SQLAlchemy did not see this error, so it would try to roll back on a lost
                # connection when the unit of work ends: tell it the connection is gone.
                self.connection.invalidate(error)
            if translated is error:
                raise
            raise translated from error
