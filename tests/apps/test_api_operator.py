"""Operator routes: contests from templates, cancellation, alerts, audit, corrections, ledger."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest
from api_support import Api, Headers, assert_problem

from adapters.alerts import CollectedAlerts
from adapters.sqlalchemy import SqlDatabase, make_engine
from apps.templates import TEMPLATES
from fantasy_core.stats import GameStatus
from fantasy_core.usecases.payment_events import set_payout_account
from support.sql_world import SqlWorld
from support.world import LOCK, SLATE, snapshot


def test_an_operator_creates_a_contest_from_a_template_locking_at_the_first_kickoff(
    api: Api,
) -> None:
    response = api.client.post(
        "/operator/contests",
        json={"template": "double_up", "slate_id": SLATE, "name": "Sunday double"},
        headers=api.operator,
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["name"], body["state"], body["capacity"]) == ("Sunday double", "SCHEDULED", 20)
    assert body["lock_at"] == LOCK.isoformat().replace("+00:00", "Z")


def test_an_operator_creates_a_fixed_prize_contest_whose_guarantee_is_its_prize_table(
    api: Api,
) -> None:
    response = api.client.post(
        "/operator/contests",
        json={"template": "fixed_prizes", "slate_id": SLATE},
        headers=api.operator,
    )
    assert response.status_code == 201
    detail = api.client.get(f"/contests/{response.json()['contest_id']}").json()
    assert detail["payout"] == {
        "kind": "fixed_table",
        "currency": "usd",
        "tiers": [[1, 1, 6_000], [2, 3, 2_000], [4, 10, 500]],
    }
    assert detail["guaranteed_pool_minor"] == 13_500


def test_operators_see_the_template_catalogue_players_do_not(api: Api) -> None:
    listed = api.client.get("/operator/templates", headers=api.operator).json()
    assert [t["key"] for t in listed] == sorted(TEMPLATES)
    tournament = next(t for t in listed if t["key"] == "tournament")
    assert (tournament["entry_fee_minor"], tournament["capacity"]) == (300, 100)
    assert (tournament["max_entries_per_player"], tournament["guaranteed_pool_minor"]) == (
        3,
        25_000,
    )
    assert tournament["payout"]["kind"] == "rank_table"
    assert tournament["correction_window_seconds"] == 3600
    assert tournament["roster"]["salary_cap"] == 50_000
    assert tournament["scoring_fingerprint"].startswith("sha256:")
    ann = api.player("ann")
    assert_problem(api.client.get("/operator/templates", headers=ann), 403, "forbidden")


def test_creation_refusals(api: Api) -> None:
    def create(body: dict[str, object]) -> object:
        return api.client.post("/operator/contests", json=body, headers=api.operator)

    assert_problem(create({"template": "nope", "slate_id": SLATE}), 404, "unknown-template")
    assert_problem(create({"template": "double_up", "slate_id": "nope"}), 404, "unknown-slate")
    past = {"template": "double_up", "slate_id": SLATE, "lock_at": "2020-01-01T00:00:00Z"}
    assert_problem(create(past), 409, "action-refused")
    naive = {"template": "double_up", "slate_id": SLATE, "lock_at": "2030-01-01T00:00:00"}
    assert_problem(create(naive), 400, "malformed")


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("Sunday \u202edouble", "bidi_control"),
        ("Sunday\ndouble", "control_character"),
        ("Sunday\u200bdouble", "invisible_character"),
    ],
)
def test_a_contest_name_a_reader_cannot_see_as_it_is_is_a_422_naming_the_field(
    api: Api, name: str, rule: str
) -> None:
    response = api.client.post(
        "/operator/contests",
        json={"template": "double_up", "slate_id": SLATE, "name": name},
        headers=api.operator,
    )
    problem = assert_problem(response, 422, "invalid-text")
    assert (problem["field"], problem["rule"]) == ("name", rule)
    assert problem["detail"].startswith("name holds U+")
    assert api.client.get("/contests").json() == []


def test_cancelling_refunds_every_paid_entry_and_is_refused_after_settlement(api: Api) -> None:
    contest = api.contest("double_up")
    for n in range(3):
        assert api.join(contest, api.player(f"p{n}"), variant=n).status_code == 201
    url = f"/operator/contests/{contest}/cancel"
    assert_problem(
        api.client.post(url, json={"reason": ""}, headers=api.operator), 400, "malformed"
    )
    response = api.client.post(url, json={"reason": "feed outage"}, headers=api.operator)
    assert response.json() == {"contest_id": contest, "state": "CANCELLED", "refunds_owed": 3}
    assert len(api.world.gateway.refunds) == 3
    paid = api.contest("head_to_head")
    for n in range(2):
        api.join(paid, api.player(f"q{n}"), variant=n)
    api.world.play_games()
    refused = api.client.post(
        f"/operator/contests/{paid}/cancel", json={"reason": "too late"}, headers=api.operator
    )
    assert_problem(refused, 409, "action-refused")
    assert_problem(
        api.client.post(
            "/operator/contests/contest-404/cancel",
            json={"reason": "why not"},
            headers=api.operator,
        ),
        404,
        "unknown-contest",
    )


def test_a_contest_whose_results_can_be_seen_cannot_be_cancelled(api: Api) -> None:
    contest = api.contest("head_to_head")
    for n in range(2):
        assert api.join(contest, api.player(f"p{n}"), variant=n).status_code == 201
    world = api.world
    world.clock.set(LOCK)
    world.run()
    world.feed.publish(snapshot(GameStatus.FINAL, 2))
    world.clock.advance(timedelta(hours=4))
    world.run()
    assert api.client.get(f"/contests/{contest}").json()["state"] == "COMPLETE"
    refused = api.client.post(
        f"/operator/contests/{contest}/cancel", json={"reason": "glitch"}, headers=api.operator
    )
    problem = assert_problem(refused, 409, "action-refused")
    assert "runs to PAID" in problem["detail"]
    assert len(world.gateway.refunds) == 0


def refuse_account(api: Api, headers: Headers) -> None:
    """The player has an account the gateway refuses transfers to."""
    user = api.user_id(headers)
    set_payout_account(api.world.p, user, f"acct_{user}")
    api.world.gateway.disabled_accounts.add(f"acct_{user}")


def test_alerts_are_listed_and_acknowledged(api: Api) -> None:
    contest = api.contest("head_to_head")
    for n in range(2):  # the gateway refuses both players' accounts: the winner's payout too
        player = api.player(f"p{n}")
        api.join(contest, player, variant=n)
        refuse_account(api, player)
    api.world.play_games()
    listed = api.client.get("/operator/alerts", headers=api.operator).json()
    assert len(listed) == 1
    assert listed[0]["key"].startswith("payout-rejected-")
    assert listed[0]["contest_id"] == contest
    key = listed[0]["key"]
    ack = api.client.post(f"/operator/alerts/{key}/acknowledge", headers=api.operator)
    assert ack.status_code == 200
    assert ack.json()["acknowledged_by"]
    open_only = api.client.get("/operator/alerts", params={"open_only": True}, headers=api.operator)
    assert open_only.json() == []
    assert_problem(
        api.client.post("/operator/alerts/none/acknowledge", headers=api.operator),
        404,
        "not-found",
    )
    assert key in api.world.alerts.raised_keys()  # still forwarded to the platform's own sink


def test_a_paid_prize_resolves_its_alert_and_an_operator_resolves_by_hand(api: Api) -> None:
    contest = api.contest("head_to_head")
    players = [api.player(f"p{n}") for n in range(2)]
    for n, headers in enumerate(players):
        api.join(contest, headers, variant=n)
        refuse_account(api, headers)
    api.world.play_games()  # the gateway refuses the winner's account: refused and alerted
    [alert] = api.client.get("/operator/alerts", headers=api.operator).json()
    assert alert["state"] == "open"
    api.world.gateway.disabled_accounts.clear()  # the accounts are fixed at the gateway
    api.world.clock.advance(timedelta(hours=2))  # past the payout's retry time
    api.world.run()
    [alert] = api.client.get("/operator/alerts", headers=api.operator).json()
    assert (alert["state"], alert["resolved_by"]) == ("resolved", "system")
    assert (
        api.client.get("/operator/alerts", params={"open_only": True}, headers=api.operator).json()
        == []
    )

    api.world.p.alert("by-hand", "look at this")
    resolved = api.client.post("/operator/alerts/by-hand/resolve", headers=api.operator)
    assert resolved.status_code == 200
    assert resolved.json()["state"] == "resolved"
    assert resolved.json()["resolved_by"] == api.user_id(api.operator)
    assert_problem(
        api.client.post("/operator/alerts/by-hand/acknowledge", headers=api.operator),
        409,
        "action-refused",
    )
    api.world.p.alert("by-hand", "again")
    listed = api.client.get(
        "/operator/alerts", params={"status": "open"}, headers=api.operator
    ).json()
    assert [(a["key"], a["incident"]) for a in listed] == [("by-hand", 2)]


@pytest.mark.world_stores("sqlite")  # processes share alerts through a database
def test_an_alert_raised_by_another_process_is_on_the_board(api: Api) -> None:
    """The worker is another process: it shares the database, nothing in memory."""
    assert isinstance(api.world, SqlWorld)
    other = SqlDatabase(make_engine(api.world.engine.url))
    try:
        worker = attrs.evolve(api.world.p, uow=other.unit_of_work, alerts=CollectedAlerts())
        worker.alert("feed-down-x", "the feed refused", critical=True)
    finally:
        other.engine.dispose()
    [alert] = api.client.get("/operator/alerts", headers=api.operator).json()
    assert (alert["key"], alert["severity"], alert["count"]) == ("feed-down-x", "critical", 1)


def test_audit_trails_of_a_contest_and_of_a_player(api: Api) -> None:
    contest = api.contest("double_up")
    ann = api.player("ann")
    api.join(contest, ann)
    trail = api.client.get(f"/operator/contests/{contest}/audit", headers=api.operator).json()
    assert [r["action"] for r in trail] == ["contest.created", "join.reserved", "join.accepted"]
    mine = api.client.get(
        f"/operator/players/{api.user_id(ann)}/audit", headers=api.operator
    ).json()
    assert [r["action"] for r in mine] == ["player.registered", "join.reserved", "join.accepted"]
    assert_problem(
        api.client.get("/operator/contests/contest-404/audit", headers=api.operator),
        404,
        "unknown-contest",
    )


def test_a_stat_correction_names_the_affected_contests(api: Api) -> None:
    contest = api.contest("double_up")
    body = {
        "slate_id": SLATE,
        "player_id": "KC-QB0",
        "stat": "passing_yards",
        "value": "301",
        "reason": "official scorer change",
    }
    response = api.client.post("/operator/stats/corrections", json=body, headers=api.operator)
    assert response.status_code == 201
    assert response.json() == {"affected_contests": [contest]}
    bad = api.client.post(
        "/operator/stats/corrections", json={**body, "value": "lots"}, headers=api.operator
    )
    assert_problem(bad, 422, "invalid-correction")
    assert bad.json()["rule"] == "not_a_number"


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"stat": "bogus_stat"}, "unknown_stat"),
        ({"value": "1e308"}, "value_out_of_range"),
        ({"value": "abc"}, "not_a_number"),
        ({"stat": "passing_tds", "value": "-1"}, "negative_count"),
        ({"stat": "passing_tds", "value": "1.5"}, "non_integer_count"),
        ({"player_id": "NOBODY"}, "unknown_player"),
        ({"slate_id": "no-such-slate"}, "unknown_slate"),
    ],
)
def test_a_stat_correction_provider_data_could_not_carry_is_a_422_naming_the_rule(
    api: Api, change: dict[str, str], rule: str
) -> None:
    contest = api.contest("double_up")
    body = {
        "slate_id": SLATE,
        "player_id": "KC-QB0",
        "stat": "passing_yards",
        "value": "301",
        "reason": "official scorer change",
        **change,
    }
    response = api.client.post("/operator/stats/corrections", json=body, headers=api.operator)
    assert_problem(response, 422, "invalid-correction")
    assert response.json()["rule"] == rule
    trail = api.client.get(f"/operator/contests/{contest}/audit", headers=api.operator).json()
    assert not [r for r in trail if r["action"] == "stats.corrected"]


def test_the_ledger_verifies(api: Api) -> None:
    contest = api.contest("head_to_head")
    for n in range(2):
        player = api.player(f"p{n}")
        api.client.put("/me/payout-account", json={"account_id": f"acct_{n}"}, headers=player)
        api.join(contest, player, variant=n)
    api.world.play_games()
    ledger = api.client.get("/operator/ledger", headers=api.operator).json()
    assert ledger["ok"]
    assert ledger["unbalanced"] == []
    assert [c["contest_id"] for c in ledger["closed_contests"]] == [contest]


def test_health_and_readiness_are_public(api: Api) -> None:
    assert api.client.get("/health").json() == {"status": "ok", "checks": {}}
    ready = api.client.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {
        "database": "ok",
        "feed": "ok",
        "gateway": "ok",
        "gateway_kind": "sandbox",
    }


def test_readiness_is_503_while_the_payment_gateway_cannot_be_reached(api: Api) -> None:
    api.world.gateway.unavailable = True
    ready = api.client.get("/ready")
    assert ready.status_code == 503
    assert ready.json()["checks"]["gateway"] == "failed"
    api.world.gateway.unavailable = False
    assert api.client.get("/ready").status_code == 200


def test_readiness_is_503_while_the_gateway_refuses_the_platforms_key(api: Api) -> None:
    api.world.gateway.auth_broken = True
    ready = api.client.get("/ready")
    assert ready.status_code == 503
    assert ready.json()["checks"]["gateway"] == "failed"


def test_operators_see_why_a_dependency_failed_and_players_may_not(api: Api) -> None:
    healthy = api.client.get("/operator/health", headers=api.operator)
    assert healthy.status_code == 200
    assert healthy.json() == {
        "status": "ok",
        "checks": {"database": "ok", "feed": "ok", "gateway": "ok", "gateway_kind": "sandbox"},
    }
    api.world.gateway.unavailable = True
    report = api.client.get("/operator/health", headers=api.operator).json()
    assert report["status"] == "unavailable"
    assert report["checks"]["gateway"].startswith("failed: GatewayUnavailable: sandbox:")
    assert api.client.get("/ready").json()["checks"]["gateway"] == "failed"  # no reason
    api.world.gateway.unavailable = False
    assert api.client.get("/operator/health", headers=api.player("pat")).status_code == 403
    assert api.client.get("/operator/health").status_code == 401
