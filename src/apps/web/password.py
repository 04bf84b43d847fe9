"""Forgotten passwords in the browser: asking for the reset mail, and the page its link opens.

The same use cases as the API's `/auth/password-reset` routes (decision 0023): the mail
goes after the answer and the answer is the same whether the address is registered or
not; asking and choosing count against the per-address login quota; a forged, expired,
used or outdated link gets one answer (`reset-token-invalid`), shown before the form.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import anyio.to_thread
from litestar import Controller, Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Redirect

from apps.accounts import AccountError
from apps.api.players import mail_unavailable, send_reset_mail
from apps.api.problems import Problem
from apps.api.quota import spend
from apps.api.state import LOGINS
from apps.bootstrap import Services
from apps.password_reset import PasswordReset
from apps.web.errors import api_problem
from apps.web.forms import FormBody, field, render

SENT = "password-reset-sent.html"
CHOOSE = "password-reset.html"


class PasswordPages(Controller):
    path = "/web"

    @get("/forgot-password", sync_to_thread=False)
    def forgot_form(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return render(request, "forgot-password.html", email="", problem=None)

    @post("/forgot-password", sync_to_thread=True)
    def forgot(
        self,
        request: Request[Any, Any, Any],
        data: FormBody,
        password_reset: NamedDependency[PasswordReset],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        """Mail a reset link to the address if it is registered; the page says the same
        either way, and the mail goes after it (the API's rule)."""
        email = field(data, "email")
        try:
            mailer = services.mailer
            if mailer is None:
                raise mail_unavailable()
            _spend_login(request)
        except Problem as refused:
            problem = api_problem(request, refused)
            return render(
                request, "forgot-password.html", _status(problem), email=email, problem=problem
            )
        now = datetime.now(UTC)  # reset links keep real time, as login tokens do
        mail = password_reset.mail_for(email, now)
        page = render(request, SENT, email=email)
        if mail is not None:
            page.background = BackgroundTask(send_reset_mail, services.platform, mailer, mail, now)
        return page

    @get("/password-reset", sync_to_thread=False)
    def choose_form(
        self,
        request: Request[Any, Any, Any],
        password_reset: NamedDependency[PasswordReset],
        token: FromQuery[str] = "",
    ) -> Response[Any]:
        """The mail's link: the new password's form, or why the link no longer works."""
        problem = None
        try:
            password_reset.check(token, datetime.now(UTC))
        except AccountError as refused:
            problem = api_problem(request, refused)
        status = 200 if problem is None else _status(problem)
        return render(request, CHOOSE, status, token=token, problem=problem, usable=not problem)

    @post("/password-reset")
    async def choose(
        self,
        request: Request[Any, Any, Any],
        data: FormBody,
        password_reset: NamedDependency[PasswordReset],
    ) -> Response[Any]:
        """Set the new password with the link's token; every earlier token of the account
        (log-ins, other links) stops working. Then log in with it."""
        token = field(data, "token")
        password, again = field(data, "new_password"), field(data, "new_password_again")
        try:
            _spend_login(request)
            if password != again:
                raise Problem(
                    422,
                    "passwords-differ",
                    "The two passwords differ",
                    "type the same new password twice; nothing was changed",
                    field="new_password_again",
                )
            now = datetime.now(UTC)
            await anyio.to_thread.run_sync(password_reset.reset, token, password, now)
        except (AccountError, Problem) as refused:
            problem = api_problem(request, refused)
            usable = problem.get("reason") != "reset_token_invalid"  # else: ask for a new link
            return render(
                request, CHOOSE, _status(problem), token=token, problem=problem, usable=usable
            )
        return Redirect("/web/login?reset=1", status_code=303)


def _spend_login(request: Request[Any, Any, Any]) -> None:
    address = request.client.host if request.client is not None else "unknown"
    spend(request.app.state[LOGINS], address, 1, "logins")


def _status(problem: dict[str, object]) -> int:
    status = problem.get("status")
    return status if isinstance(status, int) else 422
