"""Player protection on the join paths: each refusal comes before any money moves, inside
the transaction that reserves the seat, alone and in a batch; breaks from play withdraw
and refund entries; limits get their room back when a fee is refunded."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fantasy_core.entries import EntryStatus
from fantasy_core.errors import (
    JurisdictionExcluded,
    LimitReached,
    PlayerRestricted,
    ProfileIncomplete,
    UnderAge,
    UnknownLocation,
)
from fantasy_core.protection.limits import LimitKind
from fantasy_core.protection.restrictions import ExclusionTerm
from fantasy_core.usecases.joining import JoinRequest, join, withdraw
from fantasy_core.usecases.joining_batch import join_many
from fantasy_core.usecases.payment_events import apply_payment_event
from fantasy_core.usecases.protecting import (
    guard_joins,
    set_limits,
    start_cool_off,
    start_self_exclusion,
    withdraw_restricted_entries,
)
from support.protection import protect, register
from support.world import World, lineup


def charges(world: World) -> int:
    return sum(1 for call, _ in world.gateway.calls if call == "charge")


def test_a_player_without_a_record_cannot_join_once_protection_runs() -> None:
    world = World()
    protect(world)
    contest = world.create()
    with pytest.raises(ProfileIncomplete):
        world.join(contest, "ghost")
    assert charges(world) == 0


def test_a_join_from_an_excluded_jurisdiction_is_refused_and_charges_nothing() -> None:
    world = World()
    locator = protect(world)
    register(world, "ann", "NJ")
    contest = world.create()
    locator.where["ann"] = "NV"
    with pytest.raises(JurisdictionExcluded):
        world.join(contest, "ann")
    assert charges(world) == 0
    locator.where.clear()
    assert world.join(contest, "ann").status is EntryStatus.ACTIVE


def test_where_the_player_was_is_recorded_with_the_join() -> None:
    world = World()
    protect(world)
    register(world, "ann", "NJ")
    contest = world.create()
    request = JoinRequest(contest.contest_id, "ann", "k1", lineup(0), "pm_card_visa", "PA")
    join(world.p, request)
    with world.store.unit_of_work() as uow:
        details = [r.detail for r in uow.audit.for_actor("ann") if r.action == "join.reserved"]
    assert details == ["seat reserved, fee 10.00 USD; located in PA (declared)"]


def test_a_declared_location_that_is_no_state_is_refused() -> None:
    world = World()
    protect(world)
    register(world, "ann")
    contest = world.create()
    request = JoinRequest(contest.contest_id, "ann", "k1", lineup(0), "pm_card_visa", "ZZ")
    with pytest.raises(UnknownLocation):
        join(world.p, request)


def test_a_player_old_enough_at_home_is_too_young_where_the_age_is_higher() -> None:
    world = World()
    locator = protect(world)
    nineteen = world.clock.now().date().replace(year=world.clock.now().year - 19)
    register(world, "ann", "NJ", born=nineteen)
    contest = world.create()
    locator.where["ann"] = "MA"
    with pytest.raises(UnderAge):
        world.join(contest, "ann")
    assert charges(world) == 0


def test_a_join_over_a_limit_is_refused_before_money_moves_and_a_refund_gives_room_back() -> None:
    world = World()
    protect(world)
    register(world, "ann")
    set_limits(world.p, "ann", {LimitKind.FEES_DAY: 2_000})
    first, second = world.create(), world.create()
    world.join(first, "ann", key="a")
    world.join(first, "ann", key="b", variant=1)
    with pytest.raises(LimitReached) as refused:
        world.join(second, "ann", key="c")
    assert (refused.value.limit, refused.value.left) == ("fees_day", 0)
    assert charges(world) == 2
    entry = world.join(first, "ann", key="a")  # a replay still answers, charges nothing
    withdraw(world.p, first.contest_id, entry.entry_id, "ann")
    assert world.join(second, "ann", key="c").status is EntryStatus.ACTIVE


def test_a_declined_card_gives_its_room_back() -> None:
    world = World()
    protect(world)
    register(world, "ann")
    set_limits(world.p, "ann", {LimitKind.ENTRIES_WEEK: 1})
    contest = world.create()
    assert world.join(contest, "ann", key="a", card="pm_card_chargeDeclined").status is (
        EntryStatus.DECLINED
    )
    assert world.join(contest, "ann", key="b").status is EntryStatus.ACTIVE


def test_a_batch_holds_one_player_to_their_limit() -> None:
    world = World()
    protect(world)
    register(world, "ann")
    register(world, "bob")
    set_limits(world.p, "ann", {LimitKind.FEES_WEEK: 2_000})
    contests = [world.create(), world.create()]
    requests = [
        JoinRequest(c.contest_id, user, f"{user}-{n}", lineup(n), "pm_card_visa")
        for n, (c, user) in enumerate((c, u) for c in contests for u in ("ann", "bob", "ann"))
    ]
    answers = join_many(world.p, requests)
    refused = [a for a in answers if isinstance(a, Exception)]
    assert [type(a) for a in refused] == [LimitReached, LimitReached]
    assert all(isinstance(a, LimitReached) and a.left == 0 for a in refused)
    assert charges(world) == 4  # ann twice (her 2,000), bob twice


def test_what_a_player_spent_is_read_only_when_a_limit_of_theirs_is_in_force(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The spend of the periods is every seat the player took this month: read at every
    # join, it grew with the player's history though most players set no limit.
    world = World()
    protect(world)
    register(world, "ann")
    register(world, "bob")
    set_limits(world.p, "ann", {LimitKind.FEES_WEEK: 5_000})
    asked: list[list[str]] = []
    now = world.p.clock.now()
    with world.p.uow() as uow:
        read = uow.entries.spend_since

        def spy(users: list[str], since: object) -> object:
            asked.append(list(users))
            return read(users, since)  # type: ignore[arg-type]

        monkeypatch.setattr(uow.entries, "spend_since", spy)
        guard_joins(world.p, uow, ["bob"], now)
        guard_joins(world.p, uow, ["bob", "ann"], now)
    assert asked == [["ann"]]
    contest = world.create()
    for n in range(3):
        assert world.join(contest, "bob", key=f"b{n}", variant=n).status is EntryStatus.ACTIVE


def test_a_batch_refuses_an_excluded_jurisdiction_alone() -> None:
    world = World()
    locator = protect(world)
    register(world, "ann")
    register(world, "bob")
    locator.where["bob"] = "WA"
    contest = world.create()
    answers = join_many(
        world.p,
        [
            JoinRequest(contest.contest_id, "ann", "a", lineup(0), "pm_card_visa"),
            JoinRequest(contest.contest_id, "bob", "b", lineup(1), "pm_card_visa"),
        ],
    )
    assert not isinstance(answers[0], Exception)
    assert isinstance(answers[1], JurisdictionExcluded)
    assert charges(world) == 1


def test_a_self_exclusion_refuses_joins_and_refunds_entries_in_contests_not_locked() -> None:
    world = World()
    protect(world)
    register(world, "ann")
    contest = world.create()
    entry = world.join(contest, "ann")
    start_self_exclusion(world.p, "ann", ExclusionTerm.ONE_YEAR)
    with world.store.unit_of_work() as uow:
        assert uow.entries.get(entry.entry_id).status is EntryStatus.WITHDRAWN
    assert len(world.gateway.refunds) == 1
    with pytest.raises(PlayerRestricted) as refused:
        world.join(contest, "ann", key="again")
    assert refused.value.reason == "self_excluded"


def test_a_cool_off_leaves_entries_in_locked_contests_to_play_and_win() -> None:
    world = World()
    protect(world)
    register(world, "ann")
    register(world, "bob")
    contest = world.create()
    world.join(contest, "ann")
    world.join(contest, "bob", variant=1)
    world.clock.set(contest.terms.lock_at)
    world.run()  # locked
    start_cool_off(world.p, "ann", timedelta(days=3))
    assert world.gateway.refunds == {}
    assert withdraw_restricted_entries(world.p) == 0
    with world.store.unit_of_work() as uow:
        statuses = {e.user_id: e.status for e in uow.entries.for_contest(contest.contest_id)}
    assert statuses == {"ann": EntryStatus.ACTIVE, "bob": EntryStatus.ACTIVE}


def test_an_entry_charged_after_the_break_began_is_withdrawn_by_the_workers_sweep() -> None:
    world = World()
    protect(world)
    register(world, "ann")
    contest = world.create()
    pending = world.join(contest, "ann", card="pm_card_authenticationRequired")
    assert pending.status is EntryStatus.PENDING_ACTION
    start_cool_off(world.p, "ann", timedelta(days=3))
    key = next(k for k in world.gateway.charges)
    apply_payment_event(world.p, world.gateway.complete_action(key, True, "evt_1"))
    world.run()
    with world.store.unit_of_work() as uow:
        assert uow.entries.get(pending.entry_id).status is EntryStatus.WITHDRAWN
