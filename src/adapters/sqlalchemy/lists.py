"""Queries that match a column against a list of values: one statement for any length.

`column IN (:v1, :v2, ...)` is a new statement for each length of the list: SQLAlchemy
renders the list into the statement at every execution, psycopg converts that text
again, and PostgreSQL parses and plans it every time, as it never sees the same text
often enough to prepare it. A join batch runs several such lookups (entries by
fingerprint and by id, contests and players to lock, seats held), each with a list as
long as the batch. On PostgreSQL the list is bound as one array instead
(`column = ANY(:values)`): one text for every length, which SQLAlchemy's cache, psycopg's
and PostgreSQL's prepared statements all serve. SQLite has no arrays and keeps `IN`
(decision 0061).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from attrs import frozen
from sqlalchemy import (
    BindParameter,
    Column,
    ColumnElement,
    Connection,
    Executable,
    Select,
    String,
    Table,
    any_,
    bindparam,
    select,
)
from sqlalchemy.dialects import postgresql

S = TypeVar("S", bound=Executable)

OneOf = Callable[[ColumnElement[Any], str], ColumnElement[bool]]
"""`one_of(column, name)`: the condition that `column` is one of the list bound as `name`."""


@frozen
class ListQuery(Generic[S]):
    """One query in its two spellings; `for_(connection)` is the one its dialect runs."""

    postgresql: S
    other: S

    def for_(self, connection: Connection) -> S:
        return self.postgresql if connection.dialect.name == "postgresql" else self.other


def list_query(build: Callable[[OneOf], S]) -> ListQuery[S]:
    """The query `build(one_of)` makes, spelt for PostgreSQL (an array bound once) and for
    the other dialects (an expanding `IN`). Values are text: every list is of ids."""
    return ListQuery(build(_any_of), build(expanding_in))


def lock_in_key_order(
    table: Table, key: Column[Any], columns: Sequence[Column[Any]] | None = None
) -> ListQuery[Select[Any]]:
    """The rows of `table` whose `key` is one of the list bound as `ids` (their `columns`,
    all by default), locked (FOR NO KEY UPDATE: the key never changes) as they are read in
    ascending key order, so that two lockers of overlapping sets take them in one order
    and cannot deadlock. SQLite renders no FOR UPDATE: BEGIN IMMEDIATE made the unit of
    work the only writer."""
    chosen = [table] if columns is None else list(columns)
    return list_query(
        lambda one_of: (
            select(*chosen).where(one_of(key, "ids")).order_by(key).with_for_update(key_share=True)
        )
    )


def id_array(name: str) -> BindParameter[Any]:
    """A list of ids bound as `name`, as one array (PostgreSQL)."""
    return bindparam(name, type_=postgresql.ARRAY(String()))


def _any_of(column: ColumnElement[Any], name: str) -> ColumnElement[bool]:
    return column == any_(id_array(name))


def expanding_in(column: ColumnElement[Any], name: str) -> ColumnElement[bool]:
    """`column IN` the list bound as `name`, expanded into the text at each run (SQLite)."""
    return column.in_(bindparam(name, expanding=True))
