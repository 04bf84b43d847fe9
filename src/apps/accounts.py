"""Registering, logging in and changing a password: passwords (argon2id), email and
display-name rules, and the refusals they give.

The accounts themselves are stored through the core's AccountStore port
(fantasy_core.accounts holds the record): in memory (adapters.memory) or in the
platform's database (adapters.sqlalchemy, table `user_accounts` from migration 0002,
display names and token generations from 0007, revoked tokens from 0008).
The rules of logging in are the apps' business: the core knows users only by id.

Tokens die two ways (apps.api.auth checks both on every request): one token is
revoked by logging out (its id is kept until it would have expired anyway); every
token of an account at once by a password change, or by logging out everywhere,
which moves the account's token generation on (a token carries the generation it
was issued in). Decision 0021 says why.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from email_validator import EmailNotValidError, validate_email

from fantasy_core.accounts import Account, Role, default_display_name
from fantasy_core.errors import DuplicateRecord, InvalidConfiguration, InvalidText
from fantasy_core.platform import Platform
from fantasy_core.ports import AccountStore
from fantasy_core.protection.players import new_profile
from fantasy_core.text import display_text
from fantasy_core.usecases.protecting import identity_holder, player_profile, register_player

MIN_PASSWORD_LENGTH = 10
MAX_EMAIL_LENGTH = 254
MAX_DISPLAY_NAME_LENGTH = 40


class AccountError(Exception):
    """Registration or a password change refused: `reason` is a stable code (email_taken,
    weak_password, bad_email, bad_display_name, wrong_password, unknown_user)."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


class LoginFailed(Exception):
    """Unknown email or wrong password; deliberately does not say which."""


def normalise_email(email: str) -> str:
    """The address as stored and looked up: email-validator's normal form (Unicode NFC, the
    domain in lower case and IDNA-decoded), then all of it in lower case so that
    Ann@Example.com and ann@example.com are one account. Text that is not an address
    is only stripped and lowered (a login with it then finds no account)."""
    try:
        address = validate_email(email.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        address = email.strip()
    return address.lower()


def checked_email(email: str) -> str:
    """normalise_email for a new address, or AccountError('bad_email') saying what is wrong.

    email-validator (the library, not a regular expression) refuses control characters,
    bidirectional overrides and other unsafe characters, quoted local parts, IP-address
    domains and special-use names (.invalid, .localhost); deliverability (DNS) is not
    checked: registering must not depend on the network.
    """
    try:
        address = validate_email(
            email.strip(), check_deliverability=False, allow_quoted_local=False
        ).normalized
    except EmailNotValidError as error:
        raise AccountError("bad_email", f"{email!r} is not an email address: {error}") from None
    if len(address) > MAX_EMAIL_LENGTH:
        raise AccountError(
            "bad_email", f"an email address has at most {MAX_EMAIL_LENGTH} characters"
        )
    return address.lower()


def checked_display_name(name: str) -> str:
    """A chosen display name, cleaned (fantasy_core.text), or AccountError('bad_display_name')."""
    try:
        return display_text("display_name", name, MAX_DISPLAY_NAME_LENGTH)
    except InvalidText as error:
        raise AccountError("bad_display_name", str(error)) from None


class _OwnedByUser(Protocol):
    @property
    def user_id(self) -> str: ...


def display_names(accounts: Accounts, rows: Iterable[_OwnedByUser]) -> dict[str, str]:
    """The display names of the users owning `rows` (entries, standings), in one read."""
    found = accounts.store.get_many({row.user_id for row in rows})
    return {user_id: account.display_name for user_id, account in found.items()}


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
    """Registering, logging in and changing a password, over an AccountStore."""

    def __init__(self, store: AccountStore, passwords: Passwords) -> None:
        self.store = store
        self._passwords = passwords

    def register(
        self,
        user_id: str,
        email: str,
        password: str,
        role: Role,
        now: datetime,
        display_name: str | None = None,
    ) -> Account:
        """A new account; AccountError (bad_email, bad_display_name, weak_password,
        email_taken). Without a display name, one is derived (default_display_name)."""
        address = checked_email(email)
        name = (
            default_display_name(user_id)
            if display_name is None
            else checked_display_name(display_name)
        )
        _check_strength(password)
        account = Account(
            user_id=user_id,
            email=address,
            password_hash=self._passwords.hash(password),
            role=role,
            created_at=now,
            display_name=name,
        )
        try:
            self.store.add(account)
        except DuplicateRecord as error:
            raise AccountError("email_taken", f"{address} is already registered") from error
        return account

    def register_player(
        self,
        platform: Platform,
        email: str,
        password: str,
        date_of_birth: date,
        jurisdiction: str,
        display_name: str | None = None,
    ) -> Account:
        """A new player's account and protection record (one per person).

        Before anything is stored: InvalidProtectionRequest (a jurisdiction that is no US
        state, an impossible date of birth), UnderAge, AccountError('identity_taken') when
        the mailbox has an account already, then `register`'s refusals."""
        protection = platform.protection
        if protection is None:
            raise InvalidConfiguration("registering players needs the platform's protection")
        user_id = platform.ids.new_id("user")
        now = platform.clock.now()
        address = checked_email(email)
        profile = new_profile(protection.rules, user_id, address, date_of_birth, jurisdiction, now)
        if self.store.by_email(address) is not None:
            raise AccountError("email_taken", f"{address} is already registered")
        if identity_holder(platform, profile.identity_key) is not None:
            raise AccountError("identity_taken", "this mailbox already has an account")
        account = self.register(user_id, email, password, Role.PLAYER, now, display_name)
        register_player(platform, profile)
        return account

    def complete_player(
        self, platform: Platform, account: Account, date_of_birth: date, jurisdiction: str
    ) -> None:
        """Give an account made before registration asked for them its date of birth and
        jurisdiction (its protection record), under the same rules as registering.
        AccountError('profile_exists') if it has one: they are not changed this way."""
        protection = platform.protection
        if protection is None:
            raise InvalidConfiguration("player records need the platform's protection")
        if player_profile(platform, account.user_id) is not None:
            raise AccountError("profile_exists", "the date of birth and state are on file")
        profile = new_profile(
            protection.rules,
            account.user_id,
            account.email,
            date_of_birth,
            jurisdiction,
            platform.clock.now(),
        )
        if identity_holder(platform, profile.identity_key) is not None:
            raise AccountError("identity_taken", "this mailbox already has an account")
        register_player(platform, profile)

    def login(self, email: str, password: str) -> Account:
        account = self.store.by_email(normalise_email(email))
        if account is None:
            self._passwords.verify_decoy(password)
            raise LoginFailed("wrong email or password")
        if not self._passwords.verify(account.password_hash, password):
            raise LoginFailed("wrong email or password")
        return account

    def change_password(self, user_id: str, current: str, new: str) -> Account:
        """Replace the password, given the current one; every token issued before is
        refused from now on. AccountError (wrong_password, weak_password, unknown_user)."""
        account = self.store.get(user_id)
        if account is None:
            raise AccountError("unknown_user", f"no account {user_id}")
        if not self._passwords.verify(account.password_hash, current):
            raise AccountError("wrong_password", "the current password is not this account's")
        _check_strength(new)
        changed = self.store.replace_password(user_id, self._passwords.hash(new))
        if changed is None:
            raise AccountError("unknown_user", f"no account {user_id}")
        return changed

    def set_password(self, user_id: str, new: str, *, if_generation: int) -> Account | None:
        """Replace the password without the current one (a reset link proved the mailbox),
        only while the account's token generation is still `if_generation`: None else, or
        when there is no such account. AccountError('weak_password')."""
        _check_strength(new)
        return self.store.replace_password(
            user_id, self._passwords.hash(new), if_generation=if_generation
        )

    def log_out_everywhere(self, user_id: str) -> None:
        """Revoke every token of the account issued so far."""
        if self.store.next_token_generation(user_id) is None:
            raise AccountError("unknown_user", f"no account {user_id}")


def _check_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            "weak_password", f"a password needs at least {MIN_PASSWORD_LENGTH} characters"
        )
