"""Player routes: registering, logging in and out, the profile and password, my entries and
my payments."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Controller, Request, get, post, put
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter
from litestar.security.jwt import Token
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from apps.accounts import Accounts
from apps.api.auth import BEARER, TokenIssuer, token_id
from apps.api.problems import problem_responses
from apps.api.quota import spend
from apps.api.state import LOGINS
from apps.api.wire import (
    Credentials,
    EntryOut,
    PasswordChangeIn,
    PaymentsOut,
    PayoutAccountIn,
    ProfileOut,
    RegisterIn,
    TokenOut,
    entry_out,
    payments_out,
    profile_out,
)
from fantasy_core.accounts import Account, Role
from fantasy_core.platform import Platform
from fantasy_core.usecases.payment_events import set_payout_account
from fantasy_core.usecases.queries import entries_of, payments_of, payout_account, placings


class AuthController(Controller):
    path = "/auth"
    tags = ("accounts",)

    @post(
        "/register",
        exclude_from_auth=True,
        status_code=HTTP_201_CREATED,
        operation_id="register",
        responses=problem_responses(400, 409, 422, 503),
        sync_to_thread=True,
    )
    def register(
        self,
        data: JSONBody[RegisterIn],
        accounts: NamedDependency[Accounts],
        platform: NamedDependency[Platform],
    ) -> ProfileOut:
        """Open a player account. The password needs at least 10 characters (400 naming
        `password` otherwise); 409 if the email is registered, 422 if it is not an address
        or the display name holds characters a reader cannot see (`field` names which)."""
        account = accounts.register(
            platform.ids.new_id("user"),
            data.email,
            data.password,
            Role.PLAYER,
            platform.clock.now(),
            display_name=data.display_name,
        )
        return profile_out(account, None)

    @post(
        "/login",
        exclude_from_auth=True,
        status_code=200,
        operation_id="login",
        responses=problem_responses(400, 401, 429, 503),
        sync_to_thread=True,
    )
    def login(
        self,
        data: JSONBody[Credentials],
        accounts: NamedDependency[Accounts],
        tokens: NamedDependency[TokenIssuer],
        request: Request[Any, Any, Any],
    ) -> TokenOut:
        """A bearer token for `Authorization: Bearer <token>`. Rate limited per address
        (the connection's; behind a proxy, see the README on forwarded addresses)."""
        _spend_login(request)
        account = accounts.login(data.email, data.password)
        return _token_out(tokens, account)

    @post(
        "/logout",
        status_code=HTTP_204_NO_CONTENT,
        operation_id="logout",
        responses=problem_responses(400, 401, 503),
        security=BEARER,
        sync_to_thread=True,
    )
    def logout(
        self,
        request: Request[Account, Token, Any],
        accounts: NamedDependency[Accounts],
        everywhere: Annotated[
            bool,
            QueryParameter(description="revoke every token of the account, not only this one"),
        ] = False,
    ) -> None:
        """Revoke this token: from now on every request with it is a 401, in every API
        process. With `everywhere=true`, every token of the account issued so far."""
        user, token = request.user, request.auth
        jti = token_id(token)
        if everywhere or jti is None:  # a token without an id can only go with the rest
            accounts.log_out_everywhere(user.user_id)
            return
        accounts.store.revoke_token(jti, user.user_id, token.exp, datetime.now(UTC))


class MeController(Controller):
    path = "/me"
    tags = ("accounts",)
    security = BEARER

    @get("/", operation_id="profile", sync_to_thread=True, responses=problem_responses(401, 503))
    def profile(
        self, request: Request[Account, Token, Any], platform: NamedDependency[Platform]
    ) -> ProfileOut:
        """The caller's profile, with the connected account prizes are paid to."""
        return profile_out(request.user, payout_account(platform, request.user.user_id))

    @put(
        "/payout-account",
        operation_id="setPayoutAccount",
        sync_to_thread=True,
        responses=problem_responses(400, 401, 503),
    )
    def set_payout_account(
        self,
        data: JSONBody[PayoutAccountIn],
        request: Request[Account, Token, Any],
        platform: NamedDependency[Platform],
    ) -> ProfileOut:
        """Set the Stripe Connect account (acct_...) the caller's prizes are paid to."""
        user = request.user
        set_payout_account(platform, user.user_id, data.account_id)
        return profile_out(user, payout_account(platform, user.user_id))

    @put(
        "/password",
        operation_id="changePassword",
        sync_to_thread=True,
        responses=problem_responses(400, 401, 403, 422, 429, 503),
    )
    def change_password(
        self,
        data: JSONBody[PasswordChangeIn],
        request: Request[Account, Token, Any],
        accounts: NamedDependency[Accounts],
        tokens: NamedDependency[TokenIssuer],
    ) -> TokenOut:
        """Change the password, given the current one (403 if wrong; counted with logins
        per address, 429 beyond). Every token issued before, this one included, is revoked:
        the answer is a new token to go on with."""
        _spend_login(request)
        account = accounts.change_password(
            request.user.user_id, data.current_password, data.new_password
        )
        return _token_out(tokens, account)

    @get(
        "/entries",
        operation_id="myEntries",
        sync_to_thread=True,
        responses=problem_responses(401, 503),
    )
    def entries(
        self, request: Request[Account, Token, Any], platform: NamedDependency[Platform]
    ) -> list[EntryOut]:
        """Every join attempt of the caller: active, declined, refunded, withdrawn...; from
        a contest's lock, an active entry's points and rank."""
        found = entries_of(platform, request.user.user_id)
        placed = placings(platform, found)
        name = request.user.display_name
        return [entry_out(e, display_name=name, placing=placed.get(e.entry_id)) for e in found]

    @get(
        "/payments",
        operation_id="myPayments",
        sync_to_thread=True,
        responses=problem_responses(401, 503),
    )
    def payments(
        self, request: Request[Account, Token, Any], platform: NamedDependency[Platform]
    ) -> PaymentsOut:
        """The caller's charges, refunds and prizes, with their status."""
        return payments_out(payments_of(platform, request.user.user_id))


def _spend_login(request: Request[Any, Any, Any]) -> None:
    """Count one password check against the caller's address (guessing is what it bounds)."""
    address = request.client.host if request.client is not None else "unknown"
    spend(request.app.state[LOGINS], address, 1, "logins")


def _token_out(tokens: TokenIssuer, account: Account) -> TokenOut:
    return TokenOut(
        access_token=tokens.issue(account),
        token_type="bearer",
        expires_in=int(tokens.ttl.total_seconds()),
        user_id=account.user_id,
        role=account.role.value,
    )
