"""Password reset by email: a signed, single-use, short-lived link, and the mail that carries it.

A reset token is stateless: `<user id>.<expiry, unix seconds>.<MAC>`, the MAC an
HMAC-SHA256, under a key derived from the token secret, of the user id, the expiry, the
account's password hash and its token generation. It needs no table and cannot be used
twice: using it changes the password hash, which changes the MAC the token would need
(so does any password change or "log out everywhere" in the meantime). It lasts
RESET_TTL and is compared in constant time. Every refusal reads the same
(`reset_token_invalid`): a forged, expired, used or foreign token are not told apart.

Asking for a reset answers the same whether or not the address is registered; the mail
is sent after the answer (apps.api.players), and a mail that cannot be sent is logged
and alerted, not told to the asker. Decision 0023.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta

from adapters.mail import Mail
from apps.accounts import AccountError, Accounts, normalise_email
from fantasy_core.accounts import Account

RESET_TTL = timedelta(minutes=30)
RESET_PATH = "/web/password-reset"  # the page a person opens with `?token=` (apps.web)


class ResetTokens:
    def __init__(self, secret: str, ttl: timedelta = RESET_TTL) -> None:
        self._key = hmac.new(secret.encode(), b"fantasy password reset v1", "sha256").digest()
        self.ttl = ttl

    def issue(self, account: Account, now: datetime) -> str:
        expires = int((now + self.ttl).timestamp())
        return f"{account.user_id}.{expires}.{self._mac(account, expires)}"

    def user_of(self, token: str) -> str:
        """The user id a token names (still to be checked), or AccountError."""
        return _parts(token)[0]

    def check(self, token: str, account: Account, now: datetime) -> None:
        """AccountError('reset_token_invalid') unless `token` resets `account` now."""
        user_id, expires_text, mac = _parts(token)
        if user_id != account.user_id:
            raise _invalid()
        expires = int(expires_text)
        if not hmac.compare_digest(mac.encode(), self._mac(account, expires).encode()):
            raise _invalid()
        if now.timestamp() >= expires:
            raise _invalid()

    def _mac(self, account: Account, expires: int) -> str:
        signed = "\n".join(
            (account.user_id, str(expires), account.password_hash, str(account.token_generation))
        )
        digest = hmac.new(self._key, signed.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _parts(token: str) -> tuple[str, str, str]:
    parts = token.rsplit(".", 2)
    if len(parts) != 3 or not parts[0] or not parts[1].isascii() or not parts[1].isdigit():
        raise _invalid()
    return parts[0], parts[1], parts[2]


def _invalid() -> AccountError:
    return AccountError(
        "reset_token_invalid",
        "this password reset link is invalid, used or expired: ask for a new one",
    )


class PasswordReset:
    """Issuing reset mail and resetting with its token, over the accounts."""

    def __init__(self, accounts: Accounts, tokens: ResetTokens, public_url: str) -> None:
        self._accounts = accounts
        self._tokens = tokens
        self._public_url = public_url.rstrip("/")

    def mail_for(self, email: str, now: datetime) -> Mail | None:
        """The reset mail for the account of `email`, or None when there is none."""
        account = self._accounts.store.by_email(normalise_email(email))
        if account is None:
            return None
        token = self._tokens.issue(account, now)
        minutes = int(self._tokens.ttl.total_seconds() // 60)
        return Mail(
            to=account.email,
            subject="Reset your fantasy contests password",
            body=(
                f"Someone asked to reset the password of {account.email}.\n\n"
                f"To choose a new one, open this link within {minutes} minutes:\n"
                f"{self._public_url}{RESET_PATH}?token={token}\n\n"
                f"or send the token to POST /auth/password-reset/confirm:\n{token}\n\n"
                "It works once. If you did not ask for this, ignore this mail: your password"
                " is unchanged.\n"
            ),
        )

    def check(self, token: str, now: datetime) -> None:
        """AccountError('reset_token_invalid') unless `token` could reset its account now;
        changes nothing (the reset page asks before showing its form)."""
        account = self._accounts.store.get(self._tokens.user_of(token))
        if account is None:
            raise _invalid()
        self._tokens.check(token, account, now)

    def reset(self, token: str, new_password: str, now: datetime) -> Account:
        """Set the password of the token's account; every token issued before, login or
        reset, is revoked. AccountError (reset_token_invalid, weak_password)."""
        account = self._accounts.store.get(self._tokens.user_of(token))
        if account is None:
            raise _invalid()
        self._tokens.check(token, account, now)
        changed = self._accounts.set_password(
            account.user_id, new_password, if_generation=account.token_generation
        )
        if changed is None:  # another reset (or change) of the account came first
            raise _invalid()
        return changed
