"""The store error boundary: a database that cannot be reached is the core's StoreUnavailable,
whichever path of the SQL adapter meets it; every other database error stays what it was."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError, ProgrammingError

from adapters.sqlalchemy import SqlAccountStore, SqlDatabase, make_engine
from adapters.sqlalchemy import engine as engine_module
from adapters.sqlalchemy.errors import translate
from fantasy_core.accounts import Account, Role
from fantasy_core.contest import Contest
from fantasy_core.errors import ConcurrentUpdate, DuplicateRecord, StoreUnavailable
from fantasy_core.lifecycle import ContestState
from fantasy_core.payments import Payout, payout_fingerprint
from fantasy_core.ports import UnitOfWork
from support.world import World

# Nothing listens on port 1 of the loopback: a connection is refused at once.
NOBODY_LISTENING = "postgresql://postgres@127.0.0.1:1/fantasy"
NOW = datetime(2025, 9, 7, 12, tzinfo=UTC)


class _DriverError(Exception):
    """A driver's exception carrying a SQLSTATE, as psycopg's do."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"SQLSTATE {sqlstate}")
        self.sqlstate = sqlstate


# ---- the translation table ------------------------------------------------------------


def test_connection_level_errors_are_store_unavailable() -> None:
    refused = OperationalError("SELECT 1", {}, Exception("connection refused\nDETAIL: more"))
    closed = InterfaceError("SELECT 1", {}, Exception("the connection is closed"))
    for error in (refused, closed):
        translated = translate(error)
        assert isinstance(translated, StoreUnavailable)
    assert str(translate(refused)) == "the database cannot be reached: connection refused"


def test_any_error_on_an_invalidated_connection_is_store_unavailable() -> None:
    lost = ProgrammingError("SELECT 1", {}, Exception("server closed the connection"))
    lost.connection_invalidated = True
    assert isinstance(translate(lost), StoreUnavailable)


def test_a_serialization_failure_is_a_concurrent_update_not_an_outage() -> None:
    # psycopg's SerializationFailure is an OperationalError: the SQLSTATE decides first.
    for sqlstate in ("40001", "40P01"):
        error = OperationalError("UPDATE", {}, _DriverError(sqlstate))
        assert isinstance(translate(error), ConcurrentUpdate)


def test_other_database_errors_stay_themselves_as_the_bugs_they_are() -> None:
    broken = ProgrammingError("SELECT nope", {}, Exception('relation "nope" does not exist'))
    assert translate(broken) is broken
    unique = IntegrityError("INSERT", {}, _DriverError("23505"))
    assert isinstance(translate(unique), DuplicateRecord)


# ---- no server, no file ---------------------------------------------------------------


def test_a_unit_of_work_on_a_server_that_refuses_connections_raises_store_unavailable() -> None:
    engine = make_engine(NOBODY_LISTENING)
    try:
        with (
            pytest.raises(StoreUnavailable, match="cannot be reached"),
            SqlDatabase(engine).unit_of_work() as uow,
        ):
            uow.contests.ids_in_states([])
    finally:
        engine.dispose()


def test_a_unit_of_work_on_a_sqlite_file_that_cannot_be_opened_raises_store_unavailable(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}")  # a directory, not a database file
    try:
        with pytest.raises(StoreUnavailable), SqlDatabase(engine).unit_of_work() as uow:
            uow.contests.ids_in_states([])
    finally:
        engine.dispose()


def test_the_account_store_on_a_server_that_refuses_connections_raises_store_unavailable() -> None:
    engine = make_engine(NOBODY_LISTENING)
    store = SqlAccountStore(engine)
    account = Account("user-1", "ann@example.com", "hash", Role.PLAYER, NOW, "Ann")
    try:
        with pytest.raises(StoreUnavailable):
            store.by_email("ann@example.com")
        with pytest.raises(StoreUnavailable):
            store.get_many(["user-1"])
        with pytest.raises(StoreUnavailable):
            store.add(account)
    finally:
        engine.dispose()


# ---- the connection lost in the middle of a unit of work (PostgreSQL) ------------------

TERMS = World().terms()
CONTEST = "outage-c1"  # the session's schema is shared: ids no other test uses


def _payouts(n: int) -> list[Payout]:
    return [
        Payout(
            fingerprint=payout_fingerprint(CONTEST, f"outage-e{i}", "prize"),
            contest_id=CONTEST,
            entry_id=f"outage-e{i}",
            user_id="ann",
            payout_id="prize",
            amount_minor=100,
            currency="usd",
        )
        for i in range(n)
    ]


# Each path a unit of work reaches the database by: SQLAlchemy statements, the driver's
# own cursor (prepared statements, streamed reads, COPY), and the commit.
PATHS: dict[str, Callable[[UnitOfWork], object]] = {
    "a statement": lambda uow: uow.contests.ids_in_states(list(ContestState)),
    "a prepared statement": lambda uow: uow.contests.get(CONTEST),  # decision 0069
    "a streamed read": lambda uow: uow.entries.for_settlement(CONTEST),
    "a bulk insert": lambda uow: uow.payouts.add_all(_payouts(3)),
    "the commit": lambda uow: uow.commit(),
}


@pytest.fixture
def victim(postgres_url: str) -> Iterator[tuple[Engine, str]]:
    """An engine whose connections carry their own application_name, so they can be killed."""
    name = f"victim_{secrets.token_hex(4)}"
    url = make_url(postgres_url).update_query_dict({"application_name": name})
    engine = make_engine(url.render_as_string(hide_password=False))
    yield engine, name
    engine.dispose()


def _kill(admin: Engine, application_name: str) -> int:
    with admin.begin() as connection:
        killed = connection.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = :name"
            ),
            {"name": application_name},
        ).scalar_one()
    return int(killed)


@pytest.mark.parametrize("path", list(PATHS))
def test_a_connection_killed_mid_unit_of_work_raises_store_unavailable_on_every_path(
    path: str, victim: tuple[Engine, str], postgres_engine: Engine
) -> None:
    engine, name = victim
    database = SqlDatabase(engine)
    uow = database.unit_of_work()
    with uow:
        # Begun and written to, so that the commit has something to lose.
        uow.contests.add(Contest(contest_id=CONTEST, terms=TERMS, state=ContestState.SCHEDULED))
        assert _kill(postgres_engine, name) == 1
        with pytest.raises(StoreUnavailable):
            PATHS[path](uow)
    # The pool notices, and the next unit of work works again; nothing was written.
    with database.unit_of_work() as uow:
        assert CONTEST not in uow.contests.ids_in_states(list(ContestState))


def test_a_connection_killed_before_a_unit_of_works_first_statement_raises_store_unavailable(
    victim: tuple[Engine, str], postgres_engine: Engine
) -> None:
    """The first statement of a transaction carries its BEGIN in one pipeline (decision
    0070): a connection lost before it is StoreUnavailable there too."""
    engine, name = victim
    database = SqlDatabase(engine)
    with database.unit_of_work() as uow:  # checked out, pinged: the connection is alive
        assert _kill(postgres_engine, name) == 1
        with pytest.raises(StoreUnavailable):
            uow.contests.get(CONTEST)
    with database.unit_of_work() as uow:
        assert CONTEST not in uow.contests.ids_in_states(list(ContestState))


# ---- a pooled connection's ping (decision 0072) ----------------------------------------


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def pings(victim: tuple[Engine, str], monkeypatch: pytest.MonkeyPatch) -> tuple[_Clock, list[int]]:
    """The listeners' clock, moved by hand, and a list that grows at each ping of `victim`."""
    engine, _ = victim
    clock, done = _Clock(), []
    monkeypatch.setattr(engine_module, "_now", clock)
    ping = engine.dialect.do_ping

    def counted(dbapi_connection: object) -> bool:
        done.append(1)
        return ping(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    return clock, done


def _read(database: SqlDatabase) -> list[str]:
    """A unit of work that reads: the contests' ids."""
    with database.unit_of_work() as uow:
        return list(uow.contests.ids_in_states(list(ContestState)))


def _used_then_killed(victim: tuple[Engine, str], admin: Engine) -> SqlDatabase:
    """A database on `victim` whose one pooled connection read, then was killed."""
    engine, name = victim
    database = SqlDatabase(engine)
    _read(database)
    assert _kill(admin, name) == 1
    return database


def test_a_connection_back_in_the_pool_for_at_most_the_window_is_not_pinged(
    victim: tuple[Engine, str], pings: tuple[_Clock, list[int]]
) -> None:
    clock, done = pings
    database = SqlDatabase(victim[0])
    # A new connection, then the same one back after half the window, twice, then after
    # exactly the window: none is pinged. Just past it, one is.
    for step in (0.5, 0.5, 1.0):
        _read(database)
        clock.now += engine_module.PING_AFTER_IDLE_SECONDS * step
    _read(database)
    assert done == []
    clock.now += engine_module.PING_AFTER_IDLE_SECONDS + 0.001
    _read(database)
    assert done == [1]


def test_a_connection_idle_past_the_window_is_pinged_and_replaced_if_lost(
    victim: tuple[Engine, str], pings: tuple[_Clock, list[int]], postgres_engine: Engine
) -> None:
    clock, done = pings
    database = _used_then_killed(victim, postgres_engine)
    clock.now += engine_module.PING_AFTER_IDLE_SECONDS + 1
    assert CONTEST not in _read(database)  # the ping finds it lost: the pool makes another
    assert done == [1]


def test_a_connection_lost_within_the_window_fails_one_unit_of_work_then_is_replaced(
    victim: tuple[Engine, str], pings: tuple[_Clock, list[int]], postgres_engine: Engine
) -> None:
    """The window's price: a server restart is met by the next statement, not by a ping."""
    _, done = pings
    database = _used_then_killed(victim, postgres_engine)
    with pytest.raises(StoreUnavailable):
        _read(database)
    assert CONTEST not in _read(database)
    assert done == []
