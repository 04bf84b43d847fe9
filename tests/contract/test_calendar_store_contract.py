"""The calendar's storage contract, on every adapter of the repository port (memory, SQLite,
PostgreSQL): a calendar key is claimed once, a refused claim leaves nothing behind, paused
lines are shared, a moved lock is stored; and workers racing open each key once."""

from __future__ import annotations

import threading
from datetime import timedelta

from adapters.ids import TimeOrderedIds
from contract.backends import Backend
from fantasy_core.calendar import CalendarKey, CalendarOpening
from fantasy_core.contest import Contest
from fantasy_core.lifecycle import ContestState
from fantasy_core.usecases.calendar import run_calendar
from support.calendar_world import START, CalendarWorld, SmallCatalogue, hours
from support.world import POOL

KEY = CalendarKey("wk01", "duo", 1)


def contest(contest_id: str) -> Contest:
    terms = SmallCatalogue().terms("duo", POOL, START + timedelta(days=2))
    return Contest(contest_id=contest_id, terms=terms)


def test_a_calendar_key_is_claimed_once_and_a_refused_claim_leaves_nothing(
    backend: Backend,
) -> None:
    with backend.uow() as uow:
        uow.contests.add(contest("c-1"))
        assert uow.calendar.claim(CalendarOpening(KEY, "c-1", START))
        uow.commit()
    with backend.uow() as uow:
        uow.contests.add(contest("c-2"))
        assert not uow.calendar.claim(CalendarOpening(KEY, "c-2", START))
        # refused: the unit of work is left without commit
    with backend.uow() as uow:
        assert uow.calendar.opened(["wk01"]) == [CalendarOpening(KEY, "c-1", START)]
        assert uow.contests.ids_in_states(list(ContestState)) == ["c-1"]


def test_openings_are_listed_by_key_for_the_slates_asked(backend: Backend) -> None:
    keys = [
        CalendarKey("wk02", "ten", 2),
        CalendarKey("wk01", "ten", 1),
        CalendarKey("wk02", "duo", 1),
    ]
    with backend.uow() as uow:
        for n, key in enumerate(keys):
            uow.contests.add(contest(f"c-{n}"))
            assert uow.calendar.claim(CalendarOpening(key, f"c-{n}", START + hours(n)))
        uow.commit()
    with backend.uow() as uow:
        listed = uow.calendar.opened(["wk02", "wk09"])
        assert [o.key for o in listed] == [
            CalendarKey("wk02", "duo", 1),
            CalendarKey("wk02", "ten", 2),
        ]
        assert [o.opened_at for o in listed] == [START + hours(2), START]
        assert uow.calendar.opened([]) == []


def test_paused_lines_are_stored_and_a_repeat_changes_nothing(backend: Backend) -> None:
    with backend.uow() as uow:
        assert uow.calendar.set_paused("duo", True)
        assert not uow.calendar.set_paused("duo", True)
        assert uow.calendar.set_paused("ten", True)
        uow.commit()
    with backend.uow() as uow:
        assert uow.calendar.paused_lines() == {"duo", "ten"}
        assert uow.calendar.set_paused("duo", False)
        assert not uow.calendar.set_paused("duo", False)
        uow.commit()
    with backend.uow() as uow:
        assert uow.calendar.paused_lines() == {"ten"}


def test_a_lock_moved_earlier_is_stored_with_the_terms(backend: Backend) -> None:
    original = contest("c-1")
    with backend.uow() as uow:
        uow.contests.add(original)
        uow.commit()
    earlier = original.terms.lock_at - hours(5)
    with backend.uow() as uow:
        locked = uow.contests.lock("c-1")
        locked.move_lock_earlier(earlier)
        uow.contests.save_terms(locked)
        uow.commit()
    with backend.uow() as uow:
        stored = uow.contests.get("c-1")
    assert stored.terms.lock_at == earlier
    assert stored.terms.pool == original.terms.pool
    assert stored.version == original.version + 1


def test_workers_racing_open_each_calendar_key_once(sql_backend: Backend) -> None:
    """Four workers (threads, each with its own connection) run the calendar at one instant."""
    first = CalendarWorld(sql_backend.uow, ids=TimeOrderedIds())
    worlds = [first] + [
        CalendarWorld(sql_backend.uow, clock=first.clock, ids=TimeOrderedIds()) for _ in range(3)
    ]
    for world in worlds:
        world.feed.schedule("wk01", START + hours(30), START + hours(33))
        world.feed.schedule("wk02", START + hours(40), START + hours(43))
    barrier = threading.Barrier(len(worlds))
    errors: list[BaseException] = []

    def work(world: CalendarWorld) -> None:
        try:
            barrier.wait()
            for _ in range(3):
                run_calendar(world.p)
        except BaseException as error:  # reported below, with the test's failure
            errors.append(error)

    threads = [threading.Thread(target=work, args=(w,)) for w in worlds[1:]]
    for thread in threads:
        thread.start()
    work(worlds[0])
    for thread in threads:
        thread.join()
    assert errors == []
    openings = first.openings()
    assert sorted(o.key.text for o in openings) == sorted(
        f"{slate}/{line}/{seq}"
        for slate in ("wk01", "wk02")
        for line, seq in (("duo", 1), ("ten", 1), ("ten", 2))
    )
    with sql_backend.uow() as uow:
        every_contest = uow.contests.ids_in_states(list(ContestState))
    assert sorted(every_contest) == sorted(o.contest_id for o in openings)
