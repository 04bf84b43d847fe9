"""Who is browsing: the session cookie holding the API's own signed token, checked as the API does.

The cookie's value is a token issued by the API's TokenIssuer; every page request
decodes it and reads its account through the same batched look-up as a bearer token
(apps.api.auth), so a revoked token, a password change or a changed role counts at
once, in every process. The cookie is HttpOnly (no script reads it), SameSite=Lax (a
form posted from another site carries none) and Secure when the page was served over
https or in production. Pages are then checked by the API's own role rule (`apps.api.auth.ROLE`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.security.jwt import Token
from litestar.types import ASGIApp

from apps.api.auth import retrieve_user
from fantasy_core.accounts import Account

COOKIE = "fantasy_session"
COOKIE_PATH = "/"
ALGORITHM = "HS256"  # Litestar's JWT backend's default, with which the API signs its tokens


class WebSession(AbstractAuthenticationMiddleware):
    """Puts the session's account (or None) in `scope["user"]`; never refuses by itself:
    the role each page serves does (`apps.api.auth.ROLE`), exactly as on the API."""

    def __init__(self, app: ASGIApp, secret: str) -> None:
        super().__init__(app)
        self._secret = secret

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        encoded = connection.cookies.get(COOKIE)
        if not encoded:
            return AuthenticationResult(user=None, auth=None)
        try:
            token = Token.decode(encoded, self._secret, ALGORITHM)
            account = await retrieve_user(token, connection)
        except NotAuthorizedException:  # expired, forged or revoked: browsing anonymously
            return AuthenticationResult(user=None, auth=None)
        return AuthenticationResult(user=account, auth=token)


def viewer(request: Request[Any, Any, Any]) -> Account | None:
    """The signed-in account, or None."""
    user = request.scope.get("user")
    return user if isinstance(user, Account) else None


def signed_in(request: Request[Any, Any, Any]) -> Account:
    user = viewer(request)
    if user is None:
        raise NotAuthorizedException("log in to see this page")
    return user


def secure_cookies(request: Request[Any, Any, Any], production: bool) -> bool:
    return production or request.url.scheme == "https"


def set_session(
    response: Response[Any], token: str, ttl: timedelta, *, secure: bool
) -> Response[Any]:
    response.set_cookie(
        Cookie(
            key=COOKIE,
            value=token,
            path=COOKIE_PATH,
            max_age=int(ttl.total_seconds()),
            httponly=True,
            samesite="lax",
            secure=secure,
        )
    )
    return response


def clear_session(response: Response[Any], *, secure: bool) -> Response[Any]:
    response.set_cookie(
        Cookie(
            key=COOKIE,
            value="",
            path=COOKIE_PATH,
            max_age=0,
            expires=0,
            httponly=True,
            samesite="lax",
            secure=secure,
        )
    )
    return response
