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
- the first statement of a transaction carries its BEGIN in a libpq pipeline: one round
  trip for both;
- the rows are loaded by psycopg's own loaders (a `Transformer`), as a cursor loads them.

Waiting for the server releases the GIL (a poll on the socket), so an event loop or
another thread runs meanwhile. Errors are psycopg's own: the server's (with its SQLSTATE)
from the result, OperationalError for a lost connection; the caller translates them.
"""

from __future__ import annotations

import re
import select
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import errors, pq
from psycopg.adapt import Transformer
from psycopg.pq.abc import PGconn, PGresult

_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")

_OK = (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK)


class Statement:
    """A statement in psycopg's `%(name)s` style (SQLAlchemy's PostgreSQL text), as libpq
    takes it: `$n` placeholders, and the names in their order."""

    __slots__ = ("names", "sql")

    def __init__(self, text: str) -> None:
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
    parts = []
    for value in values:
        if value is None:
            parts.append("NULL")
        elif isinstance(value, list | tuple):
            raise TypeError("a nested list cannot be sent as a PostgreSQL array here")
        else:
            text = _scalar(value)
            parts.append('"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return "{" + ",".join(parts) + "}"


def _scalar(value: object) -> str:
    if isinstance(value, str):
        # libpq sends a text parameter up to its first NUL: refused, as psycopg refuses it,
        # rather than cut short.
        if "\x00" in value:
            raise psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes")
        return value
    if isinstance(value, bool):  # before int: a bool is an int
        return "t" if value else "f"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"refusing to send a naive datetime {value!r}: give it a zone")
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"no text form for a {type(value).__name__} parameter: {value!r}")


def execute(
    connection: psycopg.Connection[Any], statement: Statement, values: Mapping[str, object]
) -> PGresult:
    """Run `statement` with `values` on `connection`, in its transaction (begun here, in the
    same round trip, when the connection is idle and not in autocommit); its result."""
    parameters = statement.parameters(values)
    pgconn = connection.pgconn
    if pgconn.status != pq.ConnStatus.OK:
        raise psycopg.OperationalError("the connection is closed")
    begin = None
    if not connection.autocommit and pgconn.transaction_status == pq.TransactionStatus.IDLE:
        begin = _begin(connection)
    if begin is None:
        pgconn.send_query_params(statement.sql, parameters)
        return _checked(connection, _one_result(pgconn))
    pgconn.enter_pipeline_mode()
    try:
        pgconn.send_query_params(begin, None)
        pgconn.send_query_params(statement.sql, parameters)
        pgconn.pipeline_sync()
        began, result = _pipeline_results(pgconn)
        if pgconn.status == pq.ConnStatus.OK:
            pgconn.exit_pipeline_mode()
    except BaseException:
        # Results may be left unread: no later statement could run on this connection,
        # so it is closed, and its next use says so (StoreUnavailable, then a new one).
        if pgconn.pipeline_status != pq.PipelineStatus.OFF:
            pgconn.finish()
        raise
    _checked(connection, began)
    return _checked(connection, result)


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


def _pipeline_results(pgconn: PGconn) -> tuple[PGresult | None, PGresult | None]:
    """The results of the pipeline's two queries, read up to its sync."""
    _flush(pgconn)
    found: list[PGresult | None] = []
    while True:
        result = _next_result(pgconn)
        if result is None:
            if pgconn.status != pq.ConnStatus.OK:
                break
            continue  # the end of one query's results
        if result.status == pq.ExecStatus.PIPELINE_SYNC:
            break
        found.append(result)
    found += [None, None]
    return found[0], found[1]


def _next_result(pgconn: PGconn) -> PGresult | None:
    """libpq's next result, waiting for the server's messages without holding the GIL."""
    while True:
        pgconn.consume_input()
        if not pgconn.is_busy():
            return pgconn.get_result()
        _wait(pgconn, select.POLLIN)


def _flush(pgconn: PGconn) -> None:
    while pgconn.flush():  # 1 while part of the messages is still to be sent
        _wait(pgconn, select.POLLIN | select.POLLOUT)
        pgconn.consume_input()


def _wait(pgconn: PGconn, events: int) -> None:
    poller = select.poll()
    poller.register(pgconn.socket, events | select.POLLERR | select.POLLHUP)
    poller.poll()
