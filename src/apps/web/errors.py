"""The pages' errors: the API's own problem documents, rendered for a person.

Every exception a page lets through is answered by the API's handler for it (so the
status, title and detail are exactly what the API would say) and shown on the error
page; the catch-all logs a bug and shows its generic words, never a stack trace. A
page that needs a login sends the browser to the login page instead.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.enums import MediaType
from litestar.exceptions import NotAuthorizedException
from litestar.response import Redirect, Template
from litestar.types import ExceptionHandlersMap

from apps.api.problems import exception_handlers as api_exception_handlers

LOGIN_PATH = "/web/login"


def api_problem(request: Request[Any, Any, Any], error: Exception) -> dict[str, object]:
    """The problem document the API answers for `error` (its handler, by the closest class)."""
    handlers = api_exception_handlers()
    for cls in type(error).__mro__:
        handler = handlers.get(cls)
        if handler is not None:
            response = handler(request, error)
            content = response.content
            if isinstance(content, dict):
                return content
    raise TypeError(f"no problem document for {type(error).__name__}") from error


def problem_page(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    problem = api_problem(request, error)
    status = problem.get("status")
    return Template(
        "problem.html",
        context={"problem": problem, "viewer": request.scope.get("user")},
        status_code=status if isinstance(status, int) else 500,
        media_type=MediaType.HTML,
    )


def login_redirect(request: Request[Any, Any, Any], _: NotAuthorizedException) -> Response[Any]:
    """A page for signed-in people, asked for without a (valid) session: log in first."""
    if request.method != "GET":
        return problem_page(request, _)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return Redirect(f"{LOGIN_PATH}?next={quote(target, safe='')}", status_code=303)


def web_exception_handlers() -> ExceptionHandlersMap:
    handlers: ExceptionHandlersMap = dict.fromkeys(api_exception_handlers(), problem_page)
    handlers[NotAuthorizedException] = login_redirect
    return handlers
