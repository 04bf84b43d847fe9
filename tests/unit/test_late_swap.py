"""Late swap: after lock each player locks at his own game's start; until then he may be
swapped, under the join's lineup rules, for a player whose game has not started."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fantasy_core.contest import ContestTerms, InvalidContestTerms
from fantasy_core.errors import InvalidLineup, LineupChangeRefused, NotYourEntry, PlayerRestricted
from fantasy_core.game_starts import GameStarts, visible_picks
from fantasy_core.lineups import Lineup
from fantasy_core.snapshot import entry_rows, verify
from fantasy_core.stats import GameStatus
from fantasy_core.usecases.lineups import edit_lineup
from fantasy_core.usecases.protecting import start_cool_off
from fantasy_core.usecases.queries import leaderboard, settlement_snapshot
from support.protection import protect, register
from support.staggered import KICKOFFS, LATE, staggered
from support.world import LOCK, World, lineup


def late_swap_world(**changes: object) -> tuple[World, object]:
    world = World()
    world.feed.publish(staggered(1, GameStatus.SCHEDULED, GameStatus.SCHEDULED))
    contest = world.create(late_swap=True, kickoffs=KICKOFFS, **changes)
    return world, contest


def with_pick(base: Lineup, index: int, player_id: str) -> Lineup:
    picks = list(base.picks)
    picks[index] = (picks[index][0], player_id)
    return Lineup(picks)


# lineup(0): KC (g1) at QB, RB, WR, WR; PHI (g2) at RB (index 2), WR, TE, FLEX, DST.
PHI_RB = 2
KC_QB = 0


def finish(world: World) -> None:
    """Both games played and final, the correction window passed: settled and paid."""
    world.clock.set(max(world.clock.now(), LATE))
    world.feed.publish(staggered(5, GameStatus.IN_PROGRESS, GameStatus.IN_PROGRESS))
    world.run()
    world.clock.advance(timedelta(hours=4))
    world.feed.publish(staggered(6, GameStatus.FINAL, GameStatus.FINAL))
    world.run()
    world.clock.advance(timedelta(hours=1, minutes=1))
    world.run()


def joined_pair(world: World, contest: object) -> str:
    world.join(contest, "bob", variant=2)
    return str(world.join(contest, "ann").entry_id)


def test_after_lock_a_player_whose_game_has_not_started_may_be_swapped() -> None:
    world, contest = late_swap_world()
    ann = joined_pair(world, contest)
    world.clock.set(LOCK + timedelta(hours=1))
    world.run()
    swapped = with_pick(lineup(0), PHI_RB, "DAL-RB2")
    entry = edit_lineup(world.p, ann, "ann", swapped)
    assert entry.lineup == swapped
    assert world.state(contest) in {"LOCKED", "LIVE"}
    with world.store.unit_of_work() as uow:
        audit = [r for r in uow.audit.for_contest(contest.contest_id) if "lineup" in r.action]
    assert [(r.action, r.actor) for r in audit] == [("entry.lineup_swapped", "ann")]
    assert audit[0].detail == f"lineup {lineup(0).fingerprint} -> {swapped.fingerprint}"
    assert [call for call, _ in world.gateway.calls] == ["charge", "charge"]


def test_a_player_whose_game_has_started_cannot_be_swapped_out() -> None:
    world, contest = late_swap_world()
    ann = joined_pair(world, contest)
    world.clock.set(LOCK + timedelta(hours=1))
    with pytest.raises(LineupChangeRefused) as refused:
        edit_lineup(world.p, ann, "ann", with_pick(lineup(0), KC_QB, "BAL-QB0"))
    assert refused.value.reason == "player_started"
    assert refused.value.player_id == "KC-QB0"
    assert "out of the QB slot" in str(refused.value)
    assert f"kicked off at {LOCK.isoformat()}" in str(refused.value)


def test_a_player_whose_game_has_started_cannot_be_swapped_in() -> None:
    world, contest = late_swap_world()
    ann = joined_pair(world, contest)
    world.clock.set(LOCK + timedelta(hours=1))
    with pytest.raises(LineupChangeRefused) as refused:
        edit_lineup(world.p, ann, "ann", with_pick(lineup(0), PHI_RB, "BAL-RB2"))
    assert refused.value.reason == "player_started"
    assert refused.value.player_id == "BAL-RB2"
    assert "into the RB slot" in str(refused.value)


def test_a_locked_player_cannot_change_slots_even_with_the_same_players() -> None:
    world, contest = late_swap_world()
    ann = joined_pair(world, contest)
    world.clock.set(LOCK + timedelta(hours=1))
    picks = list(lineup(0).picks)
    # KC-RB1 (g1, started) in RB and PHI-RB2 (g2) trade places: same players, other slots.
    picks[1], picks[2] = ("RB", picks[2][1]), ("RB", picks[1][1])
    with pytest.raises(LineupChangeRefused) as refused:
        edit_lineup(world.p, ann, "ann", Lineup(picks))
    assert refused.value.player_id == "KC-RB1"


def test_a_swap_at_the_scheduled_kickoff_is_refused() -> None:
    world, contest = late_swap_world()
    ann = joined_pair(world, contest)
    world.clock.set(LATE - timedelta(microseconds=1))
    edit_lineup(world.p, ann, "ann", with_pick(lineup(0), PHI_RB, "DAL-RB2"))
    world.clock.set(LATE)
    with pytest.raises(LineupChangeRefused) as refused:
        edit_lineup(world.p, ann, "ann", with_pick(lineup(0), PHI_RB, "PHI-RB2"))
    assert refused.value.reason == "player_started"


def test_the_feeds_first_sign_of_a_start_locks_the_game_before_its_kickoff() -> None:
    world, contest = late_swap_world()
    ann = joined_pair(world, contest)
    world.clock.set(LOCK + timedelta(hours=1))
    world.feed.publish(staggered(2, GameStatus.IN_PROGRESS, GameStatus.IN_PROGRESS))
    world.run()  # ingests: g2 reported under way two hours before its kickoff
    with pytest.raises(LineupChangeRefused) as refused:
        edit_lineup(world.p, ann, "ann", with_pick(lineup(0), PHI_RB, "DAL-RB2"))
    assert refused.value.reason == "player_started"
    assert "reported under way by the feed" in str(refused.value)


def test_a_kickoff_moved_earlier_locks_earlier_and_one_moved_later_keeps_its_lock() -> None:
    earlier = LOCK + timedelta(hours=1)
    starts = GameStarts.of(
        KICKOFFS, staggered(2, GameStatus.SCHEDULED, GameStatus.SCHEDULED, earlier)
    )
    assert starts.has_started("g2", earlier)
    later = LATE + timedelta(hours=2)
    starts = GameStarts.of(
        KICKOFFS, staggered(2, GameStatus.SCHEDULED, GameStatus.SCHEDULED, later)
    )
    assert starts.has_started("g2", LATE)
    postponed = GameStarts.of(KICKOFFS, staggered(2, GameStatus.SCHEDULED, GameStatus.POSTPONED))
    assert postponed.has_started("g2", LATE)
    assert not postponed.has_started("g2", LOCK)


def test_a_swap_obeys_the_joins_lineup_rules() -> None:
    world, contest = late_swap_world()
    ann = joined_pair(world, contest)
    world.clock.set(LOCK + timedelta(hours=1))
    with pytest.raises(InvalidLineup) as refused:
        edit_lineup(world.p, ann, "ann", with_pick(lineup(0), PHI_RB, "DAL-QB0"))
    assert refused.value.rule == "ineligible_position"


def test_without_late_swap_the_whole_lineup_locks_with_the_contest() -> None:
    world = World()
    contest = world.create(kickoffs=KICKOFFS)
    ann = joined_pair(world, contest)
    world.clock.set(LOCK + timedelta(hours=1))
    with pytest.raises(LineupChangeRefused) as refused:
        edit_lineup(world.p, ann, "ann", with_pick(lineup(0), PHI_RB, "DAL-RB2"))
    assert refused.value.reason == "locked"
    assert "no late swap" in str(refused.value)


def test_no_swap_once_the_contest_is_complete() -> None:
    world, contest = late_swap_world()
    ann = joined_pair(world, contest)
    finish(world)
    with pytest.raises(LineupChangeRefused) as refused:
        edit_lineup(world.p, ann, "ann", lineup(0))
    assert refused.value.reason == "locked"


def test_late_swap_needs_every_games_kickoff() -> None:
    with pytest.raises(InvalidContestTerms, match="none for g2"):
        World().terms(late_swap=True, kickoffs={"g1": LOCK})


def test_terms_with_late_swap_read_back_as_they_were_and_old_terms_keep_their_bytes() -> None:
    world = World()
    swapping = world.terms(late_swap=True, kickoffs=KICKOFFS)
    assert ContestTerms.from_canonical(swapping.canonical()) == swapping
    assert swapping.canonical()["late_swap"] is True
    plain = world.terms()
    assert "late_swap" not in plain.canonical()
    assert "kickoffs" not in plain.canonical()


def test_settlement_scores_the_swapped_lineup_and_its_snapshot_recomputes() -> None:
    world, contest = late_swap_world()
    ann = joined_pair(world, contest)
    world.clock.set(LOCK + timedelta(hours=1))
    world.run()
    swapped = with_pick(lineup(0), PHI_RB, "DAL-RB2")
    edit_lineup(world.p, ann, "ann", swapped)
    finish(world)
    assert world.state(contest) in {"SETTLED", "PAID"}
    page = leaderboard(world.p, contest.contest_id)
    assert {row.entry_id: row.player_ids for row in page.rows}[ann] == swapped.player_ids
    stored = settlement_snapshot(world.p, contest.contest_id)
    assert stored is not None
    document, digest = stored
    verify(document, digest)  # recomputed offline from the snapshot alone, it matches
    rows = {row.entry_id: row.player_ids for row in entry_rows(document)}
    assert rows[ann] == swapped.player_ids


def test_visible_picks_show_only_players_whose_game_has_started() -> None:
    starts = GameStarts.of(KICKOFFS, None)
    shown = visible_picks(lineup(0), World().terms().pool, starts, LOCK)
    assert [player for _, player in shown] == [
        "KC-QB0",
        "KC-RB1",
        None,
        "KC-WR3",
        None,
        "KC-WR5",
        None,
        None,
        None,
    ]
    assert [slot for slot, _ in shown] == [slot for slot, _ in lineup(0).picks]


def test_a_player_in_a_break_from_play_cannot_swap_until_it_ends() -> None:
    """A cool-off leaves the entries of locked contests to play (their prizes are paid),
    but the player plays no contest meanwhile: no swap, with the break's own refusal
    (decision 0043), while a player in no break swaps at that moment."""
    world, contest = late_swap_world()
    protect(world)
    register(world, "ann")
    register(world, "bob")
    ann = joined_pair(world, contest)
    world.clock.set(LOCK + timedelta(minutes=30))
    world.run()
    start_cool_off(world.p, "ann", timedelta(hours=72))
    swapped = with_pick(lineup(0), PHI_RB, "DAL-RB2")
    with pytest.raises(PlayerRestricted) as refused:
        edit_lineup(world.p, ann, "ann", swapped)
    assert (refused.value.reason, refused.value.until) == (
        "cool_off",
        LOCK + timedelta(minutes=30, hours=72),
    )
    with pytest.raises(NotYourEntry):  # another's entry is still refused as such
        edit_lineup(world.p, ann, "bob", swapped)
    with world.store.unit_of_work() as uow:
        assert uow.entries.get(ann).lineup == lineup(0)
    with world.store.unit_of_work() as uow:
        bob = next(e.entry_id for e in uow.entries.for_user("bob"))
    bob_swapped = with_pick(lineup(2), 1, "DAL-RB2")  # PHI-RB1: his game (g2) is later
    assert edit_lineup(world.p, bob, "bob", bob_swapped).lineup == bob_swapped
