"""The calendar's pure rules: which keys are due, refills, and the lock from the schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fantasy_core.calendar import (
    Calendar,
    CalendarKey,
    CalendarLine,
    InvalidCalendar,
    LineState,
    SlateSchedule,
    UnknownCalendarLine,
    contests_due,
    due_keys,
    lock_time,
    moved_lock,
    opens_at,
)

SUNDAY = datetime(2025, 9, 7, 17, tzinfo=UTC)
THURSDAY = datetime(2025, 9, 5, 0, 15, tzinfo=UTC)
WEEK1 = SlateSchedule("nfl-2025-reg-wk01", "nfl", (SUNDAY, THURSDAY, SUNDAY))
FIFTY = CalendarLine("fifty", "nfl", "fifty_fifty", open_days_before=6, count=2)
H2H = CalendarLine("h2h", "nfl", "head_to_head", 6, count=1, refill=True, refill_cap=3)
CALENDAR = Calendar((FIFTY, H2H))
DAY = timedelta(days=1)


def keys(*triples: tuple[str, int]) -> list[CalendarKey]:
    return [CalendarKey(WEEK1.slate_id, line, seq) for line, seq in triples]


def test_a_contest_locks_at_the_slates_first_scheduled_kickoff() -> None:
    assert lock_time(WEEK1) == THURSDAY


def test_a_line_opens_its_count_of_contests_from_its_days_before_the_first_kickoff() -> None:
    assert opens_at(FIFTY, WEEK1) == THURSDAY - 6 * DAY
    assert due_keys(CALENDAR, [WEEK1], THURSDAY - 6 * DAY - timedelta(seconds=1), {}) == []
    assert due_keys(CALENDAR, [WEEK1], THURSDAY - 6 * DAY, {}) == keys(
        ("fifty", 1), ("fifty", 2), ("h2h", 1)
    )


def test_nothing_opens_from_the_first_kickoff_on() -> None:
    assert due_keys(CALENDAR, [WEEK1], THURSDAY, {}) == []


def test_keys_already_opened_are_not_due_again() -> None:
    states = {(WEEK1.slate_id, "fifty"): LineState(frozenset({1}))}
    due = due_keys(CALENDAR, [WEEK1], THURSDAY - DAY, states)
    assert due == keys(("fifty", 2), ("h2h", 1))


def test_a_paused_line_opens_nothing_and_other_sports_are_left_alone() -> None:
    other = SlateSchedule("nba-2025-d001", "nba", (SUNDAY,))
    due = due_keys(CALENDAR, [WEEK1, other], THURSDAY - DAY, {}, paused={"fifty"})
    assert due == keys(("h2h", 1))


def test_each_full_contest_of_a_refilled_line_brings_one_more_up_to_the_cap() -> None:
    assert contests_due(H2H, LineState(frozenset({1}), full=0)) == 1
    assert contests_due(H2H, LineState(frozenset({1}), full=1)) == 2
    assert contests_due(H2H, LineState(frozenset({1, 2, 3, 4}), full=4)) == 4  # 1 + cap 3
    assert contests_due(H2H, LineState(frozenset(range(1, 10)), full=9)) == 4
    state = {(WEEK1.slate_id, "h2h"): LineState(frozenset({1}), full=1)}
    assert due_keys(Calendar((H2H,)), [WEEK1], THURSDAY - DAY, state) == keys(("h2h", 2))


def test_a_full_contest_of_a_line_without_refill_brings_nothing() -> None:
    assert contests_due(FIFTY, LineState(frozenset({1, 2}), full=2)) == 2


def test_a_lock_moves_earlier_with_the_schedule_before_lock_and_never_later() -> None:
    earlier = SlateSchedule(WEEK1.slate_id, "nfl", (THURSDAY - timedelta(hours=2), SUNDAY))
    later = SlateSchedule(WEEK1.slate_id, "nfl", (THURSDAY + timedelta(hours=2), SUNDAY))
    before = THURSDAY - DAY
    assert moved_lock(THURSDAY, earlier, before) == THURSDAY - timedelta(hours=2)
    assert moved_lock(THURSDAY, later, before) is None
    assert moved_lock(THURSDAY, WEEK1, before) is None
    assert moved_lock(THURSDAY, earlier, THURSDAY) is None  # locked already: the tick's


def test_a_game_moved_into_the_past_locks_the_contest_at_once() -> None:
    now = THURSDAY - timedelta(hours=1)
    moved = SlateSchedule(WEEK1.slate_id, "nfl", (now - timedelta(minutes=5), SUNDAY))
    assert moved_lock(THURSDAY, moved, now) == now - timedelta(minutes=5)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"key": "Fifty Fifty"}, "a line key"),
        ({"open_days_before": 0}, "open_days_before"),
        ({"count": 0}, "count"),
        ({"count": True}, "count"),
        ({"refill": True}, "refill_cap >= 1"),
        ({"refill_cap": 2}, "refill_cap without refill"),
        ({"sport": " "}, "sport"),
    ],
)
def test_a_line_that_cannot_be_run_is_refused_naming_its_key(
    changes: dict[str, object], message: str
) -> None:
    values: dict[str, object] = {
        "key": "fifty",
        "sport": "nfl",
        "template": "fifty_fifty",
        "open_days_before": 6,
    }
    values.update(changes)
    with pytest.raises(InvalidCalendar, match=message):
        CalendarLine(**values)  # type: ignore[arg-type]


def test_a_calendar_refuses_two_lines_with_one_key_and_names_what_it_has() -> None:
    with pytest.raises(InvalidCalendar, match="two lines have the key 'fifty'"):
        Calendar((FIFTY, FIFTY))
    with pytest.raises(UnknownCalendarLine, match="lines: fifty, h2h"):
        CALENDAR.line("nope")


def test_a_schedule_needs_a_game_and_time_zones() -> None:
    with pytest.raises(InvalidCalendar, match="at least one game"):
        SlateSchedule("s", "nfl", ())
    with pytest.raises(InvalidCalendar, match="time zone"):
        SlateSchedule("s", "nfl", (datetime(2025, 9, 7, 17),))


kickoffs = st.lists(
    st.integers(min_value=0, max_value=14 * 24).map(lambda h: SUNDAY + timedelta(hours=h)),
    min_size=1,
    max_size=6,
)


@given(
    times=kickoffs,
    now_hours=st.integers(min_value=-14 * 24, max_value=14 * 24),
    opened=st.frozensets(st.integers(min_value=1, max_value=8)),
    full=st.integers(min_value=0, max_value=8),
)
def test_due_keys_are_never_opened_ones_and_never_beyond_the_lines_most(
    times: list[datetime], now_hours: int, opened: frozenset[int], full: int
) -> None:
    schedule = SlateSchedule("s", "nfl", tuple(times))
    now = SUNDAY + timedelta(hours=now_hours)
    states = {("s", line.key): LineState(opened, full) for line in CALENDAR.lines}
    due = due_keys(CALENDAR, [schedule], now, states)
    assert len(due) == len(set(due))
    for key in due:
        line = CALENDAR.line(key.line)
        assert key.sequence not in opened
        assert 1 <= key.sequence <= line.most_per_slate
        assert opens_at(line, schedule) <= now < lock_time(schedule)
    assert lock_time(schedule) == min(times)


@given(times=kickoffs, lock_hours=st.integers(0, 14 * 24), now_hours=st.integers(-48, 14 * 24))
def test_a_moved_lock_is_always_the_first_kickoff_and_always_earlier(
    times: list[datetime], lock_hours: int, now_hours: int
) -> None:
    current = SUNDAY + timedelta(hours=lock_hours)
    now = SUNDAY + timedelta(hours=now_hours)
    moved = moved_lock(current, SlateSchedule("s", "nfl", tuple(times)), now)
    if moved is not None:
        assert moved == min(times) < current
        assert now < current
    else:
        assert min(times) >= current or now >= current
