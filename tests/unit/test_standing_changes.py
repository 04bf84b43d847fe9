"""Standing changes: what a stat update moves, computed incrementally, equals what a fresh
ranking of the whole contest says; live contests follow the stored data."""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from fantasy_core.leaderboard import Leaderboard
from fantasy_core.standing_changes import LiveStandings
from fantasy_core.stats import GameStatus
from fantasy_core.usecases.corrections import correct_stat
from fantasy_core.usecases.lineups import edit_lineup
from fantasy_core.usecases.live import open_live, refresh_live
from support.staggered import KICKOFFS, staggered
from support.world import LOCK, World, lineup

PLAYERS = [f"p{n}" for n in range(8)]
points_st = st.dictionaries(
    st.sampled_from(PLAYERS),
    st.fractions(min_value=-5, max_value=40, max_denominator=4),
    max_size=len(PLAYERS),
)


def fresh(
    lineups: dict[str, tuple[str, ...]], points: dict[str, Fraction]
) -> dict[str, tuple[int, Fraction]]:
    board = Leaderboard(lineups, points, dict.fromkeys(lineups, "u"))
    return {e: (board.rank_of(e), board.score_of(e)) for e in lineups}


@settings(max_examples=80, deadline=None)
@given(
    lineups=st.dictionaries(
        st.text("abcdef", min_size=1, max_size=3),
        st.lists(st.sampled_from(PLAYERS), min_size=1, max_size=3, unique=True).map(tuple),
        min_size=1,
        max_size=12,
    ),
    start=points_st,
    updates=st.lists(points_st, min_size=1, max_size=5),
)
def test_each_update_reports_exactly_the_entries_whose_rank_or_points_moved(
    lineups: dict[str, tuple[str, ...]],
    start: dict[str, Fraction],
    updates: list[dict[str, Fraction]],
) -> None:
    owners = dict.fromkeys(lineups, "u")
    live = LiveStandings("c", Leaderboard(lineups, start, owners), start, 1, "LIVE", window=3)
    published = fresh(lineups, start)
    for seq, points in enumerate(updates, start=2):
        update = live.advance(points, seq, "LIVE")
        now = fresh(lineups, points)
        moved = {e for e in lineups if now[e] != published[e]}
        assert {c.entry_id for c in update.changes} == moved
        for change in update.changes:
            assert (change.rank, change.points) == now[change.entry_id]
        best = sorted(lineups, key=lambda e: (now[e][0], e))[:3]
        assert [c.entry_id for c in update.top] == best
        assert update.seq == seq
        published = now


def _live_world() -> tuple[World, str, str, str]:
    world = World()
    world.feed.publish(staggered(1, GameStatus.SCHEDULED, GameStatus.SCHEDULED))
    contest = world.create(late_swap=True, kickoffs=KICKOFFS)
    ann = world.join(contest, "ann").entry_id
    bob = world.join(contest, "bob", variant=2).entry_id
    return world, contest.contest_id, ann, bob


def test_a_live_contest_follows_what_the_worker_stores_and_nothing_else() -> None:
    world, cid, ann, bob = _live_world()
    world.clock.set(LOCK + timedelta(minutes=1))
    world.run()  # locks; ingests the schedule
    live = open_live(world.p, cid)
    assert refresh_live(world.p, live) is None  # nothing new stored
    world.feed.publish(staggered(2, GameStatus.IN_PROGRESS, GameStatus.SCHEDULED))
    world.run()
    update = refresh_live(world.p, live)
    assert update is not None
    assert update.seq == 2
    assert {c.entry_id for c in update.changes} <= {ann, bob}
    assert update.changes  # g1's players scored
    assert refresh_live(world.p, live) is None
    bob_before = live.standings.standing(bob)
    correct_stat(world.p, "test-slate", "KC-QB0", "passing_yards", "999", "review", "ops")
    update = refresh_live(world.p, live)
    assert update is not None
    assert update.seq == 3
    moved = {c.entry_id: c for c in update.changes}
    assert ann in moved  # KC-QB0's holder rescored
    if bob in moved:  # passed, perhaps: a new rank, the same points
        assert moved[bob].points == bob_before.points
        assert moved[bob].rank != bob_before.rank


def test_a_swapped_in_player_counts_once_his_game_starts() -> None:
    world, cid, ann, bob = _live_world()
    world.clock.set(LOCK + timedelta(minutes=1))
    world.feed.publish(staggered(2, GameStatus.IN_PROGRESS, GameStatus.SCHEDULED))
    world.run()
    world.run()
    live = open_live(world.p, cid)
    picks = list(lineup(0).picks)
    picks[2] = ("RB", "DAL-RB2")  # ann swaps a g2 player after lock
    edit_lineup(world.p, ann, "ann", type(lineup(0))(picks))
    world.clock.set(LOCK + timedelta(hours=3, minutes=1))
    world.feed.publish(staggered(3, GameStatus.IN_PROGRESS, GameStatus.IN_PROGRESS))
    world.run()
    update = refresh_live(world.p, live)
    assert update is not None
    fresh_live = open_live(world.p, cid)
    for entry_id in (ann, bob):
        assert live.standings.standing(entry_id) == fresh_live.standings.standing(entry_id)
