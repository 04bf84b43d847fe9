"""Accounts over HTTP: register, log in (rate limited), the profile and its payout account."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from api_support import BORN, PASSWORD, Api, api_settings, assert_problem, wire
from litestar import Litestar
from litestar.testing import TestClient

from apps.accounts import MIN_PASSWORD_LENGTH, default_display_name
from support.world import World, lineup


def test_register_then_log_in_gives_a_bearer_token_for_the_profile(api: Api) -> None:
    registered = api.client.post(
        "/auth/register", json={"email": "Ann@Example.com ", "password": PASSWORD, **BORN}
    )
    assert registered.status_code == 201
    assert registered.json()["email"] == "ann@example.com"
    headers = api.login("ann@example.com")
    profile = api.client.get("/me", headers=headers).json()
    user_id = registered.json()["user_id"]
    assert profile == {
        "user_id": user_id,
        "email": "ann@example.com",
        "display_name": default_display_name(user_id),
        "role": "player",
        "payout_account_id": None,
        "payouts_enabled": False,
        "jurisdiction": "NJ",
        "highly_experienced": False,
    }


def test_registration_refusals(api: Api) -> None:
    api.player("ann")
    body = assert_problem(
        api.client.post(
            "/auth/register", json={"email": "ann@example.com", "password": PASSWORD, **BORN}
        ),
        409,
        "email-taken",
    )
    assert body["reason"] == "email_taken"
    short = assert_problem(
        api.client.post(
            "/auth/register", json={"email": "bob@example.com", "password": "9 chars..", **BORN}
        ),
        400,
        "malformed",
    )
    assert short["errors"][0]["key"] == "password"
    assert "length >= 10" in short["errors"][0]["message"]
    assert_problem(
        api.client.post(
            "/auth/register", json={"email": "not an email", "password": PASSWORD, **BORN}
        ),
        422,
        "bad-email",
    )
    for body in ({"email": "x@example.com"}, {"email": 3, "password": PASSWORD}, []):
        assert_problem(api.client.post("/auth/register", json=body), 400, "malformed")


def test_a_wrong_password_and_an_unknown_email_are_the_same_401(api: Api) -> None:
    api.player("ann")
    wrong = api.client.post("/auth/login", json={"email": "ann@example.com", "password": "nope"})
    unknown = api.client.post("/auth/login", json={"email": "who@example.com", "password": "x"})
    assert_problem(wrong, 401, "login-failed")
    assert_problem(unknown, 401, "login-failed")
    assert wrong.json()["detail"] == unknown.json()["detail"]


def test_a_forged_or_missing_token_is_401(api: Api) -> None:
    headers = api.player("ann")
    forged = headers["Authorization"][:-4] + "AAAA"
    assert_problem(
        api.client.get("/me", headers={"Authorization": forged}), 401, "not-authenticated"
    )
    assert_problem(api.client.get("/me"), 401, "not-authenticated")


def test_the_payout_account_is_part_of_the_profile(api: Api) -> None:
    headers = api.player("ann")
    response = api.client.put(
        "/me/payout-account", json={"account_id": "acct_123"}, headers=headers
    )
    assert response.status_code == 200
    assert (response.json()["payout_account_id"], response.json()["payouts_enabled"]) == (
        "acct_123",
        True,
    )
    bad = api.client.put("/me/payout-account", json={"account_id": "bank 123"}, headers=headers)
    assert_problem(bad, 400, "malformed")


@pytest.fixture
def strict_client(world: World) -> Iterator[TestClient[Litestar]]:
    app = wire(world, api_settings(login_rate_per_minute=2, join_rate_per_minute=2))
    with TestClient(app) as client:
        yield client


def test_login_is_rate_limited_per_address(strict_client: TestClient[Litestar]) -> None:
    body = {"email": "who@example.com", "password": "wrong"}
    statuses = [strict_client.post("/auth/login", json=body).status_code for _ in range(3)]
    assert statuses == [401, 401, 429]
    limited = strict_client.post("/auth/login", json=body)
    assert_problem(limited, 429, "rate-limited")
    assert 1 <= int(limited.headers["Retry-After"]) <= 120  # the earlier minute fades
    # Other routes are not counted against the limit.
    assert strict_client.get("/contests").status_code == 200


def test_lineups_are_limited_per_player_with_a_retry_after(world: World) -> None:
    app = wire(world, api_settings(login_rate_per_minute=None, join_rate_per_minute=2))
    with TestClient(app) as client:
        _lineups_are_limited(client, Api(client, world))


def _lineups_are_limited(strict_client: TestClient[Litestar], api: Api) -> None:
    contest = api.contest("tournament")
    ann, bob = api.player("ann"), api.player("bob")
    statuses = [api.join(contest, ann, key=f"k{n}", variant=n).status_code for n in range(3)]
    assert statuses == [201, 201, 429]
    limited = api.join(contest, ann, key="k9", variant=3)
    problem = assert_problem(limited, 429, "rate-limited")
    assert "2 lineups a minute" in problem["detail"]
    assert 1 <= int(limited.headers["Retry-After"]) <= 120  # the earlier minute fades
    assert api.join(contest, bob, key="k1", variant=4).status_code == 201  # his own minute
    picks = [{"slot": s, "player_id": p} for s, p in lineup(5).picks]
    bulk = strict_client.post(
        f"/contests/{contest}/entries/bulk",
        json={"entries": [{"lineup": picks, "payment_method": "pm_card_visa"}] * 2},
        headers={**bob, "Idempotency-Key": "bulk"},
    )
    assert_problem(bulk, 429, "rate-limited")  # two lineups, one left this minute


def test_a_limit_set_off_refuses_nothing(world: World) -> None:
    app = wire(world, api_settings(login_rate_per_minute=None, join_rate_per_minute=None))
    with TestClient(app) as client:
        body = {"email": "who@example.com", "password": "wrong"}
        assert {client.post("/auth/login", json=body).status_code for _ in range(12)} == {401}


def test_the_schema_states_the_password_rule_the_accounts_enforce(api: Api) -> None:
    schema = api.client.get("/schema/openapi.json").json()
    body = schema["paths"]["/auth/register"]["post"]["requestBody"]["content"]
    name = body["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    password = schema["components"]["schemas"][name]["properties"]["password"]
    assert password["minLength"] == MIN_PASSWORD_LENGTH == 10
    assert "at least 10 characters" in password["description"]
    ten = api.client.post(
        "/auth/register", json={"email": "ten@example.com", "password": "x" * 10, **BORN}
    )
    assert ten.status_code == 201


# ---- display names ------------------------------------------------------------------------


def test_a_chosen_display_name_is_the_profiles_and_a_default_one_never_shows_the_email(
    api: Api,
) -> None:
    chosen = api.client.post(
        "/auth/register",
        json={
            "email": "ann.smith@bank.example",
            "password": PASSWORD,
            "display_name": " Ann ",
            **BORN,
        },
    )
    assert chosen.status_code == 201, chosen.text
    assert chosen.json()["display_name"] == "Ann"
    derived = api.client.post(
        "/auth/register", json={"email": "bob.jones@bank.example", "password": PASSWORD, **BORN}
    ).json()["display_name"]
    assert re.fullmatch(r"Player [2-9A-HJKMNP-Z]{6}", derived)
    assert "bob" not in derived.lower()


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("Ann\u202egnp.exe", "U+202E (RIGHT-TO-LEFT OVERRIDE)"),  # shows as "Annexe.png"
        ("Ann\u2066x\u2069", "U+2066 (LEFT-TO-RIGHT ISOLATE)"),
        ("Ann\nSmith", "U+000A"),
        ("Ann\u0007", "U+0007"),
        ("A\u200bnn", "U+200B (ZERO WIDTH SPACE)"),
        ("   ", "must not be empty"),
    ],
)
def test_a_display_name_a_reader_cannot_see_as_it_is_is_refused_naming_the_field(
    api: Api, name: str, said: str
) -> None:
    body = {"email": "ann@example.com", "password": PASSWORD, "display_name": name, **BORN}
    problem = assert_problem(api.client.post("/auth/register", json=body), 422, "bad-display-name")
    assert problem["field"] == "display_name"
    assert problem["detail"].startswith("display_name ")
    assert said in problem["detail"]


def test_names_of_every_script_and_emoji_are_welcome(api: Api) -> None:
    for n, name in enumerate(("José Álvarez", "김민준", "محمد", "👨‍👩‍👧 fan", "Zoë")):
        body = {"email": f"p{n}@example.com", "password": PASSWORD, "display_name": name, **BORN}
        response = api.client.post("/auth/register", json=body)
        assert response.status_code == 201, (name, response.text)
        assert response.json()["display_name"] == name


# ---- email addresses ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "email",
    [
        "ann\u202e@example.com",  # a right-to-left override
        "ann\u0007@example.com",  # a control character
        "a\u200bnn@example.com",  # a zero-width space
        "ann@example",  # no dot in the domain
        "ann@[127.0.0.1]",
        '"ann smith"@example.com',
        "ann@site.invalid",  # a special-use name, never deliverable
        "ann@@example.com",
    ],
)
def test_an_email_the_validator_refuses_is_a_422_saying_why(api: Api, email: str) -> None:
    body = {"email": email, "password": PASSWORD, **BORN}
    problem = assert_problem(api.client.post("/auth/register", json=body), 422, "bad-email")
    assert problem["field"] == "email"
    assert "is not an email address: " in problem["detail"]


def test_an_internationalised_address_registers_in_its_normal_form(api: Api) -> None:
    registered = api.client.post(
        "/auth/register", json={"email": "José@Bücher.example", "password": PASSWORD, **BORN}
    )
    assert registered.status_code == 201, registered.text
    assert registered.json()["email"] == "josé@bücher.example"
    api.login("JOSÉ@xn--bcher-kva.example")  # the same address, written otherwise


# ---- password change and logging out --------------------------------------------------------


def _change(api: Api, headers: dict[str, str], current: str, new: str) -> Any:
    return api.client.put(
        "/me/password",
        json={"current_password": current, "new_password": new},
        headers=headers,
    )


def test_a_password_change_revokes_every_earlier_token_and_answers_a_new_one(api: Api) -> None:
    phone = api.player("ann")
    laptop = api.login("ann@example.com")
    changed = _change(api, phone, PASSWORD, "a brand new passphrase")
    assert changed.status_code == 200, changed.text
    fresh = {"Authorization": f"Bearer {changed.json()['access_token']}"}
    for old in (phone, laptop):
        problem = assert_problem(api.client.get("/me", headers=old), 401, "not-authenticated")
        assert "revoked" in problem["detail"]
    assert api.client.get("/me", headers=fresh).status_code == 200
    assert_problem(
        api.client.post("/auth/login", json={"email": "ann@example.com", "password": PASSWORD}),
        401,
        "login-failed",
    )
    api.login("ann@example.com", "a brand new passphrase")


def test_a_password_change_needs_the_current_password_and_a_strong_new_one(api: Api) -> None:
    ann = api.player("ann")
    wrong = assert_problem(
        _change(api, ann, "not my password", "another passphrase"), 403, "wrong-password"
    )
    assert wrong["field"] == "current_password"
    short = assert_problem(_change(api, ann, PASSWORD, "short"), 400, "malformed")
    assert short["errors"][0]["key"] == "new_password"
    assert api.client.get("/me", headers=ann).status_code == 200  # nothing was revoked
    assert_problem(_change(api, {}, PASSWORD, "another passphrase"), 401, "not-authenticated")


def test_logging_out_revokes_this_token_only(api: Api) -> None:
    phone = api.player("ann")
    laptop = api.login("ann@example.com")
    assert api.client.post("/auth/logout", headers=phone).status_code == 204
    problem = assert_problem(api.client.get("/me", headers=phone), 401, "not-authenticated")
    assert "logged out" in problem["detail"]
    assert api.client.get("/me", headers=laptop).status_code == 200
    assert_problem(api.client.post("/auth/logout", headers=phone), 401, "not-authenticated")


def test_logging_out_everywhere_revokes_every_token(api: Api) -> None:
    phone = api.player("ann")
    laptop = api.login("ann@example.com")
    response = api.client.post("/auth/logout", params={"everywhere": "true"}, headers=phone)
    assert response.status_code == 204
    for headers in (phone, laptop):
        assert_problem(api.client.get("/me", headers=headers), 401, "not-authenticated")
    api.login("ann@example.com")  # the password still works
