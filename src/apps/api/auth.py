"""Who is calling: bearer tokens (Litestar's JWT backend) and the role each route serves (`ROLE`).

A token names its user (`sub`); the user's role is read from the account store
on every request, so a changed role takes effect at once, not at token expiry
(the reads of requests that arrive together are one query). The same read says
whether the token was revoked: logged out (its id, `jti`, is stored as revoked),
or issued before the account's last password change (its generation, `gen`, is
behind the account's). Both are stored, so every API process refuses them.
Routes opt out of authentication with `exclude_from_auth=True` (public reads).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Final, Self, cast

from attrs import frozen
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
# The pages (/web) have their own session (apps.web.session) and the API's role checks.
PUBLIC_PATHS = [
    r"^/schema(/|$)",
    r"^/health$",
    r"^/ready$",
    r"^/webhooks/",
    r"^/$",
    r"^/web(/|$)",
]
# The OpenAPI security requirement of the routes that need a token (see app._security_per_route).
BEARER: list[dict[str, list[str]]] = [{"BearerToken": []}]


class CheckedToken(Token):
    """A bearer token whose signature and claims are checked once per process, not at each
    request: pyjwt's decode (base64, JSON, the HMAC) was a fifth of the event loop's work
    per join (docs/performance.md). What can change is still checked at every request: the
    expiry here, and the account, its role and the revocations in `retrieve_user`. A token
    that fails its check is not kept, so a forged one costs a full check every time."""

    @classmethod
    def decode(
        cls,
        encoded_token: str,
        secret: str,
        algorithm: str,
        audience: str | Sequence[str] | None = None,
        issuer: str | Sequence[str] | None = None,
        require_claims: Sequence[str] | None = None,
        verify_exp: bool = True,
        verify_nbf: bool = True,
        strict_audience: bool = False,
    ) -> Self:
        token = _checked(
            encoded_token,
            secret,
            algorithm,
            _hashable(audience),
            _hashable(issuer),
            None if require_claims is None else tuple(require_claims),
            verify_exp,
            verify_nbf,
            strict_audience,
        )
        # pyjwt's rule: expired when `exp` <= now (no leeway). `nbf` cannot turn a token
        # that passed into one that fails, and ours carry none.
        if verify_exp and token.exp <= datetime.now(UTC):
            raise NotAuthorizedException("Invalid token")
        return cast(Self, token)


def _hashable(value: str | Sequence[str] | None) -> str | tuple[str, ...] | None:
    return value if value is None or isinstance(value, str) else tuple(value)


@lru_cache(maxsize=4096)
def _checked(
    encoded_token: str,
    secret: str,
    algorithm: str,
    audience: str | tuple[str, ...] | None,
    issuer: str | tuple[str, ...] | None,
    require_claims: tuple[str, ...] | None,
    verify_exp: bool,
    verify_nbf: bool,
    strict_audience: bool,
) -> CheckedToken:
    """Token.decode itself (it raises for a token that fails, and nothing is kept)."""
    return super(CheckedToken, CheckedToken).decode(
        encoded_token,
        secret,
        algorithm,
        audience,
        issuer,
        require_claims,
        verify_exp,
        verify_nbf,
        strict_audience,
    )


def jwt_auth(secret: str, ttl: timedelta) -> JWTAuth[Account, Token]:
    return JWTAuth[Account, Token](
        token_secret=secret,
        token_cls=CheckedToken,
        retrieve_user_handler=retrieve_user,
        default_token_expiration=ttl,
        exclude=PUBLIC_PATHS,
        description="A bearer token from POST /auth/login.",
    )


async def retrieve_user(token: Token, connection: ASGIConnection[Any, Any, Any, Any]) -> Account:
    # Every request with a token reads its account; the reads that arrive together are one
    # query (apps.api.batching), still at every request: a changed role counts at once.
    lookups: AccountLookups = connection.app.state[ACCOUNTS]
    found = await lookups.submit(TokenCheck(token.sub, token_id(token)))
    if found is None:
        raise NotAuthorizedException("this token's user no longer exists")
    if not isinstance(found, Account):  # REVOKED
        raise NotAuthorizedException("this token was revoked (logged out): log in again")
    if token.extras.get(GENERATION, 0) != found.token_generation:
        raise NotAuthorizedException(
            "this token was revoked by a password change or a log-out everywhere: log in again"
        )
    return found


GENERATION = "gen"  # the claim holding the account's token generation at issue


def token_id(token: Token) -> str | None:
    return token.jti if isinstance(token.jti, str) else None


@frozen
class TokenCheck:
    user_id: str
    token_id: str | None


class _Revoked:
    """What a look-up answers for a revoked token."""


REVOKED = _Revoked()
AccountLookups = Batcher[TokenCheck, Account | _Revoked | None]


def account_lookups(state: State) -> AccountLookups:
    """The batcher of token checks, over the app's account store at the time of each batch."""

    def read(checks: Sequence[TokenCheck]) -> list[Account | _Revoked | Exception | None]:
        store = services_of(state).accounts.store
        found, revoked = store.token_checks(
            {c.user_id for c in checks}, {c.token_id for c in checks if c.token_id is not None}
        )
        return [REVOKED if c.token_id in revoked else found.get(c.user_id) for c in checks]

    # One lane: the checks that arrive while a read runs wait for it and go in the next
    # read together. A second lane woke with the first at each arrival and read apart, a
    # thread's round trip and a query more for no answer sooner (decision 0077).
    return Batcher(read, name="account look-ups", max_batch=256, lanes=1)


class TokenIssuer:
    """Issues login tokens with the app's JWT backend (a plain class, safe to inject)."""

    def __init__(self, auth: JWTAuth[Account, Token], ttl: timedelta) -> None:
        self._auth = auth
        self.ttl = ttl

    def issue(self, account: Account) -> str:
        """A token of the account's current generation, with an id of its own to revoke."""
        return self._auth.create_token(
            identifier=account.user_id,
            token_expiration=self.ttl,
            token_unique_jwt_id=secrets.token_urlsafe(18),
            token_extras={"role": account.role.value, GENERATION: account.token_generation},
        )


# Which role a route serves, in its `opt` (or its controller's): `opt=PLAYERS_ONLY`. The
# app's one check before each handler (apps.api.hygiene.checked_before_handler) refuses
# the other roles, 403. Not a guard each: Litestar gives each guard of each request its
# own copy of the route handler, which a join paid twice (decision 0076).
ROLE = "fantasy.role"
# Litestar copies a route's or controller's `opt` into a dict of the handler's own.
PLAYERS_ONLY: Final[Mapping[str, Role]] = {ROLE: Role.PLAYER}
OPERATORS_ONLY: Final[Mapping[str, Role]] = {ROLE: Role.OPERATOR}
_REFUSED = {Role.OPERATOR: "operators only", Role.PLAYER: "only players enter contests"}


def check_role(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """PermissionDeniedException (403) unless the caller has the role `handler` serves;
    NotAuthorizedException (401) with no caller. A route that names no role: nothing."""
    role = handler.opt.get(ROLE)
    if role is not None and _account(connection).role is not role:
        raise PermissionDeniedException(_REFUSED[role])


def _account(connection: ASGIConnection[Any, Any, Any, Any]) -> Account:
    # Not `connection.user`: it raises when the auth middleware did not run, as for an
    # OPTIONS request (the middleware skips them).
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
