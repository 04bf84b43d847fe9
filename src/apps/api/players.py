"""Player routes: registering, logging in and out, the profile and password, my entries and
my payments."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post, put
from litestar.background_tasks import BackgroundTask
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter
from litestar.security.jwt import Token
from litestar.status_codes import (
    HTTP_201_CREATED,
    HTTP_202_ACCEPTED,
    HTTP_204_NO_CONTENT,
    HTTP_503_SERVICE_UNAVAILABLE,
)

from adapters.mail import Mail, Mailer, MailNotSent
from apps.accounts import Accounts
from apps.api.auth import BEARER, PLAYERS_ONLY, TokenIssuer, token_id
from apps.api.problems import Problem, problem_responses
from apps.api.quota import spend
from apps.api.state import LOGINS
from apps.api.wire import (
    Credentials,
    EntryOut,
    PasswordChangeIn,
    PasswordResetConfirmIn,
    PasswordResetIn,
    PasswordResetOut,
    PaymentsOut,
    PlayerDetailsIn,
    ProfileOut,
    RegisterIn,
    TokenOut,
    entry_out,
    payments_out,
    profile_out,
    restriction_out,
)
from apps.bootstrap import Services
from apps.password_reset import PasswordReset
from fantasy_core.accounts import Account, Role
from fantasy_core.platform import Platform
from fantasy_core.protection.restrictions import Restriction
from fantasy_core.usecases.protecting import break_in_force, player_profile
from fantasy_core.usecases.queries import entries_of, payments_of, payout_account, placings

_log = logging.getLogger("fantasy.api")
MAIL_ALERT = "mail-password-reset"


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
        `password` otherwise); 409 if the email (or the same mailbox spelt otherwise) is
        registered, 422 if it is not an address or the display name holds characters a
        reader cannot see (`field` names which); 403 `age` under the minimum age for paid
        play in `jurisdiction` (18; 19 in AL and NE; 21 in MA, AZ and IA)."""
        account = accounts.register_player(
            platform,
            data.email,
            data.password,
            data.date_of_birth,
            data.jurisdiction,
            display_name=data.display_name,
        )
        return profile_out(account, None, player_profile(platform, account.user_id))

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
        platform: NamedDependency[Platform],
        request: Request[Any, Any, Any],
    ) -> TokenOut:
        """A bearer token for `Authorization: Bearer <token>`. Rate limited per address
        (the connection's; behind a proxy, see the README on forwarded addresses). During
        a cool-off or self-exclusion the answer says so (`break_from_play`, with its end;
        `can_enter_contests` false): the token reads entries and payouts and takes tax
        details, and every route that enters or plays a contest refuses it with the
        break's own problem (403 `cool-off` / `self-excluded`)."""
        _spend_login(request)
        account = accounts.login(data.email, data.password)
        return _token_out(tokens, account, break_in_force(platform, account.user_id))

    @post(
        "/password-reset",
        exclude_from_auth=True,
        status_code=HTTP_202_ACCEPTED,
        operation_id="requestPasswordReset",
        responses=problem_responses(400, 429, 503),
        sync_to_thread=True,
    )
    def request_password_reset(
        self,
        data: JSONBody[PasswordResetIn],
        password_reset: NamedDependency[PasswordReset],
        services: NamedDependency[Services],
        request: Request[Any, Any, Any],
    ) -> Response[PasswordResetOut]:
        """Mail a reset link (valid 30 minutes, once) to the address, if it is registered.
        The answer is the same either way, so it tells nobody who is registered; the mail
        goes after it. Counted with logins per address (429 beyond); 503 where no mail
        server is configured. In test environments without one, the mail is kept in the
        sandbox's mailbox (`GET /sandbox/mail`)."""
        mailer = services.mailer
        if mailer is None:
            raise mail_unavailable()
        _spend_login(request)
        now = datetime.now(UTC)  # reset links keep real time, as login tokens do
        mail = password_reset.mail_for(data.email, now)
        answer = PasswordResetOut(
            detail="if this address is registered, a reset link is on its way to it"
        )
        if mail is None:
            return Response(answer, status_code=HTTP_202_ACCEPTED)
        task = BackgroundTask(send_reset_mail, services.platform, mailer, mail, now)
        return Response(answer, status_code=HTTP_202_ACCEPTED, background=task)

    @post(
        "/password-reset/confirm",
        exclude_from_auth=True,
        status_code=200,
        operation_id="confirmPasswordReset",
        responses=problem_responses(400, 422, 429, 503),
        sync_to_thread=True,
    )
    def confirm_password_reset(
        self,
        data: JSONBody[PasswordResetConfirmIn],
        password_reset: NamedDependency[PasswordReset],
        tokens: NamedDependency[TokenIssuer],
        request: Request[Any, Any, Any],
    ) -> TokenOut:
        """Choose a new password with the token of a reset mail: every token of the account
        issued before is revoked (log-ins and other reset links alike); the answer is a
        new login token. 422 `reset-token-invalid` for a token that is forged, expired,
        used, or outdated by a later change (they are not told apart)."""
        _spend_login(request)
        account = password_reset.reset(data.token, data.new_password, datetime.now(UTC))
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
        user_id = request.user.user_id
        return profile_out(
            request.user, payout_account(platform, user_id), player_profile(platform, user_id)
        )

    @put(
        "/profile",
        operation_id="completeProfile",
        opt=PLAYERS_ONLY,
        sync_to_thread=True,
        responses=problem_responses(400, 401, 403, 409, 422, 503),
    )
    def complete_profile(
        self,
        data: JSONBody[PlayerDetailsIn],
        request: Request[Account, Token, Any],
        accounts: NamedDependency[Accounts],
        platform: NamedDependency[Platform],
    ) -> ProfileOut:
        """Give an account registered before they were asked its date of birth and state
        (403 `age` under the minimum); 409 when they are on file (they are not changed)."""
        user = request.user
        accounts.complete_player(platform, user, data.date_of_birth, data.jurisdiction)
        return profile_out(
            user, payout_account(platform, user.user_id), player_profile(platform, user.user_id)
        )

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


def mail_unavailable() -> Problem:
    """The answer to a reset asked where no mail can be sent (no FANTASY_SMTP_URL)."""
    return Problem(
        HTTP_503_SERVICE_UNAVAILABLE,
        "mail-unavailable",
        "Password reset by mail is unavailable",
        "this platform has no mail server configured (FANTASY_SMTP_URL): ask its "
        "operator to reset the password",
    )


def send_reset_mail(platform: Platform, mailer: Mailer, mail: Mail, now: datetime) -> None:
    """After the answer: a mail the server did not take is logged and alerted (the asker
    was told nothing either way, and may ask again)."""
    try:
        mailer.send(mail, now)
    except MailNotSent as error:
        _log.error("password reset mail to %s not sent: %s", mail.to, error)
        platform.alert(MAIL_ALERT, f"password reset mail could not be sent: {error}")


def _token_out(
    tokens: TokenIssuer, account: Account, in_force: Restriction | None = None
) -> TokenOut:
    return TokenOut(
        access_token=tokens.issue(account),
        token_type="bearer",
        expires_in=int(tokens.ttl.total_seconds()),
        user_id=account.user_id,
        role=account.role.value,
        break_from_play=None if in_force is None else restriction_out(in_force),
        can_enter_contests=in_force is None and account.role is Role.PLAYER,
    )
