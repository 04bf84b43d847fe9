"""The calendar in the worker's pass: contests open by themselves, once, lock at the first
kick-off (earlier when the schedule moves it), refill when full, and lines pause."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.memory import MemoryStore
from fantasy_core.calendar import CALENDAR_ACTOR, CalendarKey, UnknownCalendarLine
from fantasy_core.lifecycle import ContestState
from fantasy_core.usecases.calendar import RECENT, run_calendar, set_line_paused
from fantasy_core.usecases.lifecycle import tick
from fantasy_core.usecases.worker import run_once
from support.calendar_world import LINES, SLATES, START, CalendarWorld, hours
from support.crashing_store import CrashingStore, SimulatedCrash

KICKOFF = START + timedelta(days=4)


def world_with_week(store: MemoryStore | None = None) -> CalendarWorld:
    world = CalendarWorld((store or MemoryStore()).unit_of_work)
    world.feed.schedule("wk01", KICKOFF + hours(3), KICKOFF)
    return world


def keys_of(world: CalendarWorld) -> list[str]:
    return [opening.key.text for opening in world.openings()]


def test_contests_open_by_themselves_when_their_line_opens_and_lock_at_the_first_kickoff() -> None:
    world = world_with_week()
    opened = run_calendar(world.p).opened  # 4 days ahead: "ten" (5) is open, "duo" (3) not
    assert [o.key.text for o in opened] == ["wk01/ten/1", "wk01/ten/2"]
    world.clock.advance(timedelta(days=1, hours=1))
    assert [o.key.text for o in run_calendar(world.p).opened] == ["wk01/duo/1"]
    for opening in world.openings():
        contest = world.contest(opening.contest_id)
        assert contest.terms.lock_at == KICKOFF
        assert contest.state is ContestState.SCHEDULED


def test_a_second_pass_opens_nothing_more() -> None:
    world = world_with_week()
    world.clock.advance(timedelta(days=2))
    first = run_calendar(world.p).opened
    assert len(first) == 3
    assert run_calendar(world.p).opened == ()
    assert len(keys_of(world)) == 3


def test_every_opening_is_audited_with_the_actor_calendar() -> None:
    world = world_with_week()
    [first, _] = run_calendar(world.p).opened
    with world.p.uow() as uow:
        records = uow.audit.for_contest(first.contest_id)
    assert [(r.actor, r.action) for r in records] == [
        (CALENDAR_ACTOR, "contest.created"),
        (CALENDAR_ACTOR, "calendar.opened"),
    ]
    assert records[1].subject == "wk01/ten/1"


def test_a_crash_before_commit_opens_nothing_and_the_next_pass_opens_it_once() -> None:
    store = CrashingStore()
    world = world_with_week(store)
    store.crash_at_next_commit()
    with pytest.raises(SimulatedCrash):
        run_calendar(world.p)
    assert keys_of(world) == []
    run_calendar(world.p)
    assert keys_of(world) == ["wk01/ten/1", "wk01/ten/2"]
    with world.p.uow() as uow:
        assert len(uow.contests.ids_in_states([ContestState.SCHEDULED])) == 2


def test_a_full_contest_of_a_refilled_line_brings_an_identical_one_up_to_the_cap() -> None:
    world = world_with_week()
    world.clock.advance(timedelta(days=2))
    run_calendar(world.p)
    [duo1] = [o for o in world.openings() if o.key.line == "duo"]
    assert world.fill(duo1.contest_id) == 2
    [refill] = run_calendar(world.p).opened
    assert refill.key == CalendarKey("wk01", "duo", 2)
    first, second = world.contest(duo1.contest_id), world.contest(refill.contest_id)
    assert second.terms.capacity == first.terms.capacity
    assert second.terms.entry_fee == first.terms.entry_fee
    assert second.terms.lock_at == first.terms.lock_at
    assert second.terms.name == f"{first.terms.name} #2"
    assert run_calendar(world.p).opened == ()  # one refill for one fill
    world.fill(refill.contest_id)
    [third] = run_calendar(world.p).opened
    world.fill(third.contest_id)
    assert run_calendar(world.p).opened == ()  # the cap: 2 refills
    assert [k for k in keys_of(world) if "/duo/" in k] == ["wk01/duo/1", "wk01/duo/2", "wk01/duo/3"]


def test_a_line_without_refill_opens_nothing_when_full() -> None:
    world = world_with_week()
    run_calendar(world.p)
    for opening in world.openings():
        world.fill(opening.contest_id)
    assert run_calendar(world.p).opened == ()


def test_a_game_moved_earlier_before_lock_moves_the_lock_earlier_audited() -> None:
    world = world_with_week()
    run_calendar(world.p)
    world.feed.schedule("wk01", KICKOFF - hours(20), KICKOFF)
    report = run_calendar(world.p)
    assert report.locks_moved == 2
    for opening in world.openings():
        contest = world.contest(opening.contest_id)
        assert contest.terms.lock_at == KICKOFF - hours(20)
        with world.p.uow() as uow:
            [moved] = [r for r in uow.audit.for_contest(contest.contest_id)
                       if r.action == "contest.lock_moved"]  # fmt: skip
        assert moved.actor == CALENDAR_ACTOR
        assert str(KICKOFF) in moved.detail
    assert run_calendar(world.p).locks_moved == 0


def test_a_game_moved_later_never_moves_the_lock_later() -> None:
    world = world_with_week()
    run_calendar(world.p)
    world.feed.schedule("wk01", KICKOFF + hours(20), KICKOFF + hours(30))
    assert run_calendar(world.p).locks_moved == 0
    for opening in world.openings():
        assert world.contest(opening.contest_id).terms.lock_at == KICKOFF


def test_a_game_moved_into_the_past_locks_the_contests_at_the_next_tick() -> None:
    world = world_with_week()
    run_calendar(world.p)
    world.feed.schedule("wk01", world.clock.now() - hours(1), KICKOFF)
    run_calendar(world.p)
    tick(world.p)
    for opening in world.openings():
        # Below their minimum entries: cancelled at lock, as any contest is.
        assert world.contest(opening.contest_id).state is ContestState.CANCELLED


def test_a_paused_line_opens_nothing_until_resumed_and_both_are_audited() -> None:
    world = world_with_week()
    assert set_line_paused(world.p, "ten", True, "operator-1")
    assert not set_line_paused(world.p, "ten", True, "operator-1")
    assert run_calendar(world.p).opened == ()
    assert set_line_paused(world.p, "ten", False, "operator-1")
    assert len(run_calendar(world.p).opened) == 2
    with world.p.uow() as uow:
        actions = [(r.action, r.subject) for r in uow.audit.for_actor("operator-1")]
    assert actions == [("calendar.paused", "ten"), ("calendar.resumed", "ten")]
    with pytest.raises(UnknownCalendarLine):
        set_line_paused(world.p, "nope", True, "operator-1")


def test_the_worker_pass_opens_the_calendar_and_reports_it() -> None:
    world = world_with_week()
    report = run_once(world.p)
    assert [o.key.text for o in report.calendar_opened] == ["wk01/ten/1", "wk01/ten/2"]


# --- the property -------------------------------------------------------------------------

steps = st.lists(
    st.one_of(
        st.tuples(st.just("clock"), st.integers(min_value=1, max_value=40)),
        st.tuples(
            st.just("move"),
            st.sampled_from(SLATES),
            st.integers(min_value=0, max_value=1),
            st.integers(min_value=-50, max_value=50),
        ),
        st.tuples(st.just("move"), st.sampled_from(SLATES), st.just(0), st.integers(1, 5)),
        st.tuples(st.just("fill"), st.integers(min_value=0, max_value=20)),
        st.tuples(st.just("pass")),
    ),
    max_size=25,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    firsts=st.tuples(*[st.integers(min_value=0, max_value=8 * 24) for _ in SLATES]),
    script=steps,
)
def test_any_schedule_fills_and_clock_steps_open_each_key_once_locking_at_first_kickoff(
    firsts: tuple[int, ...], script: list[tuple[object, ...]]
) -> None:
    world = CalendarWorld(MemoryStore().unit_of_work)
    for slate, first in zip(SLATES, firsts, strict=True):
        world.feed.schedule(slate, START + hours(first), START + hours(first + 3))
    model_lock: dict[str, object] = {}  # contest id -> the lock it must have

    def one_pass() -> None:
        now = world.clock.now()
        schedules = {s.slate_id: s for s in world.feed.schedules()}
        for opening in world.openings():  # opened earlier: the lock moves earlier only
            lock = model_lock[opening.contest_id]
            first = schedules[opening.key.slate_id].first_kickoff
            if now < lock and first < lock and now < first + RECENT:  # type: ignore[operator]
                model_lock[opening.contest_id] = first
        for opening in run_calendar(world.p).opened:
            assert opening.contest_id not in model_lock
            model_lock[opening.contest_id] = schedules[opening.key.slate_id].first_kickoff

    for step in [*script, ("pass",)]:
        if step[0] == "clock":
            world.clock.advance(hours(step[1]))  # type: ignore[arg-type]
        elif step[0] == "move":
            _, slate, game, delta = step
            world.feed.kickoffs[slate][game] += hours(delta)  # type: ignore[index,operator]
        elif step[0] == "fill":
            openings = world.openings()
            if openings:
                world.fill(openings[step[1] % len(openings)].contest_id)  # type: ignore[operator]
        one_pass()
        openings = world.openings()
        texts = [o.key.text for o in openings]
        assert len(texts) == len(set(texts))  # each key opened at most once
        assert len({o.contest_id for o in openings}) == len(openings)
        with world.p.uow() as uow:
            every_contest = set(uow.contests.ids_in_states(list(ContestState)))
        assert every_contest == {o.contest_id for o in openings}  # no contest without a key
        for opening in openings:
            line = next(line for line in LINES if line.key == opening.key.line)
            assert 1 <= opening.key.sequence <= line.most_per_slate
            assert world.contest(opening.contest_id).terms.lock_at == model_lock[opening.contest_id]
