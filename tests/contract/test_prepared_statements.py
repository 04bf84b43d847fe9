"""Statements built once and run on the driver's cursor (`Prepared`, decision 0069).

On PostgreSQL `Statements.run` skips SQLAlchemy's execution: these tests hold it to what
SQLAlchemy would have done with the same statement (the same rows, named the same way,
instants converted both ways, errors translated, cursor events fired), on both
dialects, so that the join batch's statements mean the same thing on either path.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Connection, bindparam, event, select, text

from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.lists import list_query
from adapters.sqlalchemy.records import entry_values
from adapters.sqlalchemy.statements import ARRAYS_UP_TO, Caches, Prepared, Rows, Statements
from contract.backends import Backend
from contract.test_repository_contract import a_contest, an_entry
from fantasy_core.errors import DuplicateRecord, UnknownContest

_ENTRY = Prepared(
    list_query(
        lambda one_of: (
            select(t.entries.c.entry_id, t.entries.c.created_at, t.entries.c.status)
            .where(one_of(t.entries.c.entry_id, "ids"))
            .order_by(t.entries.c.entry_id)
        )
    )
)
_COUNTED = Prepared(
    select(t.entries.c.contest_id, t.entries.c.status.label("how"))
    .where(t.entries.c.created_at >= bindparam("since"), t.entries.c.status == "active")
    .order_by(t.entries.c.entry_id)
)
_MOVE = Prepared(
    t.entries.update()
    .where(t.entries.c.entry_id == bindparam("target"))
    .values(fingerprint=bindparam("fingerprint"), contest_id=bindparam("contest"))
)
_STAMP = Prepared(
    t.entries.update()
    .where(t.entries.c.entry_id == bindparam("target"))
    .values(created_at=bindparam("at"))
)
_EXPANDING = Prepared(select(t.entries.c.entry_id).where(t.entries.c.status.in_(["active"])))
_RETURNING = Prepared(text("UPDATE entries SET reason = :reason RETURNING entry_id, reason"))

_EAST = timezone(timedelta(hours=5, minutes=30))


@pytest.fixture
def db(sql_backend: Backend) -> Iterator[Statements]:
    """A connection holding contest c1 and entries e1 (ann) and e2 (bob), committed."""
    with sql_backend.uow() as uow:
        uow.contests.add(a_contest("c1"))
        uow.entries.add_all([an_entry("e1", user="ann"), an_entry("e2", user="bob")])
        uow.commit()
    with sql_backend.sql.connect() as connection:
        yield Statements(connection, Caches())


def _same_as_sqlalchemy(db: Statements, prepared: Prepared, params: dict[str, Any]) -> Rows:
    ran = db.run(prepared, params)
    executed = db.execute(prepared.for_dialect(db.connection), params).all()
    assert [tuple(row) for row in ran] == [tuple(row) for row in executed]
    return ran


def test_rows_are_sqlalchemys_named_alike(db: Statements) -> None:
    rows = _same_as_sqlalchemy(db, _ENTRY, {"ids": ["e2", "e1", "nope"]})
    assert [(row.entry_id, row.status) for row in rows] == [("e1", "active"), ("e2", "active")]
    labelled = _same_as_sqlalchemy(db, _COUNTED, {"since": datetime(2000, 1, 1, tzinfo=UTC)})
    assert [row.how for row in labelled] == ["active", "active"]
    assert labelled.first().contest_id == "c1"


def test_instants_come_back_in_utc_whatever_the_sessions_zone(db: Statements) -> None:
    if db.dialect == "postgresql":
        db.execute(text("SET TIME ZONE 'Asia/Kolkata'"))
    at = datetime(2026, 3, 1, 17, 0, 30, 123456, tzinfo=_EAST)
    assert db.run(_STAMP, {"target": "e1", "at": at}).rowcount == 1
    [row, _] = db.run(_ENTRY, {"ids": ["e1", "e2"]})
    assert row.created_at == at
    assert row.created_at.utcoffset() == timedelta(0)
    assert row.created_at.tzinfo is UTC


def test_a_naive_instant_is_refused_before_it_reaches_the_database(db: Statements) -> None:
    with pytest.raises(ValueError, match="naive"):
        db.run(_STAMP, {"target": "e1", "at": datetime(2026, 3, 1, 12, 0)})


def test_bound_values_of_the_statement_are_sent_with_the_callers(db: Statements) -> None:
    db.run(_MOVE, {"target": "e2", "fingerprint": "join-moved", "contest": "c1"})
    db.execute(text("UPDATE entries SET status = 'declined' WHERE entry_id = 'e2'"))
    rows = db.run(_COUNTED, {"since": datetime(2000, 1, 1, tzinfo=UTC)})
    assert [row.contest_id for row in rows] == ["c1"]  # e2 is no longer 'active'


def test_database_errors_are_the_cores(db: Statements) -> None:
    # One connection, one transaction each: PostgreSQL refuses the rest of a failed one.
    clash = {"target": "e2", "fingerprint": "join-e1", "contest": "c1"}
    with pytest.raises(DuplicateRecord):
        db.run(_MOVE, clash)
    db.connection.rollback()
    missing = UnknownContest("no contest c9")
    orphan = {"target": "e2", "fingerprint": "join-e2", "contest": "c9"}
    with pytest.raises(UnknownContest) as raised:
        db.run(_MOVE, orphan, missing_parent=missing)
    assert raised.value is missing


def test_a_statement_that_changes_rows_says_how_many_and_returns_what_it_asks(
    db: Statements,
) -> None:
    changed = db.run(_RETURNING, {"reason": "checked"})
    assert changed.rowcount == 2
    assert sorted(changed) == [("e1", "checked"), ("e2", "checked")]
    assert sorted(row.entry_id for row in changed) == ["e1", "e2"]
    nothing = db.run(_MOVE, {"target": "nope", "fingerprint": "x", "contest": "c1"})
    assert (nothing.rowcount, nothing.all(), nothing.first()) == (0, [], None)


def test_cursor_events_see_a_prepared_statement(db: Statements, sql_backend: Backend) -> None:
    seen: list[tuple[str, str]] = []

    def before(_c: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(("before", statement))

    def after(_c: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(("after", statement))

    event.listen(sql_backend.sql, "before_cursor_execute", before)
    event.listen(sql_backend.sql, "after_cursor_execute", after)
    try:
        with sql_backend.sql.connect() as connection:
            Statements(connection, Caches()).run(_ENTRY, {"ids": ["e1"]})
    finally:
        event.remove(sql_backend.sql, "before_cursor_execute", before)
        event.remove(sql_backend.sql, "after_cursor_execute", after)
    ran = [(when, statement) for when, statement in seen if "FROM entries" in statement]
    assert [when for when, _ in ran] == ["before", "after"]
    assert ran[0][1] == ran[1][1]


def test_a_list_expanded_into_the_text_cannot_be_prepared_on_postgresql(
    db: Statements,
) -> None:
    if db.dialect != "postgresql":
        assert [row.entry_id for row in db.run(_EXPANDING)] == ["e1", "e2"]
        return
    with pytest.raises(TypeError, match="cannot expand a list"):
        db.run(_EXPANDING)


def test_one_row_is_one_row() -> None:
    assert Rows([(7,)], 1).scalar_one() == 7
    for rows in ([], [(1,), (2,)]):
        with pytest.raises(ValueError, match="one row expected"):
            Rows(rows, len(rows)).scalar_one()
    assert Rows([], 0).scalar() is None


@pytest.mark.parametrize("count", [3, ARRAYS_UP_TO + 1])
def test_rows_added_together_keep_their_order_and_their_values(db: Statements, count: int) -> None:
    """On PostgreSQL up to ARRAYS_UP_TO rows go as one INSERT over arrays, more by COPY:
    either way the audit's ids follow the rows' order, and every value is stored as given."""
    start = datetime(2026, 3, 1, 17, 0, tzinfo=_EAST)
    rows = [
        {
            "at": start + timedelta(microseconds=n),
            "actor": f"actor-{count - n}",
            "action": "entry.reserved",
            "contest_id": None if n % 3 == 0 else "c1",
            "subject": f'q"\\,{{}} NULL {n}',
            "outcome": "success",
            "detail": "" if n % 2 else "é",
        }
        for n in range(count)
    ]
    db.add_rows(t.audit, rows)
    columns = [t.audit.c[name] for name in rows[0]]
    stored = db.execute(select(*columns).order_by(t.audit.c.id)).all()
    assert [tuple(row) for row in stored] == [tuple(row.values()) for row in rows]


_REASONS = Prepared(select(t.entries.c.entry_id, t.entries.c.reason).order_by(t.entries.c.entry_id))
_REASON = Prepared(
    t.entries.update().where(t.entries.c.entry_id == bindparam("target")).values(reason="why")
)


def _reasons(sql_backend: Backend) -> list[tuple[str, str | None]]:
    """The entries' reasons as another connection sees them: what was committed."""
    with sql_backend.sql.connect() as other:
        return [tuple(row) for row in Statements(other, Caches()).run(_REASONS)]


def test_statements_run_together_run_in_turn_and_commit_once_all_have(
    db: Statements, sql_backend: Backend
) -> None:
    done = db.run_all(
        [(_REASON, {"target": "e1"}), (_REASONS, None), (_REASON, {"target": "nope"})],
        commit=True,
    )
    assert [rows.rowcount for rows in (done[0], done[2])] == [1, 0]
    assert [tuple(row) for row in done[1]] == [("e1", "why"), ("e2", None)]  # after the first
    assert _reasons(sql_backend) == [("e1", "why"), ("e2", None)]  # committed


def test_the_first_error_of_statements_run_together_is_raised_and_nothing_after_it_runs(
    db: Statements, sql_backend: Backend
) -> None:
    clash = {"target": "e2", "fingerprint": "join-e1", "contest": "c1"}
    with pytest.raises(DuplicateRecord):
        db.run_all(
            [(_REASON, {"target": "e1"}), (_MOVE, clash), (_REASON, {"target": "e2"})],
            commit=True,
        )
    db.connection.rollback()
    assert _reasons(sql_backend) == [("e1", None), ("e2", None)]  # no commit, no third


def test_rows_added_with_statements_after_them_and_a_commit(
    db: Statements, sql_backend: Backend
) -> None:
    with sql_backend.uow() as uow:
        uow.contests.add(a_contest("c2"))
        uow.commit()
    db.add_rows(
        t.entries,
        [entry_values(an_entry("e3", "c2", user="cy"))],
        then=[(_REASON, {"target": "e3"})],
        commit=True,
    )
    assert _reasons(sql_backend) == [("e1", None), ("e2", None), ("e3", "why")]
    missing = UnknownContest("no contest c9")
    with pytest.raises(UnknownContest):
        db.add_rows(
            t.entries,
            [entry_values(an_entry("e4", "c9", user="dee"))],
            missing_parent=missing,
            then=[(_REASON, {"target": "e1"})],
            commit=True,
        )
    db.connection.rollback()
    assert _reasons(sql_backend) == [("e1", None), ("e2", None), ("e3", "why")]
