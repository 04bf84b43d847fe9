"""Who is calling: bearer tokens (Litestar's JWT backend) and the role guards.

A token names its user (`sub`); the user's role is read from the account store
on every request, so a changed role takes effect at once, not at token expiry
(the reads of requests that arrive together are one query).
Routes opt out of authentication with `exclude_from_auth=True` (public reads).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.security.jwt import JWTAuth, Token

from apps.api.batching import Batcher
from apps.api.state import ACCOUNTS, services_of
from fantasy_core.accounts import Account, Role
from fantasy_core.contest import Contest
from fantasy_core.entries import Entry
from fantasy_core.usecases.queries import LEADERBOARD_STATES

# Paths that need no token. Litestar searches each pattern anywhere in the path, so they
# are anchored: unanchored, "/health" also let /operator/health through unauthenticated.
PUBLIC_PATHS = [r"^/schema(/|$)", r"^/health$", r"^/ready$", r"^/webhooks/"]
# The OpenAPI security requirement of the routes that need a token (see app._security_per_route).
BEARER: list[dict[str, list[str]]] = [{"BearerToken": []}]


def jwt_auth(secret: str, ttl: timedelta) -> JWTAuth[Account, Token]:
    return JWTAuth[Account, Token](
        token_secret=secret,
        retrieve_user_handler=_retrieve_user,
        default_token_expiration=ttl,
        exclude=PUBLIC_PATHS,
        description="A bearer token from POST /auth/login.",
    )


async def _retrieve_user(token: Token, connection: ASGIConnection[Any, Any, Any, Any]) -> Account:
    # Every request with a token reads its account; the reads that arrive together are one
    # query (apps.api.batching), still at every request: a changed role counts at once.
    lookups: AccountLookups = connection.app.state[ACCOUNTS]
    account = await lookups.submit(token.sub)
    if account is None:
        raise NotAuthorizedException("this token's user no longer exists")
    return account


AccountLookups = Batcher[str, Account | None]


def account_lookups(state: State) -> AccountLookups:
    """The batcher of token checks, over the app's account store at the time of each batch."""

    def read(user_ids: Sequence[str]) -> list[Account | Exception | None]:
        found = services_of(state).accounts.store.get_many(user_ids)
        return [found.get(user_id) for user_id in user_ids]

    return Batcher(read, name="account look-ups", max_batch=256)


class TokenIssuer:
    """Issues login tokens with the app's JWT backend (a plain class, safe to inject)."""

    def __init__(self, auth: JWTAuth[Account, Token], ttl: timedelta) -> None:
        self._auth = auth
        self.ttl = ttl

    def issue(self, account: Account) -> str:
        return self._auth.create_token(
            identifier=account.user_id,
            token_expiration=self.ttl,
            token_extras={"role": account.role.value},
        )


# Guards are coroutines: Litestar runs a plain function guard in a worker thread, two
# thread hops per request for a check that reads one attribute.
async def operators_only(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    if _account(connection).role is not Role.OPERATOR:
        raise PermissionDeniedException("operators only")


async def players_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if _account(connection).role is not Role.PLAYER:
        raise PermissionDeniedException("only players enter contests")


def _account(connection: ASGIConnection[Any, Any, Any, Any]) -> Account:
    # Not `connection.user`: it raises when the auth middleware did not run, as for an
    # OPTIONS request (the middleware skips them), which the guards still see.
    user = connection.scope.get("user")
    if not isinstance(user, Account):
        raise NotAuthorizedException("a bearer token is required")
    return user


def ensure_can_see_entry(user: Account, entry: Entry, contest: Contest) -> None:
    """An entry's lineup is its owner's (and operators') until lock; everyone's after.

    A per-record check, so it cannot be a route guard: the entry must be read first.
    """
    if user.role is Role.OPERATOR or entry.user_id == user.user_id:
        return
    if contest.state not in LEADERBOARD_STATES:
        raise PermissionDeniedException("another player's lineup stays private until lock")
