"""A bearer token: its signature checked once per process, its expiry at every request, its
account read in one query with the others waiting."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from litestar.datastructures import State
from litestar.exceptions import NotAuthorizedException
from litestar.security.jwt import Token

from apps.api import auth
from apps.api.auth import CheckedToken, TokenCheck, account_lookups
from apps.api.state import SERVICES

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


def test_token_checks_are_read_one_query_at_a_time_those_arriving_meanwhile_together() -> None:
    release = threading.Event()
    reads: list[list[str]] = []
    at_once = [0, 0]  # reads running now, and the most that ever ran at once

    def token_checks(users: set[str], token_ids: set[str]) -> tuple[dict[str, Any], set[str]]:
        at_once[0] += 1
        at_once[1] = max(at_once)
        reads.append(sorted(users))
        if len(reads) == 1:
            release.wait(5)  # the first read holds while more checks arrive
        at_once[0] -= 1
        return {}, set()

    store = SimpleNamespace(token_checks=token_checks)
    state = State({SERVICES: SimpleNamespace(accounts=SimpleNamespace(store=store))})

    async def scenario() -> None:
        lookups = account_lookups(state)
        first = asyncio.create_task(lookups.submit(TokenCheck("u0", "t0")))
        await asyncio.sleep(0.05)
        rest = [asyncio.create_task(lookups.submit(TokenCheck(f"u{n}", None))) for n in (1, 2, 3)]
        await asyncio.sleep(0.05)
        assert reads == [["u0"]]  # no second read beside the first: the others wait
        release.set()
        assert await asyncio.gather(first, *rest) == [None] * 4  # no such users
        await lookups.close()

    asyncio.run(scenario())
    assert reads == [["u0"], ["u1", "u2", "u3"]]
    assert at_once[1] == 1
