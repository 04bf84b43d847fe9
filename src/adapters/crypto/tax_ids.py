"""Taxpayer ids sealed with Fernet (the `cryptography` library): AES-128-CBC with an
HMAC-SHA256 over it, a fresh IV per token, under a key kept in the settings."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken

from fantasy_core.errors import InvalidConfiguration


class FernetTaxIds:
    def __init__(self, key: str) -> None:
        try:
            self._fernet = Fernet(key.encode())
        except ValueError as error:
            raise InvalidConfiguration(
                "the tax id key must be 32 url-safe base64-encoded bytes "
                "(python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())')"
            ) from error

    def __repr__(self) -> str:
        return "FernetTaxIds(<key>)"

    def seal(self, taxpayer_id: str) -> str:
        return self._fernet.encrypt(taxpayer_id.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise InvalidConfiguration(
                "a sealed taxpayer id does not open with this key (another key, or altered)"
            ) from None
