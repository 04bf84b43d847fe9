"""The limits as a property of the real join path: whatever the sequence of joins,
withdrawals, limit changes and clock moves, no join is accepted that takes the player's
fees (or entries) in any period past the limit in force at that join."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fantasy_core.entries import SEAT_HOLDING, EntryStatus
from fantasy_core.errors import LimitReached
from fantasy_core.money import Money
from fantasy_core.protection.limits import LimitKind, period_start
from fantasy_core.usecases.joining import withdraw
from fantasy_core.usecases.protecting import player_profile, set_limits
from support.protection import protect, register
from support.world import START, World

steps = st.lists(
    st.one_of(
        st.tuples(st.just("join"), st.sampled_from([300, 500, 1_000, 2_500])),
        st.tuples(st.just("withdraw"), st.integers(min_value=0, max_value=20)),
        st.tuples(st.just("hours"), st.integers(min_value=1, max_value=60)),
        st.tuples(
            st.just("limit"),
            st.tuples(st.sampled_from(LimitKind), st.integers(min_value=0, max_value=6_000)),
        ),
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
def test_no_accepted_join_passes_the_limit_in_force_when_it_was_made(
    actions: list[tuple[str, object]],
) -> None:
    world = World()
    protect(world)
    register(world, "ann")
    joins = 0
    for action, value in actions:
        if action == "hours":
            assert isinstance(value, int)
            world.clock.advance(timedelta(hours=value))
        elif action == "limit":
            assert isinstance(value, tuple)
            set_limits(world.p, "ann", {value[0]: value[1]})
        elif action == "withdraw":
            assert isinstance(value, int)
            with world.store.unit_of_work() as uow:
                active = [e for e in uow.entries.for_user("ann") if e.status is EntryStatus.ACTIVE]
            if active:  # the contests lock in a year: a withdrawal is always allowed
                entry = active[value % len(active)]
                withdraw(world.p, entry.contest_id, entry.entry_id, "ann")
        else:
            assert isinstance(value, int)
            now = world.clock.now()
            contest = world.create(
                entry_fee=Money(value, "usd"), lock_at=START + timedelta(days=400)
            )
            profile = player_profile(world.p, "ann")
            assert profile is not None
            in_force = profile.limits.in_force(now)
            joins += 1
            try:
                world.join(contest, "ann", key=f"k{joins}")
            except LimitReached:
                continue
            with world.store.unit_of_work() as uow:
                held = [e for e in uow.entries.for_user("ann") if e.status in SEAT_HOLDING]
            for kind in LimitKind:
                limit = in_force.get(kind)
                if limit is None:
                    continue
                start = period_start(kind.period, now)
                inside = [e for e in held if e.created_at >= start]
                used = sum(e.fee_minor for e in inside) if kind.counts_fees else len(inside)
                assert used <= limit, (kind, used, limit)
