"""Lineups after joining over HTTP: PUT /entries/{id}/lineup edits until lock, and swaps
after it on a contest with late swap."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

from api_support import Api, assert_problem

from fantasy_core.stats import GameStatus
from support.staggered import KICKOFFS, LATE, staggered
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
    # Every game of the world's slate kicks off at lock: late swap has nobody left to move.
    assert body["reason"] == "player_started"
    assert_problem(_put(api, "entry-404", ann), 404, "unknown-entry")


def _put_picks(api: Api, entry: str, headers: dict[str, str], picks: list[tuple[str, str]]) -> Any:
    body = {"lineup": [{"slot": s, "player_id": p} for s, p in picks]}
    return api.client.put(f"/entries/{entry}/lineup", json=body, headers=headers)


def test_after_lock_a_late_swap_replaces_a_player_whose_game_has_not_started(api: Api) -> None:
    api.world.feed.publish(staggered(1, GameStatus.SCHEDULED, GameStatus.SCHEDULED))
    contest = api.contest()
    detail = api.client.get(f"/contests/{contest}").json()
    assert detail["late_swap"] is True
    assert set(detail["kickoffs"]) == set(KICKOFFS)
    ann = api.player("ann")
    entry = api.join(contest, ann).json()["entry_id"]
    api.world.clock.set(LOCK + timedelta(hours=1))
    picks = list(lineup(0).picks)
    picks[2] = ("RB", "DAL-RB2")  # PHI-RB2 out: his game (g2) kicks off at LATE
    response = _put_picks(api, entry, ann, picks)
    assert response.status_code == 200, response.text
    assert [(p["slot"], p["player_id"]) for p in response.json()["lineup"]] == picks
    picks[0] = ("QB", "BAL-QB0")  # KC-QB0's game (g1) kicked off at lock
    body = assert_problem(_put_picks(api, entry, ann, picks), 409, "lineup-change-refused")
    assert (body["reason"], body["player_id"]) == ("player_started", "KC-QB0")
    assert "kicked off" in body["detail"]
    api.world.clock.set(LATE)
    picks = list(lineup(0).picks)
    body = assert_problem(_put_picks(api, entry, ann, picks), 409, "lineup-change-refused")
    assert (body["reason"], body["player_id"]) == ("player_started", "DAL-RB2")
    assert len(api.world.gateway.charges) == 1


def test_a_fanduel_style_contest_locks_the_whole_lineup(api: Api) -> None:
    api.world.feed.publish(staggered(1, GameStatus.SCHEDULED, GameStatus.SCHEDULED))
    listed = api.client.get("/operator/templates", headers=api.operator).json()
    assert {t["key"]: t["late_swap"] for t in listed}["fanduel_fifty_fifty"] is False
    contest = api.contest("fanduel_fifty_fifty")
    assert api.client.get(f"/contests/{contest}").json()["late_swap"] is False
    ann = api.player("ann")
    picks = [("DEF" if s == "DST" else s, p) for s, p in lineup(0).picks]
    joined = api.client.post(
        f"/contests/{contest}/entries",
        json={
            "lineup": [{"slot": s, "player_id": p} for s, p in picks],
            "payment_method": "pm_card_visa",
        },
        headers={**ann, "Idempotency-Key": "fd"},
    )
    assert joined.status_code == 201, joined.text
    api.world.clock.set(LOCK + timedelta(hours=1))
    picks[2] = ("RB", "DAL-RB2")
    body = assert_problem(
        _put_picks(api, joined.json()["entry_id"], ann, picks), 409, "lineup-change-refused"
    )
    assert body["reason"] == "locked"


def test_another_players_entry_shows_only_the_picks_whose_game_has_started(api: Api) -> None:
    api.world.feed.publish(staggered(1, GameStatus.SCHEDULED, GameStatus.SCHEDULED))
    contest = api.contest("head_to_head")
    ann, bob = api.player("ann"), api.player("bob")
    entry = api.join(contest, ann).json()["entry_id"]
    api.join(contest, bob, variant=2)
    api.world.clock.set(LOCK + timedelta(hours=1))
    api.world.feed.publish(staggered(2, GameStatus.IN_PROGRESS, GameStatus.SCHEDULED))
    api.world.run()

    def picks(headers: dict[str, str]) -> list[str | None]:
        response = api.client.get(f"/entries/{entry}", headers=headers)
        assert response.status_code == 200, response.text
        return [p["player_id"] for p in response.json()["lineup"]]

    g1_only = [pid if pid.startswith("KC") else None for pid in lineup(0).player_ids]
    assert picks(bob) == g1_only
    assert picks(ann) == list(lineup(0).player_ids)
    assert picks(api.operator) == list(lineup(0).player_ids)
    explained = api.client.get(f"/entries/{entry}/explanation", headers=bob).json()
    assert {p["player_id"] for p in explained["players"]} == {p for p in g1_only if p}
    api.world.clock.set(LATE)
    assert picks(bob) == list(lineup(0).player_ids)


def _csv(api: Api, contest: str) -> list[list[str]]:
    response = api.client.get(f"/contests/{contest}/lineups.csv")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.text.endswith("\r\n")
    return list(csv.reader(io.StringIO(response.text)))


def test_the_lineups_csv_opens_at_lock_and_shows_what_the_public_may_see(api: Api) -> None:
    api.world.feed.publish(staggered(1, GameStatus.SCHEDULED, GameStatus.SCHEDULED))
    contest = api.contest("head_to_head")
    ann = api.player("ann", display_name="=HYPERLINK(1)")
    bob = api.player("bob", display_name="Bob")
    ann_entry = api.join(contest, ann).json()["entry_id"]
    bob_entry = api.join(contest, bob, variant=2).json()["entry_id"]
    body = assert_problem(
        api.client.get(f"/contests/{contest}/lineups.csv"), 409, "lineups-not-public"
    )
    assert "from lock on" in body["detail"]
    api.world.clock.set(LOCK + timedelta(minutes=1))
    api.world.feed.publish(staggered(2, GameStatus.IN_PROGRESS, GameStatus.SCHEDULED))
    api.world.run()
    header, *rows = _csv(api, contest)
    slots = ["QB", "RB1", "RB2", "WR1", "WR2", "WR3", "TE", "FLEX", "DST"]
    assert header == ["rank", "entry_id", "display_name", "points", *slots]
    board = api.client.get(f"/contests/{contest}/leaderboard").json()["rows"]
    assert [(r[0], r[1], r[3]) for r in rows] == [
        (str(b["rank"]), b["entry_id"], b["score"]) for b in board
    ]
    by_entry = {r[1]: r for r in rows}
    assert by_entry[ann_entry][2] == "'=HYPERLINK(1)"  # never a formula in a spreadsheet
    g1 = {"KC", "BAL"}
    for entry, variant in ((ann_entry, 0), (bob_entry, 2)):
        expected = [p if p.split("-")[0] in g1 else "" for p in lineup(variant).player_ids]
        assert by_entry[entry][4:] == expected
    api.world.clock.set(LATE)
    _, *rows = _csv(api, contest)
    assert {r[1]: r[4:] for r in rows} == {
        ann_entry: list(lineup(0).player_ids),
        bob_entry: list(lineup(2).player_ids),
    }
    assert_problem(api.client.get("/contests/nope/lineups.csv"), 404, "unknown-contest")
