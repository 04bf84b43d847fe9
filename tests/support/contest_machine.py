"""Whole contests driven at random, with injected faults, checked against money invariants.

A hypothesis RuleBasedStateMachine joins (valid, invalid, declined, replayed),
moves the clock, publishes feed data (good and contradictory), corrects stats,
cancels, withdraws, runs the worker, duplicates and reorders payment events, and
injects faults: the gateway acts but its reply is lost, the gateway is down, the
platform key is refused, the process "crashes" at a chosen commit of a use case
or between a gateway call (charge, transfer, refund) and the commit recording it
(the unit of work is discarded and the use case re-run at once). After every step
the invariants below must hold; the money ones are counted on the gateway's side,
from every charge, transfer and refund the sandbox made, and no contest ever seats
more entries than its capacity, nor a player more than its entry limit; every lineup held is
valid under the contest's template, no change ever moved a player whose game had started,
and settlement scores each entry's final lineup. The gateway
may also forget its transfer keys (Stripe's 24 hours), before a restart or at any
step.

The store under test crashes a commit on demand: the in-memory CrashingStore
(tests/unit/test_contest_state_machine.py), or the SQLAlchemy adapter on a SQLite file
in CrashingUnits (tests/contract/test_contest_state_machine_on_sqlite.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import timedelta

import attrs
from hypothesis import currently_in_test_context, event
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

from adapters.sandbox.gateway import (
    DECLINE,
    INSUFFICIENT_FUNDS,
    REQUIRES_ACTION,
    SUCCEED,
    TIMEOUT_AFTER_SUCCESS,
    Transfer,
)
from fantasy_core.entries import EntryStatus, join_fingerprint
from fantasy_core.entry_limits import EntryLimit, MaxEntries, SingleEntry
from fantasy_core.errors import (
    GatewayAuthError,
    GatewayUnavailable,
    IdempotencyKeyReused,
    InvalidCorrection,
    InvalidLineup,
    JoinRefused,
    LineupChangeRefused,
    OperatorActionRefused,
    PaymentOutcomeUnknown,
    WithdrawRefused,
)
from fantasy_core.game_starts import GameStarts
from fantasy_core.ledger import CASH
from fantasy_core.lifecycle import ContestState
from fantasy_core.lineups import Lineup, sport_template, validate_lineup
from fantasy_core.money import Money
from fantasy_core.payments import (
    IN_FLIGHT_STATUSES,
    OWED_STATUSES,
    PAID_STATUSES,
    ChargeStatus,
    PaymentEvent,
    PaymentEventKind,
    PayoutStatus,
    RefundStatus,
)
from fantasy_core.payout_accounts import PayoutAccount
from fantasy_core.payouts import double_up, fifty_fifty, top_heavy, winner_take_all
from fantasy_core.snapshot import entry_rows
from fantasy_core.stats import GameStatus, StatLine
from fantasy_core.usecases.contests import cancel_contest
from fantasy_core.usecases.corrections import correct_stat
from fantasy_core.usecases.joining import JoinRequest, join, withdraw
from fantasy_core.usecases.joining_batch import join_many
from fantasy_core.usecases.lineups import edit_lineup
from fantasy_core.usecases.paying import execute_payouts
from fantasy_core.usecases.payment_events import apply_payment_event, set_payout_account
from fantasy_core.usecases.refunds import send_refunds
from fantasy_core.usecases.reports import verify_ledger
from fantasy_core.usecases.worker import run_once
from support.crashing_store import CrashingStore, CrashingUnits, SimulatedCrash
from support.staggered import KICKOFFS, staggered
from support.world import LOCK, POOL, World, lineup, snapshot

USERS = ("ann", "bob", "cat", "dan", "eve")
THREE_ENTRIES = MaxEntries(3)
CARDS = (
    SUCCEED,
    SUCCEED,
    SUCCEED,
    DECLINE,
    INSUFFICIENT_FUNDS,
    REQUIRES_ACTION,
    TIMEOUT_AFTER_SUCCESS,
)
# Every path a contest may take, written out from ARCHITECTURE.md (not read from the
# code's table): a prefix of the seed's path, or one cut short by a cancellation
# before settlement.
_SEED_PATH = [
    ContestState.SCHEDULED,
    ContestState.LOCKED,
    ContestState.LIVE,
    ContestState.COMPLETE,
    ContestState.SETTLED,
    ContestState.PAID,
]
LIFECYCLE_PATHS = [_SEED_PATH[:n] for n in range(1, 7)] + [
    [*_SEED_PATH[:n], ContestState.CANCELLED] for n in range(1, 5)
]
STATE_OF_ACTION = {f"contest.{s.value.lower()}": s for s in ContestState}
EXPECTED = (PaymentOutcomeUnknown, GatewayUnavailable, GatewayAuthError, SimulatedCrash)
# What a re-run may still meet: the gateway's own faults, never an injected crash.
GATEWAY_FAULTS = (PaymentOutcomeUnknown, GatewayUnavailable, GatewayAuthError)
# A join refused by a rule: the contest's state, or its key reused with another request.
REFUSED = (JoinRefused, IdempotencyKeyReused)
# A lineup change refused by a rule: the lineup's, or the contest's (locked, player started).
CHANGE_REFUSED = (InvalidLineup, LineupChangeRefused)
PLAYER_IDS = tuple(POOL.players)


def _note(what: str) -> None:
    """Count `what` in hypothesis's statistics (a pinned scenario runs outside a test)."""
    if currently_in_test_context():
        event(what)


class ContestMachine(RuleBasedStateMachine):
    contests = Bundle("contests")
    events = Bundle("events")

    def __init__(self) -> None:
        super().__init__()
        self.world = World()
        # Every unit of work goes through `store`, which crashes a commit on demand.
        self.store = self.crashing_store()
        self.world.p = attrs.evolve(self.world.p, uow=self.store.unit_of_work)
        self.version = 1
        self.seen_events: list[PaymentEvent] = []
        self.crashes: list[str] = []  # what crashed and was re-run, in order
        # Every entry's lineup as the last invariant check saw it: what a step changed.
        self.lineups_seen: dict[str, Lineup] = {}

    def crashing_store(self) -> CrashingStore | CrashingUnits:
        """The store under test, able to crash a commit: the in-memory one here (the
        world's); a subclass wraps another store's units of work in CrashingUnits."""
        return self.world.store

    # -- set-up -------------------------------------------------------------------------

    @initialize(
        target=contests,
        capacity=st.integers(2, 6),
        min_entries=st.integers(1, 3),
        guaranteed=st.booleans(),
        payout=st.sampled_from([winner_take_all(), fifty_fifty(), double_up(), top_heavy(3)]),
        # Small limits, so that players reach them within a few joins.
        entry_limit=st.sampled_from([SingleEntry(), MaxEntries(2), MaxEntries(3)]),
        late_swap=st.booleans(),
    )
    def create(
        self,
        capacity: int,
        min_entries: int,
        guaranteed: bool,
        payout: object,
        entry_limit: EntryLimit = THREE_ENTRIES,
        late_swap: bool = False,
    ) -> str:
        # g1 kicks off at lock, g2 (by the schedule) three hours later.
        contest = self.world.create(
            capacity=capacity,
            min_entries=min(min_entries, capacity),
            guaranteed_pool=Money(5_000, "usd") if guaranteed else None,
            payout=payout,
            entry_limit=entry_limit,
            kickoffs=KICKOFFS,
            late_swap=late_swap,
        )
        for user in USERS[:4]:
            self._give_account(user)
        # Two paid entries to start with, so most runs reach settlement and payouts.
        self.world.join(contest, "ann", key="seed", variant=0)
        self.world.join(contest, "bob", key="seed", variant=1)
        return contest.contest_id

    def _give_account(self, user: str) -> None:
        with self.world.p.uow() as uow:
            uow.accounts.save(PayoutAccount.enabled(user, f"acct_{user}"))
            uow.commit()

    @rule(target=contests, capacity=st.integers(2, 4))
    @precondition(lambda self: self.world.clock.now() < LOCK - timedelta(hours=1))
    def create_another(self, capacity: int) -> str:
        return self.world.create(capacity=capacity, kickoffs=KICKOFFS, late_swap=True).contest_id

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
        with suppress(*REFUSED, *EXPECTED):
            join(self.world.p, request)

    @rule(
        joins=st.lists(
            st.tuples(
                contests,
                st.sampled_from(USERS),
                st.sampled_from(["a", "b", "c"]),
                st.sampled_from(CARDS),
                st.integers(0, 7),
            ),
            min_size=1,
            max_size=6,
        ),
        commit=st.integers(0, 4),
    )
    def a_batch_of_joins_arrives_together(
        self, joins: list[tuple[str, str, str, str, int]], commit: int
    ) -> None:
        """Joins served as one batch (the API's way); with `commit`, that commit from now fails
        (the batch's shared transaction, or one of the joins it then runs alone), and the
        clients retry every join."""
        requests = [JoinRequest(c, u, k, lineup(v), card) for c, u, k, card, v in joins]
        with self._crash(commit):
            answers = join_many(self.world.p, requests)
        for answer in answers:
            if isinstance(answer, Exception):
                assert isinstance(answer, (*REFUSED, *EXPECTED)), repr(answer)
        if commit:
            _note("join batch: a commit failed, the clients retry")
            for answer in join_many(self.world.p, requests):
                assert not isinstance(answer, SimulatedCrash)

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
        with self.world.p.uow() as uow:
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
        g2_waits=st.booleans(),
    )
    def the_feed_publishes(self, status: GameStatus, seed: int, g2_waits: bool = False) -> None:
        """Both games at one status (both kicking off at lock, as the feed now says), or g1
        only, with g2 still scheduled for its own kickoff three hours after lock."""
        self.version += 1
        if g2_waits:
            published = staggered(self.version, status, GameStatus.SCHEDULED, seed=seed)
        else:
            published = snapshot(status, self.version, seed)
        self.world.feed.publish(published)

    @rule()
    def the_feed_publishes_contradictory_data(self) -> None:
        self.version += 1
        good = snapshot(GameStatus.FINAL, self.version)
        broken = StatLine.of("KC-WR3", "KC", "g1", {"receptions": 1, "receiving_tds": 2})
        lines = (*(x for x in good.lines if x.player_id != "KC-WR3"), broken)
        self.world.feed.publish(type(good)(good.slate_id, self.version, good.games, lines))

    @rule(seed=st.integers(0, 3), then_pay_with_a_crash=st.booleans())
    def the_games_are_played(self, seed: int, then_pay_with_a_crash: bool) -> None:
        """Lock, live, final, the correction window over: the next worker pass pays prizes.

        That pass is this rule's own, with a crash after its first transfer, or any later one.
        """
        clock = self.world.clock
        if clock.now() < LOCK:
            clock.set(LOCK)
        with suppress(*EXPECTED):
            run_once(self.world.p)
        for status, wait in ((GameStatus.IN_PROGRESS, 1), (GameStatus.FINAL, 180)):
            self.version += 1
            clock.advance(timedelta(minutes=wait))
            self.world.feed.publish(snapshot(status, self.version, seed))
            with suppress(*EXPECTED):
                run_once(self.world.p)
        clock.advance(timedelta(minutes=61))
        if then_pay_with_a_crash:
            self.the_worker_crashes_after_a_gateway_call_and_runs_again("transfer")

    @rule(value=st.integers(0, 4))
    def an_operator_corrects_a_stat(self, value: int) -> None:
        # Refused when no contest is left on the slate or the line would break a feed rule.
        with suppress(InvalidCorrection):
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

    # -- lineup changes -------------------------------------------------------------------

    def _entry_of(self, contest: str, user: str, key: str) -> str | None:
        with self.world.p.uow() as uow:
            entry = uow.entries.by_fingerprint(join_fingerprint(contest, user, key))
        return None if entry is None else entry.entry_id

    def _wanted(self, entry_id: str, variant: int, slot: int, player: int) -> Lineup:
        """Another valid lineup (variant < 8), or the entry's own with the pick in `slot`
        replaced by some player of the pool (often not a legal lineup)."""
        if variant < 8:
            return lineup(variant)
        with self.world.p.uow() as uow:
            picks = list(uow.entries.get(entry_id).lineup.picks)
        picks[slot] = (picks[slot][0], PLAYER_IDS[player % len(PLAYER_IDS)])
        return Lineup(picks)

    def _audited_changes(self, entry_id: str) -> int:
        with self.world.p.uow() as uow:
            contest_id = uow.entries.get(entry_id).contest_id
            return sum(
                1
                for r in uow.audit.for_contest(contest_id)
                if r.subject == entry_id and r.action.startswith("entry.lineup_")
            )

    # Mostly the seed entries (ann's and bob's, paid at creation), so that changes land.
    change = st.tuples(
        st.sampled_from(("ann", "bob", "ann", "bob", "cat")),
        st.sampled_from(["seed", "seed", "a", "b"]),
        st.integers(0, 11),
        st.integers(0, 8),
        st.integers(0, 63),
    )

    @rule(contest=contests, change=change)
    def a_player_changes_a_lineup(
        self, contest: str, change: tuple[str, str, int, int, int]
    ) -> None:
        """An edit before lock, a swap after it (late swap), or a refusal."""
        user, key, variant, slot, player = change
        entry_id = self._entry_of(contest, user, key)
        if entry_id is None:
            return
        wanted = self._wanted(entry_id, variant, slot, player)
        try:
            edit_lineup(self.world.p, entry_id, user, wanted)
            _note("lineup change accepted")
        except CHANGE_REFUSED as refused:
            _note(f"lineup change refused: {getattr(refused, 'reason', 'invalid lineup')}")

    @rule(contest=contests, change=change)
    def a_lineup_change_reply_is_lost_and_the_client_retries(
        self, contest: str, change: tuple[str, str, int, int, int]
    ) -> None:
        """The change landed but its answer never reached the client, which sends it again:
        the same lineup again changes nothing and is audited once."""
        user, key, variant, slot, player = change
        entry_id = self._entry_of(contest, user, key)
        if entry_id is None:
            return
        wanted = self._wanted(entry_id, variant, slot, player)
        audited = self._audited_changes(entry_id)
        try:
            edit_lineup(self.world.p, entry_id, user, wanted)  # its reply is lost
        except CHANGE_REFUSED:
            return
        again = edit_lineup(self.world.p, entry_id, user, wanted)
        assert again.lineup == wanted
        assert self._audited_changes(entry_id) <= audited + 1

    @rule(contest=contests, change=change)
    def a_lineup_change_crashes_at_its_commit_and_is_retried(
        self, contest: str, change: tuple[str, str, int, int, int]
    ) -> None:
        """The process dies at the change's commit: nothing of it stays; the client retries."""
        user, key, variant, slot, player = change
        entry_id = self._entry_of(contest, user, key)
        if entry_id is None:
            return
        wanted = self._wanted(entry_id, variant, slot, player)
        with self.world.p.uow() as uow:
            before = uow.entries.get(entry_id).lineup
        audited = self._audited_changes(entry_id)
        with self._crash(1) as crashed, suppress(*CHANGE_REFUSED):
            edit_lineup(self.world.p, entry_id, user, wanted)
        if crashed:
            with self.world.p.uow() as uow:
                assert uow.entries.get(entry_id).lineup == before
            assert self._audited_changes(entry_id) == audited

        def again() -> None:
            with suppress(*CHANGE_REFUSED):
                edit_lineup(self.world.p, entry_id, user, wanted)

        self._rerun("lineup change, at its commit", crashed, again)

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

    @rule()
    def a_day_passes_and_the_gateway_forgets_its_transfer_keys(self) -> None:
        """Stripe keeps idempotency keys for about 24 hours: a transfer sent again under a
        forgotten key is a new transfer, so an unknown outcome must be looked up first."""
        self.world.gateway.forget_transfer_keys()

    @contextmanager
    def _crash(self, commit: int = 0, after: str | None = None) -> Iterator[list[str]]:
        """Crash the `commit`-th commit from now, or the first commit after an `after` call.

        Yields a list that holds the crash, if one happened; the block's own use case
        raises SimulatedCrash then (kept inside). Disarmed on leaving, crash or not.
        """
        store, gateway = self.store, self.world.gateway
        crashed: list[str] = []

        def arm(call: str, key: str) -> None:
            if call == after:
                gateway.after_call = None
                store.crash_at_next_commit()

        store.crash_on_commit = commit
        if after is not None:
            gateway.after_call = arm
        try:
            yield crashed
        except SimulatedCrash as crash:
            crashed.append(str(crash))
        finally:
            store.crash_on_commit = 0
            gateway.after_call = None

    def _rerun(self, what: str, crashed: list[str], action: Callable[[], object]) -> None:
        """Re-run the use case a crash interrupted, as the restarted process (or client) would."""
        if not crashed:
            return
        self.crashes.append(what)
        _note(f"crashed: {what}")
        with suppress(*GATEWAY_FAULTS):
            action()

    @rule(
        contest=contests,
        user=st.sampled_from(USERS),
        commit=st.integers(1, 4),
        in_the_worker=st.booleans(),
    )
    def the_process_crashes_at_a_commit(
        self, contest: str, user: str, commit: int, in_the_worker: bool
    ) -> None:
        """The `commit`-th commit of a join or a worker pass fails; it is re-run at once."""
        if in_the_worker:
            with self._crash(commit) as crashed, suppress(*GATEWAY_FAULTS):
                run_once(self.world.p)
            self._rerun(f"worker, commit {commit}", crashed, lambda: run_once(self.world.p))
            return
        request = JoinRequest(contest, user, "crash", lineup(1), SUCCEED)
        with (
            self._crash(commit) as crashed,
            suppress(*REFUSED, *GATEWAY_FAULTS),
        ):
            join(self.world.p, request)
        self._rerun(f"join, commit {commit}", crashed, lambda: join(self.world.p, request))

    @rule(
        contest=contests,
        user=st.sampled_from(USERS),
        key=st.sampled_from(["a", "b", "c"]),
        card=st.sampled_from([SUCCEED, SUCCEED, DECLINE, REQUIRES_ACTION]),
    )
    def a_join_crashes_after_the_charge_and_is_retried(
        self, contest: str, user: str, key: str, card: str
    ) -> None:
        """The gateway charged, the process died before recording it; the client retries."""
        request = JoinRequest(contest, user, key, lineup(2), card)
        with (
            self._crash(after="charge") as crashed,
            suppress(*REFUSED, *GATEWAY_FAULTS),
        ):
            join(self.world.p, request)
        self._rerun("join, after the charge", crashed, lambda: join(self.world.p, request))
        if crashed:
            self._assert_charged_once(request)

    @rule(
        contest=contests,
        user=st.sampled_from(USERS),
        key=st.sampled_from(["a", "b", "c"]),
    )
    def a_join_reply_is_lost_and_the_client_retries(
        self, contest: str, user: str, key: str
    ) -> None:
        """The gateway charged, its reply was lost; the client retries with the same key."""
        request = JoinRequest(contest, user, key, lineup(3), SUCCEED)
        self.world.gateway.lose_next_replies = 1
        with suppress(*REFUSED, *GATEWAY_FAULTS):
            join(self.world.p, request)
        self.world.gateway.lose_next_replies = 0
        with suppress(*REFUSED, *GATEWAY_FAULTS):
            join(self.world.p, request)
        self._assert_charged_once(request)

    def _assert_charged_once(self, request: JoinRequest) -> None:
        """One entry for the request's fingerprint, charged at most once, and as its status
        says once this request was retried (a key an earlier request used with another
        lineup or card is refused: that entry waits for its own retry or for recovery)."""
        fingerprint = join_fingerprint(request.contest_id, request.user_id, request.client_key)
        gateway = self.world.gateway
        with self.world.p.uow() as uow:
            entry = uow.entries.by_fingerprint(fingerprint)
        entry_id = None if entry is None else entry.entry_id
        mine = [
            c
            for c in gateway.charges.values()
            if c.key == fingerprint or c.metadata.get("entry_id") == entry_id
        ]
        assert len(mine) <= 1, mine
        if entry is None:
            assert not mine
        elif (
            mine
            and mine[0].status is ChargeStatus.SUCCEEDED
            and self._gateway_answers()
            and (entry.lineup, entry.payment_method) == (request.lineup, request.payment_method)
        ):
            # (A gateway that refuses the platform's key, or is down, cannot say the charge
            # succeeded: the entry stays reserved until the worker resolves it.)
            # Charged: in play, or refunded (withdrawn by its player, or too late).
            assert entry.status in (
                EntryStatus.ACTIVE,
                EntryStatus.REFUNDED,
                EntryStatus.WITHDRAWN,
            ), entry.status

    def _gateway_answers(self) -> bool:
        return not (self.world.gateway.auth_broken or self.world.gateway.unavailable)

    @rule(call=st.sampled_from(["transfer", "refund"]), a_day_passes=st.booleans())
    def the_worker_crashes_after_a_gateway_call_and_runs_again(
        self, call: str, a_day_passes: bool = False
    ) -> None:
        """A transfer or refund went out, the process died before recording it; it restarts
        at once, or a day later, when the gateway has forgotten its transfer keys."""
        with self._crash(after=call) as crashed, suppress(*GATEWAY_FAULTS):
            run_once(self.world.p)
        if crashed and a_day_passes:
            self.world.gateway.forget_transfer_keys()
        self._rerun(f"worker, after a {call}", crashed, lambda: run_once(self.world.p))

    @rule(a_day_passes=st.booleans())
    def payouts_crash_after_a_transfer_and_run_again(self, a_day_passes: bool) -> None:
        """A transfer went out, the process died before recording it; it restarts at once, or
        a day later, when the gateway has forgotten the transfer's idempotency key."""
        with self._crash(after="transfer") as crashed, suppress(*GATEWAY_FAULTS):
            execute_payouts(self.world.p)
        if crashed and a_day_passes:
            self.world.gateway.forget_transfer_keys()
        self._rerun("payouts, after a transfer", crashed, lambda: execute_payouts(self.world.p))

    @rule(
        contest=contests,
        user=st.sampled_from(USERS),
        key=st.sampled_from(["seed", "a", "b"]),
    )
    def a_withdrawal_crashes_after_the_refund_and_is_retried(
        self, contest: str, user: str, key: str
    ) -> None:
        """The gateway refunded a withdrawn fee, the process died before recording it."""
        with self.world.p.uow() as uow:
            entry = uow.entries.by_fingerprint(join_fingerprint(contest, user, key))
        if entry is None:
            return
        with (
            self._crash(after="refund") as crashed,
            suppress(WithdrawRefused, *GATEWAY_FAULTS),
        ):
            withdraw(self.world.p, contest, entry.entry_id, user)

        def again() -> None:
            # The user's retry returns the withdrawal (it was committed); the refund it
            # owes is re-sent as the worker's refund step sends it.
            assert withdraw(self.world.p, contest, entry.entry_id, user).status is (
                EntryStatus.WITHDRAWN
            )
            send_refunds(self.world.p, contest_id=contest)

        self._rerun("withdrawal, after the refund", crashed, again)

    @rule()
    def refunds_crash_after_the_gateway_refund_and_are_sent_again(self) -> None:
        with self._crash(after="refund") as crashed, suppress(*GATEWAY_FAULTS):
            send_refunds(self.world.p)
        self._rerun("refunds, after a refund", crashed, lambda: send_refunds(self.world.p))

    # -- Connect accounts: the gateway's word, reversals and failed bank payouts -----------

    @rule(target=events, user=st.sampled_from(USERS), enabled=st.booleans())
    def the_gateway_enables_or_disables_an_account(self, user: str, enabled: bool) -> PaymentEvent:
        """Stripe changes its mind about a player's account and sends `account.updated`."""
        account_id = f"acct_{user}"
        if enabled:
            self.world.gateway.disabled_accounts.discard(account_id)
        else:
            self.world.gateway.disabled_accounts.add(account_id)
        event = PaymentEvent(
            f"evt_{len(self.seen_events)}",
            PaymentEventKind.ACCOUNT_UPDATED,
            account_id,
            self.world.clock.now(),
        )
        self.seen_events.append(event)
        self._apply(event)
        return event

    @rule(user=st.sampled_from(USERS))
    def a_player_is_given_an_enabled_account(self, user: str) -> None:
        self.world.gateway.disabled_accounts.discard(f"acct_{user}")
        set_payout_account(self.world.p, user, f"acct_{user}")

    def _live_transfers(self) -> list[Transfer]:
        reversed_ids = self.world.gateway.reversed_transfer_ids()
        return [t for t in self.world.gateway.all_transfers() if t.transfer_id not in reversed_ids]

    @rule(target=events, data=st.data())
    @precondition(lambda self: bool(self._live_transfers()))
    def the_gateway_reverses_a_transfer(self, data: st.DataObject) -> PaymentEvent:
        transfer = data.draw(st.sampled_from(self._live_transfers()))
        event = self.world.gateway.reverse_on_gateway(transfer.transfer_id, "disputed")
        self.seen_events.append(event)
        self._apply(event)
        _note("a transfer reversed")
        return event

    @rule(target=events, data=st.data())
    @precondition(lambda self: bool(self._live_transfers()))
    def a_bank_payout_fails(self, data: st.DataObject) -> PaymentEvent:
        """A connected account's payout to its bank fails: its latest prizes are taken back."""
        transfer = data.draw(st.sampled_from(self._live_transfers()))
        event = self.world.gateway.fail_bank_payout(
            transfer.destination, transfer.amount.minor, "account_closed"
        )
        self.seen_events.append(event)
        self._apply(event)
        _note("a bank payout failed")
        return event

    @rule()
    def the_gateway_sends_its_events(self) -> None:
        """What the gateway sent of its own accord (a reversal's transfer.reversed) arrives."""
        for sent in self.world.gateway.sent_events():
            self.seen_events.append(sent)
            self._apply(sent)

    @rule(contest=consumes(contests))
    def everything_settles_down(self, contest: str) -> None:
        """Faults clear, days pass, the worker runs: every contest ends closed and conserved."""
        gateway = self.world.gateway
        gateway.unavailable = gateway.auth_broken = False
        gateway.lose_next_replies = 0
        gateway.disabled_accounts.clear()
        for sent in gateway.sent_events():
            apply_payment_event(self.world.p, sent)
        for user in USERS:  # every winner's account enabled: owed prizes go out
            set_payout_account(self.world.p, user, f"acct_{user}")
        self.version += 1
        self.world.feed.publish(snapshot(GameStatus.FINAL, self.version))
        for _ in range(4):
            self.world.clock.advance(timedelta(hours=12))
            run_once(self.world.p)
        with self.world.p.uow() as uow:
            for cid in uow.contests.ids_in_states(list(ContestState)):
                state = uow.contests.get(cid).state
                assert state in (ContestState.PAID, ContestState.CANCELLED), (cid, state)
            assert not uow.entries.with_status([EntryStatus.RESERVED, EntryStatus.PENDING_ACTION])
            assert not uow.refunds.pending()
            # Settlement scored each entry's final lineup (edits and swaps included).
            for cid in uow.contests.ids_in_states([ContestState.PAID]):
                stored = uow.settlements.get(cid)
                assert stored is not None, cid
                final = {
                    e.entry_id: e.lineup.player_ids
                    for e in uow.entries.for_contest(cid, [EntryStatus.ACTIVE])
                }
                assert {r.entry_id: r.player_ids for r in entry_rows(stored[0])} == final
        report = verify_ledger(self.world.p)
        assert report.ok, report
        paid = sum(1 for c in report.closed_contests if c.paid_out)
        _note(f"settled down with {'some' if paid else 'no'} prizes paid")
        # The gateway's books and ours agree to the cent.
        with self.world.p.uow() as uow:
            cash = sum(
                p.amount.minor for s in uow.ledger.all() for p in s.postings if p.account == CASH
            )
        collected = sum(gateway.charged_total(k) for k in gateway.charges)
        refunded = sum(amount.minor for _, _, amount in gateway.refunds.values())
        transferred = sum(t.amount.minor for t in self._live_transfers())
        assert cash == collected - refunded - transferred
        with self.world.p.uow() as uow:
            for cid in uow.contests.ids_in_states([ContestState.PAID]):
                statuses = {x.status for x in uow.payouts.for_contest(cid)}
                assert statuses <= {PayoutStatus.CONFIRMED}, (cid, statuses)

    # -- invariants ---------------------------------------------------------------------

    @invariant()
    def every_charge_is_an_entry_or_a_refund(self) -> None:
        with self.world.p.uow() as uow:
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
    def no_player_is_charged_twice_for_one_fingerprint(self) -> None:
        """Counted on the gateway: every charge it made, traced back to the join it paid for."""
        charges = list(self.world.gateway.charges.values())
        with self.world.p.uow() as uow:
            fingerprints = []
            for charge in charges:
                entry = uow.entries.get(charge.metadata["entry_id"])
                assert entry.user_id == charge.metadata["user_id"], (entry, charge)
                assert charge.amount.minor == entry.fee_minor, (entry, charge)
                fingerprints.append(entry.fingerprint)
        succeeded = Counter(
            fp
            for fp, c in zip(fingerprints, charges, strict=True)
            if c.status is ChargeStatus.SUCCEEDED
        )
        assert all(n == 1 for n in succeeded.values()), succeeded
        # Stricter still: a join is sent to the gateway under one charge, whatever its outcome.
        attempted = Counter(fingerprints)
        assert all(n == 1 for n in attempted.values()), attempted

    @invariant()
    def no_prize_is_paid_twice(self) -> None:
        """Counted on the gateway: every transfer it made, by send and by entry; a prize
        sent again after a reversal is the only second transfer of an entry."""
        transfers = self.world.gateway.all_transfers()
        by_send = Counter(t.metadata["payout_fingerprint"] for t in transfers)
        assert all(n == 1 for n in by_send.values()), by_send
        live = self._live_transfers()
        by_entry = Counter(t.metadata["entry_id"] for t in live)
        assert all(n == 1 for n in by_entry.values()), by_entry
        with self.world.p.uow() as uow:
            for transfer in transfers:
                fingerprint = transfer.metadata["payout_fingerprint"].split("/", 1)[0]
                payout = uow.payouts.get(fingerprint)
                assert transfer.amount.minor == payout.transfer_minor, (transfer, payout)
                assert transfer.destination == f"acct_{payout.user_id}", (transfer, payout)
            for cid in uow.contests.ids_in_states(list(ContestState)):
                payouts = uow.payouts.for_contest(cid)
                assert len({x.entry_id for x in payouts}) == len(payouts)

    @invariant()
    def every_prize_is_owed_in_flight_or_paid_exactly_once(self) -> None:
        """Counted on the gateway: a paid prize has exactly one transfer not reversed (the
        one on record), an owed one none, one in flight at most one (made, not yet recorded)."""
        live = Counter(
            t.metadata["payout_fingerprint"].split("/", 1)[0] for t in self._live_transfers()
        )
        live_ids = {t.transfer_id for t in self._live_transfers()}
        undelivered = {e.reference for e in self.world.gateway.outbox}
        with self.world.p.uow() as uow:
            for cid in uow.contests.ids_in_states(list(ContestState)):
                for payout in uow.payouts.for_contest(cid):
                    sent = live[payout.fingerprint]
                    if payout.status in PAID_STATUSES and payout.transfer_id in undelivered:
                        # Taken back by the platform (a crash before it was recorded): owed
                        # once its transfer.reversed arrives, and sent nowhere meanwhile.
                        assert sent == 0, payout
                    elif payout.status in PAID_STATUSES:
                        assert sent == 1, payout
                        assert payout.transfer_id in live_ids, payout
                    elif payout.status in OWED_STATUSES:
                        assert sent == 0, payout
                    else:
                        assert payout.status in IN_FLIGHT_STATUSES, payout
                        assert sent <= 1, payout

    @invariant()
    def no_fee_is_refunded_twice(self) -> None:
        """Counted on the gateway: every refund it made matches one refund we owed."""
        refunds = self.world.gateway.refunds
        by_charge = Counter(charge_id for _, charge_id, _ in refunds.values())
        assert all(n == 1 for n in by_charge.values()), by_charge
        with self.world.p.uow() as uow:
            for key, (_, charge_id, amount) in refunds.items():
                owed = uow.refunds.get(key)
                assert owed is not None, f"refunded {key} with no record of owing it"
                assert (owed.charge_id, owed.amount_minor) == (charge_id, amount.minor), owed

    @invariant()
    def no_contest_seats_more_than_its_capacity_nor_a_player_more_than_the_limit(self) -> None:
        """Counted from the entries holding a seat (reserved, pending action, active)."""
        with self.world.p.uow() as uow:
            for cid in uow.contests.ids_in_states(list(ContestState)):
                terms = uow.contests.get(cid).terms
                holding = [e for e in uow.entries.for_contest(cid) if e.holds_seat]
                assert len(holding) <= terms.capacity, (cid, terms.capacity, holding)
                assert uow.entries.seats_taken(cid) == len(holding), cid
                per_player = Counter(e.user_id for e in holding)
                limit = terms.max_entries_per_player
                assert all(n <= limit for n in per_player.values()), (cid, limit, per_player)
                pairs = [(cid, user) for user in USERS]
                held = uow.entries.seats_of_users(pairs)
                assert held == {(c, user): per_player[user] for c, user in pairs}, cid

    @invariant()
    def no_entry_is_accepted_at_or_after_lock(self) -> None:
        with self.world.p.uow() as uow:
            for cid in uow.contests.ids_in_states(list(ContestState)):
                lock_at = uow.contests.get(cid).terms.lock_at
                for record in uow.audit.for_contest(cid):
                    if record.action == "join.accepted":
                        assert record.at < lock_at

    @invariant()
    def states_only_follow_the_lifecycle(self) -> None:
        with self.world.p.uow() as uow:
            for cid in uow.contests.ids_in_states(list(ContestState)):
                path = [
                    ContestState.SCHEDULED,
                    *(
                        STATE_OF_ACTION[r.action]
                        for r in uow.audit.for_contest(cid)
                        if r.action in STATE_OF_ACTION and r.action != "contest.scheduled"
                    ),
                ]
                assert path in LIFECYCLE_PATHS, path
                assert path[-1] is uow.contests.get(cid).state

    @invariant()
    def the_ledger_balances_and_closed_contests_conserve(self) -> None:
        report = verify_ledger(self.world.p)
        assert not report.unbalanced
        with self.world.p.uow() as uow:
            pending = {r.contest_id for r in uow.refunds.pending()}
            waiting = {
                e.contest_id
                for e in uow.entries.with_status([EntryStatus.RESERVED, EntryStatus.PENDING_ACTION])
            }
        for conservation in report.closed_contests:
            if conservation.contest_id not in pending | waiting:
                assert conservation.conserved, conservation.describe()

    @invariant()
    def every_lineup_is_valid_and_no_change_moved_a_started_player(self) -> None:
        """Every entry's lineup is legal under its contest's template; one that changed
        since the last check changed on an active entry, before lock or by a late swap that
        moved only players whose games had not started (no rule both moves the clock and
        changes a lineup, so the check's instant is the change's)."""
        now = self.world.clock.now()
        with self.world.p.uow() as uow:
            for cid in uow.contests.ids_in_states(list(ContestState)):
                contest = uow.contests.get(cid)
                terms = contest.terms
                template = sport_template(terms.sport_template)
                starts = GameStarts.of(terms.kickoffs, uow.stats.latest(terms.slate_id))
                for entry in uow.entries.for_contest(cid):
                    validate_lineup(template, terms.pool, entry.lineup)
                    before = self.lineups_seen.get(entry.entry_id, entry.lineup_joined_with)
                    self.lineups_seen[entry.entry_id] = entry.lineup
                    if before == entry.lineup:
                        continue
                    assert entry.status is EntryStatus.ACTIVE, entry
                    if now < terms.lock_at:
                        continue
                    assert terms.late_swap, (cid, entry.entry_id)
                    _note("a late swap landed")
                    pairs = zip(before.picks, entry.lineup.picks, strict=True)
                    for (slot, was), (_, now_in) in pairs:
                        if was != now_in:
                            for player_id in (was, now_in):
                                game = terms.pool.players[player_id].game_id
                                assert not starts.has_started(game, now), (slot, player_id)

    @invariant()
    def refunds_are_confirmed_at_most_once(self) -> None:
        with self.world.p.uow() as uow:
            confirmed = [s.key for s in uow.ledger.all() if s.key.startswith("refund:")]
            assert len(confirmed) == len(set(confirmed))
            for refund in uow.refunds.pending():
                assert refund.status is RefundStatus.PENDING


def check_every_invariant(machine: ContestMachine) -> None:
    for check in type(machine).setup_state().invariants:
        check.function(machine)


def play(machine: ContestMachine, steps: Callable[[ContestMachine, str], object]) -> list[str]:
    """Run a pinned scenario on `machine`: a contest created as the machine's first step,
    then `steps` (each rule a direct call), the invariants checked after each rule, and
    everything settled down. Returns what crashed (and was re-run) on the way."""
    checked = _Checked(machine)
    try:
        contest = checked.create(
            capacity=4, min_entries=1, guaranteed=False, payout=top_heavy(3), late_swap=True
        )
        steps(checked, contest)
        checked.everything_settles_down(contest=contest)
    finally:
        machine.teardown()
    return machine.crashes


class _Checked:
    """A machine whose every rule call is followed by every invariant, as hypothesis does."""

    def __init__(self, machine: ContestMachine) -> None:
        self._machine = machine
        check_every_invariant(machine)

    def __getattr__(self, name: str) -> Callable[..., object]:
        rule = getattr(self._machine, name)

        def checked(*args: object, **kwargs: object) -> object:
            result = rule(*args, **kwargs)
            check_every_invariant(self._machine)
            return result

        return checked


# The rare crash points, pinned: each runs on every machine, every time.
def _crash_after_a_transfer_and_restart_a_day_later(m: ContestMachine, contest: str) -> None:
    m.join(contest=contest, user="cat", key="a", card=SUCCEED, variant=2)
    m.the_games_are_played(seed=0, then_pay_with_a_crash=False)
    m.the_worker_crashes_after_a_gateway_call_and_runs_again(call="transfer", a_day_passes=True)


def _crash_after_a_transfer_and_restart_at_once(m: ContestMachine, contest: str) -> None:
    m.the_games_are_played(seed=1, then_pay_with_a_crash=True)


def _lose_a_transfer_reply_then_forget_the_keys(m: ContestMachine, contest: str) -> None:
    m.join(contest=contest, user="cat", key="a", card=SUCCEED, variant=3)
    m.the_games_are_played(seed=2, then_pay_with_a_crash=False)
    m.the_next_reply_is_lost()
    m.the_worker_runs()
    m.a_day_passes_and_the_gateway_forgets_its_transfer_keys()
    m.time_passes(minutes=240)
    m.the_worker_runs()


def _crash_after_a_charge(m: ContestMachine, contest: str) -> None:
    m.a_join_crashes_after_the_charge_and_is_retried(
        contest=contest, user="cat", key="a", card=SUCCEED
    )
    m.a_join_crashes_after_the_charge_and_is_retried(
        contest=contest, user="dan", key="b", card=REQUIRES_ACTION
    )
    m.a_join_crashes_after_the_charge_and_is_retried(
        contest=contest, user="eve", key="c", card=DECLINE
    )
    m.the_games_are_played(seed=3, then_pay_with_a_crash=False)


def _crash_after_a_refund(m: ContestMachine, contest: str) -> None:
    m.join(contest=contest, user="cat", key="a", card=SUCCEED, variant=2)
    m.a_withdrawal_crashes_after_the_refund_and_is_retried(contest=contest, user="cat", key="a")
    m.the_gateway_goes_down_or_comes_back(down=True)
    m.an_operator_cancels(contest=contest)  # the refunds are owed, not yet sent
    m.the_gateway_goes_down_or_comes_back(down=False)
    m.refunds_crash_after_the_gateway_refund_and_are_sent_again()


def _late_swaps_with_a_lost_reply_and_a_crash(m: ContestMachine, contest: str) -> None:
    """After lock, with g1 under way and g2 not yet: ann swaps a g2 player (its reply lost,
    retried), bob's swap crashes at its commit and is retried, and a swap of a g1 player
    (started) is refused; then the games are played and settlement scores the swaps."""
    dal_rb2 = PLAYER_IDS.index("DAL-RB2")
    m.time_passes(minutes=240)
    m.time_passes(minutes=90)  # lock + 30 minutes
    m.the_feed_publishes(status=GameStatus.IN_PROGRESS, seed=0, g2_waits=True)
    m.the_worker_runs()
    # ann's lineup(0) has PHI-RB2 (g2) in pick 3 and KC-QB0 (g1) at QB; bob's lineup(1)
    # has PHI-RB1 (g2) at FLEX.
    m.a_lineup_change_reply_is_lost_and_the_client_retries(
        contest=contest, change=("ann", "seed", 8, 2, dal_rb2)
    )
    m.a_lineup_change_crashes_at_its_commit_and_is_retried(
        contest=contest, change=("bob", "seed", 8, 7, PLAYER_IDS.index("PHI-WR3"))
    )
    m.a_player_changes_a_lineup(
        contest=contest, change=("ann", "seed", 8, 0, PLAYER_IDS.index("DAL-QB0"))
    )
    world = m.world if isinstance(m, ContestMachine) else m._machine.world
    with world.p.uow() as uow:
        ann = uow.entries.by_fingerprint(join_fingerprint(contest, "ann", "seed"))
        bob = uow.entries.by_fingerprint(join_fingerprint(contest, "bob", "seed"))
    assert ann is not None
    assert bob is not None
    assert ann.lineup.picks[0] == ("QB", "KC-QB0")  # started: the swap was refused
    assert ann.lineup.picks[2] == ("RB", "DAL-RB2")
    assert bob.lineup.picks[7] == ("FLEX", "PHI-WR3")
    m.the_games_are_played(seed=1, then_pay_with_a_crash=False)


# Each scenario, and the crash it must meet on the way (as `_rerun` names it).
PINNED: dict[str, tuple[Callable[[ContestMachine, str], object], str | None]] = {
    "crash after a transfer, restart a day later": (
        _crash_after_a_transfer_and_restart_a_day_later,
        "worker, after a transfer",
    ),
    "crash after a transfer, restart at once": (
        _crash_after_a_transfer_and_restart_at_once,
        "worker, after a transfer",
    ),
    "a transfer's reply lost, then the keys forgotten": (
        _lose_a_transfer_reply_then_forget_the_keys,
        None,
    ),
    "crash after a charge": (_crash_after_a_charge, "join, after the charge"),
    "crash after a refund": (_crash_after_a_refund, "refunds, after a refund"),
    "late swaps with a lost reply and a crash": (
        _late_swaps_with_a_lost_reply_and_a_crash,
        "lineup change, at its commit",
    ),
}
