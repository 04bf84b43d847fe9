"""Hidden lineups: another player's picks show only once their game has started, and all of
them once the contest completes; the owner always sees his own."""

from __future__ import annotations

from datetime import timedelta

from fantasy_core.game_starts import GameStarts
from fantasy_core.snapshot import entry_rows
from fantasy_core.stats import GameStatus
from fantasy_core.usecases.queries import settlement_snapshot
from fantasy_core.usecases.visibility import lineup_view, lineup_views
from support.staggered import KICKOFFS, LATE, staggered
from support.world import LOCK, World, lineup

G1_PICKS = ["KC-QB0", "KC-RB1", None, "KC-WR3", None, "KC-WR5", None, None, None]


def shown(world: World, contest_id: str, entry_id: str, viewer: str | None) -> list[str | None]:
    with world.store.unit_of_work() as uow:
        entry = uow.entries.get(entry_id)
    view = lineup_views(world.p, contest_id, [entry], viewer)[entry_id]
    return [player for _, player in view.picks]


def test_another_player_sees_only_the_picks_whose_game_has_started() -> None:
    world = World()
    world.feed.publish(staggered(1, GameStatus.SCHEDULED, GameStatus.SCHEDULED))
    contest = world.create(late_swap=True, kickoffs=KICKOFFS)
    world.join(contest, "bob", variant=2)
    ann = world.join(contest, "ann").entry_id
    cid = contest.contest_id
    assert shown(world, cid, ann, "bob") == [None] * 9  # before lock nothing has started
    world.clock.set(LOCK + timedelta(hours=1))
    world.run()
    assert shown(world, cid, ann, "bob") == G1_PICKS
    assert shown(world, cid, ann, None) == G1_PICKS
    assert shown(world, cid, ann, "ann") == list(lineup(0).player_ids)
    world.clock.set(LATE)
    assert shown(world, cid, ann, "bob") == list(lineup(0).player_ids)


def test_the_feeds_first_sign_of_a_start_reveals_that_games_picks() -> None:
    world = World()
    world.feed.publish(staggered(1, GameStatus.SCHEDULED, GameStatus.SCHEDULED))
    contest = world.create(late_swap=True, kickoffs=KICKOFFS)
    world.join(contest, "bob", variant=2)
    ann = world.join(contest, "ann").entry_id
    world.clock.set(LOCK + timedelta(hours=1))
    world.feed.publish(staggered(2, GameStatus.IN_PROGRESS, GameStatus.IN_PROGRESS))
    world.run()
    assert shown(world, contest.contest_id, ann, "bob") == list(lineup(0).player_ids)


def test_everything_shows_once_the_contest_completes_and_the_snapshot_holds_every_lineup() -> None:
    world = World()
    world.feed.publish(staggered(1, GameStatus.SCHEDULED, GameStatus.SCHEDULED))
    contest = world.create(late_swap=True, kickoffs=KICKOFFS)
    bob = world.join(contest, "bob", variant=2).entry_id
    ann = world.join(contest, "ann").entry_id
    world.clock.set(LOCK + timedelta(minutes=1))
    world.feed.publish(staggered(2, GameStatus.IN_PROGRESS, GameStatus.SCHEDULED))
    world.run()
    world.clock.set(LOCK + timedelta(hours=2))
    # g2 is postponed before its kickoff: the contest completes without it (SCORE_ZERO).
    world.feed.publish(staggered(3, GameStatus.FINAL, GameStatus.POSTPONED))
    world.run()
    assert world.state(contest) == "COMPLETE"
    with world.store.unit_of_work() as uow:
        entry = uow.entries.get(ann)
    starts = GameStarts.of(KICKOFFS, None)
    assert lineup_view(contest, entry, "bob", starts, world.clock.now()).hidden == 5
    assert shown(world, contest.contest_id, ann, "bob") == list(lineup(0).player_ids)
    world.clock.advance(timedelta(hours=1, minutes=1))
    world.run()
    assert world.state(contest) in {"SETTLED", "PAID"}
    stored = settlement_snapshot(world.p, contest.contest_id)
    assert stored is not None
    rows = {row.entry_id: row.player_ids for row in entry_rows(stored[0])}
    assert rows == {ann: lineup(0).player_ids, bob: lineup(2).player_ids}


def test_the_people_who_run_the_platform_see_every_pick() -> None:
    world = World()
    contest = world.create(kickoffs=KICKOFFS)
    ann = world.join(contest, "ann").entry_id
    with world.store.unit_of_work() as uow:
        entry = uow.entries.get(ann)
    view = lineup_view(contest, entry, "ops", GameStarts.of(KICKOFFS, None), LOCK, sees_all=True)
    assert view.hidden == 0
