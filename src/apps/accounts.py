"""Registering and logging in: passwords (argon2id), email rules, and the refusals they give.

The accounts themselves are stored through the core's AccountStore port
(fantasy_core.accounts holds the record): in memory (adapters.memory) or in the
platform's database (adapters.sqlalchemy, table `user_accounts` from migration 0002).
The rules of logging in are the apps' business: the core knows users only by id.
"""

from __future__ import annotations

import re
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from fantasy_core.accounts import Account, Role
from fantasy_core.errors import DuplicateRecord
from fantasy_core.ports import AccountStore

MIN_PASSWORD_LENGTH = 10
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AccountError(Exception):
    """Registration refused: `reason` is a stable code (email_taken, weak_password, bad_email)."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


class LoginFailed(Exception):
    """Unknown email or wrong password; deliberately does not say which."""


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
        try:
            self.store.add(account)
        except DuplicateRecord as error:
            raise AccountError("email_taken", f"{address} is already registered") from error
        return account

    def login(self, email: str, password: str) -> Account:
        account = self.store.by_email(normalise_email(email))
        if account is None:
            self._passwords.verify_decoy(password)
            raise LoginFailed("wrong email or password")
        if not self._passwords.verify(account.password_hash, password):
            raise LoginFailed("wrong email or password")
        return account
