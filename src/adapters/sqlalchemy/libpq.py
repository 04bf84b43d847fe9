"""A statement sent through libpq itself, under psycopg's connection (decision 0070).

The join batch's statements (`statements.Prepared`) and its bulk inserts run here on
PostgreSQL. A run through psycopg's cursor costs about 45 µs of CPU in Python for its
query conversion, parameter dumpers, prepared-statement bookkeeping and result set-up,
and psycopg's BEGIN is a round trip of its own; a join batch makes about twenty of them.
Here:

- the statement's text is converted to PostgreSQL's `$n` placeholders once;
- every parameter is sent as text, untyped, so PostgreSQL infers each one's type from
  where it stands, as for a literal; a list is sent as one array literal built here
  (psycopg's list dumpers cost a batch's arrays more than the statement they save);
- each statement is prepared on the server at its first run on a connection;
- the first statement of a transaction carries its BEGIN in a libpq pipeline: one round
  trip for both (and for the statement's PREPARE, at its first run);
- the rows are loaded by psycopg's own loaders (a `Transformer`), as a cursor loads them.

Waiting for the server releases the GIL (a poll on the socket), so an event loop or
another thread runs meanwhile. Errors are psycopg's own: the server's (with its SQLSTATE)
from the result, OperationalError for a lost connection; the caller translates them.
"""

from __future__ import annotations

import itertools
import re
import select
import weakref
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

import psycopg
from psycopg import errors, pq
from psycopg.adapt import Transformer
from psycopg.pq.abc import PGconn, PGresult

_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")

_OK = (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK)

_NUL = "PostgreSQL text fields cannot contain NUL (0x00) bytes"

# The statements planned once (Statement.plan_once) run after the first, until the others
# (the session's own settings, as it connected). With sequential scans off, the generic
# plan of a foreign key's check, made at its first run, is a lookup of the parent's key:
# made while the parent was a page, it would scan the parent for good (decision 0075).
_GENERIC_PLANS = (
    b"SET LOCAL plan_cache_mode = force_generic_plan",
    b"SET LOCAL enable_seqscan = off",
)
_PLANS_AS_SET = (
    b"SET LOCAL plan_cache_mode TO DEFAULT",
    b"SET LOCAL enable_seqscan TO DEFAULT",
)

# The names of the statements prepared on each connection, by their text.
_PREPARED: weakref.WeakKeyDictionary[psycopg.Connection[Any], dict[bytes, bytes]] = (
    weakref.WeakKeyDictionary()
)
_names = itertools.count(1)


class Statement:
    """A statement in psycopg's `%(name)s` style (SQLAlchemy's PostgreSQL text), as libpq
    takes it: `$n` placeholders, and the names in their order.

    `plan_once`: no plan of the statement can go bad as the tables grow. It reads no table
    (an INSERT of the rows of arrays, decision 0075), or it reads its rows by a key only,
    so that with sequential scans off its plan is that key's index (decision 0078).
    PostgreSQL plans it, and its foreign keys' checks, once a connection, at its first run
    in a transaction, rather than at every run as the engine asks for every other
    statement (decision 0064). See `execute_all`."""

    __slots__ = ("names", "plan_once", "sql")

    def __init__(self, text: str, *, plan_once: bool = False) -> None:
        self.plan_once = plan_once
        names: list[str] = []

        def number(match: re.Match[str]) -> str:
            name = match.group(1)
            if name is None:
                return "%"
            if name not in names:
                names.append(name)
            return f"${names.index(name) + 1}"

        self.sql = _PLACEHOLDER.sub(number, text).encode()
        self.names = tuple(names)

    def parameters(self, values: Mapping[str, object]) -> list[bytes | None]:
        """Each placeholder's value as text; a name without a value is the caller's bug."""
        missing = [name for name in self.names if name not in values]
        if missing:
            raise KeyError(f"no value for the statement's parameters {missing}")
        return [as_text(values[name]) for name in self.names]


def as_text(value: object) -> bytes | None:
    """`value` as PostgreSQL reads it from text; None is NULL. Only the types the SQL adapter
    binds: anything else is refused rather than guessed at."""
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return array_literal(value).encode()
    return _scalar(value).encode()


def array_literal(values: Sequence[object]) -> str:
    """A one-dimensional array literal: every element quoted (a backslash before each `"`
    and `\\` in it), NULL for None."""
    # A batch sends a few hundred elements, most of them texts with nothing to escape.
    # A list of texts only, none with a quote, a backslash or a NUL, is one join (2.6
    # times faster than element by element). So is a list of ints only (a fee, a
    # position, an amount: 3 times faster), of None only, or of instants only, each aware
    # (checked as `_scalar` checks it) and written by isoformat, which writes no quote or
    # backslash (a third less time, isoformat the rest). Any other list goes element by
    # element (tests/contract/test_libpq.py holds the two forms equal).
    if not values:
        return "{}"
    kind = type(values[0])
    if all(type(value) is kind for value in values):
        if kind is str:
            joined = '","'.join(cast("Sequence[str]", values))
            # Each separator holds two quotes: any more are an element's own.
            if (
                joined.count('"') == 2 * len(values) - 2
                and "\\" not in joined
                and "\x00" not in joined
            ):
                return '{"' + joined + '"}'
        elif kind is int:
            return '{"' + '","'.join(map(str, values)) + '"}'
        elif kind is datetime:
            instants = cast("Sequence[datetime]", values)
            return '{"' + '","'.join(map(_aware_instant, instants)) + '"}'
        elif values[0] is None:
            return "{" + ",".join(["NULL"] * len(values)) + "}"
    return array_by_element(values)


def array_by_element(values: Sequence[object]) -> str:
    """`array_literal` element by element: the form every list can take."""
    parts = []
    for value in values:
        if type(value) is str:
            if "\x00" in value:
                raise psycopg.DataError(_NUL)
            text = value
        elif value is None:
            parts.append("NULL")
            continue
        elif isinstance(value, list | tuple):
            raise TypeError("a nested list cannot be sent as a PostgreSQL array here")
        else:
            text = _scalar(value)
        if "\\" in text or '"' in text:
            text = text.replace("\\", "\\\\").replace('"', '\\"')
        parts.append('"' + text + '"')
    return "{" + ",".join(parts) + "}"


def _aware_instant(value: datetime) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"refusing to send a naive datetime {value!r}: give it a zone")
    return value.isoformat()


def _scalar(value: object) -> str:
    if isinstance(value, str):
        # libpq sends a text parameter up to its first NUL: refused, as psycopg refuses it,
        # rather than cut short.
        if "\x00" in value:
            raise psycopg.DataError(_NUL)
        return value
    if isinstance(value, bool):  # before int: a bool is an int
        return "t" if value else "f"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, datetime):
        return _aware_instant(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"no text form for a {type(value).__name__} parameter: {value!r}")


def execute(
    connection: psycopg.Connection[Any], statement: Statement, values: Mapping[str, object]
) -> PGresult:
    """Run `statement` with `values` on `connection`, in its transaction (begun here, in the
    same round trip, when the connection is idle and not in autocommit); its result."""
    return execute_all(connection, [(statement, values)])[0]


def execute_all(
    connection: psycopg.Connection[Any],
    runs: Sequence[tuple[Statement, Mapping[str, object]]],
    *,
    commit: bool = False,
) -> list[PGresult]:
    """Run each of `runs` on `connection` in turn, in its transaction, then COMMIT it if
    `commit`: all in one round trip (a libpq pipeline); each run's result. The first
    error raised is the first the server met: it skips what follows it, the COMMIT too.

    The transaction is begun here when the connection is idle and not in autocommit. Each
    statement is prepared on the server under a name of its own, at its first run on each
    connection, so that PostgreSQL parses it once. The engine turns psycopg's own
    preparing off (`prepare_threshold=None`), because psycopg deallocates every prepared
    statement of a connection at its rollbacks."""
    parameters = [statement.parameters(values) for statement, values in runs]
    pgconn = connection.pgconn
    if pgconn.status != pq.ConnStatus.OK:
        raise psycopg.OperationalError("the connection is closed")
    begin = None
    if not connection.autocommit and pgconn.transaction_status == pq.TransactionStatus.IDLE:
        begin = _begin(connection)
    known = _PREPARED.setdefault(connection, {})
    names = [known.get(statement.sql) for statement, _ in runs]
    # A statement planned once runs with the generic plans asked for by settings local to
    # the transaction: so only in one (not in autocommit), and the session's settings are
    # put back after the last of them unless the COMMIT ends them.
    generic = not connection.autocommit and any(statement.plan_once for statement, _ in runs)
    if not generic and begin is None and not commit and len(runs) == 1 and names[0] is not None:
        pgconn.send_query_prepared(names[0], parameters[0])
        return [_ran(connection, _one_result(pgconn), known)]
    # What each result of the pipeline answers: a command, a PREPARE (of a text, under a
    # name) or a run.
    sent: list[tuple[str, bytes, bytes]] = []
    naming: dict[bytes, bytes] = {}  # the texts first prepared in this pipeline
    pgconn.enter_pipeline_mode()
    try:
        if begin is not None:
            _command(pgconn, begin, sent)
        planned_once = False  # whether the statements sent now get their generic plans
        for position, (statement, _) in enumerate(runs):
            if generic and statement.plan_once != planned_once:
                planned_once = statement.plan_once
                for command in _GENERIC_PLANS if planned_once else _PLANS_AS_SET:
                    _command(pgconn, command, sent)
            name = names[position] or naming.get(statement.sql)
            if name is None:
                name = naming[statement.sql] = b"fantasy_%d" % next(_names)
                pgconn.send_prepare(name, statement.sql)
                sent.append(("prepare", statement.sql, name))
            pgconn.send_query_prepared(name, parameters[position])
            sent.append(("run", b"", b""))
        if commit:
            _command(pgconn, b"COMMIT", sent)
        elif planned_once:
            for command in _PLANS_AS_SET:
                _command(pgconn, command, sent)
        pgconn.pipeline_sync()
        results = _pipeline_results(pgconn)
        if pgconn.status == pq.ConnStatus.OK:
            pgconn.exit_pipeline_mode()
    except BaseException:
        # Results may be left unread: no later statement could run on this connection,
        # so it is closed, and its next use says so (StoreUnavailable, then a new one).
        if pgconn.pipeline_status != pq.PipelineStatus.OFF:
            pgconn.finish()
        raise
    results += [None] * (len(sent) - len(results))
    answers: list[PGresult] = []
    for (kind, text, name), result in zip(sent, results, strict=True):
        if kind == "run":
            answers.append(_ran(connection, result, known))
            continue
        _checked(connection, result)
        if kind == "prepare":
            known[text] = name
    return answers


def _command(pgconn: PGconn, command: bytes, sent: list[tuple[str, bytes, bytes]]) -> None:
    """Send `command` (no parameters) into the pipeline, and note what its result answers."""
    pgconn.send_query_params(command, None)
    sent.append(("command", b"", b""))


def rows(connection: psycopg.Connection[Any], result: PGresult) -> list[tuple[Any, ...]]:
    """The rows of `result`, each value loaded as psycopg's cursor would load it."""
    loader = Transformer(connection)
    loader.set_pgresult(result)
    return loader.load_rows(0, result.ntuples, tuple)


def column_names(result: PGresult) -> list[str]:
    return [(result.fname(i) or b"").decode() for i in range(result.nfields)]


def touched(result: PGresult) -> int:
    """How many rows the statement returned or changed (a cursor's rowcount)."""
    count = result.command_tuples
    return result.ntuples if count is None else count


def _begin(connection: psycopg.Connection[Any]) -> bytes:
    """The BEGIN psycopg itself would send for `connection`'s settings."""
    parts = [b"BEGIN"]
    if connection.isolation_level is not None:
        level = psycopg.IsolationLevel(connection.isolation_level)
        parts += [b"ISOLATION LEVEL", level.name.replace("_", " ").encode()]
    if connection.read_only is not None:
        parts.append(b"READ ONLY" if connection.read_only else b"READ WRITE")
    if connection.deferrable is not None:
        parts.append(b"DEFERRABLE" if connection.deferrable else b"NOT DEFERRABLE")
    return b" ".join(parts)


def _ran(
    connection: psycopg.Connection[Any], result: PGresult | None, known: dict[bytes, bytes]
) -> PGresult:
    """The statement's result, checked. If the server no longer knows the connection's
    prepared statements (a DEALLOCATE ALL or DISCARD ALL sent by someone else), they are
    forgotten here: this run fails, loudly, and the next one prepares its statement again."""
    if result is not None and result.error_field(pq.DiagnosticField.SQLSTATE) == b"26000":
        known.clear()
    return _checked(connection, result)


def _checked(connection: psycopg.Connection[Any], result: PGresult | None) -> PGresult:
    pgconn = connection.pgconn
    if pgconn.status != pq.ConnStatus.OK:
        message = pgconn.error_message.decode(errors="replace").strip()
        raise psycopg.OperationalError(message or "the connection to the server was lost")
    if result is None:
        raise psycopg.InterfaceError("the server sent no result for the statement")
    if result.status not in _OK:
        if result.status == pq.ExecStatus.FATAL_ERROR:
            raise errors.error_from_result(result, encoding=connection.info.encoding)
        status = pq.ExecStatus(result.status).name
        raise psycopg.InterfaceError(f"unexpected result {status} from the statement")
    return result


def _one_result(pgconn: PGconn) -> PGresult | None:
    """The result of the one query sent, once the server has said all it has to say."""
    _flush(pgconn)
    first = _next_result(pgconn)
    while first is not None and _next_result(pgconn) is not None:
        pass
    return first


def _pipeline_results(pgconn: PGconn) -> list[PGresult | None]:
    """The results of the pipeline's queries, read up to its sync."""
    _flush(pgconn)
    found: list[PGresult | None] = []
    while True:
        result = _next_result(pgconn)
        if result is None:
            if pgconn.status != pq.ConnStatus.OK:
                return found
            continue  # the end of one query's results
        if result.status == pq.ExecStatus.PIPELINE_SYNC:
            return found
        found.append(result)


def _next_result(pgconn: PGconn) -> PGresult | None:
    """libpq's next result, waiting for the server's messages without holding the GIL.

    The socket is read only when what libpq holds has no whole result (`is_busy` reads
    nothing): a pipeline's results mostly come in one packet, and reading the empty
    socket again before each of them was a failed system call each, about 70 a batch of
    joins."""
    while pgconn.is_busy():
        _wait(pgconn, select.POLLIN)
        pgconn.consume_input()
    return pgconn.get_result()


def _flush(pgconn: PGconn) -> None:
    while pgconn.flush():  # 1 while part of the messages is still to be sent
        _wait(pgconn, select.POLLIN | select.POLLOUT)
        pgconn.consume_input()


def _wait(pgconn: PGconn, events: int) -> None:
    poller = select.poll()
    poller.register(pgconn.socket, events | select.POLLERR | select.POLLHUP)
    poller.poll()
