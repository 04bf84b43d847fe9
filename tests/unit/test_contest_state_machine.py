"""Whole contests driven at random, with injected faults, checked against money invariants.

A hypothesis RuleBasedStateMachine joins (valid, invalid, declined, replayed),
moves the clock, publishes feed data (good and contradictory), corrects stats,
cancels, withdraws, runs the worker, duplicates and reorders payment events, and
injects faults: the gateway acts but its reply is lost, the gateway is down, the
platform key is refused, the process "crashes" before a commit (the unit of work
is lost and the action re-run). After every step the invariants below must hold.

Examples: FANTASY_STATEFUL_EXAMPLES (default 60) x up to 50 steps each.
"""

from __future__ import annotations

import os
from collections import Counter
from contextlib import suppress
from datetime import timedelta
from itertools import pairwise

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    precondition,
    rule,
)

from adapters.memory import SimulatedCrash
from adapters.sandbox.gateway import (
    DECLINE,
    INSUFFICIENT_FUNDS,
    REQUIRES_ACTION,
    SUCCEED,
    TIMEOUT_AFTER_SUCCESS,
)
from fantasy_core.entries import EntryStatus, join_fingerprint
from fantasy_core.errors import (
    GatewayAuthError,
    GatewayUnavailable,
    InvalidLineup,
    JoinRefused,
    OperatorActionRefused,
    PaymentOutcomeUnknown,
    WithdrawRefused,
)
from fantasy_core.ledger import CASH
from fantasy_core.lifecycle import TRANSITIONS, ContestState
from fantasy_core.lineups import Lineup
from fantasy_core.money import Money
from fantasy_core.payments import ChargeStatus, PaymentEvent, PaymentEventKind, RefundStatus
from fantasy_core.payouts import double_up, fifty_fifty, top_heavy, winner_take_all
from fantasy_core.stats import GameStatus, StatLine
from fantasy_core.usecases.contests import cancel_contest
from fantasy_core.usecases.joining import JoinRequest, join, withdraw
from fantasy_core.usecases.payment_events import apply_payment_event, set_payout_account
from fantasy_core.usecases.reports import verify_ledger
from fantasy_core.usecases.stats import correct_stat
from fantasy_core.usecases.worker import run_once
from support.world import LOCK, World, lineup, snapshot

EXAMPLES = int(os.environ.get("FANTASY_STATEFUL_EXAMPLES", "60"))
USERS = ("ann", "bob", "cat", "dan", "eve")
CARDS = (
    SUCCEED,
    SUCCEED,
    SUCCEED,
    DECLINE,
    INSUFFICIENT_FUNDS,
    REQUIRES_ACTION,
    TIMEOUT_AFTER_SUCCESS,
)
STATE_OF_ACTION = {f"contest.{s.value.lower()}": s for s in ContestState}
EXPECTED = (PaymentOutcomeUnknown, GatewayUnavailable, GatewayAuthError, SimulatedCrash)


class ContestMachine(RuleBasedStateMachine):
    contests = Bundle("contests")
    events = Bundle("events")

    def __init__(self) -> None:
        super().__init__()
        self.world = World()
        self.version = 1
        self.seen_events: list[PaymentEvent] = []

    # -- set-up -------------------------------------------------------------------------

    @initialize(
        target=contests,
        capacity=st.integers(2, 6),
        min_entries=st.integers(1, 3),
        guaranteed=st.booleans(),
        payout=st.sampled_from([winner_take_all(), fifty_fifty(), double_up(), top_heavy(3)]),
    )
    def create(self, capacity: int, min_entries: int, guaranteed: bool, payout: object) -> str:
        contest = self.world.create(
            capacity=capacity,
            min_entries=min(min_entries, capacity),
            guaranteed_pool=Money(5_000, "usd") if guaranteed else None,
            payout=payout,
        )
        for user in USERS[:4]:
            self.world.give_account(user)
        # Two paid entries to start with, so most runs reach settlement and payouts.
        self.world.join(contest, "ann", key="seed", variant=0)
        self.world.join(contest, "bob", key="seed", variant=1)
        return contest.contest_id

    @rule(target=contests, capacity=st.integers(2, 4))
    @precondition(lambda self: self.world.clock.now() < LOCK - timedelta(hours=1))
    def create_another(self, capacity: int) -> str:
        return self.world.create(capacity=capacity).contest_id

    # -- players ------------------------------------------------------------------------

    @rule(
        contest=contests,
        user=st.sampled_from(USERS),
        key=st.sampled_from(["a", "b", "c"]),
        card=st.sampled_from(CARDS),
        variant=st.integers(0, 7),
    )
    def join(self, contest: str, user: str, key: str, card: str, variant: int) -> None:
        request = JoinRequest(contest, user, key, lineup(variant), card)
        with suppress(JoinRefused, *EXPECTED):
            join(self.world.p, request)

    @rule(contest=contests, user=st.sampled_from(USERS))
    def join_with_an_invalid_lineup(self, contest: str, user: str) -> None:
        bad = Lineup((("QB", "KC-QB0"), ("RB", "KC-QB0")))
        try:
            join(self.world.p, JoinRequest(contest, user, "bad", bad, SUCCEED))
        except InvalidLineup:
            return
        except JoinRefused:
            return
        raise AssertionError("an invalid lineup was accepted")

    @rule(contest=contests, user=st.sampled_from(USERS), key=st.sampled_from(["a", "b"]))
    def withdraw(self, contest: str, user: str, key: str) -> None:
        with self.world.store.unit_of_work() as uow:
            entry = uow.entries.by_fingerprint(join_fingerprint(contest, user, key))
        if entry is None:
            return
        with suppress(WithdrawRefused, *EXPECTED):
            withdraw(self.world.p, contest, entry.entry_id, user)

    @rule(target=events, data=st.data())
    def finish_a_payment_action(self, data: st.DataObject) -> PaymentEvent:
        pending = [
            key
            for key, charge in self.world.gateway.charges.items()
            if charge.status is ChargeStatus.REQUIRES_ACTION
        ]
        if not pending:
            return self._noop_event()
        key = data.draw(st.sampled_from(pending))
        event = self.world.gateway.complete_action(
            key, data.draw(st.booleans()), f"evt_{len(self.seen_events)}"
        )
        self.seen_events.append(event)
        self._apply(event)
        return event

    def _noop_event(self) -> PaymentEvent:
        event = PaymentEvent(
            f"evt_{len(self.seen_events)}",
            PaymentEventKind.PAYOUT_FAILED,
            "acct_nobody",
            self.world.clock.now(),
            "test",
        )
        self.seen_events.append(event)
        return event

    @rule(event=events)
    def deliver_an_event_again(self, event: PaymentEvent) -> None:
        self._apply(event)

    def _apply(self, event: PaymentEvent) -> None:
        with suppress(*EXPECTED):
            apply_payment_event(self.world.p, event)

    # -- time, data, operators -------------------------------------------------------------

    @rule(minutes=st.integers(1, 240))
    def time_passes(self, minutes: int) -> None:
        self.world.clock.advance(timedelta(minutes=minutes))

    @rule(
        status=st.sampled_from([GameStatus.IN_PROGRESS, GameStatus.FINAL]),
        seed=st.integers(0, 3),
    )
    def the_feed_publishes(self, status: GameStatus, seed: int) -> None:
        self.version += 1
        self.world.feed.publish(snapshot(status, self.version, seed))

    @rule()
    def the_feed_publishes_contradictory_data(self) -> None:
        self.version += 1
        good = snapshot(GameStatus.FINAL, self.version)
        broken = StatLine.of("KC-WR3", "KC", "g1", {"receptions": 1, "receiving_tds": 2})
        lines = (*(x for x in good.lines if x.player_id != "KC-WR3"), broken)
        self.world.feed.publish(type(good)(good.slate_id, self.version, good.games, lines))

    @rule(value=st.integers(0, 4))
    def an_operator_corrects_a_stat(self, value: int) -> None:
        correct_stat(
            self.world.p,
            "test-slate",
            "KC-QB0",
            "passing_tds",
            str(value),
            "official scoring change",
            "operator",
        )

    @rule(contest=contests)
    def an_operator_cancels(self, contest: str) -> None:
        with suppress(OperatorActionRefused, *EXPECTED):
            cancel_contest(self.world.p, contest, "operator decision", "operator")

    @rule()
    def the_worker_runs(self) -> None:
        with suppress(*EXPECTED):
            run_once(self.world.p)

    # -- faults -------------------------------------------------------------------------

    @rule()
    def the_next_reply_is_lost(self) -> None:
        self.world.gateway.lose_next_replies = 1

    @rule(down=st.booleans())
    def the_gateway_goes_down_or_comes_back(self, down: bool) -> None:
        self.world.gateway.unavailable = down

    @rule(broken=st.booleans())
    def the_platform_key_is_refused_or_fixed(self, broken: bool) -> None:
        self.world.gateway.auth_broken = broken

    @rule(contest=contests, user=st.sampled_from(USERS))
    def the_process_crashes_before_a_commit(self, contest: str, user: str) -> None:
        self.world.store.crash_on_commit = 1
        with suppress(JoinRefused, *EXPECTED):
            join(self.world.p, JoinRequest(contest, user, "crash", lineup(1), SUCCEED))
        self.world.store.crash_on_commit = 1
        with suppress(*EXPECTED):
            run_once(self.world.p)
        self.world.store.crash_on_commit = 0

    @rule(contest=consumes(contests))
    def everything_settles_down(self, contest: str) -> None:
        """Faults clear, days pass, the worker runs: every contest ends closed and conserved."""
        gateway = self.world.gateway
        gateway.unavailable = gateway.auth_broken = False
        gateway.lose_next_replies = 0
        for user in USERS:  # the winners without an account get one: their payouts go out
            set_payout_account(self.world.p, user, f"acct_{user}")
        self.version += 1
        self.world.feed.publish(snapshot(GameStatus.FINAL, self.version))
        for _ in range(4):
            self.world.clock.advance(timedelta(hours=12))
            run_once(self.world.p)
        with self.world.store.unit_of_work() as uow:
            for cid in uow.contests.ids_in_states(list(ContestState)):
                state = uow.contests.get(cid).state
                assert state in (ContestState.PAID, ContestState.CANCELLED), (cid, state)
            assert not uow.entries.with_status([EntryStatus.RESERVED, EntryStatus.PENDING_ACTION])
            assert not uow.refunds.pending()
        report = verify_ledger(self.world.p)
        assert report.ok, report
        paid = sum(1 for c in report.closed_contests if c.paid_out)
        event(f"settled down with {'some' if paid else 'no'} prizes paid")
        # The gateway's books and ours agree to the cent.
        with self.world.store.unit_of_work() as uow:
            cash = sum(
                p.amount.minor for s in uow.ledger.all() for p in s.postings if p.account == CASH
            )
        collected = sum(gateway.charged_total(k) for k in gateway.charges)
        refunded = sum(amount.minor for _, _, amount in gateway.refunds.values())
        transferred = sum(t.amount.minor for t in gateway.transfers.values())
        assert cash == collected - refunded - transferred

    # -- invariants ---------------------------------------------------------------------

    @invariant()
    def every_charge_is_an_entry_or_a_refund(self) -> None:
        with self.world.store.unit_of_work() as uow:
            for key, charge in self.world.gateway.charges.items():
                entry = uow.entries.by_fingerprint(key)
                assert entry is not None, f"money taken for {key} with no record of the join"
                if charge.status is not ChargeStatus.SUCCEEDED:
                    continue
                refund = uow.refunds.get("refund-" + key.removeprefix("join-"))
                if entry.status is EntryStatus.ACTIVE:
                    assert refund is None
                elif entry.status in (EntryStatus.REFUNDED, EntryStatus.WITHDRAWN):
                    assert refund is not None
                else:
                    # Still in flight: the charge's record is waiting for a replay or recovery.
                    assert entry.status in (
                        EntryStatus.RESERVED,
                        EntryStatus.PENDING_ACTION,
                        EntryStatus.DECLINED,
                        EntryStatus.ABANDONED,
                    ), entry.status
                assert charge.refunded in (0, charge.amount.minor)

    @invariant()
    def no_prize_is_paid_twice(self) -> None:
        destinations = Counter(
            t.metadata["payout_fingerprint"] for t in self.world.gateway.transfers.values()
        )
        assert all(n == 1 for n in destinations.values())
        with self.world.store.unit_of_work() as uow:
            for cid in uow.contests.ids_in_states(list(ContestState)):
                payouts = uow.payouts.for_contest(cid)
                assert len({x.entry_id for x in payouts}) == len(payouts)

    @invariant()
    def no_entry_is_accepted_at_or_after_lock(self) -> None:
        with self.world.store.unit_of_work() as uow:
            for cid in uow.contests.ids_in_states(list(ContestState)):
                lock_at = uow.contests.get(cid).terms.lock_at
                for record in uow.audit.for_contest(cid):
                    if record.action == "join.accepted":
                        assert record.at < lock_at

    @invariant()
    def states_only_follow_the_lifecycle(self) -> None:
        with self.world.store.unit_of_work() as uow:
            for cid in uow.contests.ids_in_states(list(ContestState)):
                path = [
                    ContestState.SCHEDULED,
                    *(
                        STATE_OF_ACTION[r.action]
                        for r in uow.audit.for_contest(cid)
                        if r.action in STATE_OF_ACTION and r.action != "contest.scheduled"
                    ),
                ]
                for source, target in pairwise(path):
                    assert target in TRANSITIONS[source], path
                assert path[-1] is uow.contests.get(cid).state

    @invariant()
    def the_ledger_balances_and_closed_contests_conserve(self) -> None:
        report = verify_ledger(self.world.p)
        assert not report.unbalanced
        with self.world.store.unit_of_work() as uow:
            pending = {r.contest_id for r in uow.refunds.pending()}
            waiting = {
                e.contest_id
                for e in uow.entries.with_status([EntryStatus.RESERVED, EntryStatus.PENDING_ACTION])
            }
        for conservation in report.closed_contests:
            if conservation.contest_id not in pending | waiting:
                assert conservation.conserved, conservation.describe()

    @invariant()
    def refunds_are_confirmed_at_most_once(self) -> None:
        with self.world.store.unit_of_work() as uow:
            confirmed = [s.key for s in uow.ledger.all() if s.key.startswith("refund:")]
            assert len(confirmed) == len(set(confirmed))
            for refund in uow.refunds.pending():
                assert refund.status is RefundStatus.PENDING


ContestMachine.TestCase.settings = settings(
    max_examples=EXAMPLES,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_contests_keep_their_money_invariants = ContestMachine.TestCase
