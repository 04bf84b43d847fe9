"""The account-store contract, checked against every adapter of the port (memory, SQLite,
PostgreSQL), and the accounts service over it: an email registers once, logins see it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.memory import MemoryAccountStore
from adapters.sqlalchemy import SqlAccountStore, open_database
from apps.accounts import AccountError, Accounts, Passwords
from contract.backends import Backend
from fantasy_core.accounts import Account, Role
from fantasy_core.errors import DuplicateRecord
from fantasy_core.ports import AccountStore

NOW = datetime(2025, 9, 7, 12, tzinfo=UTC)


@pytest.fixture
def store(backend: Backend) -> AccountStore:
    """Every adapter of the port, each starting empty."""
    if backend.engine is None:
        return MemoryAccountStore()
    return SqlAccountStore(backend.engine)


def an_account(user_id: str = "user-1", email: str = "ann@example.com") -> Account:
    return Account(user_id, email, "argon2-hash", Role.PLAYER, NOW)


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
