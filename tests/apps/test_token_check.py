"""A bearer token's signature is checked once per process; its expiry at every request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from litestar.exceptions import NotAuthorizedException
from litestar.security.jwt import Token

from apps.api import auth
from apps.api.auth import CheckedToken

SECRET = "a-test-secret-a-test-secret-0123456789"


def encoded(expires_in: timedelta, secret: str = SECRET) -> str:
    token = CheckedToken(exp=datetime.now(UTC) + expires_in, sub="ann", jti="t1")
    return token.encode(secret, "HS256")


def test_a_token_checked_once_is_not_decoded_again(monkeypatch: pytest.MonkeyPatch) -> None:
    text = encoded(timedelta(minutes=5))
    decoded: list[str] = []
    real = Token.decode_payload.__func__  # type: ignore[attr-defined]

    def counting(cls: type[Token], encoded_token: str, *args: object, **kwargs: object) -> object:
        decoded.append(encoded_token)
        return real(cls, encoded_token, *args, **kwargs)

    monkeypatch.setattr(Token, "decode_payload", classmethod(counting))
    first = CheckedToken.decode(text, SECRET, "HS256")
    again = CheckedToken.decode(text, SECRET, "HS256")
    assert (first.sub, again.sub) == ("ann", "ann")
    assert decoded == [text]


def test_a_kept_token_is_refused_once_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    text = encoded(timedelta(minutes=5))
    assert CheckedToken.decode(text, SECRET, "HS256").sub == "ann"

    class Later(datetime):
        @classmethod
        def now(cls, tz: object = None) -> Later:  # type: ignore[override]
            return cls.fromtimestamp(datetime.now(UTC).timestamp() + 600, UTC)

    monkeypatch.setattr(auth, "datetime", Later)
    with pytest.raises(NotAuthorizedException):
        CheckedToken.decode(text, SECRET, "HS256")


def test_a_forged_token_is_refused_every_time_and_not_kept() -> None:
    forged = encoded(timedelta(minutes=5), secret="another-secret-another-secret-0123")
    kept = auth._checked.cache_info().currsize
    for _ in range(2):
        with pytest.raises(NotAuthorizedException):
            CheckedToken.decode(forged, SECRET, "HS256")
    assert auth._checked.cache_info().currsize == kept
