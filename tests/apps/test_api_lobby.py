"""The lobby, leaderboards, score explanations, my entries and payments, settlement snapshots."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from api_support import Api, assert_problem

from apps.cli import EXIT_OK, main
from fantasy_core.codec import sha256_of
from fantasy_core.snapshot import verify
from fantasy_core.stats import FeedSnapshot, GameStatus, StatLine
from support.world import LOCK, SLATE, snapshot


def test_the_lobby_lists_and_filters_contests(api: Api) -> None:
    fifty = api.contest("fifty_fifty")
    h2h = api.contest("head_to_head")
    listed = api.client.get("/contests").json()
    assert [c["contest_id"] for c in listed] == [fifty, h2h]
    assert listed[0]["seats_taken"] == 0
    assert listed[0]["sport"] == "nfl"
    by_fee = api.client.get("/contests", params={"min_fee": 2000}).json()
    assert [c["contest_id"] for c in by_fee] == [h2h]
    assert api.client.get("/contests", params={"max_fee": 999}).json() == []
    assert len(api.client.get("/contests", params={"state": "SCHEDULED"}).json()) == 2
    assert api.client.get("/contests", params={"state": "PAID"}).json() == []
    assert len(api.client.get("/contests", params={"sport": "nfl"}).json()) == 2
    nba = assert_problem(api.client.get("/contests", params={"sport": "nba"}), 400, "malformed")
    assert "the sports are: nfl" in nba["detail"]
    assert_problem(api.client.get("/contests", params={"state": "DONE"}), 400, "malformed")
    assert_problem(api.client.get("/contests", params={"min_fee": -1}), 400, "malformed")


def test_the_lobby_filters_guaranteed_and_open_contests(api: Api) -> None:
    fifty = api.contest("fifty_fifty")
    tournament = api.contest("tournament")
    guaranteed = api.client.get("/contests", params={"guaranteed": True}).json()
    assert [c["contest_id"] for c in guaranteed] == [tournament]
    others = api.client.get("/contests", params={"guaranteed": False}).json()
    assert [c["contest_id"] for c in others] == [fifty]
    assert len(api.client.get("/contests", params={"open_only": True}).json()) == 2
    api.world.clock.set(LOCK)
    assert api.client.get("/contests", params={"open_only": True}).json() == []


def test_the_lobby_comes_a_page_at_a_time_after_the_last_id_seen(api: Api) -> None:
    made = sorted(api.contest(t) for t in ("fifty_fifty", "head_to_head", "tournament"))
    first = api.client.get("/contests", params={"limit": 2}).json()
    assert [c["contest_id"] for c in first] == made[:2]
    rest = api.client.get("/contests", params={"limit": 2, "after": made[1]}).json()
    assert [c["contest_id"] for c in rest] == made[2:]  # shorter than the limit: the last
    # A filter that passes few contests still fills each page from those after the cursor.
    every = api.client.get("/contests").json()
    dear = [c["contest_id"] for c in every if c["entry_fee_minor"] >= 2000]
    assert 0 < len(dear) < len(made)
    paged, after = [], None
    while True:
        params = {"limit": 1, "min_fee": 2000} | ({} if after is None else {"after": after})
        page = [c["contest_id"] for c in api.client.get("/contests", params=params).json()]
        paged += page
        if len(page) < 1:
            break
        after = page[-1]
    assert paged == dear
    assert api.client.get("/contests", params={"after": made[2]}).json() == []
    for bad in ({"limit": 0}, {"limit": 201}, {"limit": "ten"}, {"after": "x" * 256}):
        assert_problem(api.client.get("/contests", params=bad), 400, "malformed")


def test_a_contest_shows_its_rules_fingerprint_payout_table_and_slate(api: Api) -> None:
    contest = api.contest("tournament")
    detail = api.client.get(f"/contests/{contest}").json()
    assert detail["rules"]["fingerprint"].startswith("sha256:")
    assert detail["payout"]["kind"] == "rank_table"
    assert detail["guaranteed_pool_minor"] == 25_000
    assert detail["lock_at"].startswith("2025-09-07T17:00")
    assert detail["roster"] == {
        "template": "draftkings_nfl_classic",
        "slots": [
            {"name": "QB", "positions": ["QB"]},
            {"name": "RB", "positions": ["RB"]},
            {"name": "RB", "positions": ["RB"]},
            {"name": "WR", "positions": ["WR"]},
            {"name": "WR", "positions": ["WR"]},
            {"name": "WR", "positions": ["WR"]},
            {"name": "TE", "positions": ["TE"]},
            {"name": "FLEX", "positions": ["RB", "TE", "WR"]},
            {"name": "DST", "positions": ["DST"]},
        ],
        "salary_cap": 50_000,
        "min_teams": 2,
        "min_games": 2,
    }
    player = detail["players"][0]
    assert set(player) == {"player_id", "name", "position", "team", "game_id", "salary"}
    assert_problem(api.client.get("/contests/contest-404"), 404, "unknown-contest")


def play(api: Api, contest: str, players: int) -> list[dict[str, str]]:
    """`players` players join and get payout accounts; games run to FINAL (not settled)."""
    headers = []
    for n in range(players):
        h = api.player(f"p{n}")
        api.client.put("/me/payout-account", json={"account_id": f"acct_{n}"}, headers=h)
        assert api.join(contest, h, variant=n).status_code == 201
        headers.append(h)
    return headers


def finish(api: Api) -> None:
    api.world.play_games()


def test_the_leaderboard_opens_at_lock_and_pages_live_scores(api: Api) -> None:
    contest = api.contest("tournament")
    play(api, contest, 5)
    before = api.client.get(f"/contests/{contest}/leaderboard").json()
    assert (before["total"], before["rows"]) == (0, [])
    world = api.world
    world.clock.set(LOCK)
    world.run()
    world.feed.publish(snapshot(GameStatus.IN_PROGRESS, 2))
    world.clock.advance(timedelta(minutes=1))
    world.run()
    page = api.client.get(f"/contests/{contest}/leaderboard", params={"limit": 2}).json()
    assert (page["final"], page["total"], len(page["rows"]), page["next_offset"]) == (
        False,
        5,
        2,
        2,
    )
    last = api.client.get(
        f"/contests/{contest}/leaderboard", params={"offset": 4, "limit": 2}
    ).json()
    assert (len(last["rows"]), last["next_offset"]) == (1, None)
    scores = [float(r["score"]) for r in page["rows"] + last["rows"]]
    assert scores == sorted(scores, reverse=True)
    assert_problem(
        api.client.get(f"/contests/{contest}/leaderboard", params={"limit": 0}), 400, "malformed"
    )


def test_after_payment_the_leaderboard_is_final_and_the_snapshot_verifies_offline(
    api: Api, tmp_path: Path
) -> None:
    contest = api.contest("fifty_fifty")
    headers = play(api, contest, 4)
    assert_problem(api.client.get(f"/contests/{contest}/settlement"), 404, "not-found")
    finish(api)
    assert api.client.get(f"/contests/{contest}").json()["state"] == "PAID"
    board = api.client.get(f"/contests/{contest}/leaderboard").json()
    assert board["final"]
    assert board["total"] == 4
    assert sum(r["prize_minor"] for r in board["rows"]) == 3_600
    settlement = api.client.get(f"/contests/{contest}/settlement").json()
    raw = api.client.get(settlement["snapshot_url"])
    assert raw.headers["X-Snapshot-SHA256"] == settlement["sha256"] == sha256_of(raw.content)
    verify(raw.content, settlement["sha256"])
    path = tmp_path / "snapshot.json"
    path.write_bytes(raw.content)
    assert main(["recompute", str(path), "--sha256", settlement["sha256"]]) == EXIT_OK
    payments = [api.client.get("/me/payments", headers=h).json() for h in headers]
    assert sum(len(p["charges"]) for p in payments) == 4
    paid = [x for p in payments for x in p["payouts"]]
    assert len(paid) == 2
    assert {x["status"] for x in paid} == {"confirmed"}
    assert all(x["transfer_id"] for x in paid)


def test_an_entry_and_its_explanation_are_private_until_lock(api: Api) -> None:
    contest = api.contest("head_to_head")
    ann, bob = api.player("ann"), api.player("bob")
    entry = api.join(contest, ann).json()["entry_id"]
    assert api.client.get(f"/entries/{entry}", headers=ann).status_code == 200
    assert api.client.get(f"/entries/{entry}/explanation", headers=api.operator).status_code == 200
    assert_problem(api.client.get(f"/entries/{entry}", headers=bob), 403, "forbidden")
    assert_problem(api.client.get(f"/entries/{entry}/explanation", headers=bob), 403, "forbidden")
    assert_problem(api.client.get(f"/entries/{entry}/explanation"), 401, "not-authenticated")
    api.join(contest, bob, variant=1)
    finish(api)
    explained = api.client.get(f"/entries/{entry}/explanation", headers=bob).json()
    assert len(explained["players"]) == 9
    line = explained["players"][0]["lines"][0]
    assert set(line) == {"stat", "value", "rule", "points"}
    assert_problem(api.client.get("/entries/entry-404", headers=ann), 404, "unknown-entry")


def test_an_explanation_shows_an_operator_correction_and_is_final_once_settled(api: Api) -> None:
    contest = api.contest("head_to_head")
    ann, bob = api.player("ann"), api.player("bob")
    for n, h in enumerate((ann, bob)):
        api.client.put("/me/payout-account", json={"account_id": f"acct_{n}"}, headers=h)
    entry = api.join(contest, ann).json()["entry_id"]
    api.join(contest, bob, variant=1)
    world = api.world
    world.clock.set(LOCK)
    world.run()
    world.feed.publish(snapshot(GameStatus.FINAL, 2))
    world.clock.advance(timedelta(hours=4))
    world.run()
    assert api.client.get(f"/contests/{contest}").json()["state"] == "COMPLETE"
    url = f"/entries/{entry}/explanation"
    qb = api.client.get(url, headers=ann).json()["players"][0]["player_id"]
    body = {"slate_id": SLATE, "player_id": qb, "stat": "passing_tds", "value": "2"}
    review = {**body, "reason": "official review"}
    assert api.client.post("/operator/stats/corrections", json=review, headers=api.operator).json()
    explained = api.client.get(url, headers=ann).json()
    (td,) = [x for x in explained["players"][0]["lines"] if x["stat"] == "passing_tds"]
    assert td == {
        "stat": "passing_tds",
        "value": "2",
        "rule": td["rule"],
        "points": "8",
        "source": "corrected by operator: official review",
    }
    assert all("source" not in x for p in explained["players"][1:] for x in p["lines"])

    world.clock.advance(timedelta(hours=2))
    world.run()
    assert api.client.get(f"/contests/{contest}").json()["state"] == "PAID"
    late = {**body, "stat": "passing_yards", "value": "999", "reason": "too late"}
    response = api.client.post("/operator/stats/corrections", json=late, headers=api.operator)
    assert response.json() == {"affected_contests": []}
    assert api.client.get(url, headers=ann).json() == explained
    settlement = api.client.get(f"/contests/{contest}/settlement").json()
    rows = json.loads(api.client.get(settlement["snapshot_url"]).content)["entries"]
    assert [row[3] for row in rows if row[0] == entry] == [explained["total"]]

    schema = api.client.get("/schema/openapi.json").json()["components"]["schemas"]
    line = schema["ScoreLineOut"]
    assert "source" in line["properties"]
    assert "source" not in line["required"]


def test_an_explanation_shows_a_provider_correction_of_a_final_game(api: Api) -> None:
    contest = api.contest("head_to_head")
    ann, bob = api.player("ann"), api.player("bob")
    entry = api.join(contest, ann).json()["entry_id"]
    api.join(contest, bob, variant=1)
    world = api.world
    world.clock.set(LOCK)
    world.run()
    final = snapshot(GameStatus.FINAL, 2)
    world.feed.publish(final)
    world.clock.advance(timedelta(hours=4))
    world.run()
    url = f"/entries/{entry}/explanation"
    qb = api.client.get(url, headers=ann).json()["players"][0]["player_id"]
    lines = tuple(
        StatLine.of(x.player_id, x.team, x.game_id, {**x.as_dict(), "passing_tds": 2})
        if x.player_id == qb
        else x
        for x in final.lines
    )
    world.feed.publish(FeedSnapshot(SLATE, 3, final.games, lines))
    world.run()
    assert api.client.get(f"/contests/{contest}").json()["state"] == "COMPLETE"
    explained = api.client.get(url, headers=ann).json()
    (td,) = [x for x in explained["players"][0]["lines"] if x["stat"] == "passing_tds"]
    assert td == {
        "stat": "passing_tds",
        "value": "2",
        "rule": td["rule"],
        "points": "8",
        "source": "corrected by the provider: 0 -> 2 (version 2 -> 3)",
    }
    assert all("source" not in x for p in explained["players"][1:] for x in p["lines"])


def test_my_entries_lists_every_attempt_of_mine_only(api: Api) -> None:
    contest = api.contest("double_up")
    ann, bob = api.player("ann"), api.player("bob")
    api.join(contest, ann, key="a", card="pm_card_chargeDeclined")
    api.join(contest, ann, key="b")
    api.join(contest, bob, key="a", variant=1)
    mine = api.client.get("/me/entries", headers=ann).json()
    assert [e["status"] for e in mine] == ["declined", "active"]
    assert {e["user_id"] for e in mine} == {api.user_id(ann)}


def test_leaderboards_and_entries_show_display_names_points_and_ranks(api: Api) -> None:
    contest = api.contest("tournament")
    names = ["Ann", "Bob", "Cy"]
    headers = [api.player(f"p{n}", display_name) for n, display_name in enumerate(names)]
    entries = [api.join(contest, h, variant=n).json()["entry_id"] for n, h in enumerate(headers)]
    before = api.client.get(f"/entries/{entries[0]}", headers=headers[0]).json()
    assert (before["display_name"], before["points"], before["rank"]) == ("Ann", None, None)
    world = api.world
    world.clock.set(LOCK)
    world.run()
    world.feed.publish(snapshot(GameStatus.IN_PROGRESS, 2))
    world.clock.advance(timedelta(minutes=1))
    world.run()
    live = api.client.get(f"/contests/{contest}/leaderboard").json()["rows"]
    assert sorted(row["display_name"] for row in live) == names
    assert "@" not in json.dumps(live)  # no email, ever
    by_entry = {row["entry_id"]: row for row in live}
    for n, entry_id in enumerate(entries):
        shown = api.client.get(f"/entries/{entry_id}", headers=headers[(n + 1) % 3]).json()
        row = by_entry[entry_id]
        assert (shown["display_name"], shown["points"], shown["rank"], shown["final"]) == (
            names[n],
            row["score"],
            row["rank"],
            False,
        )
    world.clock.advance(timedelta(hours=3))
    world.feed.publish(snapshot(GameStatus.FINAL, 3))
    world.run()
    world.clock.advance(timedelta(hours=1, minutes=1))
    world.run()
    final = {
        row["entry_id"]: row
        for row in api.client.get(f"/contests/{contest}/leaderboard").json()["rows"]
    }
    mine = api.client.get("/me/entries", headers=headers[1]).json()
    assert [(e["display_name"], e["points"], e["rank"], e["final"]) for e in mine] == [
        ("Bob", final[entries[1]]["score"], final[entries[1]]["rank"], True)
    ]


def test_the_slates_are_public_with_their_games_and_kickoffs(api: Api) -> None:
    slates = api.client.get("/slates").json()
    assert [s["slate_id"] for s in slates] == [SLATE]
    slate = slates[0]
    assert slate["first_kickoff"].startswith("2025-09-07T17:00")
    assert {(g["game_id"], g["away"], g["home"], g["status"]) for g in slate["games"]} == {
        ("g1", "BAL", "KC", "scheduled"),
        ("g2", "DAL", "PHI", "scheduled"),
    }
    assert all(g["kickoff"] >= slate["first_kickoff"] for g in slate["games"])
