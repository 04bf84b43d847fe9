"""The web app's wiring: its routers (pages, session, CSRF, headers), templates and static files."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from urllib.parse import urlsplit

from attrs import frozen
from jinja2 import Environment, FileSystemLoader
from litestar import Router, get
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import ResponseHeader
from litestar.enums import ScopeType
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import Receive, Scope, Send

from apps.settings import Settings
from apps.web.account import AccountPages
from apps.web.console import ConsolePages
from apps.web.entries import EntryPages
from apps.web.errors import web_exception_handlers
from apps.web.fairplay import FairPlayPages
from apps.web.lobby import NO_FORM_FOR_VISITORS, LobbyPages
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
# Where Stripe's card form is served (a publishable key configured, decisions 0053, 0060): its
# script from js.stripe.com, its frames from js.stripe.com and hooks.stripe.com (where
# some banks' 3-D Secure pages open; Stripe's CSP guidance lists both), its calls to
# api.stripe.com, and nothing else.
STRIPE_POLICY = (
    "default-src 'none'; script-src 'self' {js}; style-src 'self'; img-src 'self'; "
    "connect-src 'self' {api}; frame-src {frames}; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
STRIPE_JS_URL = "https://js.stripe.com/v3/"
STRIPE_API_ORIGIN = "https://api.stripe.com"
STRIPE_HOOKS_ORIGIN = "https://hooks.stripe.com"


@frozen
class StripeForm:
    """What the pages need to take a card with Stripe.js: the publishable key and the
    script's address (Stripe's own; an emulator's in tests, FANTASY_STRIPE_JS_URL)."""

    publishable_key: str
    js_url: str


def stripe_form(settings: Settings) -> StripeForm | None:
    """Stripe's card form, where a publishable key is configured; None: the sandbox's test
    cards (or, on Stripe without a publishable key, a payment method id field)."""
    if settings.stripe_publishable_key is None:
        return None
    return StripeForm(settings.stripe_publishable_key, settings.stripe_js_url or STRIPE_JS_URL)


def content_security_policy(settings: Settings) -> str:
    """The pages' policy: CONTENT_SECURITY_POLICY, plus exactly Stripe's origins where its
    card form is served (an emulator's single origin in tests)."""
    form = stripe_form(settings)
    if form is None:
        return CONTENT_SECURITY_POLICY
    js = _origin(form.js_url)
    if settings.stripe_js_url is not None:  # an emulator: its one origin serves it all
        return STRIPE_POLICY.format(js=js, api=js, frames=js)
    frames = f"{js} {STRIPE_HOOKS_ORIGIN}"
    return STRIPE_POLICY.format(js=js, api=STRIPE_API_ORIGIN, frames=frames)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def security_headers(settings: Settings) -> list[ResponseHeader]:
    return [
        ResponseHeader(name="Content-Security-Policy", value=content_security_policy(settings)),
        ResponseHeader(name="X-Content-Type-Options", value="nosniff"),
        ResponseHeader(name="Referrer-Policy", value="same-origin"),
        ResponseHeader(name="Cache-Control", value="no-store"),
    ]


def template_config(settings: Settings) -> TemplateConfig[JinjaTemplateEngine]:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,  # every value is escaped unless a template says otherwise (none does)
        trim_blocks=True,
        lstrip_blocks=True,
        # The templates ship with the package: no stat() of each template per render.
        auto_reload=False,
    )
    environment.filters["money"] = money
    environment.filters["payout_words"] = payout_words
    environment.globals["htmx_file"] = HTMX
    environment.globals["htmx_sse_file"] = HTMX_SSE
    environment.globals["stripe_form"] = stripe_form(settings)
    return TemplateConfig(engine=JinjaTemplateEngine.from_environment(environment))


def _csrf_secret(settings: Settings) -> str:
    """The CSRF tokens' signing key, derived from the token secret (one secret to manage)."""
    return hmac.new(settings.token_secret.encode(), b"web csrf", hashlib.sha256).hexdigest()


class WebCSRF(CSRFMiddleware):
    """Litestar's CSRF middleware, except for a visitor not signed in asking (GET) for a
    page whose handler says it renders them no form (NO_FORM_FOR_VISITORS): no token is
    made and no CSRF cookie set for a page that has no form to put it in (a contest page,
    answered from the bytes kept for every visitor, decision 0058). Every form still
    carries its token: the pages that show one (log in, sign up) make it on their GET,
    and a signed-in person's pages get theirs as before; every unsafe method is checked."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == ScopeType.HTTP
            and scope["method"] in self.config.safe_methods
            and scope.get("user") is None
            and scope["route_handler"].opt.get(NO_FORM_FOR_VISITORS) is True
        ):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


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
            FairPlayPages,
            ConsolePages,
        ],
        middleware=[
            DefineMiddleware(WebSession, secret=settings.token_secret),
            DefineMiddleware(WebCSRF, config=csrf),  # after WebSession: it knows the user
        ],
        exception_handlers=web_exception_handlers(),
        response_headers=security_headers(settings),
        include_in_schema=False,
    )
    static = create_static_files_router(path="/web/static", directories=[STATIC])
    return [pages, static]
