"""The account-store contract, checked against every adapter of the port (memory, SQLite,
PostgreSQL), and the accounts service over it: an email registers once, logins see it."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import Connection, event

from adapters.memory import MemoryAccountStore
from adapters.sqlalchemy import SqlAccountStore, open_database
from adapters.sqlalchemy.tables import revoked_tokens
from apps.accounts import AccountError, Accounts, Passwords
from contract.backends import Backend
from fantasy_core.accounts import Account, Role
from fantasy_core.errors import DuplicateRecord
from fantasy_core.ports import AccountStore
from support.round_trips import counted_round_trips

NOW = datetime(2025, 9, 7, 12, tzinfo=UTC)


@pytest.fixture
def store(backend: Backend) -> AccountStore:
    """Every adapter of the port, each starting empty."""
    if backend.engine is None:
        return MemoryAccountStore()
    return SqlAccountStore(backend.engine)


def an_account(user_id: str = "user-1", email: str = "ann@example.com") -> Account:
    return Account(user_id, email, "argon2-hash", Role.PLAYER, NOW, "Ann")


def test_an_account_is_found_by_id_and_by_email_as_it_was_stored(store: AccountStore) -> None:
    account = an_account()
    store.add(account)
    assert store.get("user-1") == account
    assert store.by_email("ann@example.com") == account
    assert store.get("user-2") is None
    assert store.by_email("bob@example.com") is None


def test_get_many_leaves_out_ids_with_no_account(store: AccountStore) -> None:
    store.add(an_account("user-1", "ann@example.com"))
    store.add(an_account("user-2", "bob@example.com"))
    found = store.get_many(["user-2", "user-1", "user-9", "user-1"])
    assert sorted(found) == ["user-1", "user-2"]
    assert found["user-2"].email == "bob@example.com"
    assert store.get_many([]) == {}


def test_an_email_registered_twice_is_a_duplicate_record(store: AccountStore) -> None:
    store.add(an_account("user-1", "ann@example.com"))
    with pytest.raises(DuplicateRecord):
        store.add(an_account("user-2", "ann@example.com"))
    assert store.get("user-2") is None


def test_an_email_registers_once_through_the_accounts_service(store: AccountStore) -> None:
    accounts = Accounts(store, Passwords(cheap=True))
    accounts.register("user-1", "ann@example.com", "correct horse battery", Role.PLAYER, NOW)
    with pytest.raises(AccountError) as refused:
        accounts.register("user-2", "ANN@example.com", "another long password", Role.OPERATOR, NOW)
    assert refused.value.reason == "email_taken"
    assert store.get("user-2") is None


def test_an_account_registered_by_one_process_logs_in_through_another(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'accounts.db'}"
    first = Accounts(
        SqlAccountStore(open_database(url, "test", upgrade=True)), Passwords(cheap=True)
    )
    made = first.register("user-1", "Ann@Example.com", "correct horse battery", Role.PLAYER, NOW)
    second = Accounts(SqlAccountStore(open_database(url, "test")), Passwords(cheap=True))
    logged_in = second.login("ann@example.com", "correct horse battery")
    assert logged_in == made
    assert logged_in.created_at == NOW


def test_a_password_change_moves_the_token_generation_on_at_once(store: AccountStore) -> None:
    store.add(an_account())
    changed = store.replace_password("user-1", "new-hash")
    assert changed is not None
    assert (changed.password_hash, changed.token_generation) == ("new-hash", 1)
    assert store.get("user-1") == changed
    again = store.next_token_generation("user-1")
    assert again is not None
    assert (again.password_hash, again.token_generation) == ("new-hash", 2)
    assert store.replace_password("user-9", "x") is None
    assert store.next_token_generation("user-9") is None


def test_a_conditional_password_change_applies_only_from_its_generation(
    store: AccountStore,
) -> None:
    store.add(an_account())
    first = store.replace_password("user-1", "reset-1", if_generation=0)
    assert first is not None
    assert (first.password_hash, first.token_generation) == ("reset-1", 1)
    # A second change from generation 0 (a racing reset) finds it gone and changes nothing.
    assert store.replace_password("user-1", "reset-2", if_generation=0) is None
    assert store.get("user-1") == first
    assert store.replace_password("user-9", "x", if_generation=0) is None


def test_a_revoked_token_stays_revoked_until_it_has_expired(store: AccountStore) -> None:
    store.add(an_account())
    now = datetime.now(UTC)
    expires = now + timedelta(hours=1)
    store.revoke_token("token-a", "user-1", expires, now)
    store.revoke_token("token-a", "user-1", expires, now)  # again: nothing changes
    assert store.revoked(["token-a", "token-b"]) == {"token-a"}
    assert store.revoked([]) == set()
    # Once token-a has expired, its revocation may go at the next one (it is refused anyway).
    store.revoke_token("token-b", "user-1", expires + timedelta(hours=1), expires)
    assert "token-b" in store.revoked(["token-a", "token-b"])


def test_token_checks_read_the_accounts_and_the_revoked_tokens_together(
    store: AccountStore,
) -> None:
    store.add(an_account())
    now = datetime.now(UTC)
    store.revoke_token("token-a", "user-1", now + timedelta(hours=1), now)
    users, tokens = ["user-1", "user-9"], ["token-a", "token-b"]
    assert store.token_checks(users, tokens) == (store.get_many(users), {"token-a"})
    assert set(store.token_checks(users, [])[0]) == {"user-1"}
    assert store.token_checks([], tokens) == ({}, {"token-a"})
    assert store.token_checks([], []) == ({}, set())


def test_account_reads_wait_for_no_writer(sql_backend: Backend) -> None:
    """A request's token check reads while a unit of work writes: on SQLite it must not
    queue behind the writer's lock (BEGIN IMMEDIATE) for SQLite's busy timeout."""
    store = SqlAccountStore(sql_backend.sql)
    store.add(an_account())
    now = datetime.now(UTC)
    store.revoke_token("token-a", "user-1", now + timedelta(hours=1), now)
    answers: list[object] = []

    def read() -> None:
        answers.append(store.token_checks(["user-1"], ["token-a", "token-b"]))
        answers.append(store.get_many(["user-1"]))
        answers.append(store.by_email("ann@example.com"))
        answers.append(store.revoked(["token-a", "token-b"]))

    with sql_backend.sql.begin() as writer:  # SQLite: BEGIN IMMEDIATE, the writer's lock
        revoking = {"token_id": "token-b", "user_id": "user-1", "expires_at": now}
        writer.execute(revoked_tokens.insert().values(**revoking))
        reader = threading.Thread(target=read)
        reader.start()
        reader.join(timeout=10)
        assert not reader.is_alive(), "an account read waited for a writer"
    # What the writer had not committed yet was not seen.
    assert answers == [
        ({"user-1": an_account()}, {"token-a"}),
        {"user-1": an_account()},
        an_account(),
        {"token-a"},
    ]
    assert store.revoked(["token-b"]) == {"token-b"}


def test_account_reads_on_postgresql_run_outside_a_transaction(fresh_postgres: Backend) -> None:
    """No BEGIN and ROLLBACK around a token check: two round trips of every request's check
    that buy nothing (at READ COMMITTED each statement has its own snapshot anyway)."""
    store = SqlAccountStore(fresh_postgres.sql)
    store.add(an_account())
    statuses: list[int] = []

    def after(connection: Connection, *_: object) -> None:
        statuses.append(connection.connection.dbapi_connection.info.transaction_status)

    event.listen(fresh_postgres.sql, "after_cursor_execute", after)
    try:
        store.token_checks(["user-1"], ["token-a"])
        store.get_many(["user-1"])
        store.by_email("ann@example.com")
        store.revoked(["token-a"])
    finally:
        event.remove(fresh_postgres.sql, "after_cursor_execute", after)
    assert statuses == [TransactionStatus.IDLE] * 5


def test_a_token_check_on_postgresql_is_one_round_trip(
    fresh_postgres: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every request's token check reads the accounts and the revoked tokens: neither read
    waits for the other's answer, so both go in one libpq pipeline."""
    store = SqlAccountStore(fresh_postgres.sql)
    store.add(an_account())
    now = datetime.now(UTC)
    store.revoke_token("token-a", "user-1", now + timedelta(hours=1), now)
    trips = counted_round_trips(monkeypatch)
    assert store.token_checks(["user-1", "user-9"], ["token-a", "token-b"]) == (
        {"user-1": an_account()},
        {"token-a"},
    )
    assert trips == [2]


def test_a_token_revoked_through_one_process_is_revoked_for_another(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'accounts.db'}"
    first = SqlAccountStore(open_database(url, "test", upgrade=True))
    first.add(an_account())
    second = SqlAccountStore(open_database(url, "test"))
    now = datetime.now(UTC)
    first.revoke_token("token-a", "user-1", now + timedelta(hours=1), now)
    assert second.revoked(["token-a"]) == {"token-a"}
    first.replace_password("user-1", "new-hash")
    account = second.get("user-1")
    assert account is not None
    assert account.token_generation == 1


def test_a_display_name_is_kept_as_chosen(store: AccountStore) -> None:
    store.add(attrs.evolve(an_account(), display_name="José 👍"))
    found = store.get("user-1")
    assert found is not None
    assert found.display_name == "José 👍"
