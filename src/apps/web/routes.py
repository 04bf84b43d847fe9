"""The web app's wiring: its routers (pages, session, CSRF, headers), templates and static files."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from jinja2 import Environment, FileSystemLoader
from litestar import Router, get
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import ResponseHeader
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from apps.settings import Settings
from apps.web.account import AccountPages
from apps.web.console import ConsolePages
from apps.web.entries import EntryPages
from apps.web.errors import web_exception_handlers
from apps.web.lobby import LobbyPages
from apps.web.password import PasswordPages
from apps.web.payouts import PayoutPages
from apps.web.protection import ProtectionPages
from apps.web.session import WebSession
from apps.web.views import money, payout_words

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
HTMX = "htmx-2.0.11.min.js"
HTMX_SSE = "htmx-ext-sse-2.2.4.min.js"  # the live leaderboard listens to the API's stream
CSRF_COOKIE = "fantasy_csrf"

# No inline script, no inline style, nothing from elsewhere; htmx is told not to add its
# indicator <style> (base.html's htmx-config), so it needs no exception either.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = [
    ResponseHeader(name="Content-Security-Policy", value=CONTENT_SECURITY_POLICY),
    ResponseHeader(name="X-Content-Type-Options", value="nosniff"),
    ResponseHeader(name="Referrer-Policy", value="same-origin"),
    ResponseHeader(name="Cache-Control", value="no-store"),
]


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,  # every value is escaped unless a template says otherwise (none does)
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["money"] = money
    environment.filters["payout_words"] = payout_words
    environment.globals["htmx_file"] = HTMX
    environment.globals["htmx_sse_file"] = HTMX_SSE
    return TemplateConfig(engine=JinjaTemplateEngine.from_environment(environment))


def _csrf_secret(settings: Settings) -> str:
    """The CSRF tokens' signing key, derived from the token secret (one secret to manage)."""
    return hmac.new(settings.token_secret.encode(), b"web csrf", hashlib.sha256).hexdigest()


@get("/", include_in_schema=False, sync_to_thread=False)
def _root() -> Redirect:
    return Redirect("/web/", status_code=302)


def web_routers(settings: Settings) -> list[Router]:
    """The pages (with their session, CSRF and headers) and their static files."""
    production = settings.environment == "production"
    csrf = CSRFConfig(
        secret=_csrf_secret(settings),
        cookie_name=CSRF_COOKIE,
        cookie_secure=production,
        cookie_httponly=True,  # the token travels in each form's hidden field, never via script
        cookie_samesite="strict",
    )
    pages = Router(
        path="/",
        route_handlers=[
            _root,
            AccountPages,
            PasswordPages,
            LobbyPages,
            EntryPages,
            ProtectionPages,
            PayoutPages,
            ConsolePages,
        ],
        middleware=[
            DefineMiddleware(WebSession, secret=settings.token_secret),
            DefineMiddleware(CSRFMiddleware, config=csrf),
        ],
        exception_handlers=web_exception_handlers(),
        response_headers=SECURITY_HEADERS,
        include_in_schema=False,
    )
    static = create_static_files_router(path="/web/static", directories=[STATIC])
    return [pages, static]
