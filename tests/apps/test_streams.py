"""The live standings hub without a network: one board per contest, updates in order, a
followed entry's changes only, resuming from Last-Event-ID, and the problems of the route."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

from api_support import Api, assert_problem

from apps.api.streams import StandingsHub, stream
from fantasy_core.stats import GameStatus
from fantasy_core.usecases.corrections import correct_stat
from support.staggered import KICKOFFS, staggered
from support.world import LOCK, World

WORLD_STORES = ("memory",)


def parse(raw: bytes) -> tuple[int | None, str, dict[str, Any]]:
    fields = dict(line.split(": ", 1) for line in raw.decode().strip().splitlines() if ": " in line)
    event_id = fields.get("id")
    return (
        (None if event_id is None else int(event_id)),
        fields["event"],
        json.loads(fields["data"]),
    )


def live_world() -> tuple[World, str, str, str]:
    world = World()
    world.feed.publish(staggered(1, GameStatus.SCHEDULED, GameStatus.SCHEDULED))
    contest = world.create(late_swap=True, kickoffs=KICKOFFS)
    ann = world.join(contest, "ann").entry_id
    bob = world.join(contest, "bob", variant=2).entry_id
    world.clock.set(LOCK + timedelta(minutes=1))
    world.feed.publish(staggered(2, GameStatus.IN_PROGRESS, GameStatus.SCHEDULED))
    world.run()
    world.run()
    return world, contest.contest_id, ann, bob


def test_a_followed_entry_gets_its_own_changes_and_a_resumed_stream_misses_nothing() -> None:
    world, cid, ann, bob = live_world()

    async def scenario() -> list[tuple[int | None, str, dict[str, Any]]]:
        hub = StandingsHub(lambda: world.p, 0.01)
        seen = []
        channel = await hub.join(cid)
        events = stream(hub, channel, [ann], None, keepalive=5)
        seen.append(parse(await anext(events)))
        correct_stat(world.p, "test-slate", "KC-QB0", "passing_yards", "999", "review", "ops")
        await hub.refresh(channel)
        seen.append(parse(await anext(events)))
        await events.aclose()  # the client drops; a correction lands meanwhile
        correct_stat(world.p, "test-slate", "KC-QB0", "passing_yards", "5", "review", "ops")
        await hub.refresh(channel)
        resumed = stream(hub, await hub.join(cid), [], seen[-1][0], keepalive=5)
        seen.append(parse(await anext(resumed)))
        await resumed.aclose()
        fresh = stream(hub, await hub.join(cid), [], 10**9, keepalive=5)  # an unknown id
        seen.append(parse(await anext(fresh)))
        await fresh.aclose()
        await hub.close()
        return seen

    first, moved, resumed, unknown = asyncio.run(scenario())
    assert first[1] == "standings"
    assert [row["entry_id"] for row in first[2]["rows"]] == [ann]
    assert moved[1] == "changes"
    assert moved[0] == first[0] + 1
    assert ann in {row["entry_id"] for row in moved[2]["changes"]}
    assert {row["entry_id"] for row in moved[2]["changes"]} <= {ann}
    assert resumed[1] == "changes"  # from the history: the update it missed, not a reset
    assert resumed[0] == moved[0] + 1
    assert unknown[1] == "standings"  # an id the history does not hold: the standings now
    assert {row["entry_id"] for row in unknown[2]["rows"]} == {ann, bob}


def test_a_stream_ends_when_the_contest_settles() -> None:
    world, cid, _ann, _ = live_world()

    async def scenario() -> list[tuple[int | None, str, dict[str, Any]]]:
        hub = StandingsHub(lambda: world.p, 0.01)
        channel = await hub.join(cid)
        events = stream(hub, channel, [], None, keepalive=5)
        seen = [parse(await anext(events))]
        world.clock.set(LOCK + timedelta(hours=4))
        world.feed.publish(staggered(3, GameStatus.FINAL, GameStatus.FINAL))
        world.run()
        world.clock.advance(timedelta(hours=2))
        world.run()
        await hub.refresh(channel)
        seen.extend([parse(raw) async for raw in events])
        await hub.close()
        return seen

    seen = asyncio.run(scenario())
    # Settled before the hub looked again: its standings are the snapshot's from then on
    # (GET /contests/{id}/leaderboard), and the stream says so and ends.
    assert [kind for _, kind, _ in seen] == ["standings", "end"]
    assert seen[-1][2]["state"] in {"SETTLED", "PAID"}


def test_the_stream_route_refuses_before_lock_an_unknown_contest_and_a_stranger(
    api: Api,
) -> None:
    api.world.feed.publish(staggered(1, GameStatus.SCHEDULED, GameStatus.SCHEDULED))
    contest = api.contest("head_to_head")
    url = f"/contests/{contest}/leaderboard/stream"
    body = assert_problem(api.client.get(url), 409, "standings-not-live")
    assert "from lock until settlement" in body["detail"]
    assert_problem(api.client.get("/contests/nope/leaderboard/stream"), 404, "unknown-contest")
    ann, bob = api.player("ann"), api.player("bob")
    api.join(contest, ann)
    api.join(contest, bob, variant=2)
    api.world.clock.set(LOCK + timedelta(minutes=1))
    api.world.run()
    body = assert_problem(api.client.get(url, params={"entry_id": "entry-x"}), 404, "unknown-entry")
    assert "entry-x" in body["detail"]
    assert_problem(api.client.get(url, headers={"Last-Event-ID": "x"}), 400, "malformed")
