"""Connect payouts: accounts onboarded through the gateway, prizes owed until enabled, reversed
and failed payouts owed again, each event applied once in any order."""

from __future__ import annotations

import copy
from datetime import timedelta
from itertools import product

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fantasy_core.errors import IllegalTransition, NoPayoutAccount, PayoutRejected
from fantasy_core.ledger import CASH, Movement
from fantasy_core.lifecycle import ContestState
from fantasy_core.payments import (
    IN_FLIGHT_STATUSES,
    OWED_STATUSES,
    PAID_STATUSES,
    PaymentEvent,
    PayoutStatus,
)
from fantasy_core.payout_accounts import (
    PAYOUT_ACCOUNT_MOVES,
    AccountStatus,
    PayoutAccount,
    PayoutAccountState,
)
from fantasy_core.usecases.connect import (
    dashboard_link,
    payouts_of,
    refresh_account,
    start_onboarding,
)
from fantasy_core.usecases.payment_events import apply_payment_event
from fantasy_core.usecases.reports import verify_ledger
from support.crashing_store import SimulatedCrash
from support.world import World

A = PayoutAccountState
USERS = ("ann", "bob", "cat", "dan")
REFRESH = "https://play.example/me/payout-account/onboarding"
RETURN = "https://play.example/me/payout-account/return"


def onboard(world: World, user: str) -> str:
    start_onboarding(world.p, user, f"{user}@example.com", "US", REFRESH, RETURN)
    with world.store.unit_of_work() as uow:
        account = uow.accounts.get(user)
    assert account is not None
    assert account.account_id is not None
    return account.account_id


def settled_without_accounts(world: World) -> str:
    """A contest played to SETTLED whose winners have only started onboarding."""
    contest = world.create()
    for n, user in enumerate(USERS):
        assert world.join(contest, user, variant=n).accepted
        onboard(world, user)
    world.play_games()
    world.run()
    return contest.contest_id


def prizes(world: World) -> dict[str, tuple[PayoutStatus, int]]:
    with world.store.unit_of_work() as uow:
        return {
            x.user_id: (x.status, x.amount_minor) for u in USERS for x in uow.payouts.for_user(u)
        }


def winners(world: World) -> list[str]:
    return sorted(prizes(world))


def money_moved(world: World) -> int:
    """What actually left the platform on the gateway: transfers less reversals."""
    reversed_ids = world.gateway.reversed_transfer_ids()
    return sum(
        t.amount.minor for t in world.gateway.all_transfers() if t.transfer_id not in reversed_ids
    )


def ledger_paid(world: World) -> int:
    with world.store.unit_of_work() as uow:
        sets = uow.ledger.all()
    paid = sum(s.amount for s in sets if s.movement is Movement.PRIZE_PAID)
    return paid - sum(s.amount for s in sets if s.movement is Movement.PRIZE_REVERSED)


def assert_books_match(world: World) -> None:
    """Every prize owed, in flight or paid once; the ledger says what the gateway did."""
    with world.store.unit_of_work() as uow:
        every = [x for u in USERS for x in uow.payouts.for_user(u)]
        cash_out = -sum(
            p.amount.minor
            for s in uow.ledger.all()
            if s.movement in (Movement.PRIZE_PAID, Movement.PRIZE_REVERSED)
            for p in s.postings
            if p.account == CASH
        )
    for payout in every:
        assert (
            (payout.status in OWED_STATUSES)
            + (payout.status in IN_FLIGHT_STATUSES)
            + (payout.status in PAID_STATUSES)
        ) == 1
    paid = sum(x.amount_minor for x in every if x.status in PAID_STATUSES)
    assert ledger_paid(world) == cash_out == paid == money_moved(world)
    report = verify_ledger(world.p)
    assert not report.unbalanced
    assert all(c.conserved for c in report.closed_contests)


# -- the account entity -------------------------------------------------------------------


def an_account(state: PayoutAccountState) -> PayoutAccount:
    return PayoutAccount("ann", None if state is A.NONE else "acct_1", state)


ENABLED = AccountStatus("acct_1", True, True)
SUBMITTED_NOT_ENABLED = AccountStatus("acct_1", False, True, ("external_account",), "past_due")
NOT_SUBMITTED = AccountStatus("acct_1", False, False, ("tos_acceptance.date",))


def test_the_account_table_is_the_table_of_the_rules() -> None:
    legal = {
        (A.NONE, A.ONBOARDING),
        (A.NONE, A.ENABLED),
        *((s, t) for s in (A.ONBOARDING,) for t in (A.ONBOARDING, A.ENABLED, A.DISABLED)),
        *((s, t) for s in (A.ENABLED, A.DISABLED) for t in (A.ENABLED, A.DISABLED)),
    }
    assert {(s, t) for s, targets in PAYOUT_ACCOUNT_MOVES.items() for t in targets} == legal


@pytest.mark.parametrize(
    ("source", "status", "target"),
    [
        (A.ONBOARDING, NOT_SUBMITTED, A.ONBOARDING),
        (A.ONBOARDING, SUBMITTED_NOT_ENABLED, A.DISABLED),
        (A.ONBOARDING, ENABLED, A.ENABLED),
        (A.ENABLED, NOT_SUBMITTED, A.DISABLED),  # enabled once: never onboarding again
        (A.ENABLED, ENABLED, A.ENABLED),
        (A.DISABLED, ENABLED, A.ENABLED),
        (A.DISABLED, SUBMITTED_NOT_ENABLED, A.DISABLED),
    ],
)
def test_the_gateways_word_moves_the_account(
    source: PayoutAccountState, status: AccountStatus, target: PayoutAccountState
) -> None:
    account = an_account(source)
    became_enabled = account.reported(status)
    assert account.state is target
    assert became_enabled == (target is A.ENABLED and source is not A.ENABLED)
    assert account.requirements == status.requirements
    assert account.payouts_enabled == (target is A.ENABLED)


@pytest.mark.parametrize("source", [A.ONBOARDING, A.ENABLED, A.DISABLED])
def test_an_account_is_opened_once(source: PayoutAccountState) -> None:
    account = an_account(source)
    before = copy.copy(account)
    with pytest.raises(IllegalTransition):
        account.opened("acct_2")
    assert account == before


def test_the_player_is_told_what_is_missing() -> None:
    assert an_account(A.NONE).missing() == ("start onboarding",)
    onboarding = an_account(A.ONBOARDING)
    assert onboarding.missing() == ("finish onboarding",)
    onboarding.reported(SUBMITTED_NOT_ENABLED)
    assert onboarding.missing() == ("external_account",)
    enabled = an_account(A.ENABLED)
    enabled.bank_payout_failed("account closed")
    assert (enabled.state, enabled.missing()) == (A.DISABLED, ("external_account",))
    assert enabled.disabled_reason == "account closed"


# -- onboarding ---------------------------------------------------------------------------


def test_onboarding_creates_one_account_per_player_and_a_fresh_link_each_time() -> None:
    world = World()
    first = start_onboarding(world.p, "ann", "ann@example.com", "US", REFRESH, RETURN)
    again = start_onboarding(world.p, "ann", "ann@example.com", "US", REFRESH, RETURN)
    assert first.url != again.url  # a returning player (link expired) gets a new one
    assert [c for c, _ in world.gateway.calls].count("open_account") == 1
    (account,) = world.gateway.accounts.values()
    assert (account.email, account.country, account.metadata) == (
        "ann@example.com",
        "US",
        {"user_id": "ann"},
    )
    assert payouts_of(world.p, "ann").state is A.ONBOARDING


def test_a_crash_after_the_account_was_created_creates_no_second_one() -> None:
    world = World()
    world.store.crash_at_next_commit()  # the commit that records the new account
    with pytest.raises(SimulatedCrash):
        start_onboarding(world.p, "ann", "ann@example.com", "US", REFRESH, RETURN)
    start_onboarding(world.p, "ann", "ann@example.com", "US", REFRESH, RETURN)
    assert len(world.gateway.accounts) == 1  # the same key: the same account


def test_a_login_link_needs_an_account_that_finished_onboarding() -> None:
    world = World()
    with pytest.raises(NoPayoutAccount):
        dashboard_link(world.p, "ann")
    account_id = onboard(world, "ann")
    with pytest.raises(PayoutRejected, match="has not finished onboarding"):
        dashboard_link(world.p, "ann")
    world.gateway.finish_onboarding(account_id)
    assert "/dashboard/" in dashboard_link(world.p, "ann").url


def test_coming_back_from_onboarding_reads_the_account_from_the_gateway() -> None:
    world = World()
    account_id = onboard(world, "ann")
    world.gateway.finish_onboarding(account_id, enabled=False)
    account = refresh_account(world.p, "ann")
    assert (account.state, account.missing()) == (
        A.DISABLED,
        ("individual.verification.document",),
    )


# -- owed prizes and events ---------------------------------------------------------------


def test_prizes_stay_owed_until_the_account_is_enabled_then_are_paid_once() -> None:
    world = World()
    cid = settled_without_accounts(world)
    assert {s for s, _ in prizes(world).values()} == {PayoutStatus.OWED}
    assert world.gateway.all_transfers() == []
    page = payouts_of(world.p, winners(world)[0])
    assert page.total("owed") > 0
    assert page.missing == ("finish onboarding",)
    assert_books_match(world)
    for user in winners(world):
        with world.store.unit_of_work() as uow:
            account = uow.accounts.get(user)
        assert account is not None
        assert account.account_id is not None
        event = world.gateway.finish_onboarding(account.account_id)
        assert apply_payment_event(world.p, event)
        assert not apply_payment_event(world.p, event)
    world.run()
    world.run()
    with world.store.unit_of_work() as uow:
        assert uow.contests.get(cid).state is ContestState.PAID
    assert len(world.gateway.all_transfers()) == len(prizes(world))
    assert_books_match(world)


def enabled_and_paid(world: World) -> str:
    cid = settled_without_accounts(world)
    for user in winners(world):
        with world.store.unit_of_work() as uow:
            account = uow.accounts.get(user)
        assert account is not None
        assert account.account_id is not None
        apply_payment_event(world.p, world.gateway.finish_onboarding(account.account_id))
    world.run()
    world.run()
    return cid


def account_of(world: World, user: str) -> PayoutAccount:
    with world.store.unit_of_work() as uow:
        account = uow.accounts.get(user)
    assert account is not None
    return account


def test_a_reversed_transfer_puts_the_prize_back_to_owed_until_the_account_is_enabled() -> None:
    world = World()
    enabled_and_paid(world)
    (first, *_) = world.gateway.all_transfers()
    user = first.metadata["user_id"]
    event = world.gateway.reverse_on_gateway(first.transfer_id, "disputed")
    assert apply_payment_event(world.p, event)
    assert not apply_payment_event(world.p, event)
    assert prizes(world)[user][0] is PayoutStatus.REVERSED
    assert account_of(world, user).state is A.DISABLED
    assert any(k.startswith("payout-reversed-") for k in world.alerts.raised_keys())
    world.run()  # nothing is sent to an account whose transfer was just reversed
    assert len(world.gateway.all_transfers()) == len(prizes(world))
    assert_books_match(world)
    page = payouts_of(world.p, user)
    assert page.total("owed") == first.amount.minor
    assert page.prizes[0].reversals == 1
    assert page.prizes[0].why == "disputed"
    # The gateway reports the account enabled again: the prize goes out once more.
    account_id = account_of(world, user).account_id
    assert account_id is not None
    assert apply_payment_event(world.p, world.gateway.finish_onboarding(account_id))
    world.run()
    world.run()
    assert prizes(world)[user][0] is PayoutStatus.CONFIRMED
    resent = [t for t in world.gateway.all_transfers() if t.metadata["user_id"] == user]
    assert [t.key for t in resent] == [first.key, first.key + "/resend-1"]
    assert_books_match(world)


def test_a_reversal_that_arrives_before_the_confirmation_is_recorded_still_counts() -> None:
    world = World()
    settled_without_accounts(world)
    user = winners(world)[0]
    account_id = account_of(world, user).account_id
    assert account_id is not None
    apply_payment_event(world.p, world.gateway.finish_onboarding(account_id))

    def crash_after_the_transfer(call: str, _: str) -> None:
        if call == "transfer":  # the transfer is made; its confirmation is never recorded
            world.store.crash_at_next_commit()

    world.gateway.after_call = crash_after_the_transfer
    with pytest.raises(SimulatedCrash):
        world.run()
    world.gateway.after_call = None
    (transfer,) = world.gateway.all_transfers()
    assert apply_payment_event(
        world.p, world.gateway.reverse_on_gateway(transfer.transfer_id, "fraud")
    )
    world.run()
    assert prizes(world)[user][0] is PayoutStatus.REVERSED
    assert_books_match(world)


def test_a_failed_bank_payout_takes_the_prize_back_and_owes_it_again() -> None:
    world = World()
    enabled_and_paid(world)
    (first, *_) = world.gateway.all_transfers()
    user = first.metadata["user_id"]
    event = world.gateway.fail_bank_payout(first.destination, first.amount.minor, "closed")
    assert apply_payment_event(world.p, event)
    assert not apply_payment_event(world.p, event)
    assert first.transfer_id in world.gateway.reversed_transfer_ids()
    assert prizes(world)[user][0] is PayoutStatus.REVERSED
    assert account_of(world, user).missing() == ("external_account",)
    assert any(k.startswith("payout-failed-") for k in world.alerts.raised_keys())
    world.run()
    assert_books_match(world)
    assert apply_payment_event(world.p, world.gateway.finish_onboarding(first.destination))
    world.run()
    assert prizes(world)[user][0] is PayoutStatus.CONFIRMED
    assert_books_match(world)


# -- any order, any duplication -----------------------------------------------------------

Step = tuple[str, int]
steps = st.lists(
    st.tuples(
        st.sampled_from(["enable", "disable", "reverse", "bank_fails", "again", "worker"]),
        st.integers(0, 7),
    ),
    max_size=25,
)


@settings(max_examples=40, deadline=None)
@given(steps)
def test_every_prize_is_owed_in_flight_or_paid_once_whatever_the_events(plan: list[Step]) -> None:
    world = World()
    settled_without_accounts(world)
    users = winners(world)
    delivered: list[PaymentEvent] = []
    for what, n in plan:
        user = users[n % len(users)]
        account_id = account_of(world, user).account_id
        assert account_id is not None
        event: PaymentEvent | None = None
        if what == "enable":
            event = world.gateway.finish_onboarding(account_id)
        elif what == "disable":
            event = world.gateway.disable_account(account_id, "individual.id_number")
        elif what in ("reverse", "bank_fails"):
            reversed_ids = world.gateway.reversed_transfer_ids()
            sent = [
                t
                for t in world.gateway.all_transfers()
                if t.destination == account_id and t.transfer_id not in reversed_ids
            ]
            if sent:
                if what == "reverse":
                    event = world.gateway.reverse_on_gateway(sent[-1].transfer_id, "disputed")
                else:
                    amount = sent[-1].amount.minor
                    event = world.gateway.fail_bank_payout(account_id, amount, "closed")
        elif what == "again" and delivered:
            event = delivered[n % len(delivered)]
        else:
            world.clock.advance(timedelta(minutes=5))
            world.run()
        if event is not None:
            delivered.append(event)
            apply_payment_event(world.p, event)
        assert_books_match(world)
    # Settle down: every account enabled, the worker runs: every prize paid exactly once.
    for user in users:
        account_id = account_of(world, user).account_id
        assert account_id is not None
        apply_payment_event(world.p, world.gateway.finish_onboarding(account_id))
    for _ in range(3):
        world.clock.advance(timedelta(hours=2))
        world.run()
    assert {s for s, _ in prizes(world).values()} == {PayoutStatus.CONFIRMED}
    assert_books_match(world)
    assert money_moved(world) == sum(a for _, a in prizes(world).values())


@pytest.mark.parametrize(("source", "target"), list(product(A, A)))
def test_an_account_refuses_every_move_its_table_refuses(
    source: PayoutAccountState, target: PayoutAccountState
) -> None:
    account = an_account(source)
    moves = {
        A.ONBOARDING: lambda: account.opened("acct_9"),
        A.ENABLED: lambda: account.reported(ENABLED),
        A.DISABLED: lambda: account.bank_payout_failed("closed"),
    }
    if target not in moves:
        return  # nothing moves an account back to NONE
    if target in PAYOUT_ACCOUNT_MOVES[source] and (target is not A.ONBOARDING or source is A.NONE):
        moves[target]()
        assert account.state is target
        return
    with pytest.raises(IllegalTransition):
        moves[target]()
