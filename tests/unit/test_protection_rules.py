"""Player protection's pure rules: ages, identity keys, limit periods, the 90-day
loosening, the limit check, cool-offs and self-exclusions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from fantasy_core.errors import (
    InvalidConfiguration,
    InvalidProtectionRequest,
    JurisdictionExcluded,
    LimitReached,
    PlayerRestricted,
    UnderAge,
)
from fantasy_core.protection.eligibility import Location, check_paid_join
from fantasy_core.protection.limits import (
    LOOSENING_DELAY,
    LimitKind,
    Limits,
    LimitSchedule,
    Period,
    Spend,
    check_limits,
    period_end,
    period_start,
)
from fantasy_core.protection.players import age_on, identity_key, new_profile
from fantasy_core.protection.restrictions import (
    ExclusionTerm,
    check_not_restricted,
    combine,
    cool_off,
    self_exclusion,
)
from fantasy_core.protection.rules import JurisdictionRules

RULES = JurisdictionRules()
NOW = datetime(2025, 9, 10, 15, 30, tzinfo=UTC)  # a Wednesday
instants = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)


def born_years_before(day: date, years: int) -> date:
    return day.replace(year=day.year - years)


# --- who may play -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("jurisdiction", "minimum"),
    [("NJ", 18), ("AL", 19), ("NE", 19), ("MA", 21), ("AZ", 21), ("IA", 21)],
)
def test_the_minimum_age_is_the_jurisdictions(jurisdiction: str, minimum: int) -> None:
    today = NOW.date()
    old_enough = born_years_before(today, minimum)
    new_profile(RULES, "u1", "a@example.com", old_enough, jurisdiction, NOW)
    a_day_short = old_enough + timedelta(days=1)
    with pytest.raises(UnderAge) as refused:
        new_profile(RULES, "u1", "a@example.com", a_day_short, jurisdiction, NOW)
    assert refused.value.minimum_age == minimum


def test_ages_are_configuration_not_code() -> None:
    rules = JurisdictionRules(default_minimum_age=19, minimum_ages={"NY": 22})
    assert rules.minimum_age("NY") == 22
    assert rules.minimum_age("NJ") == 19
    with pytest.raises(InvalidConfiguration):
        JurisdictionRules(minimum_ages={"XX": 18})


def test_a_leap_day_birthday_comes_on_the_first_of_march() -> None:
    assert age_on(date(2004, 2, 29), date(2022, 2, 28)) == 17
    assert age_on(date(2004, 2, 29), date(2022, 3, 1)) == 18


def test_registration_refuses_an_unknown_jurisdiction_and_an_impossible_birth_date() -> None:
    with pytest.raises(InvalidProtectionRequest) as bad_code:
        new_profile(RULES, "u1", "a@example.com", date(1990, 1, 1), "XX", NOW)
    assert bad_code.value.rule == "bad_jurisdiction"
    with pytest.raises(InvalidProtectionRequest) as future:
        new_profile(RULES, "u1", "a@example.com", date(2030, 1, 1), "NJ", NOW)
    assert future.value.rule == "bad_date_of_birth"


def test_a_massachusetts_player_starts_with_the_monthly_cap() -> None:
    profile = new_profile(RULES, "u1", "a@example.com", date(1990, 1, 1), "MA", NOW)
    assert profile.limits.in_force(NOW).get(LimitKind.FEES_MONTH) == 100_000
    other = new_profile(RULES, "u2", "b@example.com", date(1990, 1, 1), "NJ", NOW)
    assert other.limits.in_force(NOW).values == {}


def test_one_mailbox_is_one_identity() -> None:
    assert identity_key("ann.smith+dfs@gmail.com") == identity_key("annsmith@googlemail.com")
    assert identity_key("ann+x@example.com") == identity_key("ann@example.com")
    assert identity_key("ann.smith@example.com") != identity_key("annsmith@example.com")


def test_an_excluded_jurisdiction_refuses_paid_joins_where_the_player_is() -> None:
    profile = new_profile(RULES, "u1", "a@example.com", date(1990, 1, 1), "NJ", NOW)
    with pytest.raises(JurisdictionExcluded):
        check_paid_join(RULES, profile, Location("NV", "declared"), 500, [], NOW)
    check_paid_join(RULES, profile, Location("NJ", "declared"), 500, [], NOW)
    operator_list = RULES.with_excluded(frozenset({"NJ"}))
    with pytest.raises(JurisdictionExcluded):
        check_paid_join(operator_list, profile, Location("NJ", "declared"), 500, [], NOW)


def test_the_age_is_checked_where_the_player_is() -> None:
    nineteen = born_years_before(NOW.date(), 19)
    profile = new_profile(RULES, "u1", "a@example.com", nineteen, "NJ", NOW)
    check_paid_join(RULES, profile, Location("AL", "declared"), 500, [], NOW)
    with pytest.raises(UnderAge):
        check_paid_join(RULES, profile, Location("MA", "declared"), 500, [], NOW)


# --- periods and limits -------------------------------------------------------------------


def test_periods_are_utc_days_weeks_from_monday_and_months_from_the_first() -> None:
    assert period_start(Period.DAY, NOW) == datetime(2025, 9, 10, tzinfo=UTC)
    assert period_start(Period.WEEK, NOW) == datetime(2025, 9, 8, tzinfo=UTC)
    assert period_start(Period.MONTH, NOW) == datetime(2025, 9, 1, tzinfo=UTC)
    assert period_end(Period.MONTH, datetime(2025, 12, 31, 23, tzinfo=UTC)) == datetime(
        2026, 1, 1, tzinfo=UTC
    )


@given(instants, st.sampled_from(Period))
def test_every_instant_lies_in_exactly_one_period(at: datetime, period: Period) -> None:
    start, end = period_start(period, at), period_end(period, at)
    assert start <= at < end
    assert period_start(period, end) == end  # the next period begins where this one ends
    if period is Period.WEEK:
        assert start.weekday() == 0


def test_a_join_over_a_limit_names_the_limit_and_what_is_left() -> None:
    limits = Limits({LimitKind.FEES_DAY: 2_500})
    spent = [Spend(NOW - timedelta(hours=1), 2_000)]
    with pytest.raises(LimitReached) as refused:
        check_limits(limits, spent, 1_000, NOW)
    assert (refused.value.limit, refused.value.left) == ("fees_day", 500)
    assert refused.value.resets_at == datetime(2025, 9, 11, tzinfo=UTC)
    check_limits(limits, spent, 500, NOW)  # exactly up to the limit is allowed


def test_yesterdays_fees_do_not_count_against_today() -> None:
    limits = Limits({LimitKind.FEES_DAY: 1_000})
    check_limits(limits, [Spend(datetime(2025, 9, 9, 23, 59, tzinfo=UTC), 1_000)], 1_000, NOW)


def test_entries_per_week_count_entries_not_money() -> None:
    limits = Limits({LimitKind.ENTRIES_WEEK: 2})
    monday = datetime(2025, 9, 8, 0, 0, tzinfo=UTC)
    sunday_before = monday - timedelta(seconds=1)
    check_limits(limits, [Spend(monday, 1), Spend(sunday_before, 1)], 0, NOW)
    with pytest.raises(LimitReached) as refused:
        check_limits(limits, [Spend(monday, 1), Spend(monday, 1)], 0, NOW)
    assert (refused.value.limit, refused.value.left) == ("entries_week", 0)


def test_tightening_applies_at_once_and_loosening_after_ninety_days() -> None:
    schedule = LimitSchedule().request({LimitKind.FEES_WEEK: 5_000}, NOW)
    assert schedule.in_force(NOW).get(LimitKind.FEES_WEEK) == 5_000
    looser = schedule.request({LimitKind.FEES_WEEK: 9_000}, NOW)
    assert (
        looser.in_force(NOW + LOOSENING_DELAY - timedelta(seconds=1)).get(LimitKind.FEES_WEEK)
        == 5_000
    )
    assert looser.pending[LimitKind.FEES_WEEK].effective_at == NOW + LOOSENING_DELAY
    assert looser.in_force(NOW + LOOSENING_DELAY).get(LimitKind.FEES_WEEK) == 9_000
    lifted = schedule.request({LimitKind.FEES_WEEK: None}, NOW)
    assert lifted.in_force(NOW).get(LimitKind.FEES_WEEK) == 5_000
    assert lifted.in_force(NOW + LOOSENING_DELAY).get(LimitKind.FEES_WEEK) is None


def test_tightening_drops_a_loosening_that_was_waiting() -> None:
    schedule = LimitSchedule().request({LimitKind.FEES_DAY: 1_000}, NOW)
    waiting = schedule.request({LimitKind.FEES_DAY: 3_000}, NOW)
    tighter = waiting.request({LimitKind.FEES_DAY: 800}, NOW + timedelta(days=1))
    assert tighter.pending == {}
    assert tighter.in_force(NOW + timedelta(days=200)).get(LimitKind.FEES_DAY) == 800


def test_a_limit_is_a_whole_number_of_cents() -> None:
    with pytest.raises(InvalidProtectionRequest):
        LimitSchedule().request({LimitKind.FEES_DAY: -1}, NOW)


requests = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=200).map(lambda days: timedelta(days=days)),
        st.sampled_from(LimitKind),
        st.one_of(st.none(), st.integers(min_value=0, max_value=10_000)),
    ),
    max_size=8,
)


def _looser(a: int | None, b: int | None) -> bool:
    return b is not None and (a is None or a > b)


@given(requests, st.integers(min_value=0, max_value=400))
# A limit of 0, its removal asked at once and again the next day, then 1 asked on the day
# the removal took effect: 1 is looser than the 0 of the 90 days before, and was asked
# only then, but it tightens the no limit the player waited 90 days for.
@example(
    [
        (timedelta(0), LimitKind.FEES_DAY, 0),
        (timedelta(0), LimitKind.FEES_DAY, None),
        (timedelta(days=1), LimitKind.FEES_DAY, None),
        (timedelta(days=90), LimitKind.FEES_DAY, 1),
    ],
    90,
)
def test_a_limit_never_loosens_before_ninety_days_after_it_was_asked(
    asked: list[tuple[timedelta, LimitKind, int | None]], probe_days: int
) -> None:
    """Whatever the requests, a value in force that is looser than one in force at some
    instant of the 90 days before was asked for at least 90 days before, or a value at
    least as loose was."""
    timeline: list[tuple[datetime, LimitKind, int | None, LimitSchedule]] = []
    schedule = LimitSchedule()
    for gap, kind, value in sorted(asked, key=lambda a: a[0]):
        schedule = schedule.request({kind: value}, NOW + gap)
        timeline.append((NOW + gap, kind, value, schedule))

    def in_force(at: datetime, kind: LimitKind) -> int | None:
        known = [s for when, _, _, s in timeline if when <= at]
        return known[-1].in_force(at).get(kind) if known else None

    probe = NOW + timedelta(days=probe_days)
    instants_before = [w for w, _, _, _ in timeline if probe - LOOSENING_DELAY < w <= probe]
    for kind in LimitKind:
        now_value = in_force(probe, kind)
        for when in instants_before:
            if _looser(now_value, in_force(when, kind)):
                assert any(
                    k is kind
                    and (v == now_value or _looser(v, now_value))
                    and w <= probe - LOOSENING_DELAY
                    for w, k, v, _ in timeline
                ), (kind, now_value, when)


joins = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=60 * 24 * 40),  # minutes after the start
        st.integers(min_value=1, max_value=3_000),  # the fee
        st.booleans(),  # refunded later (gives its room back)
    ),
    max_size=40,
)


@given(
    joins, st.integers(min_value=0, max_value=20_000), st.integers(min_value=0, max_value=40_000)
)
def test_no_sequence_of_joins_and_refunds_passes_a_limit_in_any_period(
    attempts: list[tuple[int, int, bool]], day_limit: int, week_limit: int
) -> None:
    limits = Limits({LimitKind.FEES_DAY: day_limit, LimitKind.FEES_WEEK: week_limit})
    start = datetime(2025, 9, 1, tzinfo=UTC)
    kept: list[Spend] = []
    for minutes, fee, refunded in sorted(attempts):
        at = start + timedelta(minutes=minutes)
        try:
            check_limits(limits, kept, fee, at)
        except LimitReached:
            continue
        if not refunded:
            kept.append(Spend(at, fee))
    for period, limit in ((Period.DAY, day_limit), (Period.WEEK, week_limit)):
        totals: dict[datetime, int] = {}
        for spend in kept:
            key = period_start(period, spend.at)
            totals[key] = totals.get(key, 0) + spend.fee_minor
        assert all(total <= limit for total in totals.values())


# --- breaks from play ---------------------------------------------------------------------


def test_a_cool_off_lasts_from_72_hours_to_30_days() -> None:
    for bad in (timedelta(hours=71), timedelta(days=31)):
        with pytest.raises(InvalidProtectionRequest):
            cool_off(NOW, bad)
    restriction = cool_off(NOW, timedelta(days=3))
    with pytest.raises(PlayerRestricted) as refused:
        check_not_restricted(restriction, NOW + timedelta(days=2))
    assert refused.value.reason == "cool_off"
    check_not_restricted(restriction, NOW + timedelta(days=3))


def test_a_self_exclusion_cannot_be_lifted_or_shortened() -> None:
    five = self_exclusion(NOW, ExclusionTerm.FIVE_YEARS)
    later = NOW + timedelta(days=10)
    with pytest.raises(InvalidProtectionRequest) as refused:
        combine(five, self_exclusion(later, ExclusionTerm.ONE_YEAR), later)
    assert refused.value.rule == "cannot_shorten"
    with pytest.raises(InvalidProtectionRequest):
        combine(five, cool_off(later, timedelta(days=3)), later)
    permanent = combine(five, self_exclusion(later, ExclusionTerm.PERMANENT), later)
    assert permanent.until is None
    with pytest.raises(PlayerRestricted) as excluded:
        check_not_restricted(permanent, NOW + timedelta(days=365 * 50))
    assert excluded.value.reason == "self_excluded"


def test_a_cool_off_may_become_a_self_exclusion() -> None:
    short = cool_off(NOW, timedelta(days=3))
    year = combine(short, self_exclusion(NOW, ExclusionTerm.ONE_YEAR), NOW)
    assert year.kind.value == "self_exclusion"
    assert year.until == datetime(2026, 9, 10, 15, 30, tzinfo=UTC)


def test_a_one_year_exclusion_from_a_leap_day_ends_on_the_first_of_march() -> None:
    leap = datetime(2028, 2, 29, 12, tzinfo=UTC)
    assert self_exclusion(leap, ExclusionTerm.ONE_YEAR).until == datetime(
        2029, 3, 1, 12, tzinfo=UTC
    )


def test_a_break_from_play_refuses_even_a_free_contest() -> None:
    profile = new_profile(RULES, "u1", "a@example.com", date(1990, 1, 1), "NV", NOW)
    check_paid_join(RULES, profile, Location("NV", "registered"), 0, [], NOW)
    excluded = profile.restricted(self_exclusion(NOW, ExclusionTerm.ONE_YEAR))
    with pytest.raises(PlayerRestricted):
        check_paid_join(RULES, excluded, Location("NJ", "declared"), 0, [], NOW)
