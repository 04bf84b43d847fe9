"""The route table: no route can touch a payout; who may call what; the OpenAPI docs."""

from __future__ import annotations

import json
import re
from pathlib import Path

from api_support import Api, api_settings, assert_problem, wire
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.testing import TestClient

import apps.api
import apps.web
from adapters.sandbox import TEST_CARDS
from apps.api.auth import ROLE
from apps.api.hygiene import MAX_BODY_BYTES, checked_before_handler
from fantasy_core.accounts import Role
from support.world import World

MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
# Every route that changes anything, reviewed: none creates, edits, approves or re-routes
# a payout. A new mutating route fails this test until it is added here, after review.
REVIEWED_MUTATIONS = {
    ("POST", "/auth/register"),
    ("POST", "/auth/login"),
    ("POST", "/auth/logout"),  # revokes the caller's own token(s)
    ("POST", "/auth/password-reset"),  # mails a reset link to the address's owner
    ("POST", "/auth/password-reset/confirm"),  # the mailed link's own account's password
    ("PUT", "/me/password"),  # the caller's own password, given the current one
    # Test environments only (tests, the demo): attach a known account id; production has
    # no such route (test_no_route_takes_an_account_id_from_a_player_in_production).
    ("PUT", "/me/payout-account"),
    # The platform opens the caller's own connected account (never an id from the caller)
    # and answers a link to the gateway's forms; the gateway's word enables it.
    ("POST", "/me/payout-account/onboarding"),
    ("POST", "/me/payout-account/refresh"),  # reads the caller's account from the gateway
    ("POST", "/me/payout-account/login-link"),  # a link to the caller's own dashboard
    ("PUT", "/me/limits"),  # the player's own limits (loosening waits 90 days)
    ("POST", "/me/cool-off"),  # withdraws and refunds the player's own entries
    ("POST", "/me/self-exclusion"),  # the same; prizes already won are still paid
    ("PUT", "/me/tax-details"),  # the player's own W-9; the taxpayer id stored sealed
    ("PUT", "/me/profile"),  # an old account's date of birth and state, once
    ("POST", "/contests/{contest_id:str}/entries"),
    ("POST", "/contests/{contest_id:str}/entries/bulk"),
    ("POST", "/entries/{entry_id:str}/withdraw"),
    ("PUT", "/entries/{entry_id:str}/lineup"),  # the owner's own lineup; no money moves
    ("POST", "/operator/contests"),
    ("POST", "/operator/contests/{contest_id:str}/cancel"),
    ("POST", "/operator/alerts/{key:str}/acknowledge"),
    ("POST", "/operator/alerts/{key:str}/resolve"),
    ("POST", "/operator/calendar/{line:str}/pause"),  # stops a line opening contests
    ("POST", "/operator/calendar/{line:str}/resume"),
    ("POST", "/operator/stats/corrections"),
    ("POST", "/webhooks/stripe"),
    ("POST", "/webhooks/stripe/connect"),  # connected accounts' events, signed by Stripe
    # Test environments on the sandbox only: the bank's 3-D Secure page, played; it ends
    # a payment the way Stripe's signed event would, and its client secret authorises it.
    ("POST", "/sandbox/payments/{payment_intent:str}/confirm"),
    # The web pages (apps.web): the same use cases as the routes above, no payout among them.
    ("POST", "/web/signup"),
    ("POST", "/web/login"),
    ("POST", "/web/logout"),
    ("POST", "/web/forgot-password"),  # mails a reset link to the address's owner
    ("POST", "/web/password-reset"),  # the mailed link's own account's password
    ("POST", "/web/contests/{contest_id:str}/lineup-check"),  # judges picks, writes nothing
    ("POST", "/web/contests/{contest_id:str}/join"),
    ("POST", "/web/entries/{entry_id:str}/lineup"),
    ("POST", "/web/entries/{entry_id:str}/withdraw"),
    ("POST", "/web/payments/{payment_intent:str}/confirm"),  # the sandbox's 3-D Secure page
    ("POST", "/web/me/protection/limits"),
    ("POST", "/web/me/protection/cool-off"),
    ("POST", "/web/me/protection/self-exclusion"),
    ("POST", "/web/me/protection/tax-details"),
    # The gateway's onboarding and dashboard links (the API's use cases), no payout.
    ("POST", "/web/me/payouts/onboarding"),
    ("POST", "/web/me/payouts/dashboard"),
    ("POST", "/web/operator/alerts/acknowledge"),
    ("POST", "/web/operator/calendar/pause"),
    ("POST", "/web/operator/calendar/resume"),
    ("POST", "/web/operator/contests/{contest_id:str}/cancel"),
}
PUBLIC = {
    ("POST", "/auth/register"),
    ("POST", "/auth/login"),
    ("POST", "/auth/password-reset"),
    ("POST", "/auth/password-reset/confirm"),
    ("GET", "/sandbox/mail"),
    ("GET", "/contests"),
    ("GET", "/slates"),
    ("GET", "/contests/{contest_id:str}"),
    ("GET", "/contests/{contest_id:str}/leaderboard"),
    ("GET", "/contests/{contest_id:str}/lineups.csv"),
    ("GET", "/contests/{contest_id:str}/leaderboard/stream"),
    ("GET", "/contests/{contest_id:str}/settlement"),
    ("GET", "/contests/{contest_id:str}/settlement/snapshot"),
    ("GET", "/fair-play/{month:str}"),  # the published monthly figures (decision 0041)
    ("GET", "/health"),
    ("GET", "/ready"),
    ("GET", "/metrics"),  # counts only; FANTASY_METRICS_TOKEN asks for a token
    ("POST", "/webhooks/stripe"),
    ("POST", "/webhooks/stripe/connect"),
    ("POST", "/sandbox/payments/{payment_intent:str}/confirm"),
}
# Payout records are written by settlement and changed by the payment use cases only.
PAYOUT_WRITES = re.compile(
    r"payouts\.(add_all|save)|confirm_payout|execute_payouts|PayoutStatus|paying import"
)


def routes(app: Litestar, *, pages: bool = True) -> set[tuple[str, str]]:
    """(method, path) of every route; without the web pages (their session is a cookie,
    tests/apps/test_web_pages.py) when `pages` is False."""
    return {
        (method, route.path)
        for route in app.routes
        if not route.path.startswith("/schema")
        and (pages or not (route.path == "/" or route.path.startswith("/web")))
        for method in getattr(route, "methods", set())
        if method not in {"HEAD", "OPTIONS"}
    }


def test_no_route_creates_edits_approves_or_reroutes_a_payout(app: Litestar) -> None:
    table = routes(app)
    mutations = {(m, p) for m, p in table if m in MUTATING}
    assert mutations == REVIEWED_MUTATIONS
    # A payout destination is only ever the caller's own (the API's /me/, the pages'
    # /web/me/), and never named by anyone.
    assert not [p for _, p in mutations if "payout" in p and not p.startswith(("/me/", "/web/me/"))]
    sources = [
        *Path(apps.api.__file__).parent.glob("*.py"),
        *Path(apps.web.__file__).parent.glob("*.py"),
    ]
    for source in sources:
        assert not PAYOUT_WRITES.search(source.read_text(encoding="utf-8")), source.name


def _concrete(path: str) -> str:
    return re.sub(r"\{(\w+):str\}", r"\1-x", path)


def test_every_route_but_the_public_ones_needs_a_token(api: Api, app: Litestar) -> None:
    private = sorted(routes(app, pages=False) - PUBLIC)
    assert len(private) > 10
    for method, path in private:
        response = api.client.request(method, _concrete(path), json={})
        assert_problem(response, 401, "not-authenticated")


def test_players_get_403_on_every_operator_route(api: Api, app: Litestar) -> None:
    ann = api.player("ann")
    operator_routes = sorted((m, p) for m, p in routes(app) if p.startswith("/operator"))
    assert len(operator_routes) == 16  # 13, and the calendar's: list, pause, resume
    for method, path in operator_routes:
        response = api.client.request(method, _concrete(path), json={}, headers=ann)
        assert_problem(response, 403, "forbidden")


# The role each route serves (its `opt`, apps.api.auth.ROLE), reviewed: every other route
# is public or open to any caller with a token. A new route of a role fails this test
# until it is added here.
PLAYER_ROUTES = {
    ("GET", "/me/limits"),
    ("GET", "/me/payouts"),
    ("POST", "/contests/{contest_id:str}/entries"),
    ("POST", "/contests/{contest_id:str}/entries/bulk"),
    ("POST", "/entries/{entry_id:str}/withdraw"),
    ("PUT", "/entries/{entry_id:str}/lineup"),
    ("POST", "/me/cool-off"),
    ("POST", "/me/self-exclusion"),
    ("PUT", "/me/limits"),
    ("PUT", "/me/profile"),
    ("PUT", "/me/tax-details"),
    ("POST", "/me/payout-account/login-link"),
    ("POST", "/me/payout-account/onboarding"),
    ("POST", "/me/payout-account/refresh"),
    ("GET", "/web/entries"),
    ("GET", "/web/me/payouts"),
    ("GET", "/web/me/protection"),
    ("POST", "/web/contests/{contest_id:str}/join"),
    ("POST", "/web/entries/{entry_id:str}/lineup"),
    ("POST", "/web/entries/{entry_id:str}/withdraw"),
    ("POST", "/web/me/payouts/dashboard"),
    ("POST", "/web/me/payouts/onboarding"),
    ("POST", "/web/me/protection/cool-off"),
    ("POST", "/web/me/protection/limits"),
    ("POST", "/web/me/protection/self-exclusion"),
    ("POST", "/web/me/protection/tax-details"),
    ("POST", "/web/payments/{payment_intent:str}/confirm"),
}


def _handlers(app: Litestar) -> list[tuple[str, str, HTTPRouteHandler]]:
    return [
        (method, route.path, handler)
        for route in app.routes
        for handler in getattr(route, "route_handlers", ())
        if isinstance(handler, HTTPRouteHandler)
        for method in handler.http_methods
    ]


def test_each_route_serves_the_role_reviewed(app: Litestar) -> None:
    served = {(m, p): h.opt.get(ROLE) for m, p, h in _handlers(app) if m not in {"HEAD", "OPTIONS"}}
    assert {r for r, role in served.items() if role is Role.PLAYER} == PLAYER_ROUTES
    operators = {r for r, role in served.items() if role is Role.OPERATOR}
    assert operators == {(m, p) for m, p in served if p.startswith(("/operator", "/web/operator"))}
    assert set(served.values()) == {None, Role.PLAYER, Role.OPERATOR}


def test_every_request_is_checked_before_its_handler_and_no_route_adds_a_guard(
    app: Litestar,
) -> None:
    # A route with a `before_request` of its own would replace the app's (Litestar keeps
    # the closest): its requests would skip the NUL, body and role checks.
    handlers = _handlers(app)
    assert len(handlers) > 100
    for method, path, handler in handlers:
        assert handler.resolve_before_request() is checked_before_handler, (method, path)
        assert handler.resolve_guards() == [], (method, path)


def test_operators_get_403_on_every_player_route(api: Api) -> None:
    for method, path in sorted(r for r in PLAYER_ROUTES if not r[1].startswith("/web")):
        response = api.client.request(method, _concrete(path), json={}, headers=api.operator)
        assert_problem(response, 403, "forbidden")


def test_a_player_cannot_read_another_players_entry_before_lock(api: Api) -> None:
    contest = api.contest()
    ann, bob = api.player("ann"), api.player("bob")
    entry = api.join(contest, ann).json()["entry_id"]
    assert_problem(api.client.get(f"/entries/{entry}", headers=bob), 403, "forbidden")
    assert api.client.get(f"/entries/{entry}", headers=api.operator).status_code == 200
    # Payments are only ever the caller's own: no route takes another player's id.
    assert api.client.get("/me/payments", headers=bob).json()["charges"] == []


def test_the_openapi_schema_and_interactive_docs_are_served(api: Api) -> None:
    schema = api.client.get("/schema/openapi.json").json()
    assert schema["info"]["title"] == "Fantasy contests"
    assert "/contests/{contest_id}/entries" in schema["paths"]
    join = schema["paths"]["/contests/{contest_id}/entries"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in join["parameters"])
    assert "BearerToken" in schema["components"]["securitySchemes"]
    for page in ("/schema", "/schema/swagger"):
        response = api.client.get(page)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")


def test_unknown_routes_and_methods_are_problems(api: Api) -> None:
    assert_problem(api.client.get("/nowhere"), 404, "not-found")
    assert_problem(api.client.delete("/contests"), 405, "method-not-allowed")


def _json_routes(api: Api, contest: str) -> list[tuple[str, str]]:
    document = api.client.get("/schema/openapi.json").json()
    return [
        (method.upper(), path.replace("{contest_id}", contest))
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if "application/json" in operation.get("requestBody", {}).get("content", {})
    ]


def test_a_body_that_is_not_utf8_is_a_400_on_every_json_route(api: Api) -> None:
    json_routes = _json_routes(api, api.contest("double_up"))
    assert len(json_routes) == 19  # limits, cool-off, self-exclusion, W-9, profile, onboarding
    bodies = (b'{"password": "\xff\xfeabcdefghij"}', b'{"email": "\xc3("}', b"\xff\xfe{\x00}\x00")
    ann = api.player("ann")
    for method, path in json_routes:
        headers = {
            **(api.operator if path.startswith("/operator") else ann),
            "Content-Type": "application/json",
            "Idempotency-Key": "not-utf8",
        }
        for body in bodies:
            response = api.client.request(method, path, content=body, headers=headers)
            problem = assert_problem(response, 400, "malformed")
            assert problem["detail"].startswith("the body is not UTF-8: byte "), (path, problem)


def test_the_sandbox_confirm_route_exists_only_in_a_test_environment() -> None:
    production = api_settings(environment="production", token_secret="t" * 48)
    paths = {route.path for route in wire(World(), production).routes}
    assert "/sandbox/payments/{payment_intent:str}/confirm" not in paths
    assert "/sandbox/mail" not in paths
    assert "/sandbox/payments/{payment_intent:str}/confirm" in {
        route.path for route in wire(World(), api_settings()).routes
    }


def test_no_route_takes_an_account_id_from_a_player_in_production() -> None:
    production = api_settings(environment="production", token_secret="t" * 48)
    app = wire(World(), production)
    table = routes(app)
    assert ("PUT", "/me/payout-account") not in table
    # Nothing anywhere takes an account id: the onboarding route's body is a country.
    schema = app.openapi_schema.to_schema()
    bodies = [
        op["requestBody"]["content"]["application/json"]["schema"]
        for path in schema["paths"].values()
        for op in path.values()
        if isinstance(op, dict) and "requestBody" in op
    ]
    named = json.dumps(bodies) + json.dumps(
        {k: v for k, v in schema["components"]["schemas"].items() if k.endswith("In")}
    )
    assert "account_id" not in named
    # No operator route changes anybody's payout destination.
    assert not [(m, p) for m, p in table if p.startswith("/operator") and "payout" in p]
    world = World()
    app = wire(world, production)
    with TestClient(app) as client:
        api = Api(client, world)
        eve = api.player("eve")
        refused = client.put("/me/payout-account", json={"account_id": "acct_x"}, headers=eve)
        assert refused.status_code in (404, 405)
        assert client.get("/me/payouts", headers=eve).json()["account_id"] is None


def test_a_missing_body_is_a_400_that_says_the_body_is_missing(api: Api) -> None:
    json_routes = _json_routes(api, api.contest("double_up"))
    ann = api.player("ann")
    for method, path in json_routes:
        headers = {
            **(api.operator if path.startswith("/operator") else ann),
            "Idempotency-Key": "no-body",
        }
        for body, content_type in ((b"", None), (b"  \n", "application/json")):
            sent = headers if content_type is None else {**headers, "Content-Type": content_type}
            response = api.client.request(method, path, content=body, headers=sent)
            problem = assert_problem(response, 400, "malformed")
            assert problem["detail"].startswith("the request body is missing"), (path, problem)


def test_a_body_too_large_is_a_413_a_person_understands(api: Api) -> None:
    response = api.client.post(
        "/auth/login",
        content=b" " * (MAX_BODY_BYTES + 1),
        headers={"Content-Type": "application/json"},
    )
    problem = assert_problem(response, 413, "body-too-large")
    assert problem["title"] == "Request body too large"
    assert f"{MAX_BODY_BYTES:,} bytes" in problem["detail"]


def test_the_sandbox_test_cards_are_examples_of_the_join_body_and_in_the_readme(api: Api) -> None:
    schema = api.client.get("/schema/openapi.json").json()
    body = schema["paths"]["/contests/{contest_id}/entries"]["post"]["requestBody"]
    name = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    method = schema["components"]["schemas"][name]["properties"]["payment_method"]
    assert method["examples"] == list(TEST_CARDS)
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for card, behaviour in TEST_CARDS.items():
        assert f"`{card}`: {behaviour}" in method["description"]
        assert f"| `{card}` | {behaviour} |" in readme
