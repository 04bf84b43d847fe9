"""Player and operator accounts: who may log in, with which role. An app concern, not the core's.

The core knows users only by id (entries, payouts, the audit trail). Logging in
is the apps' business, so accounts live here behind a small `AccountStore`
Protocol: in memory (tests, the memory store) or in the platform's database
(`apps.sql_accounts`, table `user_accounts` from migration 0002).
"""

from __future__ import annotations

import enum
import re
import threading
from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from attrs import frozen

MIN_PASSWORD_LENGTH = 10
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Role(enum.Enum):
    PLAYER = "player"
    OPERATOR = "operator"


class AccountError(Exception):
    """Registration refused: `reason` is a stable code (email_taken, weak_password, bad_email)."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


class LoginFailed(Exception):
    """Unknown email or wrong password; deliberately does not say which."""


@frozen
class Account:
    user_id: str
    email: str
    password_hash: str
    role: Role
    created_at: datetime


class AccountStore(Protocol):
    def add(self, account: Account) -> None:
        """Store a new account; AccountError('email_taken') if its email is registered."""

    def by_email(self, email: str) -> Account | None: ...

    def get(self, user_id: str) -> Account | None: ...

    def get_many(self, user_ids: Iterable[str]) -> dict[str, Account]:
        """The accounts found, by user id (an id with no account is left out)."""


class MemoryAccountStore:
    """Accounts in memory, for tests, the demo and a single test-mode process."""

    def __init__(self) -> None:
        self._by_id: dict[str, Account] = {}
        self._by_email: dict[str, str] = {}
        self._lock = threading.Lock()

    def add(self, account: Account) -> None:
        with self._lock:
            if account.email in self._by_email:
                raise AccountError("email_taken", f"{account.email} is already registered")
            self._by_id[account.user_id] = account
            self._by_email[account.email] = account.user_id

    def by_email(self, email: str) -> Account | None:
        with self._lock:
            user_id = self._by_email.get(email)
            return None if user_id is None else self._by_id[user_id]

    def get(self, user_id: str) -> Account | None:
        with self._lock:
            return self._by_id.get(user_id)

    def get_many(self, user_ids: Iterable[str]) -> dict[str, Account]:
        with self._lock:
            return {u: self._by_id[u] for u in set(user_ids) if u in self._by_id}


def normalise_email(email: str) -> str:
    return email.strip().lower()


class Passwords:
    """argon2id hashing: the library's defaults (RFC 9106's low-memory profile), or, for the
    test environment only, the cheapest parameters, so that suites and the demo stay fast."""

    def __init__(self, *, cheap: bool = False) -> None:
        self._hasher = (
            PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
            if cheap
            else PasswordHasher()
        )
        # Verified against when the email is unknown, so a wrong email costs as long
        # as a wrong password and response times do not reveal who is registered.
        self._decoy = self._hasher.hash("decoy password, never anyone's")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def verify_decoy(self, password: str) -> None:
        """Spend as long as a real check, for an email nobody registered."""
        self.verify(self._decoy, password)


class Accounts:
    """Registering and logging in, over an AccountStore."""

    def __init__(self, store: AccountStore, passwords: Passwords) -> None:
        self.store = store
        self._passwords = passwords

    def register(
        self, user_id: str, email: str, password: str, role: Role, now: datetime
    ) -> Account:
        address = normalise_email(email)
        if not _EMAIL.match(address) or len(address) > 254:
            raise AccountError("bad_email", f"{email!r} is not an email address")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise AccountError(
                "weak_password", f"a password needs at least {MIN_PASSWORD_LENGTH} characters"
            )
        account = Account(user_id, address, self._passwords.hash(password), role, now)
        self.store.add(account)
        return account

    def login(self, email: str, password: str) -> Account:
        account = self.store.by_email(normalise_email(email))
        if account is None:
            self._passwords.verify_decoy(password)
            raise LoginFailed("wrong email or password")
        if not self._passwords.verify(account.password_hash, password):
            raise LoginFailed("wrong email or password")
        return account
