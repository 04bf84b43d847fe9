"""Signing up, logging in and out in the browser: the API's accounts, tokens and limits."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import anyio.to_thread
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Redirect

from apps.accounts import AccountError, Accounts, LoginFailed
from apps.api.auth import TokenIssuer, token_id
from apps.api.problems import Problem
from apps.api.quota import spend
from apps.api.state import LOGINS
from apps.settings import Settings
from apps.web.errors import api_problem
from apps.web.forms import FormBody, field, render, safe_next
from apps.web.session import clear_session, secure_cookies, set_session, viewer
from fantasy_core.accounts import Account, Role
from fantasy_core.errors import DomainError
from fantasy_core.platform import Platform
from fantasy_core.protection.rules import US_JURISDICTIONS
from fantasy_core.usecases.protecting import break_in_force

HOME = "/web/"
JURISDICTIONS = sorted(US_JURISDICTIONS)
CONSOLE = "/web/operator"
BREAK_PAGE = "/web/me/protection"  # where a player's break from play is announced


class AccountPages(Controller):
    path = "/web"

    @get("/signup", sync_to_thread=False)
    def signup_form(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return render(request, "signup.html", form={}, problem=None, jurisdictions=JURISDICTIONS)

    @post("/signup")
    async def signup(
        self,
        request: Request[Any, Any, Any],
        data: FormBody,
        accounts: NamedDependency[Accounts],
        platform: NamedDependency[Platform],
        tokens: NamedDependency[TokenIssuer],
        settings: NamedDependency[Settings],
    ) -> Response[Any]:
        """Open a player account (with the date of birth and state player protection needs)
        and sign in with it; the API's refusals beside the field at fault."""
        email, password = field(data, "email"), field(data, "password")
        name = field(data, "display_name", required=False) or None
        jurisdiction = field(data, "jurisdiction")
        form = {
            "email": email,
            "display_name": name or "",
            "date_of_birth": field(data, "date_of_birth", required=False),
            "jurisdiction": jurisdiction,
        }
        try:
            born = _date(form["date_of_birth"])
            account = await anyio.to_thread.run_sync(
                lambda: accounts.register_player(
                    platform, email, password, born, jurisdiction, display_name=name
                )
            )
        except (AccountError, DomainError, Problem) as refused:
            problem = api_problem(request, refused)
            return render(
                request,
                "signup.html",
                _status(problem),
                form=form,
                problem=problem,
                jurisdictions=JURISDICTIONS,
            )
        return _signed_in(request, tokens, settings, account, HOME)

    @get("/login", sync_to_thread=False)
    def login_form(
        self,
        request: Request[Any, Any, Any],
        next: FromQuery[str | None] = None,
        reset: FromQuery[str | None] = None,
    ) -> Response[Any]:
        target = safe_next(next, "")
        changed = reset == "1"  # back from choosing a new password
        return render(request, "login.html", next=target, email="", problem=None, reset=changed)

    @post("/login")
    async def login(
        self,
        request: Request[Any, Any, Any],
        data: FormBody,
        accounts: NamedDependency[Accounts],
        tokens: NamedDependency[TokenIssuer],
        settings: NamedDependency[Settings],
        platform: NamedDependency[Platform],
    ) -> Response[Any]:
        """Sign in; to the page asked for, else home (operators: the console). A player in
        a break from play is sent to the page that says so, as the API's login answers
        it (decision 0043), unless a page was asked for."""
        email, password = field(data, "email"), field(data, "password")
        target = safe_next(data.get("next"), "")
        address = request.client.host if request.client is not None else "unknown"
        try:
            spend(request.app.state[LOGINS], address, 1, "logins")
            account = await anyio.to_thread.run_sync(accounts.login, email, password)
        except LoginFailed as refused:
            problem = api_problem(request, refused)
            return render(
                request, "login.html", 401, next=target, email=email, problem=problem, reset=False
            )
        if account.role is Role.OPERATOR:
            home = CONSOLE
        elif await anyio.to_thread.run_sync(break_in_force, platform, account.user_id):
            home = BREAK_PAGE
        else:
            home = HOME
        return _signed_in(request, tokens, settings, account, target or home)

    @post("/logout", sync_to_thread=True)
    def logout(
        self,
        request: Request[Any, Any, Any],
        accounts: NamedDependency[Accounts],
        settings: NamedDependency[Settings],
    ) -> Response[Any]:
        """Revoke the session's token (every API process refuses it from now on)."""
        user, token = viewer(request), request.scope.get("auth")
        if user is not None and token is not None:
            jti = token_id(token)
            if jti is None:
                accounts.log_out_everywhere(user.user_id)
            else:
                accounts.store.revoke_token(jti, user.user_id, token.exp, datetime.now(UTC))
        secure = secure_cookies(request, settings.environment == "production")
        return clear_session(Redirect(HOME, status_code=303), secure=secure)


def _signed_in(
    request: Request[Any, Any, Any],
    tokens: TokenIssuer,
    settings: Settings,
    account: Account,
    target: str,
) -> Response[Any]:
    secure = secure_cookies(request, settings.environment == "production")
    redirect = Redirect(target, status_code=303)
    return set_session(redirect, tokens.issue(account), tokens.ttl, secure=secure)


def _date(text: str) -> date:
    """The form's date of birth (an HTML date field sends YYYY-MM-DD), or a 422 saying so."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Problem(
            422,
            "invalid-date",
            "Date of birth needed",
            "give your date of birth as year-month-day (paid play has a minimum age)",
            field="date_of_birth",
        ) from None


def _status(problem: dict[str, object]) -> int:
    status = problem.get("status")
    return status if isinstance(status, int) else 422
