"""Lineups after joining over HTTP: PUT /entries/{id}/lineup edits until lock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from api_support import Api, assert_problem

from support.world import LOCK, lineup


def _put(api: Api, entry: str, headers: dict[str, str], variant: int = 0) -> Any:
    picks = [{"slot": s, "player_id": p} for s, p in api.world_lineup_picks(variant)]
    return api.client.put(f"/entries/{entry}/lineup", json={"lineup": picks}, headers=headers)


def test_the_owner_edits_a_lineup_before_lock_and_no_money_moves(api: Api) -> None:
    contest = api.contest()
    ann = api.player("ann")
    first = api.join(contest, ann, key="tap")
    entry = first.json()["entry_id"]
    response = _put(api, entry, ann, variant=1)
    assert response.status_code == 200, response.text
    picks = [(p["slot"], p["player_id"]) for p in response.json()["lineup"]]
    assert picks == list(lineup(1).picks)
    shown = api.client.get(f"/entries/{entry}", headers=ann).json()
    assert [(p["slot"], p["player_id"]) for p in shown["lineup"]] == list(lineup(1).picks)
    again = api.join(contest, ann, key="tap")  # the original request, replayed
    assert (again.status_code, again.json()["entry_id"]) == (201, entry)
    assert len(api.world.gateway.charges) == 1
    assert not api.world.gateway.refunds


def test_an_invalid_lineup_is_422_with_the_joins_rule(api: Api) -> None:
    contest = api.contest()
    ann = api.player("ann")
    entry = api.join(contest, ann).json()["entry_id"]
    picks = [{"slot": s, "player_id": p} for s, p in api.world_lineup_picks()]
    picks[1]["player_id"] = "NOBODY"
    response = api.client.put(f"/entries/{entry}/lineup", json={"lineup": picks}, headers=ann)
    body = assert_problem(response, 422, "invalid-lineup")
    assert (body["rule"], body["player_id"]) == ("unknown_player", "NOBODY")


def test_another_player_is_403_and_an_edit_after_lock_is_409(api: Api) -> None:
    contest = api.contest()
    ann, bob = api.player("ann"), api.player("bob")
    entry = api.join(contest, ann).json()["entry_id"]
    assert_problem(_put(api, entry, bob, variant=1), 403, "forbidden")
    assert_problem(_put(api, entry, api.operator, variant=1), 403, "forbidden")
    api.world.clock.set(LOCK + timedelta(seconds=1))
    body = assert_problem(_put(api, entry, ann, variant=1), 409, "lineup-change-refused")
    assert body["reason"] == "locked"
    assert_problem(_put(api, "entry-404", ann), 404, "unknown-entry")
