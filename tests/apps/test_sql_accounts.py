"""Accounts kept in the platform's database outlive the process and are shared by processes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.sqlalchemy import open_database
from apps.accounts import AccountError, Accounts, Passwords, Role
from apps.sql_accounts import SqlAccountStore

NOW = datetime(2025, 9, 7, 12, tzinfo=UTC)


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


def test_an_email_registers_once(tmp_path: Path) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'a.db'}", "test", upgrade=True)
    accounts = Accounts(SqlAccountStore(engine), Passwords(cheap=True))
    accounts.register("user-1", "ann@example.com", "correct horse battery", Role.PLAYER, NOW)
    with pytest.raises(AccountError) as refused:
        accounts.register("user-2", "ANN@example.com", "another long password", Role.OPERATOR, NOW)
    assert refused.value.reason == "email_taken"
    assert SqlAccountStore(engine).get("user-2") is None
