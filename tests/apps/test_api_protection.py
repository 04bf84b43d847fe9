"""Player protection over HTTP: each refusal is a 4xx problem of its own type, and none of
them charges anything (counted on the gateway's side); the limits and breaks from play."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import attrs
from api_support import BORN, PASSWORD, Api, assert_problem

from apps.api.state import SERVICES
from fantasy_core.accounts import Role
from fantasy_core.money import Money
from fantasy_core.payouts import winner_take_all
from support.world import LOCK, lineup


def charges(api: Api) -> int:
    return sum(1 for call, _ in api.world.gateway.calls if call == "charge")


def join(api: Api, contest: str, headers: dict[str, str], key: str, **extra: Any) -> Any:
    picks = [{"slot": s, "player_id": p} for s, p in lineup(0).picks]
    return api.client.post(
        f"/contests/{contest}/entries",
        json={"lineup": picks, "payment_method": "pm_card_visa", **extra},
        headers={**headers, "Idempotency-Key": key},
    )


def test_an_under_age_registration_is_a_403_age_problem_and_makes_no_account(api: Api) -> None:
    today = api.world.clock.now().date()
    twenty = today.replace(year=today.year - 20).isoformat()
    body = {"email": "kid@example.com", "password": PASSWORD, "date_of_birth": twenty}
    problem = assert_problem(
        api.client.post("/auth/register", json={**body, "jurisdiction": "MA"}), 403, "age"
    )
    assert "21" in problem["detail"]
    login = {"email": "kid@example.com", "password": PASSWORD}
    assert api.client.post("/auth/login", json=login).status_code == 401
    # Twenty is old enough in New Jersey.
    registered = api.client.post("/auth/register", json={**body, "jurisdiction": "NJ"})
    assert registered.status_code == 201, registered.text


def test_registration_needs_a_state_code_and_a_real_date_of_birth(api: Api) -> None:
    body = {"email": "ann@example.com", "password": PASSWORD}
    assert_problem(api.client.post("/auth/register", json=body), 400, "malformed")
    wrong = {**body, "date_of_birth": "1990-01-01", "jurisdiction": "XX"}
    problem = assert_problem(
        api.client.post("/auth/register", json=wrong), 422, "protection-request-refused"
    )
    assert problem["rule"] == "bad_jurisdiction"


def test_one_mailbox_one_account(api: Api) -> None:
    first = {"email": "ann.smith@gmail.com", "password": PASSWORD, **BORN}
    assert api.client.post("/auth/register", json=first).status_code == 201
    again = {**first, "email": "annsmith+fantasy@gmail.com"}
    problem = assert_problem(api.client.post("/auth/register", json=again), 409, "identity-taken")
    assert problem["field"] == "email"


def test_a_join_from_an_excluded_jurisdiction_is_a_403_and_charges_nothing(api: Api) -> None:
    contest = api.contest("fifty_fifty")
    ann = api.player("ann")
    problem = assert_problem(join(api, contest, ann, "k1", location="NV"), 403, "jurisdiction")
    assert "NV" in problem["detail"]
    assert charges(api) == 0
    assert join(api, contest, ann, "k2", location="NJ").status_code == 201


def test_a_join_over_a_limit_is_a_409_naming_the_limit_and_charges_nothing(api: Api) -> None:
    first, second = api.contest("fifty_fifty"), api.contest("fifty_fifty")
    ann = api.player("ann")
    limits = api.client.put("/me/limits", json={"fees_day": 1_500}, headers=ann)
    assert limits.status_code == 200, limits.text
    assert join(api, first, ann, "k1").status_code == 201
    problem = assert_problem(join(api, second, ann, "k2"), 409, "limit")
    assert (problem["limit"], problem["left"]) == ("fees_day", 500)
    assert problem["resets_at"].startswith("2025-09-08T00:00:00")
    assert charges(api) == 1
    shown = api.client.get("/me/limits", headers=ann).json()["limits"]
    day = next(limit for limit in shown if limit["limit"] == "fees_day")
    assert (day["value"], day["used"], day["left"]) == (1_500, 1_000, 500)


def test_loosening_a_limit_shows_when_it_takes_effect(api: Api) -> None:
    ann = api.player("ann")
    api.client.put("/me/limits", json={"fees_week": 5_000}, headers=ann)
    answer = api.client.put("/me/limits", json={"fees_week": None}, headers=ann).json()
    week = next(limit for limit in answer["limits"] if limit["limit"] == "fees_week")
    assert week["value"] == 5_000
    in_ninety_days = api.world.clock.now() + timedelta(days=90)
    assert week["pending"]["value"] is None
    assert week["pending"]["effective_at"].startswith(in_ninety_days.isoformat()[:19])


def test_a_self_excluded_player_is_refunded_and_refused_with_a_403(api: Api) -> None:
    contest, other = api.contest("fifty_fifty"), api.contest("fifty_fifty")
    ann = api.player("ann")
    entry = join(api, contest, ann, "k1").json()["entry_id"]
    excluded = api.client.post("/me/self-exclusion", json={"term": "1y"}, headers=ann)
    assert excluded.status_code == 200, excluded.text
    assert excluded.json()["kind"] == "self_exclusion"
    assert api.client.get(f"/entries/{entry}", headers=ann).json()["status"] == "withdrawn"
    assert len(api.world.gateway.refunds) == 1
    problem = assert_problem(join(api, other, ann, "k2"), 403, "self-excluded")
    assert problem["until"].startswith("2026-09-07")
    assert charges(api) == 1  # the first join's only
    shorter = api.client.post("/me/cool-off", json={"hours": 72}, headers=ann)
    assert assert_problem(shorter, 422, "protection-request-refused")["rule"] == "cannot_shorten"


def test_a_cool_off_outside_72_hours_to_30_days_is_refused(api: Api) -> None:
    ann = api.player("ann")
    assert api.client.post("/me/cool-off", json={"hours": 71}, headers=ann).status_code == 400
    cooled = api.client.post("/me/cool-off", json={"hours": 72}, headers=ann)
    assert cooled.status_code == 200, cooled.text
    contest = api.contest("fifty_fifty")
    assert_problem(join(api, contest, ann, "k1"), 403, "cool-off")
    assert charges(api) == 0


def test_a_bulk_join_obeys_the_weekly_entry_limit(api: Api) -> None:
    contest = api.contest("tournament")
    ann = api.player("ann")
    api.client.put("/me/limits", json={"entries_week": 1}, headers=ann)
    picks = [[{"slot": s, "player_id": p} for s, p in lineup(n).picks] for n in range(2)]
    body = {"entries": [{"lineup": p, "payment_method": "pm_card_visa"} for p in picks]}
    answer = api.client.post(
        f"/contests/{contest}/entries/bulk", json=body, headers={**ann, "Idempotency-Key": "b"}
    )
    assert answer.status_code == 200, answer.text
    statuses = [item["status"] for item in answer.json()["results"]]
    assert statuses == [201, 409]
    assert answer.json()["results"][1]["problem"]["type"] == "/problems/limit"
    assert charges(api) == 1


def test_a_veteran_joining_a_beginner_contest_is_a_403_and_charges_nothing(api: Api) -> None:
    beginners = api.contest("beginners_double_up")
    assert api.client.get(f"/contests/{beginners}").json()["fair_play"] == "beginners"
    vet = api.player("vet")
    vet_id = api.user_id(vet)
    for n in range(50):  # fifty paid contests entered
        api.world.join(api.world.create(capacity=2, min_entries=1), vet_id, key=f"v{n}")
    before = charges(api)
    assert_problem(join(api, beginners, vet, "k1"), 403, "beginner-only")
    assert charges(api) == before
    rookie = api.player("rookie")
    assert join(api, beginners, rookie, "k1").status_code == 201


def test_the_leaderboard_and_the_profile_show_the_highly_experienced(api: Api) -> None:
    contest = api.contest("tournament")  # one entry is enough for it to run
    shark = api.player("shark")
    shark_id = api.user_id(shark)
    assert join(api, contest, shark, "k1").status_code == 201
    with api.world.p.uow() as uow:
        profile = uow.players.lock(shark_id)
        assert profile is not None
        uow.players.save(attrs.evolve(profile, highly_experienced_since=api.world.clock.now()))
        uow.commit()
    assert api.client.get("/me", headers=shark).json()["highly_experienced"] is True
    api.world.clock.set(LOCK)
    api.world.run()
    rows = api.client.get(f"/contests/{contest}/leaderboard").json()["rows"]
    assert [row["highly_experienced"] for row in rows] == [True]


def test_a_w9_answer_shows_only_the_last_four_digits(api: Api) -> None:
    ann = api.player("ann")
    body = {
        "legal_name": "Ann Smith",
        "address": "1 Main St, Newark NJ",
        "taxpayer_id": "123-45-6789",
    }
    answer = api.client.put("/me/tax-details", json=body, headers=ann)
    assert answer.status_code == 200, answer.text
    assert answer.json()["taxpayer_id_last4"] == "6789"
    assert "12345" not in answer.text
    assert "12345" not in api.client.get("/me", headers=ann).text
    bad = {**body, "taxpayer_id": "000-00-0000"}
    problem = assert_problem(
        api.client.put("/me/tax-details", json=bad, headers=ann), 422, "protection-request-refused"
    )
    assert problem["rule"] == "bad_taxpayer_id"
    assert "000" not in problem["detail"]


def test_an_account_older_than_the_protection_gives_its_details_before_paid_play(
    api: Api,
) -> None:
    services = api.client.app.state[SERVICES]
    now = api.world.clock.now()
    services.accounts.register("user-old", "old@example.com", PASSWORD, Role.PLAYER, now)
    old = api.login("old@example.com")
    contest = api.contest("fifty_fifty")
    assert_problem(join(api, contest, old, "k1"), 403, "profile-incomplete")
    details = {"date_of_birth": "1990-05-17", "jurisdiction": "NJ"}
    completed = api.client.put("/me/profile", json=details, headers=old)
    assert completed.status_code == 200, completed.text
    assert completed.json()["jurisdiction"] == "NJ"
    assert join(api, contest, old, "k2").status_code == 201
    again = api.client.put("/me/profile", json={**details, "jurisdiction": "NY"}, headers=old)
    assert_problem(again, 409, "profile-exists")
    assert charges(api) == 1


def test_the_monthly_fair_play_figures_are_published_without_a_token(api: Api) -> None:
    """Four players at $500, winner take all, in September 2025: nets +$1,300 (the prize,
    its tax withholding included, less the fee) and -$500 three times; the winner is
    highly experienced, so all the prizes went to the highly experienced."""
    players = [api.user_id(api.player(name)) for name in ("ann", "bob", "cat", "dan")]
    contest = api.world.create(entry_fee=Money(50_000, "usd"), payout=winner_take_all(), capacity=4)
    for n, user_id in enumerate(players):
        api.world.give_account(user_id)
        assert api.world.join(contest, user_id, key=f"k{n}", variant=n).accepted
    api.world.play_games()
    with api.world.p.uow() as uow:
        (prize,) = uow.payouts.for_contest(contest.contest_id)
        profile = uow.players.lock(prize.user_id)
        assert profile is not None
        uow.players.save(attrs.evolve(profile, highly_experienced_since=api.world.clock.now()))
        uow.commit()
    answer = api.client.get("/fair-play/2025-09")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "month": "2025-09",
        "complete": False,  # the world's clock is in September 2025
        "players": 4,
        "prizes_minor": 180_000,
        "median_net_minor": -50_000,
        "median_net_exact": "-50000",
        "mean_net_minor": -5_000,
        "mean_net_exact": "-5000",
        "highly_experienced_share": "1",
        "highly_experienced_percent": "100.0",
    }
    empty = api.client.get("/fair-play/2025-08").json()
    assert (empty["players"], empty["complete"], empty["highly_experienced_share"]) == (
        0,
        True,
        "0",
    )
    page = api.client.get("/web/fair-play/2025-09")
    assert page.status_code == 200
    assert "100.0% of the prizes" in page.text
    assert "-$500.00" in page.text
    latest = api.client.get("/web/fair-play", follow_redirects=False)
    assert latest.headers["location"] == "/web/fair-play/2025-08"
    for bad in ("2025-13", "25-09", "2025-9", "\uff11\uff19\uff19\uff19-01", "2025-09-01"):
        assert_problem(api.client.get(f"/fair-play/{bad}"), 400, "malformed")
    assert_problem(api.client.get("/fair-play/2025-10"), 404, "not-found")


def test_a_login_during_a_break_says_so_and_its_token_enters_no_contest(api: Api) -> None:
    """Issue 16: during a cool-off or self-exclusion, no login that can enter contests. The
    login answers with the break and its end; its token is refused by every route that
    enters or plays a contest, with the break's own problem, and charges nothing; it still
    reads entries and payouts and gives tax details (decision 0043)."""
    contest, other = api.contest("fifty_fifty"), api.contest("tournament")
    ann = api.player("ann")
    entry = join(api, contest, ann, "k1").json()["entry_id"]
    before = api.client.post("/auth/login", json={"email": "ann@example.com", "password": PASSWORD})
    assert (before.json()["break_from_play"], before.json()["can_enter_contests"]) == (None, True)
    assert api.client.post("/me/cool-off", json={"hours": 72}, headers=ann).status_code == 200
    answer = api.client.post("/auth/login", json={"email": "ann@example.com", "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["can_enter_contests"] is False
    assert body["break_from_play"]["kind"] == "cool_off"
    until = datetime.fromisoformat(body["break_from_play"]["until"])
    assert until == api.world.clock.now() + timedelta(hours=72)
    token = {"Authorization": f"Bearer {body['access_token']}"}
    charged = charges(api)
    # Every route that enters or plays a contest: the break's own problem, with its end.
    refused = assert_problem(join(api, other, token, "k2"), 403, "cool-off")
    assert datetime.fromisoformat(refused["until"]) == until
    picks = [{"slot": s, "player_id": p} for s, p in lineup(1).picks]
    bulk = api.client.post(
        f"/contests/{other}/entries/bulk",
        json={"entries": [{"lineup": picks, "payment_method": "pm_card_visa"}]},
        headers={**token, "Idempotency-Key": "b"},
    )
    assert bulk.status_code == 200, bulk.text
    (item,) = bulk.json()["results"]
    assert (item["status"], item["problem"]["type"]) == (403, "/problems/cool-off")
    edit = api.client.put(f"/entries/{entry}/lineup", json={"lineup": picks}, headers=token)
    assert datetime.fromisoformat(assert_problem(edit, 403, "cool-off")["until"]) == until
    assert charges(api) == charged
    # What the player may still do: read, see prizes, give a W-9.
    assert api.client.get(f"/entries/{entry}", headers=token).json()["status"] == "withdrawn"
    assert api.client.get("/me/entries", headers=token).status_code == 200
    assert api.client.get("/me/payouts", headers=token).status_code == 200
    assert api.client.get("/me/payments", headers=token).status_code == 200
    w9 = {"legal_name": "Ann Smith", "address": "1 Main St", "taxpayer_id": "123-45-6789"}
    assert api.client.put("/me/tax-details", json=w9, headers=token).status_code == 200
    # A self-exclusion lengthens the break: the login says so, permanent has no end.
    excluding = api.client.post("/me/self-exclusion", json={"term": "permanent"}, headers=token)
    assert excluding.status_code == 200, excluding.text
    excluded = api.client.post(
        "/auth/login", json={"email": "ann@example.com", "password": PASSWORD}
    )
    assert excluded.json()["break_from_play"]["kind"] == "self_exclusion"
    assert excluded.json()["break_from_play"]["until"] is None
    token = {"Authorization": f"Bearer {excluded.json()['access_token']}"}
    problem = assert_problem(join(api, other, token, "k3"), 403, "self-excluded")
    assert problem["until"] is None
