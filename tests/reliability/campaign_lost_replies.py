"""Campaign: lost replies, lost requests and late requests between the Stripe adapter and Stripe.

A TCP proxy on loopback (support.tcp_proxy) sits between the Stripe adapter and the
emulator and, at random, drops a request before it is delivered, delivers it but
swallows the reply (the charge is made, the client never hears), or holds it longer
than the client waits (the client retries, then the first copy lands). Through it,
players join a contest (each client retrying with its idempotency key after a 503,
some giving up), some withdraw (refunds), the contest is played and its winners
paid by the worker's passes, which retry whatever ended unknown.

Counted on the emulator's side, behind the proxy: no join fingerprint was charged
twice; every succeeded charge is an active entry or was refunded exactly once, in
full; every payout fingerprint has exactly one transfer; and on ours, every payout is
CONFIRMED with that transfer, no seat is left reserved, and the ledger verifies.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

from attrs import frozen

from adapters.sqlalchemy import upgrade
from adapters.stripe_gateway import RequestRetry, StripeGateway
from fantasy_core.contest import Contest
from fantasy_core.entries import EntryStatus, JoinResult
from fantasy_core.entry_limits import MaxEntries
from fantasy_core.errors import GatewayUnavailable, PaymentOutcomeUnknown, WithdrawRefused
from fantasy_core.lifecycle import ContestState
from fantasy_core.payments import PayoutStatus
from fantasy_core.payouts import PrizeTier, RankTable
from fantasy_core.usecases.joining import withdraw
from fantasy_core.usecases.reports import verify_ledger
from fantasy_core.usecases.worker import run_once
from support.campaign import CampaignReport
from support.postgres_schema import fresh_schema
from support.sql_world import SqlWorld
from support.stripe_books import StripeBooks
from support.stripe_emulator_fixture import API_KEY
from support.tcp_proxy import Faults, FaultyProxy

DECLINED = "pm_card_chargeCustomerFail"  # localstripe's declining card
CLIENT_ATTEMPTS = 6
MAX_PASSES = 300


@frozen
class LostRepliesConfig:
    players: int = 24
    withdrawals: int = 3
    drop_request: float = 0.12
    lose_reply: float = 0.15
    delay: float = 0.10
    max_delay: float = 1.2
    http_timeout: float = 0.6
    # Fewer tries inside the adapter than in production (4), so that more faults reach
    # the use cases: the client's retries, the worker's lookups and resends.
    adapter_attempts: int = 2
    seed: int = 2025


@contextmanager
def database(postgres_url: str | None, workdir: Path) -> Iterator[str]:
    if postgres_url is not None:
        with fresh_schema(postgres_url, "replies") as url:
            yield url
        return
    url = f"sqlite:///{workdir / 'replies.db'}"
    upgrade(url, "test")
    yield url


def run_campaign(
    config: LostRepliesConfig,
    postgres_url: str | None,
    stripe_url: str,
    workdir: Path,
    mode: str = "short",
) -> CampaignReport:
    report = CampaignReport("lost_replies", "Lost replies and retries", mode=mode)
    report.checked = [
        "emulator: no join fingerprint charged twice",
        "emulator: every succeeded charge is an active entry, or refunded exactly once in full",
        "emulator: exactly one transfer per payout fingerprint",
        "database: every payout CONFIRMED with the emulator's transfer; no seat left "
        "reserved; the contest PAID; the ledger verifies",
    ]
    started = time.monotonic()
    rng = random.Random(config.seed)
    books = StripeBooks(stripe_url)
    target = urlparse(stripe_url)
    faults = Faults(config.drop_request, config.lose_reply, config.delay, config.max_delay)
    with (
        database(postgres_url, workdir) as url,
        FaultyProxy((target.hostname or "127.0.0.1", target.port or 80), faults, rng) as proxy,
    ):
        retry = RequestRetry(
            attempts=config.adapter_attempts, first_delay=0.05, max_delay=0.2, sleep_budget=1.0
        )
        gateway = StripeGateway.for_environment(
            API_KEY, "test", base_url=proxy.url, timeout_seconds=config.http_timeout, retry=retry
        )
        world = SqlWorld(url, gateway)
        try:
            contest = _contest(world, config)
            for n in range(config.players):
                world.give_account(f"player-{n}", books.create_account())
            _join_everyone(world, contest, config, rng, report)
            _withdraw_some(world, contest, config, report)
            _play_and_pay(world, contest, report)
            proxy.faults = Faults()  # the checks read our database, not through the proxy
            _check(world, books, contest, report)
        finally:
            world.close()
        for fault, n in sorted(proxy.injected.items()):
            report.fault(f"proxy: {fault.replace('_', ' ')}", n)
        report.figures["proxied connections"] = proxy.connections
    report.runs = 1
    report.seconds = round(time.monotonic() - started, 1)
    f = report.figures
    injected = sum(proxy.injected.values())
    report.summary = (
        f"{injected} network faults (requests dropped, replies lost, requests late) over "
        f"{proxy.connections} connections: {f['charges']} charges, {f['refunds']} refunds, "
        f"{f['transfers']} transfers, {f['double charges']} double charges, "
        f"{f['duplicate transfers']} double payouts, ledger "
        f"{'balanced' if f.get('ledger verifies') == 'yes' else 'NOT balanced'}"
    )
    return report


def _contest(world: SqlWorld, config: LostRepliesConfig) -> Contest:
    paid = max(2, config.players * 2 // 3)
    table = RankTable((PrizeTier(1, 3, 3), PrizeTier(4, paid, 1)))
    return world.create(
        capacity=config.players + 5, entry_limit=MaxEntries(1), payout=table, min_entries=2
    )


def _join_everyone(
    world: SqlWorld,
    contest: Contest,
    config: LostRepliesConfig,
    rng: random.Random,
    report: CampaignReport,
) -> None:
    """Each player's client retries a failed join with the same key, as the API tells it to."""
    for n in range(config.players):
        card = DECLINED if rng.random() < 0.1 else "pm_card_visa"
        give_up_after = CLIENT_ATTEMPTS if rng.random() > 0.1 else 1
        result: JoinResult | None = None
        for attempt in range(give_up_after):
            try:
                result = world.join(contest, f"player-{n}", key=f"join-{n}", variant=n, card=card)
                break
            except (GatewayUnavailable, PaymentOutcomeUnknown) as error:
                report.count(f"joins answered 503 ({type(error).__name__})")
                if attempt + 1 < give_up_after:
                    report.count("client retries with the same key")
        if result is None:
            report.count("clients that gave up (reservation left to the worker)")


def _withdraw_some(
    world: SqlWorld, contest: Contest, config: LostRepliesConfig, report: CampaignReport
) -> None:
    with world.p.uow() as uow:
        active = uow.entries.for_contest(contest.contest_id, [EntryStatus.ACTIVE])
    for entry in active[: config.withdrawals]:
        try:
            withdraw(world.p, contest.contest_id, entry.entry_id, entry.user_id)
            report.count("withdrawals")
        except WithdrawRefused as refused:
            report.problems.append(f"withdrawal of {entry.entry_id} refused: {refused}")


def _play_and_pay(world: SqlWorld, contest: Contest, report: CampaignReport) -> None:
    world.play_games()
    passes = 0
    while passes < MAX_PASSES and not _settled_up(world, contest):
        world.clock.advance(timedelta(minutes=5))  # past every retry_at
        run_once(world.p)
        passes += 1
    report.figures["worker passes after the games"] = passes
    report.check(_settled_up(world, contest), f"not settled up after {passes} worker passes")


def _settled_up(world: SqlWorld, contest: Contest) -> bool:
    with world.p.uow() as uow:
        state = uow.contests.get(contest.contest_id).state
        waiting = uow.entries.with_status([EntryStatus.RESERVED, EntryStatus.PENDING_ACTION])
        return state is ContestState.PAID and not uow.refunds.pending() and not waiting


def _check(world: SqlWorld, books: StripeBooks, contest: Contest, report: CampaignReport) -> None:
    cid = contest.contest_id
    with world.p.uow() as uow:
        entries = uow.entries.for_contest(cid)
        payouts = uow.payouts.for_contest(cid)
    intents = books.payment_intents(cid)
    succeeded = [i for i in intents if i.status == "succeeded"]
    per_key = Counter(str(i.metadata.to_dict().get("join_fingerprint")) for i in succeeded)
    refunds = books.refunds_of({i.id for i in succeeded})
    refunded = Counter(r.payment_intent for r in refunds)
    refunded_amount: Counter[str] = Counter()
    for refund in refunds:
        refunded_amount[refund.payment_intent] += int(refund.amount)
    by_fingerprint = {e.fingerprint: e for e in entries}
    report.figures["charges"] = len(succeeded)
    report.figures["double charges"] = sum(n - 1 for n in per_key.values() if n > 1)
    report.figures["payment intents (any status)"] = len(intents)
    report.figures["refunds"] = len(refunds)
    for key, n in per_key.items():
        report.check(n == 1, f"join {key} charged {n} times")
    for intent in succeeded:
        entry = by_fingerprint.get(str(intent.metadata.to_dict().get("join_fingerprint")))
        if entry is None:
            report.problems.append(f"{intent.id}: a charge for no entry of ours")
            continue
        if entry.status is EntryStatus.ACTIVE:
            report.check(refunded[intent.id] == 0, f"{intent.id}: active, yet refunded")
        else:
            report.check(
                refunded[intent.id] == 1 and refunded_amount[intent.id] == int(intent.amount),
                f"{intent.id}: entry {entry.status.value}, refunded {refunded[intent.id]} times "
                f"({refunded_amount[intent.id]} of {intent.amount})",
            )
    for entry in entries:
        if entry.status is EntryStatus.ACTIVE:
            report.check(per_key[entry.fingerprint] == 1, f"{entry.entry_id} active, not charged")
    report.count(
        "entries refunded after a charge nobody heard of",
        sum(1 for e in entries if e.status is EntryStatus.REFUNDED),
    )
    tally = books.transfer_tally(cid)
    report.figures["transfers"] = tally.count
    report.figures["duplicate transfers"] = tally.duplicates
    report.check(tally.duplicates == 0, f"{cid}: {tally.duplicates} duplicate transfers")
    ids = {str(t.metadata["payout_fingerprint"]): str(t.id) for t in books.transfers(cid)}
    for payout in payouts:
        report.check(
            payout.status is PayoutStatus.CONFIRMED
            and payout.transfer_id == ids.get(payout.fingerprint),
            f"{payout.fingerprint}: {payout.status.value} {payout.transfer_id} vs "
            f"{ids.get(payout.fingerprint)}",
        )
    report.check(len(ids) == len(payouts), f"{len(ids)} transfers for {len(payouts)} payouts")
    ledger = verify_ledger(world.p)
    report.check(ledger.ok, f"the ledger does not verify: {ledger}")
    report.figures["ledger verifies"] = "yes" if ledger.ok else "no"
