"""Lineup changes after joining: edits until lock under the join's rules, no money moving."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fantasy_core import codec
from fantasy_core.entries import Entry, EntryStatus
from fantasy_core.errors import (
    IdempotencyKeyReused,
    InvalidLineup,
    LineupChangeRefused,
    NotYourEntry,
)
from fantasy_core.lineups import Lineup
from fantasy_core.usecases.joining import JoinRequest
from fantasy_core.usecases.joining_batch import join_many
from fantasy_core.usecases.lineups import edit_lineup
from fantasy_core.usecases.queries import leaderboard
from support.world import LOCK, World, lineup


def money_calls(world: World) -> list[str]:
    return [call for call, _ in world.gateway.calls]


def stored(world: World, entry_id: str) -> Entry:
    with world.store.unit_of_work() as uow:
        return uow.entries.get(entry_id)


def test_an_edit_before_lock_replaces_the_lineup_and_moves_no_money() -> None:
    world = World()
    contest = world.create()
    joined = world.join(contest, "ann")
    with world.store.unit_of_work() as uow:
        ledger_before = uow.ledger.all()
    edited = edit_lineup(world.p, joined.entry_id, "ann", lineup(1))
    assert edited.lineup == lineup(1)
    assert stored(world, joined.entry_id).lineup == lineup(1)
    assert money_calls(world) == ["charge"]
    with world.store.unit_of_work() as uow:
        assert uow.ledger.all() == ledger_before
        audit = [r for r in uow.audit.for_contest(contest.contest_id) if "lineup" in r.action]
    assert [(r.action, r.actor, r.subject) for r in audit] == [
        ("entry.lineup_edited", "ann", joined.entry_id)
    ]
    assert audit[0].detail == f"lineup {lineup(0).fingerprint} -> {lineup(1).fingerprint}"


def test_a_lineup_fingerprint_is_the_sha256_of_its_canonical_picks() -> None:
    assert lineup(0).fingerprint == lineup(0).fingerprint
    assert lineup(0).fingerprint != lineup(1).fingerprint
    assert lineup(0).fingerprint == codec.fingerprint([list(pick) for pick in lineup(0).picks])
    assert lineup(0).fingerprint.startswith("sha256:")
    swapped = Lineup(tuple(reversed(lineup(0).picks)))  # same players, other slots
    assert swapped.fingerprint != lineup(0).fingerprint


def test_an_edit_obeys_the_joins_lineup_rules() -> None:
    world = World()
    contest = world.create()
    joined = world.join(contest, "ann")
    picks = list(lineup(0).picks)
    picks[1] = ("RB", picks[0][1])  # the QB again, in an RB slot
    with pytest.raises(InvalidLineup) as refused:
        edit_lineup(world.p, joined.entry_id, "ann", Lineup(picks))
    assert refused.value.rule == "duplicate_player"
    assert stored(world, joined.entry_id).lineup == lineup(0)


def test_only_the_owner_may_edit() -> None:
    world = World()
    contest = world.create()
    joined = world.join(contest, "ann")
    with pytest.raises(NotYourEntry):
        edit_lineup(world.p, joined.entry_id, "bob", lineup(1))
    assert stored(world, joined.entry_id).lineup == lineup(0)


@pytest.mark.parametrize("worker_ran", [False, True])
def test_no_edit_from_the_lock_time_on(worker_ran: bool) -> None:
    world = World()
    contest = world.create()
    world.join(contest, "bob", variant=2)
    joined = world.join(contest, "ann")
    world.clock.set(LOCK - timedelta(microseconds=1))
    edit_lineup(world.p, joined.entry_id, "ann", lineup(1))
    world.clock.set(LOCK)
    if worker_ran:
        world.run()
        assert world.state(contest) in {"LOCKED", "LIVE"}
    with pytest.raises(LineupChangeRefused) as refused:
        edit_lineup(world.p, joined.entry_id, "ann", lineup(2))
    assert refused.value.reason == "locked"
    assert stored(world, joined.entry_id).lineup == lineup(1)


def test_only_an_active_entry_can_be_edited() -> None:
    world = World()
    contest = world.create()
    declined = world.join(contest, "ann", card="pm_card_chargeDeclined")
    assert declined.status is EntryStatus.DECLINED
    with pytest.raises(LineupChangeRefused) as refused:
        edit_lineup(world.p, declined.entry_id, "ann", lineup(1))
    assert refused.value.reason == "not_active"


def test_the_same_lineup_again_changes_nothing() -> None:
    world = World()
    contest = world.create()
    joined = world.join(contest, "ann")
    edit_lineup(world.p, joined.entry_id, "ann", lineup(0))
    assert stored(world, joined.entry_id).joined_lineup is None
    with world.store.unit_of_work() as uow:
        assert not [r for r in uow.audit.for_contest(contest.contest_id) if "lineup" in r.action]


def test_a_replay_of_the_original_join_after_edits_returns_the_first_outcome() -> None:
    world = World()
    contest = world.create()
    first = world.join(contest, "ann", key="tap")
    edit_lineup(world.p, first.entry_id, "ann", lineup(1))
    edit_lineup(world.p, first.entry_id, "ann", lineup(2))
    assert world.join(contest, "ann", key="tap") == first
    [batched] = join_many(
        world.p, [JoinRequest(contest.contest_id, "ann", "tap", lineup(0), "pm_card_visa")]
    )
    assert not isinstance(batched, Exception)
    assert batched[0] == first
    assert money_calls(world) == ["charge"]
    entry = stored(world, first.entry_id)
    assert (entry.lineup, entry.joined_lineup) == (lineup(2), lineup(0))


def test_the_key_with_the_edited_lineup_is_another_request() -> None:
    world = World()
    contest = world.create()
    first = world.join(contest, "ann", key="tap")
    edit_lineup(world.p, first.entry_id, "ann", lineup(1))
    with pytest.raises(IdempotencyKeyReused):
        world.join(contest, "ann", key="tap", variant=1)
    assert money_calls(world) == ["charge"]


def test_settlement_scores_the_final_lineup() -> None:
    world = World()
    contest = world.create()
    ann = world.join(contest, "ann")
    world.join(contest, "bob", variant=2)
    edit_lineup(world.p, ann.entry_id, "ann", lineup(1))
    world.play_games()
    assert world.state(contest) in {"SETTLED", "PAID"}
    page = leaderboard(world.p, contest.contest_id)
    assert page.final
    by_entry = {row.entry_id: row.player_ids for row in page.rows}
    assert by_entry[ann.entry_id] == lineup(1).player_ids
