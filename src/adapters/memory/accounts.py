"""The AccountStore port in memory: tests, the demo and a single test-mode process."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import datetime

import attrs

from fantasy_core.accounts import Account
from fantasy_core.errors import DuplicateRecord


class MemoryAccountStore:
    """Accounts in a dict, by id and by email, behind one lock."""

    def __init__(self) -> None:
        self._by_id: dict[str, Account] = {}
        self._by_email: dict[str, str] = {}
        self._revoked: dict[str, datetime] = {}  # token id -> when the token expires
        self._lock = threading.Lock()

    def add(self, account: Account) -> None:
        with self._lock:
            if account.email in self._by_email:
                raise DuplicateRecord(f"{account.email} is already registered")
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

    def replace_password(
        self, user_id: str, password_hash: str, *, if_generation: int | None = None
    ) -> Account | None:
        return self._next_generation(user_id, password_hash, if_generation)

    def next_token_generation(self, user_id: str) -> Account | None:
        return self._next_generation(user_id, None, None)

    def _next_generation(
        self, user_id: str, password_hash: str | None, if_generation: int | None
    ) -> Account | None:
        with self._lock:
            account = self._by_id.get(user_id)
            if account is None:
                return None
            if if_generation is not None and account.token_generation != if_generation:
                return None
            changed = attrs.evolve(
                account,
                token_generation=account.token_generation + 1,
                password_hash=account.password_hash if password_hash is None else password_hash,
            )
            self._by_id[user_id] = changed
            return changed

    def revoke_token(
        self, token_id: str, user_id: str, expires_at: datetime, now: datetime
    ) -> None:
        with self._lock:
            self._revoked = {t: e for t, e in self._revoked.items() if e >= now}
            self._revoked.setdefault(token_id, expires_at)

    def revoked(self, token_ids: Iterable[str]) -> set[str]:
        with self._lock:
            return {t for t in token_ids if t in self._revoked}

    def token_checks(
        self, user_ids: Iterable[str], token_ids: Iterable[str]
    ) -> tuple[dict[str, Account], set[str]]:
        with self._lock:
            found = {u: self._by_id[u] for u in set(user_ids) if u in self._by_id}
            return found, {t for t in token_ids if t in self._revoked}
