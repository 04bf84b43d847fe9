"""The SQL database itself: migrations agree with tables.py, the environment label, engines."""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, event, inspect, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url

from adapters.sqlalchemy import (
    DatabaseEnvironmentMismatch,
    DatabaseNotReady,
    SqlAccountStore,
    SqlDatabase,
    UnsupportedDatabase,
    default_sqlite_url,
    entries,
    head_revision,
    journals,
    make_engine,
    metadata,
    open_database,
    read_label,
    seats,
    upgrade,
)
from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.engine import database_url
from adapters.sqlalchemy.journals import SqlLedger
from adapters.sqlalchemy.records import terms_to_text
from adapters.sqlalchemy.schema import alembic_config
from adapters.sqlalchemy.statements import (
    Caches,
    Prepared,
    Statements,
    TermsByDigest,
    _insert_from_arrays,
)
from contract.backends import POSTGRES_URL_VARIABLE, Backend
from fantasy_core.accounts import default_display_name
from fantasy_core.contest import Contest
from fantasy_core.entries import Entry
from fantasy_core.ledger import fee_collected
from fantasy_core.lifecycle import ContestState
from fantasy_core.money import Money
from support.world import POOL, World, lineup


@pytest.fixture(params=["sqlite", "postgresql"])
def blank_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a database (a PostgreSQL schema) with nothing in it."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'blank.db'}"
        return
    raw = os.environ.get(POSTGRES_URL_VARIABLE)
    if not raw:
        pytest.skip(f"{POSTGRES_URL_VARIABLE} is not set: no PostgreSQL to test against")
    schema = f"blank_{os.getpid()}_{secrets.token_hex(4)}"
    admin = make_engine(raw)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(raw).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_the_migrated_schema_is_exactly_the_tables_module(sql_backend: Backend) -> None:
    with sql_backend.sql.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_a_new_database_is_labelled_with_the_environment_that_created_it(blank_url: str) -> None:
    engine = open_database(blank_url, "production", upgrade=True)
    try:
        with engine.connect() as connection:
            assert read_label(connection) == "production"
            assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == (
                head_revision()
            )
    finally:
        engine.dispose()


def test_opening_a_database_of_another_environment_fails_clearly(blank_url: str) -> None:
    upgrade(blank_url, "production")
    where = make_url(database_url(blank_url)).render_as_string(hide_password=True)
    expected = f"database at {where} is labelled production; this configuration is test"
    with pytest.raises(DatabaseEnvironmentMismatch) as refused:
        open_database(blank_url, "test")
    assert str(refused.value) == expected
    with pytest.raises(DatabaseEnvironmentMismatch):
        open_database(blank_url, "test", upgrade=True)
    with pytest.raises(DatabaseEnvironmentMismatch):
        upgrade(blank_url, "test")
    engine = make_engine(blank_url)
    with engine.connect() as connection:
        assert read_label(connection) == "production"  # the label never changes
    engine.dispose()


def test_a_database_without_the_schema_is_refused_until_upgraded(blank_url: str) -> None:
    with pytest.raises(DatabaseNotReady, match="fantasy db upgrade"):
        open_database(blank_url, "test")
    upgrade(blank_url, "test")
    upgrade(blank_url, "test")  # at head already: nothing to do
    open_database(blank_url, "test").dispose()


def test_an_unknown_environment_is_refused(blank_url: str) -> None:
    with pytest.raises(ValueError, match="environment must be one of"):
        upgrade(blank_url, "staging")


def test_the_initial_migration_downgrades_to_nothing_and_back(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'round.db'}")
    upgrade(engine, "test")
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(engine, "test")
    assert "audit" in inspect(engine).get_table_names()
    engine.dispose()


def test_postgresql_urls_go_to_psycopg_3_and_other_databases_are_refused() -> None:
    assert database_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert database_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert database_url("sqlite:///x.db").drivername == "sqlite"
    with pytest.raises(UnsupportedDatabase):
        database_url("mysql://u@h/db")


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'nested' / 'dir' / 'f.db'}")
    with engine.connect() as connection:
        pragma = {
            name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "busy_timeout", "foreign_keys")
        }
    assert pragma == {"journal_mode": "wal", "busy_timeout": 30_000, "foreign_keys": 1}
    engine.dispose()


def test_the_default_database_is_a_sqlite_file_under_var(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    url = default_sqlite_url()
    assert url == f"sqlite:///{tmp_path.resolve() / 'var' / 'fantasy.db'}"
    assert (tmp_path / "var").is_dir()


def test_a_naive_datetime_is_refused_rather_than_stored_in_the_wrong_zone(
    sql_backend: Backend,
) -> None:
    contest = Contest("c1", World().terms(), state=ContestState.LIVE)
    with SqlDatabase(sql_backend.sql).unit_of_work() as uow:
        uow.contests.add(contest)
        contest.complete(datetime(2025, 9, 7, 12, 0))  # no time zone
        with pytest.raises(ValueError, match="naive datetime"):
            uow.contests.save(contest)


def test_a_naive_datetime_is_refused_by_the_batch_writes_too(sql_backend: Backend) -> None:
    """COPY and the UPDATE over arrays (decision 0062) bypass SQLAlchemy's types: they
    refuse a naive instant themselves."""
    world = World()
    with SqlDatabase(sql_backend.sql).unit_of_work() as uow:
        uow.contests.add(Contest("c1", world.terms()))
        uow.commit()
    naive = datetime(2025, 9, 7, 12, 0)  # no time zone
    entry = Entry(
        entry_id="e1", contest_id="c1", user_id="ann", fingerprint="join-e1",
        lineup=lineup(1), payment_method="pm_card_visa", fee_minor=1_000, created_at=naive,
    )  # fmt: skip
    with (
        SqlDatabase(sql_backend.sql).unit_of_work() as uow,
        pytest.raises(ValueError, match="naive datetime"),
    ):
        uow.entries.add_all([entry])
    with SqlDatabase(sql_backend.sql).unit_of_work() as uow:
        entry.created_at = datetime(2025, 9, 7, 12, 0, tzinfo=UTC)
        uow.entries.add_all([entry])
        uow.commit()
    with SqlDatabase(sql_backend.sql).unit_of_work() as uow:
        entry.created_at = naive
        with pytest.raises(ValueError, match="naive datetime"):
            uow.entries.save_all([entry])


def _stored_entries(connection: Connection, stored: list[tuple[str, str, str]]) -> None:
    """Entries (contest, user, status each) as a migration finds them: written by raw SQL
    in the columns every revision has had."""
    for n, (contest, user, status) in enumerate(stored):
        connection.execute(
            text(
                "INSERT INTO entries (entry_id, contest_id, user_id, fingerprint, lineup, "
                "payment_method, fee_minor, created_at, status) VALUES (:e, :c, :u, "
                ":f, 'QB\x1ep', 'pm', 100, '2025-09-01 00:00:00.000000', :s)"
            ),
            {"e": f"e{n}", "c": contest, "u": user, "f": f"join-{n}", "s": status},
        )


def test_the_seat_counter_migration_counts_the_seats_of_existing_contests(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'seats.db'}")
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0002")
        connection.execute(
            text(
                "INSERT INTO contests (contest_id, state, terms, version) "
                "VALUES ('c1', 'SCHEDULED', '{}', 0), ('c2', 'SCHEDULED', '{}', 0)"
            )
        )
        statuses = ("reserved", "pending_action", "active", "declined")
        _stored_entries(connection, [("c1", "ann", status) for status in statuses])
        command.upgrade(alembic_config(connection), "0003")
        seats = dict(connection.execute(text("SELECT contest_id, seats_taken FROM contests")).all())
    assert seats == {"c1": 3, "c2": 0}
    engine.dispose()


def test_the_player_seats_migration_counts_each_player_s_seats_in_each_contest(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'player-seats.db'}")
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0020")
        connection.execute(
            text(
                "INSERT INTO contests (contest_id, state, terms, terms_digest, slate_id, version)"
                " VALUES ('c1', 'SCHEDULED', '{}', 'd', 's', 0),"
                " ('c2', 'SCHEDULED', '{}', 'd', 's', 0)"
            )
        )
        stored = [
            ("c1", "ann", "reserved"),
            ("c1", "ann", "active"),
            ("c1", "ann", "declined"),
            ("c1", "bob", "pending_action"),
            ("c2", "bob", "withdrawn"),
            ("c2", "ann", "active"),
        ]
        _stored_entries(connection, stored)
        command.upgrade(alembic_config(connection), "0021")
        rows = connection.execute(text("SELECT contest_id, user_id, seats FROM player_seats"))
        seats = {(c, u): n for c, u, n in rows}
    # bob holds no seat in c2: no row, read as 0
    assert seats == {("c1", "ann"): 2, ("c1", "bob"): 1, ("c2", "ann"): 1}
    engine.dispose()


def test_contests_stored_before_0019_get_their_slate_from_their_terms(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'slates.db'}")
    world = World()
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0018")
        for contest_id, slate in (("c1", "2025-reg-01"), ("c2", "2025-reg-02")):
            terms = world.terms(pool=attrs.evolve(POOL, slate_id=slate))
            connection.execute(
                text(
                    "INSERT INTO contests (contest_id, state, terms, version) "
                    "VALUES (:c, 'SCHEDULED', :t, 0)"
                ),
                {"c": contest_id, "t": terms_to_text(terms)},
            )
        command.upgrade(alembic_config(connection), "head")
        slates = dict(connection.execute(text("SELECT contest_id, slate_id FROM contests")).all())
        digests = dict(
            connection.execute(text("SELECT contest_id, terms_digest FROM contests")).all()
        )
        texts = dict(connection.execute(text("SELECT contest_id, terms FROM contests")).all())
    assert slates == {"c1": "2025-reg-01", "c2": "2025-reg-02"}
    # Since 0020 each row also holds its terms' digest, filled in by the migration.
    assert digests == {cid: hashlib.sha256(texts[cid].encode()).hexdigest() for cid in texts}
    with SqlDatabase(engine).unit_of_work() as uow:
        assert uow.contests.ids_of_slate("2025-reg-02") == ["c2"]
        assert uow.contests.get("c1").terms.slate_id == "2025-reg-01"
    engine.dispose()


def _contest_reads(backend: Backend) -> tuple[list[str], Callable[[], None]]:
    """The statements that read contests' terms text from now on, and how to stop watching."""
    seen: list[str] = []

    def watch(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "contests.terms," in statement or "contests.terms " in statement:
            seen.append(statement)

    event.listen(backend.sql, "before_cursor_execute", watch)
    return seen, lambda: event.remove(backend.sql, "before_cursor_execute", watch)


def test_a_contests_terms_text_is_read_once_per_process_then_only_its_digest(
    sql_backend: Backend,
) -> None:
    """A contest's terms are tens of kilobytes and a join batch locks its contests twice
    (decision 0066): once parsed, a read takes the 64-character digest alone, whichever
    read it is (get, lock, lock_all), and still answers the whole contest."""
    database = SqlDatabase(sql_backend.sql)
    world = World()
    with database.unit_of_work() as uow:
        uow.contests.add(Contest("c1", world.terms()))
        uow.contests.add(Contest("c2", world.terms(capacity=7)))
        uow.commit()
    reads, stop = _contest_reads(sql_backend)
    try:
        with database.unit_of_work() as uow:
            first = uow.contests.lock_all(["c2", "c1"])
        assert len(reads) == 1  # one statement for both texts
        with database.unit_of_work() as uow:
            again = uow.contests.lock_all(["c1", "c2"])
            assert uow.contests.get("c1") == first["c1"]
            assert uow.contests.lock("c2") == first["c2"]
        assert len(reads) == 1
    finally:
        stop()
    assert again == first
    assert first["c2"].terms == world.terms(capacity=7)
    assert first["c1"].terms == world.terms()


def test_terms_changed_by_the_calendar_are_read_anew_and_a_text_unlike_its_digest_refused(
    sql_backend: Backend,
) -> None:
    """A lock moved earlier is new terms, so a new digest: the next read has the new lock
    even in a process that parsed the old terms. A row whose text no longer matches its
    digest (edited by hand) is refused by a process reading it first, never parsed."""
    database = SqlDatabase(sql_backend.sql)
    world = World()
    with database.unit_of_work() as uow:
        uow.contests.add(Contest("c1", world.terms()))
        uow.commit()
    with database.unit_of_work() as uow:
        contest = uow.contests.lock("c1")
        earlier = contest.terms.lock_at - timedelta(hours=1)
        contest.move_lock_earlier(earlier)
        uow.contests.save_terms(contest)
        uow.commit()
    with database.unit_of_work() as uow:
        assert uow.contests.get("c1").terms.lock_at == earlier
        assert uow.contests.lock_all(["c1"])["c1"].terms.lock_at == earlier
    with sql_backend.sql.begin() as connection:
        connection.execute(
            text("UPDATE contests SET terms = :t"), {"t": terms_to_text(world.terms(capacity=9))}
        )
    with (
        SqlDatabase(sql_backend.sql).unit_of_work() as uow,
        pytest.raises(ValueError, match="c1: its stored terms do not match their digest"),
    ):
        uow.contests.get("c1")


def test_parsed_terms_are_kept_by_digest_the_most_recently_used_first() -> None:
    cache = TermsByDigest(2)
    world = World()
    texts = [terms_to_text(world.terms(capacity=n)) for n in (3, 4, 5)]
    digests = [hashlib.sha256(text.encode()).hexdigest() for text in texts]
    cache.learn("c3", digests[0], texts[0])
    cache.learn("c4", digests[1], texts[1])
    assert cache.get(digests[0]) == world.terms(capacity=3)  # now the most recent
    cache.learn("c5", digests[2], texts[2])
    assert cache.get(digests[1]) is None  # the least recently used went
    assert cache.get(digests[0]) is not None
    assert cache.get(digests[2]) is not None
    with pytest.raises(ValueError, match="c9: its stored terms do not match"):
        cache.learn("c9", digests[0], texts[1])


def test_a_snapshot_is_stored_compressed_and_read_back_byte_for_byte(
    sql_backend: Backend,
) -> None:
    document = b'{"contest_id":"c1","entries":[' + b'["entry-1",["QB"],"1.5",1],' * 5_000 + b"]}"
    with SqlDatabase(sql_backend.sql).unit_of_work() as uow:
        uow.contests.add(Contest("c1", World().terms()))
        uow.settlements.store("c1", document, "sha256:abc")
        uow.commit()
    with sql_backend.sql.connect() as connection:
        stored = connection.execute(text("SELECT document FROM settlements")).scalar_one()
    assert len(stored) < len(document) // 10
    with SqlDatabase(sql_backend.sql).unit_of_work() as uow:
        assert uow.settlements.get("c1") == (document, "sha256:abc")


def test_a_snapshot_stored_uncompressed_before_is_still_read_as_it_was(
    sql_backend: Backend,
) -> None:
    document = b'{"contest_id":"c1","entries":[]}'
    with SqlDatabase(sql_backend.sql).unit_of_work() as uow:
        uow.contests.add(Contest("c1", World().terms()))
        uow.commit()
    with sql_backend.sql.begin() as connection:
        connection.execute(
            text("INSERT INTO settlements (contest_id, document, sha256) VALUES ('c1', :d, 's')"),
            {"d": document},
        )
    with SqlDatabase(sql_backend.sql).unit_of_work() as uow:
        assert uow.settlements.get("c1") == (document, "s")


def test_rejections_recorded_before_0004_are_kept_with_no_document(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'rejections.db'}")
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0003")
        connection.execute(
            text(
                "INSERT INTO stat_rejections (slate_id, version, sha256, rejected_at) "
                "VALUES ('wk1', 4, 'sha256:a', '2025-09-01 00:00:00.000000')"
            )
        )
        command.upgrade(alembic_config(connection), "head")
        rows = connection.execute(
            text("SELECT slate_id, version, sha256, document FROM stat_rejections")
        ).all()
    assert [tuple(row) for row in rows] == [("wk1", 4, "sha256:a", None)]
    engine.dispose()


def test_accounts_registered_before_display_names_get_a_derived_one(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0006")
        connection.execute(
            text(
                "INSERT INTO user_accounts (user_id, email, password_hash, role, created_at) "
                "VALUES ('user-1', 'ann@example.com', 'x', 'player', '2025-09-01 00:00:00')"
            )
        )
        command.upgrade(alembic_config(connection), "head")
    account = SqlAccountStore(engine).get("user-1")
    assert account is not None
    assert (account.display_name, account.token_generation) == (
        default_display_name("user-1"),
        0,
    )
    engine.dispose()


def test_payouts_sent_before_withholding_kept_nothing_and_the_unsent_are_undecided(
    tmp_path: Path,
) -> None:
    """Revision 0017: a payout attempted before it was sent whole (0 withheld); one never
    sent is decided at its first send (NULL); a downgrade refuses to drop withholding."""
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0016")
        for n, (status, attempts) in enumerate(
            (("confirmed", 1), ("sending", 1), ("failed", 2), ("pending", 0), ("owed", 0))
        ):
            connection.execute(
                text(
                    "INSERT INTO payouts (fingerprint, contest_id, entry_id, user_id, payout_id, "
                    "amount_minor, currency, status, attempts) VALUES "
                    "(:f, 'c1', :e, 'ann', 'prize', 1000, 'usd', :s, :a)"
                ),
                {"f": f"payout-{n}", "e": f"e{n}", "s": status, "a": attempts},
            )
        command.upgrade(alembic_config(connection), "head")
        withheld = dict(
            connection.execute(text("SELECT status, withheld_minor FROM payouts")).all()
        )
        assert withheld == {
            "confirmed": 0,
            "sending": 0,
            "failed": 0,
            "pending": None,
            "owed": None,
        }
        connection.execute(
            text(
                "INSERT INTO posting_sets (key, contest_id, movement) "
                "VALUES ('w', 'c1', 'prize_withheld')"
            )
        )
        with pytest.raises(RuntimeError, match="backup withholding"):
            command.downgrade(alembic_config(connection), "0016")
    engine.dispose()


def test_a_statement_run_again_and_again_is_planned_for_its_values_each_time(
    fresh_postgres: Backend,
) -> None:
    """A `Prepared` statement is prepared on the server at its first run on a connection
    (decision 0070), and PostgreSQL may then keep one generic plan for it for the
    connection's life. A plan made while the entries were few (a sequential scan) stays
    when they are a million, and the pool keeps connections for days (autovacuum's
    ANALYZE, which would clear it, may be off or late). The engine asks for a plan for each
    run's values (decision 0064): none is generic."""
    lookup = Prepared(text("SELECT entry_id FROM entries WHERE fingerprint = ANY(:fingerprints)"))
    wanted = {"fingerprints": [f"join-e{n}" for n in range(17)]}
    with fresh_postgres.sql.connect() as connection:
        statements = Statements(connection, Caches())
        for _ in range(12):
            assert statements.run(lookup, wanted).all() == []
        plans = connection.execute(
            text(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
                " WHERE statement = :sent"
            ),
            {"sent": lookup.compiled(connection).wire.sql.decode()},
        ).one()
    assert plans.generic_plans == 0
    assert plans.custom_plans == 12  # prepared at the first run


def _plans(connection: Any, statement: Prepared) -> tuple[int, int]:
    """How many runs of `statement` on `connection` had a generic plan and a custom one."""
    plans = connection.execute(
        text(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = :sent"
        ),
        {"sent": statement.compiled(connection).wire.sql.decode()},
    ).one_or_none()
    return (0, 0) if plans is None else (plans.generic_plans, plans.custom_plans)


def _audit_row(n: int) -> dict[str, object]:
    return {
        "at": datetime(2026, 12, 5, 13, 0, n, tzinfo=UTC),
        "actor": "system",
        "action": "test.planned",
        "contest_id": None,
        "subject": f"s{n}",
        "outcome": "success",
        "detail": "",
    }


def test_an_insert_of_arrays_is_planned_once(
    fresh_postgres: Backend,
) -> None:
    """Decision 0075: an INSERT of the rows of arrays reads no table, so no plan of it can go
    bad as the tables grow. It runs with one generic plan a connection, made at its first
    run, and the statements after it in the transaction are planned for their values again
    (decision 0064)."""
    lookup = Prepared(text("SELECT entry_id FROM entries WHERE fingerprint = ANY(:planned)"))
    with fresh_postgres.sql.connect() as connection:
        statements = Statements(connection, Caches())
        insert = _insert_from_arrays(t.audit, tuple(_audit_row(0)), connection.dialect)
        before = _plans(connection, insert), _plans(connection, lookup)
        for n in range(6):  # the INSERT, then a read, in one round trip; committed each time
            statements.add_rows(t.audit, [_audit_row(n)], then=[(lookup, {"planned": ["x"]})])
            connection.commit()
        generic, custom = _plans(connection, insert)
        assert (generic - before[0][0], custom - before[0][1]) == (6, 0)
        generic, custom = _plans(connection, lookup)
        assert (generic - before[1][0], custom - before[1][1]) == (0, 6)
        # The session's own setting is back after the last statement planned once.
        statements.add_rows(t.audit, [_audit_row(9)])
        assert connection.execute(text("SHOW plan_cache_mode")).scalar_one() == "force_custom_plan"
        assert connection.execute(text("SHOW enable_seqscan")).scalar_one() == "on"
        assert (
            connection.execute(
                text("SELECT count(*) FROM audit WHERE action = 'test.planned'")
            ).scalar_one()
            == 7
        )
        connection.rollback()


def test_every_insert_of_arrays_is_planned_once_foreign_keys_and_all() -> None:
    """Foreign keys included: their checks get generic plans made with sequential scans off,
    lookups of the parent's key (tests/contract/test_libpq.py)."""
    dialect = postgresql.dialect()
    tables = {table.name: table for table in (t.audit, t.entries, t.postings, t.posting_sets)}
    into = {
        name: _insert_from_arrays(table, (next(iter(table.columns)).name,), dialect)
        for name, table in tables.items()
    }
    assert {name: statement.plan_once for name, statement in into.items()} == dict.fromkeys(
        tables, True
    )


def test_the_ledger_s_posting_sets_are_planned_once(fresh_postgres: Backend) -> None:
    """Decision 0075: the batch form of the ledger (the sets and their postings, one
    statement) reads no table but its own new sets, so it runs with one generic plan a
    connection, made at its first run, as an INSERT of arrays does."""
    new_sets = journals._NEW_SETS_POSTGRESQL
    with fresh_postgres.sql.connect() as connection:
        db = Statements(connection, Caches())
        ledger = SqlLedger(db)
        before = _plans(connection, new_sets)
        for n in range(3):  # each sent with its transaction's COMMIT, as a join batch's
            ledger.record_all([fee_collected(f"fee-{n}", "c1", Money(250 + n, "usd"))])
            db.send_deferred(commit=True)
            connection.commit()
        generic, custom = _plans(connection, new_sets)
        assert (generic - before[0], custom - before[1]) == (3, 0)
        assert connection.execute(text("SELECT count(*) FROM postings")).scalar_one() == 6


def test_the_players_seat_counters_move_with_one_plan_a_connection(
    fresh_postgres: Backend,
) -> None:
    """Decision 0079: a join batch reads its players' counters and moves them up by their
    key only, so each runs with one generic plan a connection, made at its first run; the
    counters given back, a join of the arrays to the table, are planned at every run."""
    with fresh_postgres.uow() as uow:
        uow.contests.add(Contest("c1", World().terms()))
        uow.commit()
    runs = (seats._GAIN_PLAYER_SEATS, seats._GIVE_BACK_PLAYER_SEATS, entries._SEATS_OF_USERS)
    with fresh_postgres.sql.connect() as connection:
        db = Statements(connection, Caches())
        counters = seats.SeatCounters(db)
        before = [_plans(connection, run) for run in runs]
        for n in range(3):  # a seat taken by two players, then given back by one
            counters.move({("c1", f"u{n}"): 1, ("c1", "ann"): 1})
            counters.move({("c1", "ann"): -1})
            held = entries.SqlEntries(db, counters).seats_of_users([("c1", "ann"), ("c1", "u0")])
            assert held == {("c1", "ann"): 0, ("c1", "u0"): 1}
            connection.commit()
        after = [_plans(connection, run) for run in runs]
        assert [(g - g0, c - c0) for (g, c), (g0, c0) in zip(after, before, strict=True)] == [
            (3, 0),
            (0, 3),
            (3, 0),
        ]
        rows = connection.execute(text("SELECT user_id, seats FROM player_seats ORDER BY 1"))
        assert rows.all() == [("ann", 0), ("u0", 1), ("u1", 1), ("u2", 1)]
        taken = text("SELECT seats_taken FROM contests")
        assert connection.execute(taken).scalar_one() == 3


def test_psycopg_prepares_nothing_itself_on_postgresql(fresh_postgres: Backend) -> None:
    """psycopg deallocates every prepared statement of a connection when it rolls back one
    of its own prepared statements' transactions: the join batch's would go with them. So
    the engine turns its preparing off; a statement run through SQLAlchemy again and again
    leaves nothing prepared on the server."""
    with fresh_postgres.sql.connect() as connection:
        for _ in range(8):
            connection.execute(text("SELECT count(*) FROM entries")).scalar_one()
        prepared = connection.execute(
            text(
                "SELECT count(*) FROM pg_prepared_statements"
                " WHERE statement LIKE 'SELECT count(*) FROM entries%'"
            )
        )
        assert prepared.scalar_one() == 0
