"""Operator stat corrections: validated like provider data, audited on every contest, alerted."""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction

import attrs
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fantasy_core.errors import InvalidCorrection
from fantasy_core.lifecycle import ContestState
from fantasy_core.scoring import preset
from fantasy_core.scoring.exact import format_points
from fantasy_core.stats import (
    RELATED_STATS,
    STAT_BOUND,
    FeedSnapshot,
    GameStatus,
    StatLine,
    validate_snapshot,
)
from fantasy_core.usecases.corrections import correct_stat
from fantasy_core.usecases.reports import audit_trail, explain_entry
from fantasy_core.usecases.stats import effective_lines
from support.world import LOCK, SLATE, World, snapshot

QB = "KC-QB0"
WR = "KC-WR3"


def completed(world: World, contests: int = 1) -> list[str]:
    """`contests` contests of four entries each on the test slate, COMPLETE (final data in)."""
    ids = []
    for _ in range(contests):
        contest = world.create()
        for n, user in enumerate(("ann", "bob", "cat", "dan")):
            assert world.join(contest, user, key=f"k-{contest.contest_id}", variant=n).accepted
        ids.append(contest.contest_id)
    world.clock.set(LOCK)
    world.run()
    world.feed.publish(snapshot(GameStatus.FINAL, 2))
    world.clock.advance(timedelta(hours=4))
    world.run()
    with world.store.unit_of_work() as uow:
        assert {uow.contests.get(cid).state for cid in ids} == {ContestState.COMPLETE}
    return ids


def refused(world: World, **change: str) -> InvalidCorrection:
    values = {"slate_id": SLATE, "player_id": QB, "stat": "passing_yards", "value_text": "301"}
    values.update(change)
    with pytest.raises(InvalidCorrection) as caught:
        correct_stat(
            world.p,
            values["slate_id"],
            values["player_id"],
            values["stat"],
            values["value_text"],
            change.get("reason", "official review"),
            "op",
        )
    return caught.value


@pytest.mark.parametrize(
    ("change", "rule", "says"),
    [
        ({"stat": "bogus_stat"}, "unknown_stat", "no contest on test-slate scores 'bogus_stat'"),
        ({"value_text": "1e308"}, "value_out_of_range", "beyond 1000 in size"),
        ({"value_text": "1001"}, "value_out_of_range", "passing_yards is 1001"),
        ({"value_text": "-1000.5"}, "value_out_of_range", "passing_yards is -1000.5"),
        ({"value_text": "abc"}, "not_a_number", "not an exact finite number"),
        ({"stat": "passing_tds", "value_text": "-1"}, "negative_count", "passing_tds is -1"),
        ({"stat": "passing_tds", "value_text": "2.5"}, "non_integer_count", "not a whole"),
        ({"stat": "receptions", "value_text": "0"}, "tds_exceed_receptions", "receiving_tds"),
        ({"player_id": "NOBODY"}, "unknown_player", "'NOBODY' is in no contest's pool"),
        ({"slate_id": "nfl-1999-wk01"}, "unknown_slate", "no contest to correct"),
        ({"reason": "  "}, "reason", "needs a reason"),
    ],
)
def test_a_correction_provider_data_could_not_carry_is_refused_naming_the_rule(
    change: dict[str, str], rule: str, says: str
) -> None:
    world = World()
    (cid,) = completed(world)
    if change.get("stat") == "receptions":
        change["player_id"] = next(
            line.player_id for line in snapshot(GameStatus.FINAL, 2).lines
            if line.value("receiving_tds") > 0
        )  # fmt: skip
    error = refused(world, **change)
    assert error.rule == rule
    assert says in str(error)
    with world.store.unit_of_work() as uow:
        assert uow.stats.corrections(SLATE) == []
    assert not [r for r in audit_trail(world.p, cid) if r.action == "stats.corrected"]
    assert world.alerts.raised_keys() == []


def test_the_bound_lies_between_every_real_value_and_the_refused_ones() -> None:
    assert STAT_BOUND == 1000  # the records: 554 passing, 296 rushing, 336 receiving yards


def test_a_cancelled_contest_does_not_make_its_slate_correctable() -> None:
    world = World()
    contest = world.create(min_entries=5)
    world.clock.set(LOCK)
    world.run()
    assert world.state(contest) == "CANCELLED"
    assert refused(world).rule == "unknown_slate"


def test_a_stat_only_validation_reads_may_be_corrected() -> None:
    assert {"receptions", "completions"} <= RELATED_STATS
    world = World()
    completed(world)
    assert "completions" not in preset("draftkings_nfl_classic").stat_keys
    assert correct_stat(world.p, SLATE, QB, "completions", "30", "official review", "op")


def test_negative_yards_are_a_real_value_and_accepted_as_the_feed_accepts_them() -> None:
    world = World()
    (cid,) = completed(world)
    assert correct_stat(world.p, SLATE, QB, "passing_yards", "-5", "lost yardage", "op") == [cid]
    with world.store.unit_of_work() as uow:
        assert effective_lines(uow, SLATE)[QB]["passing_yards"] == -5


def test_a_correction_is_audited_on_every_contest_of_its_slate() -> None:
    world = World()
    first, second = completed(world, contests=2)
    assert correct_stat(world.p, SLATE, QB, "passing_tds", "2", "official review", "op") == [
        first,
        second,
    ]
    for cid in (first, second):
        (record,) = [r for r in audit_trail(world.p, cid) if r.action == "stats.corrected"]
        assert record.actor == "op"
        assert record.subject == f"{SLATE}/{QB}/passing_tds"
        assert record.detail.startswith(f"{QB} passing_tds = 2: official review; ")


def test_a_correction_that_reorders_the_standings_is_alerted_on_each_contest() -> None:
    world = World()
    (cid,) = completed(world)
    with world.store.unit_of_work() as uow:
        entries = uow.entries.for_contest(cid)
    scores = {e.entry_id: explain_entry(world.p, e.entry_id).total for e in entries}
    last = min(entries, key=lambda e: (scores[e.entry_id], e.entry_id))
    player = last.lineup.player_ids[0]
    correct_stat(world.p, SLATE, player, "passing_yards", "900", "official review", "op")
    assert world.alerts.raised_keys() == [f"correction-reranks-{cid}"]
    (record,) = [r for r in audit_trail(world.p, cid) if r.action == "stats.corrected"]
    assert record.detail.endswith("the standings change")


def test_a_correction_that_keeps_the_order_is_audited_and_not_alerted() -> None:
    world = World()
    (cid,) = completed(world)
    with world.store.unit_of_work() as uow:
        value = effective_lines(uow, SLATE)[QB]["passing_yards"]
    correct_stat(world.p, SLATE, QB, "passing_yards", str(value), "confirmed", "op")
    assert world.alerts.raised_keys() == []
    (record,) = [r for r in audit_trail(world.p, cid) if r.action == "stats.corrected"]
    assert record.detail.endswith("the standings keep their order")


# ---- no accepted correction makes a line provider data could not be ------------------------

PLAYERS = [QB, WR, "BAL-RB1", "PHI-DST"]
_STATS = sorted(RELATED_STATS | preset("draftkings_nfl_classic").stat_keys)
_VALUES = st.one_of(
    st.integers(-2_000, 2_000).map(str),
    st.builds(
        lambda n, d: format_points(Fraction(n, d)),
        st.integers(-20_000, 20_000),
        st.sampled_from([2, 4, 10, 100]),
    ),
    st.sampled_from(["1e308", "1e3", "-1e3", "0.5", "1000", "-1000", "1000.01"]),
)


def _effective_snapshot(world: World) -> FeedSnapshot:
    """The latest snapshot with each player's line replaced by what scoring now uses."""
    with world.store.unit_of_work() as uow:
        latest = uow.stats.latest(SLATE)
        lines = effective_lines(uow, SLATE)
    assert latest is not None
    pool = world.feed.player_pool(SLATE)
    effective = [
        StatLine.of(pid, pool.players[pid].team, pool.players[pid].game_id, stats)
        for pid, stats in lines.items()
    ]
    return attrs.evolve(latest, lines=effective)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    corrections=st.lists(
        st.tuples(
            st.sampled_from([QB, WR, "BAL-RB1", "PHI-DST"]), st.sampled_from(_STATS), _VALUES
        ),
        min_size=1,
        max_size=6,
    )
)
@example(corrections=[(QB, "passing_yards", "1e308")])
@example(corrections=[(WR, "receiving_tds", "9")])
@example(corrections=[(WR, "receptions", "0")])
def test_no_accepted_correction_makes_a_line_feed_validation_refuses(
    corrections: list[tuple[str, str, str]],
) -> None:
    world = World()
    completed(world)
    for player, stat, value in corrections:
        try:
            correct_stat(world.p, SLATE, player, stat, value, "property", "op")
        except InvalidCorrection:
            continue
        assert validate_snapshot(_effective_snapshot(world)) == ()
