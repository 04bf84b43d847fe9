"""What an operator's console reads: alerts filtered, the board of contests with their
deadlines, and the audit trail found by contest, player, payout or charge."""

from __future__ import annotations

from datetime import timedelta

from api_support import Api, assert_problem

from adapters.sandbox.gateway import REFUSING_ACCOUNT_PREFIX
from fantasy_core.usecases.payment_events import set_payout_account


def settled_with_a_refused_payout(api: Api) -> tuple[str, list[dict[str, str]]]:
    contest = api.contest("head_to_head")
    players = [api.player(f"p{n}") for n in range(2)]
    for n, headers in enumerate(players):
        assert api.join(contest, headers, variant=n).status_code == 201
        refusing = {"account_id": f"{REFUSING_ACCOUNT_PREFIX}{n}"}
        assert (
            api.client.put("/me/payout-account", json=refusing, headers=headers).status_code == 200
        )
    api.world.play_games()  # the gateway refuses every player's account: the payout too
    return contest, players


def test_alerts_filter_by_severity_and_contest(api: Api) -> None:
    p = api.world.p
    p.alert("a-warning", "look", contest_id="c1")
    p.alert("a-critical", "now", contest_id="c2", critical=True)
    p.alert("another-critical", "now too", critical=True)

    def keys(**params: str) -> list[str]:
        response = api.client.get("/operator/alerts", params=params, headers=api.operator)
        assert response.status_code == 200, response.text
        return [a["key"] for a in response.json()]

    assert keys(severity="critical") == ["a-critical", "another-critical"]
    assert keys(severity="warning") == ["a-warning"]
    assert keys(contest_id="c2") == ["a-critical"]
    assert keys(severity="warning", contest_id="c2") == []
    assert_problem(
        api.client.get("/operator/alerts", params={"severity": "dire"}, headers=api.operator),
        400,
        "malformed",
    )


def test_the_board_shows_each_contest_waiting_for_its_next_step_and_by_when(api: Api) -> None:
    settled, _ = settled_with_a_refused_payout(api)
    scheduled = api.contest("head_to_head", lock_at="2030-01-01T00:00:00Z")
    board = api.client.get("/operator/board", headers=api.operator).json()
    assert [(r["contest_id"], r["state"]) for r in board] == [
        (scheduled, "SCHEDULED"),
        (settled, "SETTLED"),
    ]
    upcoming, paying = board
    assert (upcoming["waiting_for"], upcoming["deadline"]) == ("locks", "2030-01-01T00:00:00Z")
    assert (upcoming["seats_taken"], upcoming["overdue"]) == (0, False)
    assert (paying["waiting_for"], paying["payouts_outstanding"]) == ("payouts confirmed", True)
    assert not paying["overdue"]
    only = api.client.get("/operator/board", params={"state": "SETTLED"}, headers=api.operator)
    assert [r["contest_id"] for r in only.json()] == [settled]


def test_payouts_that_stopped_moving_are_overdue_on_the_board(api: Api) -> None:
    settled, _ = settled_with_a_refused_payout(api)
    api.world.clock.advance(timedelta(hours=1))  # past the 30-minute default
    [row] = api.client.get("/operator/board", headers=api.operator).json()
    assert (row["contest_id"], row["overdue"]) == (settled, True)


def test_the_audit_is_found_by_contest_player_payout_and_charge(api: Api) -> None:
    contest, players = settled_with_a_refused_payout(api)

    def search(**params: str) -> list[dict[str, str]]:
        response = api.client.get("/operator/audit", params=params, headers=api.operator)
        assert response.status_code == 200, response.text
        body: list[dict[str, str]] = response.json()
        return body

    by_contest = search(contest_id=contest)
    assert {"contest.created", "join.accepted", "contest.settled", "payout.failed"} <= {
        r["action"] for r in by_contest
    }
    user = api.user_id(players[0])
    assert all(r["actor"] == user for r in search(player_id=user))
    assert search(player_id=user)

    [refused] = api.client.get("/operator/alerts", headers=api.operator).json()
    fingerprint = refused["key"].removeprefix("payout-rejected-")
    of_payout = search(payout=fingerprint)
    actions = [r["action"] for r in of_payout]
    assert "payout.failed" in actions
    assert "alert.opened" in actions  # the alert about it, by its key
    with api.world.p.uow() as uow:
        entries = uow.entries.for_contest(contest)
        winner = uow.payouts.get(fingerprint)
    charge = next(e for e in entries if e.entry_id == winner.entry_id).charge_id
    assert charge is not None
    of_charge = search(charge_id=charge)
    assert {r["subject"] for r in of_charge} == {winner.entry_id}
    assert "join.accepted" in [r["action"] for r in of_charge]

    # The payout is paid: it is found by its transfer id too.
    for headers in players:
        uid = api.user_id(headers)
        set_payout_account(api.world.p, uid, f"acct_{uid}")
    api.world.clock.advance(timedelta(hours=2))
    api.world.run()
    with api.world.p.uow() as uow:
        transfer = uow.payouts.get(fingerprint).transfer_id
    assert transfer is not None
    assert "payout.confirmed" in [r["action"] for r in search(payout=transfer)]


def test_an_audit_search_takes_exactly_one_key_and_names_an_unknown_one(api: Api) -> None:
    for params in ({}, {"contest_id": "c1", "player_id": "u1"}):
        body = assert_problem(
            api.client.get("/operator/audit", params=params, headers=api.operator),
            400,
            "malformed",
        )
        assert "give exactly one of contest_id, player_id, payout, charge_id" in body["detail"]
    for params, code in (
        ({"contest_id": "nope"}, "unknown-contest"),
        ({"payout": "nope"}, "unknown-payout"),
        ({"charge_id": "ch_nope"}, "unknown-entry"),
    ):
        assert_problem(
            api.client.get("/operator/audit", params=params, headers=api.operator), 404, code
        )
    player = api.player("pz")
    assert_problem(
        api.client.get("/operator/audit", params={"player_id": "x"}, headers=player),
        403,
        "forbidden",
    )
