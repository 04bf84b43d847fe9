"""Statements sent through libpq itself (adapters.sqlalchemy.libpq, decision 0070).

Every parameter goes as untyped text, lists as array literals built by the adapter, and a
transaction's BEGIN rides in one pipeline with its first statement. These tests hold that
path to what psycopg's cursor does with the same values, on PostgreSQL: the same values
back, the same transaction, the same errors, and nothing cut short or coerced.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from psycopg import pq
from sqlalchemy import Engine

from adapters.sqlalchemy import libpq

_EAST = timezone(timedelta(hours=5, minutes=30))
# Texts PostgreSQL can hold: no NUL, no lone surrogate.
_TEXTS = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"))
_IN_ORDER = "SELECT u FROM unnest(CAST(%(values)s AS TEXT[])) WITH ORDINALITY AS v(u, n) ORDER BY n"


@pytest.fixture(scope="module")
def driver(postgres_engine: Engine) -> Iterator[psycopg.Connection[Any]]:
    """A pooled connection's psycopg connection (the engine's settings: a UTC session)."""
    pooled = postgres_engine.raw_connection()
    connection = pooled.driver_connection
    assert isinstance(connection, psycopg.Connection)
    try:
        yield connection
    finally:
        connection.rollback()
        pooled.close()


@pytest.fixture
def idle(driver: psycopg.Connection[Any]) -> Iterator[psycopg.Connection[Any]]:
    """`driver` outside any transaction, and left so."""
    driver.rollback()
    yield driver
    driver.rollback()
    driver.autocommit = False
    driver.isolation_level = None
    driver.read_only = None


def _rows(connection: psycopg.Connection[Any], sql: str, **values: object) -> list[Any]:
    result = libpq.execute(connection, libpq.Statement(sql), values)
    return libpq.rows(connection, result)


def test_placeholders_become_numbered_once_per_name() -> None:
    statement = libpq.Statement("SELECT %(a)s, %(b)s, %(a)s, 100%% FROM t WHERE x = %(c)s")
    assert statement.sql == b"SELECT $1, $2, $1, 100% FROM t WHERE x = $3"
    assert statement.names == ("a", "b", "c")
    assert statement.parameters({"a": 1, "b": None, "c": "x", "unused": 2}) == [b"1", None, b"x"]
    with pytest.raises(KeyError, match="'c'"):
        statement.parameters({"a": 1, "b": 2})


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.none() | _TEXTS))
@example(["a,b", '"q"', "back\\slash", "\\", '\\"', "NULL", "null", "", "{}", "{a,b}", " sp "])
@example([None, "NULL", None])
@example(['a","b', "c", '"', '","'])  # texts only: quotes that look like the separator
@example(["plain", "texts", ""])  # texts only, nothing to escape: one join
def test_an_array_literal_brings_back_every_text_in_order(
    driver: psycopg.Connection[Any], values: list[str | None]
) -> None:
    driver.rollback()
    got = _rows(driver, _IN_ORDER, values=values)
    assert [row[0] for row in got] == values


_ZONES = st.builds(
    lambda minutes: timezone(timedelta(minutes=minutes)), st.integers(-23 * 60, 23 * 60)
)
_ELEMENTS = {
    "texts": _TEXTS,
    "ints": st.integers(-(2**63), 2**63 - 1),
    "instants": st.datetimes(timezones=_ZONES),
    "nothing": st.none(),
    "flags": st.booleans(),
}


@given(
    st.sampled_from(sorted(_ELEMENTS)).flatmap(lambda kind: st.lists(_ELEMENTS[kind]))
    | st.lists(st.one_of(*_ELEMENTS.values()))
)
@example([1000, 1000, -5])  # ints only: one join
@example([None, None])  # None only
@example([datetime(2026, 3, 1, 17, 0, 30, 123456, tzinfo=_EAST), datetime(2000, 1, 1, tzinfo=UTC)])
@example([True, 1])  # a bool is not an int here: element by element, "t" and "1"
@example([1, None, "x"])
def test_an_array_literal_is_its_element_by_element_form(values: list[object]) -> None:
    # The lists of one kind take a shortcut (one join); it must write what the element by
    # element form writes, which the round trips above bring back.
    assert libpq.array_literal(values) == libpq.array_by_element(values)


def test_a_nul_is_refused_not_cut_short(idle: psycopg.Connection[Any]) -> None:
    # libpq would send the text up to the NUL: "a" where "a\0b" was meant.
    with pytest.raises(psycopg.DataError, match="NUL"):
        _rows(idle, "SELECT %(v)s::text", v="a\0b")
    with pytest.raises(psycopg.DataError, match="NUL"):
        _rows(idle, "SELECT %(v)s::text[]", v=["ok", "a\0b"])


def test_scalars_come_back_as_they_were_sent(idle: psycopg.Connection[Any]) -> None:
    at = datetime(2026, 3, 1, 17, 0, 30, 123456, tzinfo=_EAST)
    [row] = _rows(
        idle,
        "SELECT %(yes)s::boolean, %(no)s::boolean, %(big)s::bigint, %(exact)s::numeric, "
        "%(day)s::date, %(at)s::timestamptz, %(nothing)s::text, %(ats)s::timestamptz[]",
        yes=True,
        no=False,
        big=-(2**62) - 7,
        exact=Decimal("-12.3450"),
        day=date(2024, 2, 29),
        at=at,
        nothing=None,
        ats=[at, None, datetime(2000, 1, 1, tzinfo=UTC)],
    )
    assert row[:5] == (True, False, -(2**62) - 7, Decimal("-12.3450"), date(2024, 2, 29))
    assert row[5] == at
    assert row[5].utcoffset() == timedelta(0)  # the engine's sessions are in UTC
    assert row[6] is None
    assert row[7] == [at, None, datetime(2000, 1, 1, tzinfo=UTC)]


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (1.5, TypeError),  # money and points are exact: a float is a bug
        (b"raw", TypeError),
        ({"a": 1}, TypeError),
        ([["nested"]], TypeError),
        (datetime(2026, 3, 1, 12, 0), ValueError),
        ([datetime(2026, 3, 1, 12, 0)], ValueError),
    ],
)
def test_what_has_no_exact_text_form_is_refused(value: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        libpq.as_text(value)


def test_rows_are_loaded_as_psycopgs_cursor_loads_them(idle: psycopg.Connection[Any]) -> None:
    sql = (
        "SELECT 7::int2, 2::int4, 9007199254740993::int8, 1.10::numeric, 'é'::text, "
        "'x'::varchar(3), true, NULL::text, '2026-03-01 12:00:00+05:30'::timestamptz, "
        "'2026-03-01'::date, ARRAY['a', NULL]::text[], '{\"k\": [1]}'::jsonb, '\\x00ff'::bytea"
    )
    mine = _rows(idle, sql)
    idle.rollback()
    with idle.cursor() as cursor:
        theirs = cursor.execute(sql).fetchall()
    assert mine == theirs
    named = libpq.execute(idle, libpq.Statement("SELECT 1 AS one, 2 AS two"), {})
    assert libpq.column_names(named) == ["one", "two"]


def test_the_first_statement_begins_the_transaction_with_the_connections_settings(
    idle: psycopg.Connection[Any],
) -> None:
    idle.isolation_level = psycopg.IsolationLevel.SERIALIZABLE
    idle.read_only = True
    assert idle.pgconn.transaction_status == pq.TransactionStatus.IDLE
    [first] = _rows(
        idle,
        "SELECT current_setting('transaction_isolation'), "
        "current_setting('transaction_read_only'), now()",
    )
    assert first[:2] == ("serializable", "on")
    assert idle.pgconn.transaction_status == pq.TransactionStatus.INTRANS
    [second] = _rows(idle, "SELECT now()")
    assert second[0] == first[2]  # one transaction: one now()
    idle.rollback()
    assert idle.pgconn.transaction_status == pq.TransactionStatus.IDLE


def test_an_autocommit_connection_runs_each_statement_on_its_own(
    idle: psycopg.Connection[Any],
) -> None:
    idle.autocommit = True
    _rows(idle, "SELECT 1")
    assert idle.pgconn.transaction_status == pq.TransactionStatus.IDLE


def test_a_statement_refused_in_the_pipeline_raises_the_servers_error_and_leaves_it(
    idle: psycopg.Connection[Any],
) -> None:
    with pytest.raises(psycopg.errors.DivisionByZero):
        _rows(idle, "SELECT 1 / %(zero)s::int", zero=0)
    assert idle.pgconn.pipeline_status == pq.PipelineStatus.OFF
    assert idle.pgconn.transaction_status == pq.TransactionStatus.INERROR
    idle.rollback()
    assert _rows(idle, "SELECT %(n)s::int + 1", n=41) == [(42,)]


def test_a_begin_refused_is_the_error_raised_not_the_statements_abort(
    idle: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(libpq, "_begin", lambda _connection: b"BEGIN NONSENSE")
    with pytest.raises(psycopg.errors.SyntaxError):
        _rows(idle, "SELECT 1")
    assert idle.pgconn.pipeline_status == pq.PipelineStatus.OFF
    assert idle.pgconn.transaction_status == pq.TransactionStatus.IDLE


def test_a_statement_in_a_transaction_under_way_is_refused_as_the_server_says(
    idle: psycopg.Connection[Any],
) -> None:
    _rows(idle, "SELECT 1")
    with pytest.raises(psycopg.errors.UndefinedTable):
        _rows(idle, "SELECT * FROM no_such_table_here")
    idle.rollback()


def test_a_lost_connection_is_an_operational_error(postgres_engine: Engine) -> None:
    pooled = postgres_engine.raw_connection()
    connection = pooled.driver_connection
    assert isinstance(connection, psycopg.Connection)
    try:
        with postgres_engine.connect() as admin:
            admin.exec_driver_sql(f"SELECT pg_terminate_backend({connection.info.backend_pid})")
        # Idle: the BEGIN and the statement go in one pipeline.
        with pytest.raises(psycopg.OperationalError):
            _rows(connection, "SELECT 1")
        with pytest.raises(psycopg.OperationalError, match="closed"):
            _rows(connection, "SELECT 1")
    finally:
        pooled.invalidate()


def _prepared(connection: psycopg.Connection[Any], text: str) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        return cursor.execute(
            "SELECT name, custom_plans + generic_plans FROM pg_prepared_statements"
            " WHERE statement = %s",
            (text,),
        ).fetchall()


def test_a_statement_is_prepared_once_a_connection_and_runs_under_its_name(
    idle: psycopg.Connection[Any],
) -> None:
    statement = libpq.Statement("SELECT %(n)s::int * 2 AS twice_of_the_prepared_test")
    for n in range(3):
        assert libpq.rows(idle, libpq.execute(idle, statement, {"n": n})) == [(2 * n,)]
    [(name, runs)] = _prepared(idle, statement.sql.decode())
    assert name.startswith("fantasy_")
    assert runs == 3


def test_statements_deallocated_behind_its_back_are_prepared_again(
    idle: psycopg.Connection[Any],
) -> None:
    statement = libpq.Statement("SELECT %(n)s::int + 1 AS deallocated_test")
    libpq.execute(idle, statement, {"n": 1})
    idle.rollback()
    idle.pgconn.exec_(b"DEALLOCATE ALL")
    with pytest.raises(psycopg.errors.InvalidSqlStatementName):  # this run fails, loudly
        libpq.execute(idle, statement, {"n": 1})
    idle.rollback()
    assert libpq.rows(idle, libpq.execute(idle, statement, {"n": 2})) == [(3,)]


def test_statements_sent_together_are_each_prepared_once_and_committed_after_them(
    idle: psycopg.Connection[Any],
) -> None:
    twice = libpq.Statement("SELECT %(n)s::int * 10 AS sent_together_test")
    other = libpq.Statement("SELECT %(n)s::int * 100 AS sent_together_other_test")
    results = libpq.execute_all(
        idle, [(twice, {"n": 1}), (other, {"n": 2}), (twice, {"n": 3})], commit=True
    )
    assert [libpq.rows(idle, result) for result in results] == [[(10,)], [(200,)], [(30,)]]
    assert idle.pgconn.transaction_status == pq.TransactionStatus.IDLE  # committed
    assert [runs for _, runs in _prepared(idle, twice.sql.decode())] == [2]
    assert [runs for _, runs in _prepared(idle, other.sql.decode())] == [1]


def test_a_statement_planned_once_is_planned_for_its_values_in_autocommit(
    idle: psycopg.Connection[Any],
) -> None:
    """Its generic plan is asked for by a SET LOCAL, which lasts for a transaction: in
    autocommit there is none, so nothing is asked (PostgreSQL would warn and ignore it)."""
    idle.autocommit = True
    once = libpq.Statement("SELECT %(v)s::int + 1 AS planned_in_autocommit", plan_once=True)
    notices: list[str] = []

    def heard(notice: psycopg.errors.Diagnostic) -> None:
        notices.append(str(notice.message_primary))

    idle.add_notice_handler(heard)
    try:
        for n in range(3):
            assert libpq.rows(idle, libpq.execute_all(idle, [(once, {"v": n})])[0]) == [(n + 1,)]
    finally:
        idle.remove_notice_handler(heard)
    [plans] = _rows(
        idle,
        "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = %(s)s",
        s=once.sql.decode(),
    )
    assert plans == (0, 3)
    assert notices == []


def test_a_statement_planned_once_gets_its_generic_plan_in_a_transaction(
    idle: psycopg.Connection[Any],
) -> None:
    once = libpq.Statement("SELECT %(v)s::int + 2 AS planned_in_a_transaction", plan_once=True)
    for n in range(3):
        [result] = libpq.execute_all(idle, [(once, {"v": n})])
        assert libpq.rows(idle, result) == [(n + 2,)]
        # The session's own setting is back for what the transaction runs next.
        assert _rows(idle, "SHOW plan_cache_mode") == [("force_custom_plan",)]
        idle.rollback()
    [plans] = _rows(
        idle,
        "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = %(s)s",
        s=once.sql.decode(),
    )
    assert plans == (3, 0)


def test_a_foreign_keys_check_planned_once_looks_its_parent_up_by_its_key(
    idle: psycopg.Connection[Any],
) -> None:
    """A generic plan is made once and kept. For a foreign key's check (`SELECT 1 FROM
    parent WHERE key = $1 FOR KEY SHARE`) on a parent of one page, as every table is at
    first, PostgreSQL's cheapest plan is a sequential scan, kept when the parent is a
    million rows. The plans are made with sequential scans off: a lookup by the key's index.
    (auto_explain shows the plans of the checks, nested statements of the INSERT.)"""
    plans: list[str] = []

    def heard(notice: psycopg.errors.Diagnostic) -> None:
        plans.append(str(notice.message_primary))

    idle.add_notice_handler(heard)
    setup = [
        "CREATE TEMP TABLE once_parent (id bigint PRIMARY KEY)",
        "INSERT INTO once_parent VALUES (1), (2), (3)",
        "ANALYZE once_parent",
        "CREATE TEMP TABLE once_child (parent bigint REFERENCES once_parent (id))",
        "LOAD 'auto_explain'",
        "SET auto_explain.log_min_duration = 0",
        "SET auto_explain.log_nested_statements = on",
        "SET auto_explain.log_level = notice",
    ]
    insert = libpq.Statement(
        "INSERT INTO once_child SELECT unnest(CAST(%(parents)s AS BIGINT[]))", plan_once=True
    )
    try:
        for command in setup:
            idle.execute(command)
        idle.commit()
        for parents in ([1, 2], [3]):
            libpq.execute_all(idle, [(insert, {"parents": parents})], commit=True)
    finally:
        idle.rollback()
        idle.remove_notice_handler(heard)
        # The connection is the module's: auto_explain stays loaded, but explains nothing.
        for command in (
            "RESET auto_explain.log_min_duration",
            "RESET auto_explain.log_nested_statements",
            "RESET auto_explain.log_level",
            "DROP TABLE once_child, once_parent",
        ):
            idle.execute(command)
        idle.commit()
    checks = [plan for plan in plans if "once_parent x" in plan]
    assert len(checks) == 3  # one a row
    assert all("Index Scan using once_parent_pkey" in plan for plan in checks), checks
