"""Campaign: hostile input against the whole HTTP API, served by uvicorn on loopback.

The app is wired as in production (`apps.bootstrap.start`: the SQL store and the
SQL account store; PostgreSQL when FANTASY_TEST_POSTGRES_URL is set, else SQLite),
with the sandbox gateway and a programmable feed, seeded with a contest, players
and an entry. Three parts:

1. Fuzzing from the OpenAPI document with schemathesis (its CLI, over real HTTP),
   as an anonymous caller, a player and an operator: every operation, positive and
   negative data, every check but `positive_data_acceptance` (a request the schema
   allows may still be refused by a rule: an unknown id, a weak password, a bad
   signature). No 5xx, every status, content type, header and body as documented.
2. The authorisation matrix: every route of the OpenAPI document, as anonymous, a
   player, another player and an operator; each answer as expected, and a refused
   call changes nothing.
3. Limits: hostile ids (SQL-like, unicode, NUL, 10,000 characters, invalid UTF-8),
   pagination and amounts at and past their bounds, stat values that are not
   numbers, duplicated JSON keys, NUL in JSON, deep nesting, oversized bodies,
   bad tokens: a clear 4xx, never a 5xx, and not one row written.
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
from attrs import frozen
from sqlalchemy import Engine, func, select

from adapters.ids import TimeOrderedIds
from adapters.sqlalchemy import make_engine, upgrade
from adapters.sqlalchemy.tables import DATA_TABLES, contests
from apps.api.app import create_app
from apps.bootstrap import start
from apps.settings import Settings
from support.campaign import CampaignReport
from support.live_server import serving
from support.postgres_schema import fresh_schema
from support.world import SLATE, World, lineup

OPERATOR_EMAIL = "ops@example.com"
OPERATOR_PASSWORD = "operator password, long enough"
PASSWORD = "correct horse battery"
WEBHOOK_SECRET = "whsec_hostile_campaign"
TOKEN_SECRET = "a token secret of at least thirty-two characters"
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
ROLES = ("anonymous", "player", "operator")


@frozen
class HostileConfig:
    max_examples: int = 3
    phases: str = "examples,fuzzing"
    roles: tuple[str, ...] = ROLES
    seed: int = 2025


@dataclass
class Seeded:
    """The app on loopback and what it was seeded with."""

    base: str
    client: httpx.Client
    engine: Engine
    world: World
    contest_id: str
    entry_id: str  # ann's entry (before lock: private to ann and operators)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)  # role -> headers
    user_ids: dict[str, str] = field(default_factory=dict)

    def rows(self) -> dict[str, int]:
        """Rows of every data table (accounts included): what "nothing stored" compares."""
        with self.engine.connect() as connection:
            counts = {
                table.name: int(
                    connection.execute(select(func.count()).select_from(table)).scalar_one()
                )
                for table in DATA_TABLES
            }
            states = connection.execute(select(contests.c.contest_id, contests.c.state)).all()
        counts["contest states"] = hash(tuple(sorted((str(a), str(b)) for a, b in states)))
        return counts


@contextmanager
def database(postgres_url: str | None, workdir: Path) -> Iterator[str]:
    if postgres_url is not None:
        with fresh_schema(postgres_url, "hostile") as url:
            yield url
        return
    url = f"sqlite:///{workdir / 'hostile.db'}"
    upgrade(url, "test")
    yield url


@contextmanager
def seeded_app(postgres_url: str | None, workdir: Path) -> Iterator[Seeded]:
    with database(postgres_url, workdir) as url:
        settings = Settings(
            environment="test",
            database_url=url,
            database_auto_upgrade=False,
            stripe_webhook_secret=WEBHOOK_SECRET,
            token_secret=TOKEN_SECRET,
            operator_email=OPERATOR_EMAIL,
            operator_password=OPERATOR_PASSWORD,
            login_rate_per_minute=100_000,
            join_rate_per_minute=100_000,
        )
        world = World()
        services = start(
            settings,
            clock=world.clock,
            feed=world.feed,
            gateway=world.gateway,
            ids=TimeOrderedIds(),
        )
        world.p = services.platform
        engine = make_engine(url)
        try:
            with (
                services,
                serving(create_app(settings, services=services)) as base,
                httpx.Client(base_url=base, timeout=30) as client,
            ):
                yield _seed(base, client, engine, world)
        finally:
            engine.dispose()


def _seed(base: str, client: httpx.Client, engine: Engine, world: World) -> Seeded:
    contest = world.create(capacity=50)
    seeded = Seeded(base, client, engine, world, contest.contest_id, "")
    seeded.headers["anonymous"] = {}
    seeded.headers["operator"] = _login(client, OPERATOR_EMAIL, OPERATOR_PASSWORD)
    for name in ("ann", "bob"):
        email = f"{name}@example.com"
        client.post(
            "/auth/register",
            json={
                "email": email,
                "password": PASSWORD,
                "date_of_birth": "1990-05-17",
                "jurisdiction": "NJ",
            },
        ).raise_for_status()
        seeded.headers[name] = _login(client, email, PASSWORD)
        seeded.user_ids[name] = client.get("/me", headers=seeded.headers[name]).json()["user_id"]
        client.put(
            "/me/payout-account", json={"account_id": f"acct_{name}"}, headers=seeded.headers[name]
        ).raise_for_status()
    seeded.headers["player"] = seeded.headers["ann"]
    joined = _join(client, seeded.contest_id, seeded.headers["ann"], "seed", variant=1)
    assert joined.status_code == 201, joined.text
    seeded.entry_id = joined.json()["entry_id"]
    return seeded


def _login(client: httpx.Client, email: str, password: str) -> dict[str, str]:
    response = client.post("/auth/login", json={"email": email, "password": password})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _picks(variant: int = 0) -> list[dict[str, str]]:
    return [{"slot": s, "player_id": p} for s, p in lineup(variant).picks]


def _join(
    client: httpx.Client, contest_id: str, headers: dict[str, str], key: str, variant: int = 0
) -> httpx.Response:
    return client.post(
        f"/contests/{contest_id}/entries",
        json={"lineup": _picks(variant), "payment_method": "pm_card_visa"},
        headers={**headers, "Idempotency-Key": key},
    )


# ---- 1. fuzzing ----------------------------------------------------------------------------


def fuzz(config: HostileConfig, app: Seeded, workdir: Path, report: CampaignReport) -> None:
    generated = 0
    failures: list[str] = []
    operations: set[str] = set()
    for role in config.roles:
        junit = workdir / f"schemathesis-{role}.xml"
        command = [
            str(SCHEMATHESIS),
            "run",
            f"{app.base}/schema/openapi.json",
            "--checks",
            "all",
            "--exclude-checks",
            "positive_data_acceptance",
            # Logging out would revoke the token the rest of the run fuzzes with (every
            # later call a 401): the authorisation matrix checks it instead, last.
            "--exclude-operation-id",
            "logout",
            "--max-examples",
            str(config.max_examples),
            "--phases",
            config.phases,
            "--seed",
            str(config.seed),
            "--workers",
            "1",
            "--request-timeout",
            "30",
            "--suppress-health-check",
            "all",
            "--report",
            "junit",
            "--report-junit-path",
            str(junit),
            "--warnings",
            "off",
        ]
        for name, value in app.headers[role].items():
            command += ["-H", f"{name}: {value}"]
        run = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
        (workdir / f"schemathesis-{role}.log").write_text(run.stdout + run.stderr)
        match = re.search(r"(\d+) generated", run.stdout)
        generated += int(match.group(1)) if match else 0
        found = _junit_failures(junit, operations)
        failures += [f"{role}: {failure}" for failure in found]
        if run.returncode != 0 and not found:
            failures.append(f"{role}: schemathesis exited {run.returncode}: {run.stdout[-2000:]}")
    report.figures["fuzzing: operations"] = len(operations)
    report.figures["fuzzing: operations documented"] = len(_documented_operations(app))
    report.figures["fuzzing: requests generated"] = generated
    report.figures["fuzzing: roles"] = " / ".join(config.roles)
    report.figures["fuzzing: failures"] = len(failures)
    report.fault("schemathesis requests (positive and negative data)", generated)
    report.problems.extend(failures)


def _junit_failures(path: Path, operations: set[str]) -> list[str]:
    if not path.exists():
        return [f"no report at {path}"]
    found = []
    for case in ET.parse(path).getroot().iter("testcase"):
        operations.add(case.get("name", "?"))
        for failure in [*case.iter("failure"), *case.iter("error")]:
            text = (failure.get("message") or failure.text or "").strip()
            found.append(f"{case.get('name')}: {text[:400]}")
    return found


# ---- 2. the authorisation matrix ------------------------------------------------------------

CALLERS = ("anonymous", "ann", "bob", "operator")  # ann owns the entry; bob is another player


@frozen
class Route:
    method: str
    path: str
    expect: dict[str, int]  # caller -> status
    body: Any = None


def matrix_routes(app: Seeded) -> list[Route]:
    cid, eid = app.contest_id, app.entry_id
    public = dict.fromkeys(CALLERS, 200)
    signed_in = {"anonymous": 401, "ann": 200, "bob": 200, "operator": 200}
    operators = {"anonymous": 401, "ann": 403, "bob": 403, "operator": 200}
    owner = {"anonymous": 401, "ann": 200, "bob": 403, "operator": 200}
    players = {"anonymous": 401, "ann": 200, "bob": 200, "operator": 403}
    players_refused = {"anonymous": 401, "ann": 400, "bob": 400, "operator": 403}
    return [
        Route("GET", "/health", public),
        Route("GET", "/metrics", public),  # counts only; a token when FANTASY_METRICS_TOKEN
        Route("GET", "/ready", public),
        Route("GET", "/contests", public),
        Route("GET", "/slates", public),
        Route("GET", f"/contests/{cid}", public),
        Route("GET", f"/contests/{cid}/leaderboard", public),
        Route("GET", "/fair-play/2025-09", public),  # the published figures of a month
        # Before lock the lineups are not public, to anyone (409 lineups-not-public).
        Route("GET", f"/contests/{cid}/lineups.csv", dict.fromkeys(CALLERS, 409)),
        # Live standings stream from lock only (409 standings-not-live before it).
        Route("GET", f"/contests/{cid}/leaderboard/stream", dict.fromkeys(CALLERS, 409)),
        Route("GET", f"/contests/{cid}/settlement", dict.fromkeys(CALLERS, 404)),
        Route("GET", f"/contests/{cid}/settlement/snapshot", dict.fromkeys(CALLERS, 404)),
        Route(
            "POST",
            "/auth/login",
            dict.fromkeys(CALLERS, 401),
            {"email": "x@example.com", "password": "wrong password"},
        ),
        Route(
            "POST",
            "/auth/register",
            dict.fromkeys(CALLERS, 422),
            {
                "email": "not an email",
                "password": PASSWORD,
                "date_of_birth": "1990-05-17",
                "jurisdiction": "NJ",
            },
        ),
        # Asking for a reset answers alike for every address and caller; a forged token is
        # refused; the sandbox's mailbox needs the address it is asked about.
        Route("POST", "/auth/password-reset", dict.fromkeys(CALLERS, 202), {"email": "x@e.com"}),
        Route(
            "POST",
            "/auth/password-reset/confirm",
            dict.fromkeys(CALLERS, 422),
            {"token": "user-x.99999999999.AAAA", "new_password": "another passphrase"},
        ),
        Route("GET", "/sandbox/mail", dict.fromkeys(CALLERS, 400)),
        Route(
            "POST",
            "/webhooks/stripe",
            dict.fromkeys(CALLERS, 400),
            {"id": "evt_1", "object": "event"},
        ),
        Route(
            "POST",
            "/webhooks/stripe/connect",
            dict.fromkeys(CALLERS, 400),
            {"id": "evt_1", "object": "event"},
        ),
        Route(
            "POST",
            "/sandbox/payments/pi_matrix/confirm",
            dict.fromkeys(CALLERS, 404),
            {"client_secret": "pi_matrix_secret_guess", "outcome": "succeeded"},
        ),
        Route("GET", "/me", signed_in),
        Route("GET", "/me/entries", signed_in),
        Route("GET", "/me/payments", signed_in),
        Route("GET", "/me/limits", players),
        # A tighter limit applies at once (nothing the rest of the matrix joins reaches it).
        Route("PUT", "/me/limits", players, {"entries_week": 1000}),
        Route("PUT", "/me/payout-account", signed_in, {"account_id": "acct_matrix"}),
        # Each player's own connected account, opened by the platform; then read back.
        Route("GET", "/me/payouts", players),
        Route("POST", "/me/payout-account/onboarding", players, {"country": "US"}),
        Route("POST", "/me/payout-account/refresh", players),
        # The account attached above is an onboarded one: its dashboard's link.
        Route("POST", "/me/payout-account/login-link", players),
        # A W-9: players only; this one lacks its address and id (400).
        Route("PUT", "/me/tax-details", players_refused, {"legal_name": "A"}),
        # An old account's details: the matrix's players have theirs on file (409).
        Route(
            "PUT",
            "/me/profile",
            {"anonymous": 401, "ann": 409, "bob": 409, "operator": 403},
            {"date_of_birth": "1990-05-17", "jurisdiction": "NJ"},
        ),
        # A password change needs the current password: a wrong one changes nothing.
        Route(
            "PUT",
            "/me/password",
            {"anonymous": 401, "ann": 403, "bob": 403, "operator": 403},
            {"current_password": "not the password", "new_password": "another passphrase"},
        ),
        # Joining is for players only: bob joins (201); ann's replay of her seed join (the
        # same key and request) is 201 too.
        Route(
            "POST",
            f"/contests/{cid}/entries",
            {"anonymous": 401, "ann": 201, "bob": 201, "operator": 403},
            {"lineup": _picks(1), "payment_method": "pm_card_visa"},
        ),
        # Bulk joins: players only; one answer per lineup (ann's may be a 409 item).
        Route(
            "POST",
            f"/contests/{cid}/entries/bulk",
            {"anonymous": 401, "ann": 200, "bob": 200, "operator": 403},
            {"entries": [{"lineup": _picks(2), "payment_method": "pm_card_visa"}]},
        ),
        Route("GET", f"/entries/{eid}", owner),
        Route("GET", f"/entries/{eid}/explanation", owner),
        # Changing the lineup: the owner only (before withdrawing, which ends the entry).
        Route(
            "PUT",
            f"/entries/{eid}/lineup",
            {"anonymous": 401, "bob": 403, "operator": 403, "ann": 200},
            {"lineup": _picks(3)},
        ),
        # Withdrawing: the owner only (checked last for ann: it changes the entry).
        Route(
            "POST",
            f"/entries/{eid}/withdraw",
            {"anonymous": 401, "bob": 403, "operator": 403, "ann": 200},
        ),
        Route("GET", "/operator/alerts", operators),
        Route("POST", "/operator/alerts/no-such-alert/acknowledge", {**operators, "operator": 404}),
        Route("POST", "/operator/alerts/no-such-alert/resolve", {**operators, "operator": 404}),
        Route("GET", f"/operator/contests/{cid}/audit", operators),
        Route("GET", f"/operator/players/{app.user_ids['ann']}/audit", operators),
        Route("GET", "/operator/ledger", operators),
        Route("GET", "/operator/board", operators),
        Route("GET", "/operator/calendar", operators),
        Route("POST", "/operator/calendar/no-such-line/pause", {**operators, "operator": 404}),
        Route("POST", "/operator/calendar/no-such-line/resume", {**operators, "operator": 404}),
        Route("GET", f"/operator/audit?contest_id={cid}", operators),
        Route("GET", "/operator/templates", operators),
        Route("GET", "/operator/health", operators),
        Route(
            "POST",
            "/operator/stats/corrections",
            {**operators, "operator": 201},
            {
                "slate_id": SLATE,
                "player_id": "KC-QB0",
                "stat": "passing_yards",
                "value": "250",
                "reason": "matrix check",
            },
        ),
        Route(
            "POST",
            "/operator/contests",
            {**operators, "operator": 201},
            {"template": "fifty_fifty", "slate_id": SLATE},
        ),
        # Cancelling: last, it ends the contest.
        Route("POST", f"/operator/contests/{cid}/cancel", operators, {"reason": "matrix check"}),
        # Breaks from play: near the end, they stop the players' joins.
        Route("POST", "/me/cool-off", players, {"hours": 72}),
        Route("POST", "/me/self-exclusion", players, {"term": "1y"}),
        # Logging out: last, it revokes each caller's token, which is refused from then on.
        Route("POST", "/auth/logout", {"anonymous": 401, "ann": 204, "bob": 204, "operator": 204}),
        Route("GET", "/me", dict.fromkeys(CALLERS, 401)),
    ]


def authorization_matrix(app: Seeded, report: CampaignReport) -> None:
    routes = matrix_routes(app)
    documented = _documented_operations(app)
    covered = {(r.method, _template_of(r.path, documented)) for r in routes}
    for operation in sorted(documented - covered):
        report.problems.append(f"authorisation matrix: {operation[0]} {operation[1]} not covered")
    calls = 0
    for route in routes:
        for caller in _callers_in_order(route):
            expected = route.expect[caller]
            before = app.rows()
            headers = dict(app.headers[caller])
            if route.path.endswith("/entries") and route.method == "POST":
                headers["Idempotency-Key"] = "seed" if caller == "ann" else f"matrix-{caller}"
            if route.path.endswith("/entries/bulk"):
                headers["Idempotency-Key"] = f"matrix-bulk-{caller}"
            response = app.client.request(
                route.method, route.path, json=route.body, headers=headers
            )
            calls += 1
            report.check(
                response.status_code == expected,
                f"matrix: {caller} {route.method} {route.path}: {response.status_code}, "
                f"expected {expected}: {response.text[:200]}",
            )
            if response.status_code in (401, 403):
                report.check(
                    app.rows() == before,
                    f"matrix: {caller} {route.method} {route.path} refused, yet wrote rows",
                )
    report.figures["authorisation matrix: routes"] = len(routes)
    report.figures["authorisation matrix: calls"] = calls
    report.fault("calls across the authorisation matrix", calls)


def _callers_in_order(route: Route) -> list[str]:
    # The owner's successful withdrawal goes last, once the refusals were checked.
    return sorted(route.expect, key=lambda c: route.expect[c] < 300)


def _documented_operations(app: Seeded) -> set[tuple[str, str]]:
    document = app.client.get("/schema/openapi.json").json()
    return {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    }


def _template_of(path: str, documented: set[tuple[str, str]]) -> str:
    path = path.partition("?")[0]
    for _, template in documented:
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
        if re.match(pattern, path):
            return template
    return path


# ---- 3. limits -------------------------------------------------------------------------------

HOSTILE_IDS = {
    "SQL-like": "' OR '1'='1",
    "SQL statement": "1; DROP TABLE contests; --",
    "unicode": "\U0001f3c8 \u00e9t\u00e9 \u202e\u0645\u0631\u062d\u0628\u0627",
    "NUL": "abc%00def",
    "invalid UTF-8": "%ED%A0%80%FF",
    "path traversal": "..%2F..%2Fetc%2Fpasswd",
    "10,000 characters": "x" * 10_000,
}


@frozen
class Probe:
    name: str
    method: str
    path: str
    caller: str = "anonymous"
    body: bytes | None = None
    headers: dict[str, str] | None = None
    allowed: tuple[int, ...] = (400, 404)


NOT_UTF8 = {
    "a lone continuation byte": b'{"password": "\xff\xfeabcdefghij"}',
    "a truncated sequence": b'{"reason": "\xc3("}',
    "a UTF-16 byte-order mark": b'\xff\xfe{\x00"\x00}\x00',
    "an encoded surrogate": b'{"email": "\xed\xa0\x80@example.com"}',
}


def _json_body_operations(app: Seeded) -> list[tuple[str, str]]:
    """(method, path) of every documented operation taking a JSON body, with ids filled in."""
    document = app.client.get("/schema/openapi.json").json()
    ids = {"contest_id": app.contest_id, "entry_id": app.entry_id}
    return [
        (method.upper(), re.sub(r"\{([^}]+)\}", lambda m: ids.get(m.group(1), "x"), path))
        for path, operations in sorted(document["paths"].items())
        for method, operation in sorted(operations.items())
        if "application/json" in operation.get("requestBody", {}).get("content", {})
    ]


def limit_probes(app: Seeded) -> list[Probe]:
    cid, eid = app.contest_id, app.entry_id
    join_body = json.dumps({"lineup": _picks(2), "payment_method": "pm_card_visa"}).encode()
    probes: list[Probe] = []
    for method, path in _json_body_operations(app):
        caller = "operator" if path.startswith("/operator") else "bob"
        probes += [
            Probe(f"{method} {path}: not UTF-8, {name}", method, path, caller, body, allowed=(400,))
            for name, body in NOT_UTF8.items()
        ]
    for name, hostile in HOSTILE_IDS.items():
        probes += [
            Probe(f"contest id {name}", "GET", f"/contests/{hostile}"),
            Probe(f"leaderboard id {name}", "GET", f"/contests/{hostile}/leaderboard"),
            Probe(f"entry id {name}", "GET", f"/entries/{hostile}", "ann"),
            Probe(f"join id {name}", "POST", f"/contests/{hostile}/entries", "bob", join_body),
            Probe(
                f"cancel id {name}",
                "POST",
                f"/operator/contests/{hostile}/cancel",
                "operator",
                b'{"reason": "hostile id"}',
            ),
            Probe(
                f"player audit id {name}",
                "GET",
                f"/operator/players/{hostile}/audit",
                "operator",
                allowed=(200, 400, 404),
            ),
            Probe(f"lobby sport {name}", "GET", f"/contests?sport={hostile}", allowed=(200, 400)),
        ]
    for query in (
        "limit=0",
        "limit=-1",
        "limit=201",
        "limit=99999999999999999999999",
        "limit=abc",
        "offset=-1",
        "offset=1.25",
        "offset=99999999999999999999999",
        "limit=1.5",
    ):
        allowed = (200,) if query == "offset=99999999999999999999999" else (400,)
        probes.append(
            Probe(
                f"leaderboard {query}",
                "GET",
                f"/contests/{cid}/leaderboard?{query}",
                allowed=allowed,
            )
        )
    for query in (
        "min_fee=-1",
        "max_fee=-100",
        "min_fee=99999999999999999999999999999",
        "min_fee=0.5",
        "state=PAID%00",
        "state=nope",
    ):
        allowed = (200,) if query.startswith("min_fee=9999") else (400,)
        probes.append(Probe(f"lobby {query}", "GET", f"/contests?{query}", allowed=allowed))
    for value in ("NaN", "Infinity", "-Infinity", "1e1000", "", "abc", "1/0", "0x10", "1" * 41):
        body = json.dumps(
            {
                "slate_id": SLATE,
                "player_id": "KC-QB0",
                "stat": "passing_yards",
                "value": value,
                "reason": "hostile value",
            }
        ).encode()
        probes.append(
            Probe(
                f"stat value {value[:12]!r}",
                "POST",
                "/operator/stats/corrections",
                "operator",
                body,
                allowed=(400, 422),
            )
        )
    picks = json.dumps(_picks(3))
    visa = '"payment_method": "pm_card_visa"'
    qb = '"player_id": "KC-QB0"'
    bodies = {
        "duplicated payment_method": (
            f'{{"lineup": {picks}, "payment_method": "pm_card_chargeDeclined", {visa}}}'
        ),
        "duplicated lineup": f'{{"lineup": [], "lineup": {picks}, {visa}}}',
        "duplicated key in a pick": f'{{"lineup": [{{"slot": "QB", "slot": "RB", {qb}}}], {visa}}}',
        "NUL in the payment method": f'{{"lineup": {picks}, "payment_method": "pm_\\u0000visa"}}',
        "NUL in a player id": (
            f'{{"lineup": [{{"slot": "QB", "player_id": "KC-QB0\\u0000"}}], {visa}}}'
        ),
        "unknown field": f'{{"lineup": {picks}, {visa}, "fee_minor": 0}}',
        "31 picks": json.dumps(
            {
                "lineup": [{"slot": "QB", "player_id": "KC-QB0"}] * 31,
                "payment_method": "pm_card_visa",
            }
        ),
        "100,000 picks": json.dumps(
            {
                "lineup": [{"slot": "QB", "player_id": "KC-QB0"}] * 100_000,
                "payment_method": "pm_card_visa",
            }
        ),
        "nested 100,000 deep": "[" * 100_000 + "]" * 100_000,
        "a JSON array": "[1, 2, 3]",
        "empty body": "",
        "not UTF-8": "\udcff",
        "a 300-character player id": json.dumps(
            {"lineup": [{"slot": "QB", "player_id": "p" * 300}], "payment_method": "pm_card_visa"}
        ),
    }
    for name, text in bodies.items():
        raw = text.encode("utf-8", "surrogateescape")
        probes.append(
            Probe(
                f"join body: {name}",
                "POST",
                f"/contests/{cid}/entries",
                "bob",
                raw,
                allowed=(400, 413, 422),
            )
        )
    probes += [
        Probe(
            "register: duplicated email",
            "POST",
            "/auth/register",
            body=b'{"email": "x@example.com", "email": "y@example.com", "password": "long, long"}',
            allowed=(400,),
        ),
        Probe(
            "register: NUL in the email",
            "POST",
            "/auth/register",
            body=b'{"email": "a\\u0000b@example.com", "password": "correct horse battery"}',
            allowed=(400,),
        ),
        Probe(
            "register: SQL-like email",
            "POST",
            "/auth/register",
            body=b'{"email": "\' OR 1=1 --", "password": "correct horse battery", '
            b'"date_of_birth": "1990-05-17", "jurisdiction": "NJ"}',
            allowed=(422,),
        ),
        Probe(
            "cancel: NUL in the reason",
            "POST",
            f"/operator/contests/{cid}/cancel",
            "operator",
            b'{"reason": "abc\\u0000def"}',
            allowed=(400,),
        ),
        Probe(
            "cancel: duplicated reason",
            "POST",
            f"/operator/contests/{cid}/cancel",
            "operator",
            b'{"reason": "one reason", "reason": "another"}',
            allowed=(400,),
        ),
        Probe(
            "cancel: 100,000-character reason",
            "POST",
            f"/operator/contests/{cid}/cancel",
            "operator",
            json.dumps({"reason": "r" * 100_000}).encode(),
            allowed=(400,),
        ),
        Probe(
            "oversized body (11 MB)",
            "POST",
            "/auth/register",
            body=b'{"email": "' + b"a" * 11_000_000 + b'"}',
            allowed=(400, 413),
        ),
        Probe(
            "oversized join (11 MB)",
            "POST",
            f"/contests/{cid}/entries",
            "bob",
            b" " * 11_000_000,
            allowed=(400, 413),
        ),
        Probe(
            "Idempotency-Key empty",
            "POST",
            f"/contests/{cid}/entries",
            "bob",
            join_body,
            {"Idempotency-Key": ""},
            allowed=(400,),
        ),
        Probe(
            "Idempotency-Key of 256 characters",
            "POST",
            f"/contests/{cid}/entries",
            "bob",
            join_body,
            {"Idempotency-Key": "k" * 256},
            allowed=(400,),
        ),
        Probe(
            "payout account not acct_",
            "PUT",
            "/me/payout-account",
            "bob",
            b'{"account_id": "\' OR 1=1"}',
            allowed=(400,),
        ),
        Probe(
            "token: garbage",
            "GET",
            "/me",
            headers={"Authorization": "Bearer ' OR 1=1 --"},
            allowed=(401,),
        ),
        Probe(
            "token: 8 KB",
            "GET",
            "/me",
            headers={"Authorization": "Bearer " + "a" * 8_000},
            allowed=(401,),
        ),
        Probe(
            "token: another secret",
            "GET",
            "/me",
            headers={
                "Authorization": "Bearer " + _token(app, "not our secret, but long enough to sign")
            },
            allowed=(401,),
        ),
        Probe(
            "token: expired",
            "GET",
            "/me",
            headers={"Authorization": "Bearer " + _token(app, TOKEN_SECRET, expired=True)},
            allowed=(401,),
        ),
        Probe(
            "token: alg none",
            "GET",
            "/me",
            headers={"Authorization": "Bearer " + _none_token(app)},
            allowed=(401,),
        ),
        Probe(
            f"withdraw another's entry {eid}",
            "POST",
            f"/entries/{eid}/withdraw",
            "bob",
            allowed=(403,),
        ),
    ]
    return probes


def _token(app: Seeded, secret: str, expired: bool = False) -> str:
    now = int(time.time())
    claims = {
        "sub": app.user_ids["ann"],
        "iat": now - 7200,
        "exp": now - 3600 if expired else now + 3600,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def _none_token(app: Seeded) -> str:
    now = int(time.time())
    claims = {"sub": app.user_ids["ann"], "iat": now, "exp": now + 3600}
    return jwt.encode(claims, None, algorithm="none")


def limits(app: Seeded, report: CampaignReport) -> None:
    probes = limit_probes(app)
    for probe in probes:
        before = app.rows()
        headers = {**app.headers.get(probe.caller, {}), **(probe.headers or {})}
        if probe.body is not None and "Content-Type" not in headers:
            headers["Content-Type"] = "application/json"
        if probe.method == "POST" and "/entries" in probe.path and "Idempotency-Key" not in headers:
            headers["Idempotency-Key"] = f"limit-{len(probe.name)}-{hash(probe.name) & 0xFFFF}"
        try:
            response = app.client.request(
                probe.method, probe.path, content=probe.body, headers=headers
            )
        except httpx.HTTPError as error:
            report.problems.append(f"limit {probe.name}: no answer ({error!r})")
            continue
        status = response.status_code
        report.check(status < 500, f"limit {probe.name}: {status} {response.text[:200]}")
        report.check(
            status in probe.allowed,
            f"limit {probe.name}: {status}, expected one of {probe.allowed}: {response.text[:200]}",
        )
        if status >= 400:
            report.check(
                response.headers.get("content-type", "").startswith("application/problem+json")
                or status in (413,),
                f"limit {probe.name}: {status} answered as {response.headers.get('content-type')}",
            )
        if status >= 400 or probe.method == "GET":
            after = app.rows()
            report.check(
                after == before,
                f"limit {probe.name}: {status}, yet rows changed: {_difference(before, after)}",
            )
    report.figures["limits: hostile requests"] = len(probes)
    report.fault("hostile requests at the limits", len(probes))


def _difference(before: dict[str, int], after: dict[str, int]) -> dict[str, tuple[int, int]]:
    return {k: (before[k], after[k]) for k in before if before[k] != after.get(k)}


# ---- the campaign ---------------------------------------------------------------------------


class _ServerErrors(logging.Handler):
    """Counts what the app logged as unhandled (the 500 catch-all)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def run_campaign(
    config: HostileConfig,
    postgres_url: str | None,
    workdir: Path,
    mode: str = "short",
    parts: tuple[str, ...] = ("fuzz", "matrix", "limits"),
) -> CampaignReport:
    report = CampaignReport("hostile_input", "Hostile input", mode=mode)
    report.checked = [
        "schemathesis (anonymous, player, operator): no 5xx; statuses, content types, headers "
        "and bodies as the OpenAPI document says; negative data refused",
        "authorisation matrix: every documented route x anonymous / player / another player / "
        "operator answers as expected; a refused call writes nothing",
        "hostile ids, pagination, amounts, stat values, duplicated JSON keys, NUL, deep "
        "nesting, oversized bodies, bad tokens: a 4xx problem, never a 5xx, not one row written",
    ]
    started = time.monotonic()
    errors = _ServerErrors()
    logging.getLogger("fantasy").addHandler(errors)
    steps: dict[str, Callable[[Seeded], None]] = {
        "fuzz": lambda app: fuzz(config, app, workdir, report),
        "matrix": lambda app: authorization_matrix(app, report),
        "limits": lambda app: limits(app, report),
    }
    try:
        for part in parts:
            # A fresh app and database for each part: each starts from the same seed.
            with seeded_app(postgres_url, workdir) as app:
                steps[part](app)
            report.runs += 1
    finally:
        logging.getLogger("fantasy").removeHandler(errors)
    report.check(
        not errors.messages, f"the app logged {len(errors.messages)} errors: {errors.messages[:3]}"
    )
    report.figures["store"] = "PostgreSQL" if postgres_url else "SQLite"
    report.figures["unhandled errors logged"] = len(errors.messages)
    report.seconds = round(time.monotonic() - started, 1)
    f = report.figures
    report.summary = (
        f"{f.get('fuzzing: requests generated', 0):,} schemathesis requests over "
        f"{f.get('fuzzing: operations', 0)} operations x {len(config.roles)} roles, "
        f"{f.get('authorisation matrix: calls', 0)} authorisation calls, "
        f"{f.get('limits: hostile requests', 0)} hostile requests at the limits "
        f"({f['store']}): {len(report.problems)} problems, 0 rows written by a refused request"
        if report.ok
        else f"{len(report.problems)} problems"
    )
    return report
