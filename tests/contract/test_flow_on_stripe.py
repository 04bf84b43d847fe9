"""A whole contest through the Stripe adapter on the emulator: charged, settled, paid once each."""

from __future__ import annotations

import stripe

from adapters.stripe_gateway import RequestRetry, StripeGateway
from fantasy_core.lifecycle import ContestState
from fantasy_core.payout_accounts import PayoutAccount
from fantasy_core.platform import Platform
from fantasy_core.snapshot import verify
from fantasy_core.usecases.reports import verify_ledger
from support.stripe_emulator_fixture import API_KEY
from support.world import World

USERS = ("ann", "bob", "cat", "dan", "eve")


def test_a_contest_is_charged_settled_and_paid_through_stripe(localstripe_url: str) -> None:
    world = World()
    retry = RequestRetry(attempts=3, first_delay=0.01, max_delay=0.01, sleep_budget=1.0)
    gateway = StripeGateway.for_environment(API_KEY, "test", base_url=localstripe_url, retry=retry)
    world.p = Platform(
        uow=world.store.unit_of_work,
        gateway=gateway,
        feed=world.feed,
        clock=world.clock,
        alerts=world.alerts,
        ids=world.ids,
    )
    books = stripe.StripeClient(
        API_KEY,
        base_addresses={"api": localstripe_url, "connect": localstripe_url},
        max_network_retries=0,
    )
    # The emulator serves the whole session: other tests' worlds number their contests
    # alike, so only the intents made from here on are this test's.
    before = {i.id for i in books.v1.payment_intents.list({"limit": 100}).auto_paging_iter()}
    before |= {t.id for t in books.v1.transfers.list({"limit": 100}).auto_paging_iter()}
    contest = world.create()
    with world.store.unit_of_work() as uow:
        for user in USERS:
            account = books.v1.accounts.create(
                {
                    "type": "custom",
                    "country": "US",
                    "capabilities": {"transfers": {"requested": True}},
                }
            )
            uow.accounts.save(PayoutAccount.enabled(user, account.id))
        uow.commit()
    for n, user in enumerate(USERS):
        assert world.join(contest, user, variant=n).accepted
    assert world.join(contest, "ann", variant=0).accepted  # a replay: charged once
    world.play_games()

    with world.store.unit_of_work() as uow:
        assert uow.contests.get(contest.contest_id).state is ContestState.PAID
        payouts = uow.payouts.for_contest(contest.contest_id)
        stored = uow.settlements.get(contest.contest_id)
    assert stored is not None
    verify(*stored)
    assert verify_ledger(world.p).ok
    # Counted on the emulator's side, not ours.
    intents = [
        i
        for i in books.v1.payment_intents.list({"limit": 100}).auto_paging_iter()
        if i.id not in before and i.metadata.to_dict().get("contest_id") == contest.contest_id
    ]
    assert len(intents) == len(USERS)
    transfers = [
        t
        for t in books.v1.transfers.list(
            {"transfer_group": contest.contest_id, "limit": 100}
        ).auto_paging_iter()
        if t.id not in before
    ]
    assert sorted(t.amount for t in transfers) == sorted(x.amount_minor for x in payouts)
    assert sum(t.amount for t in transfers) == 4_500  # 5 x $10 less 10% rake
