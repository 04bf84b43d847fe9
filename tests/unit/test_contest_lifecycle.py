"""The contest aggregate: only lifecycle-order transitions, each guarded and each an event."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from itertools import pairwise, product

import pytest

from fantasy_core.contest import Contest, ContestTerms, InvalidContestTerms
from fantasy_core.errors import IllegalTransition, UnknownSportTemplate
from fantasy_core.lifecycle import TRANSITIONS, ContestState
from fantasy_core.money import Money
from support.world import LOCK, World

S = ContestState


def contest(**changes: object) -> Contest:
    return Contest("c1", World().terms(**changes))


# The lifecycle as ARCHITECTURE.md states it, written out here on its own (never read
# from the code): one step at a time along the seed's path, and CANCELLED from any
# state before SETTLED.
SEED_PATH = (S.SCHEDULED, S.LOCKED, S.LIVE, S.COMPLETE, S.SETTLED, S.PAID)
LEGAL = {
    (S.SCHEDULED, S.LOCKED),
    (S.LOCKED, S.LIVE),
    (S.LIVE, S.COMPLETE),
    (S.COMPLETE, S.SETTLED),
    (S.SETTLED, S.PAID),
    (S.SCHEDULED, S.CANCELLED),
    (S.LOCKED, S.CANCELLED),
    (S.LIVE, S.CANCELLED),
    (S.COMPLETE, S.CANCELLED),
}
LATER = LOCK + timedelta(days=3)  # past lock, kickoff, the games and the correction window


def test_the_code_s_table_is_the_lifecycle_and_nothing_more() -> None:
    assert set(TRANSITIONS) == set(ContestState)
    table = {(source, target) for source, targets in TRANSITIONS.items() for target in targets}
    assert table == LEGAL


def test_the_seed_path_is_one_step_at_a_time() -> None:
    assert set(pairwise(SEED_PATH)) == LEGAL - {(s, S.CANCELLED) for s in ContestState}


# Every aggregate method that moves a contest, by the state it moves to.
MOVES: dict[ContestState, Callable[[Contest], None]] = {
    S.LOCKED: lambda c: c.lock(LATER, entries=10),
    S.LIVE: lambda c: c.go_live(LATER),
    S.COMPLETE: lambda c: c.complete(LATER),
    S.SETTLED: lambda c: c.settle(LATER),
    S.PAID: lambda c: c.mark_paid(LATER, unconfirmed_payouts=0),
    S.CANCELLED: lambda c: c.cancel(LATER, "operator decision", "operator"),
}


def test_nothing_moves_a_contest_back_to_scheduled() -> None:
    assert S.SCHEDULED not in MOVES
    assert all((source, S.SCHEDULED) not in LEGAL for source in ContestState)


@pytest.mark.parametrize(("source", "target"), list(product(ContestState, MOVES)))
def test_the_aggregate_makes_every_legal_step_and_refuses_every_other(
    source: ContestState, target: ContestState
) -> None:
    c = Contest("c1", World().terms(), state=source, completed_at=LOCK, version=7)
    if (source, target) in LEGAL:
        MOVES[target](c)
        assert c.state is target
        assert [(e.source, e.target) for e in c.take_events()] == [(source, target)]
        assert c.version == 8
        return
    with pytest.raises(IllegalTransition, match=f"c1 cannot go from {source.value} to"):
        MOVES[target](c)
    assert (c.state, c.version, c.events) == (source, 7, [])


def test_an_illegal_transition_names_the_current_and_attempted_states() -> None:
    c = contest()
    with pytest.raises(IllegalTransition, match="c1 cannot go from SCHEDULED to LIVE"):
        c.go_live(LOCK)


def test_the_state_moves_only_through_the_aggregates_methods() -> None:
    c = contest()
    with pytest.raises(AttributeError):
        c.state = ContestState.PAID  # type: ignore[misc]
    assert c.state is ContestState.SCHEDULED
    c.lock(LOCK, entries=5)
    assert c.state is ContestState.LOCKED
    assert [e.target for e in c.events] == [ContestState.LOCKED]


def test_a_contest_cannot_lock_before_its_lock_time() -> None:
    c = contest()
    with pytest.raises(IllegalTransition, match="lock time"):
        c.lock(LOCK - timedelta(seconds=1), entries=5)
    assert c.state is S.SCHEDULED


def test_no_entry_is_accepted_from_the_lock_instant() -> None:
    c = contest()
    assert c.accepts_entries(LOCK - timedelta(microseconds=1))
    assert not c.accepts_entries(LOCK)


def test_a_non_guaranteed_contest_below_its_minimum_is_cancelled_at_lock() -> None:
    c = contest(min_entries=3)
    c.lock(LOCK, entries=2)
    assert c.state is S.CANCELLED
    assert c.cancel_reason is not None
    assert "below the minimum of 3" in c.cancel_reason


def test_a_guaranteed_contest_locks_whatever_its_entries() -> None:
    c = contest(min_entries=3, guaranteed_pool=Money(50_000, "usd"))
    c.lock(LOCK, entries=0)
    assert c.state is S.LOCKED


def test_every_transition_yields_one_event_in_order() -> None:
    c = contest()
    c.lock(LOCK, entries=2)
    c.go_live(LOCK)
    c.complete(LOCK + timedelta(hours=3))
    with pytest.raises(IllegalTransition, match="correction window"):
        c.settle(LOCK + timedelta(hours=3, minutes=59))
    c.settle(LOCK + timedelta(hours=4))
    with pytest.raises(IllegalTransition, match="2 payouts not yet confirmed"):
        c.mark_paid(LOCK + timedelta(hours=4), unconfirmed_payouts=2)
    c.mark_paid(LOCK + timedelta(hours=5), unconfirmed_payouts=0)
    events = c.take_events()
    assert [(e.source, e.target) for e in events] == [
        (S.SCHEDULED, S.LOCKED),
        (S.LOCKED, S.LIVE),
        (S.LIVE, S.COMPLETE),
        (S.COMPLETE, S.SETTLED),
        (S.SETTLED, S.PAID),
    ]
    assert c.take_events() == []
    assert c.version == 5


def test_a_settled_contest_cannot_be_cancelled() -> None:
    c = contest()
    c.lock(LOCK, 2)
    c.go_live(LOCK)
    c.complete(LOCK)
    c.settle(LOCK + timedelta(hours=2))
    with pytest.raises(IllegalTransition, match="SETTLED to CANCELLED"):
        c.cancel(LOCK, "too late", "operator")


def test_a_cancellation_needs_a_reason() -> None:
    with pytest.raises(IllegalTransition, match="reason"):
        contest().cancel(LOCK, "  ", "operator")


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"entry_fee": Money(0, "usd")}, InvalidContestTerms, "fee must be positive"),
        ({"capacity": 1}, InvalidContestTerms, "capacity"),
        ({"rake_bps": 10_000}, InvalidContestTerms, "rake"),
        ({"min_entries": 11}, InvalidContestTerms, "minimum entries"),
        ({"guaranteed_pool": Money(100, "eur")}, InvalidContestTerms, "currency"),
        ({"sport_template": "curling"}, UnknownSportTemplate, "curling"),
        ({"lock_at": LOCK.replace(tzinfo=None)}, InvalidContestTerms, "time zone"),
    ],
)
def test_contest_terms_refuse_what_no_contest_can_run_by(
    change: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        World().terms(**change)


def test_contest_terms_round_trip_through_their_canonical_form() -> None:
    terms = World().terms(guaranteed_pool=Money(50_000, "usd"))
    assert ContestTerms.from_canonical(terms.canonical()) == terms


def test_stored_terms_whose_rules_do_not_match_their_fingerprint_are_refused() -> None:
    data = World().terms().canonical()
    data["rules_fingerprint"] = "sha256:" + "0" * 64
    with pytest.raises(InvalidContestTerms, match="hash to"):
        ContestTerms.from_canonical(data)


def _in(state: ContestState) -> Contest:
    """A contest moved through the lifecycle up to `state` (SCHEDULED..COMPLETE)."""
    c = contest()
    steps = {
        S.LOCKED: lambda: c.lock(LOCK, entries=5),
        S.LIVE: lambda: c.go_live(LOCK),
        S.COMPLETE: lambda: c.complete(LOCK),
    }
    for target in (S.LOCKED, S.LIVE, S.COMPLETE):
        if c.state is state:
            break
        steps[target]()
    assert c.state is state
    return c


@pytest.mark.parametrize("state", [S.SCHEDULED, S.LOCKED, S.LIVE, S.COMPLETE])
def test_an_operator_may_cancel_until_live_data_is_accepted(state: ContestState) -> None:
    c = _in(state)
    c.cancel_by_operator(LOCK, "feed glitch", "operator", live_data_accepted=False)
    assert c.state is S.CANCELLED
    assert c.cancel_reason == "feed glitch"


@pytest.mark.parametrize("state", [S.SCHEDULED, S.LOCKED, S.LIVE, S.COMPLETE])
def test_once_live_data_is_accepted_no_operator_may_cancel(state: ContestState) -> None:
    c = _in(state)
    with pytest.raises(IllegalTransition, match="live data of slate test-slate"):
        c.cancel_by_operator(LOCK, "favouritism", "operator", live_data_accepted=True)
    assert c.state is state
    assert c.cancel_reason is None
