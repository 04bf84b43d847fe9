"""Campaign: the worker killed with SIGKILL at random moments while it pays a big contest.

Each run settles a contest whose every entry wins (a few hundred prizes) on
PostgreSQL, with the fees charged through the Stripe adapter on the emulator, and
without sending a payout. Then the real `fantasy worker` program pays it and is
killed (SIGKILL: no handler, no flush, no commit) at random points of its payment
loop, and restarted, `kills_per_run` times, and left to finish. Every other kill
(the first included) lands after a transfer and before its record, for certain: the
emulator makes the transfer and holds its reply until the worker is dead. Before
restarts (every one, in the test) the emulator forgets every idempotency key (Stripe
does after 24 hours), so recovery must find earlier transfers by their metadata
alone: a worker that sent a payout of unknown outcome again without looking it up
would transfer it twice, every run.

The fee ($1,000 by default) makes the ten best places reportable prizes (their net
winnings of 2025 reach $600) won by players with no W-9: the worker, which runs player
protection as the apps do, withholds 24% of each (decision 0042) when it first sends
it, so kills also land between that decision (committed with the send's mark) and the
transfer, and after a transfer of the rest before its record.

Counted on the emulator's side: every winner has exactly one transfer, of the
recorded amount less what was withheld, to the winner's account; nothing else was
transferred. On ours: the contest is PAID, every payout CONFIRMED with that transfer's
id and confirmed once in the audit trail, its withholding decided once (audited once,
posted once, exactly 24% where due), and the ledger verifies.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from pathlib import Path

from attrs import frozen
from sqlalchemy import Engine, func, select

from adapters.sqlalchemy import tables as t
from adapters.stripe_gateway import RequestRetry, StripeGateway
from fantasy_core.contest import Contest
from fantasy_core.entry_limits import MaxEntries
from fantasy_core.ledger import Movement
from fantasy_core.lifecycle import ContestState
from fantasy_core.money import Money
from fantasy_core.payments import PayoutStatus
from fantasy_core.payouts import PrizeTier, RankTable
from fantasy_core.protection.tax import backup_withholding
from fantasy_core.usecases.reports import verify_ledger
from support.campaign import CampaignReport
from support.postgres_schema import fresh_schema
from support.processes import WorkerProcess, fantasy_worker, worker_environment
from support.sql_world import SqlWorld
from support.stripe_books import StripeBooks
from support.stripe_emulator_fixture import API_KEY

POLL_SECONDS = 0.002
RUN_TIMEOUT_SECONDS = 180.0
WORKER_INTERVAL = 0.2


@frozen
class CrashPayoutsConfig:
    runs: int = 1
    kills_per_run: int = 5
    prizes: int = 60
    seed: int = 2025
    # Before every n-th restart the emulator forgets its idempotency keys (0: never).
    forget_keys_every: int = 2
    # Every n-th kill (the first included) waits for a transfer made and its reply
    # held by the emulator: a kill after a transfer, before its record (0: never).
    kill_after_a_transfer_every: int = 2
    # After reaching its kill point, wait up to this long before the SIGKILL.
    jitter_seconds: float = 0.03
    # Each entry's fee (cents): $1,000 makes the ten best places reportable (withheld).
    entry_fee: int = 100_000


@frozen
class Progress:
    state: str
    attempts: int
    by_status: dict[str, int]

    @property
    def confirmed(self) -> int:
        return self.by_status.get(PayoutStatus.CONFIRMED.value, 0)

    @property
    def sending(self) -> int:
        return self.by_status.get(PayoutStatus.SENDING.value, 0)


def progress(engine: Engine, contest_id: str) -> Progress:
    with engine.connect() as connection:
        state = connection.execute(
            select(t.contests.c.state).where(t.contests.c.contest_id == contest_id)
        ).scalar_one()
        rows = connection.execute(
            select(t.payouts.c.status, func.count(), func.sum(t.payouts.c.attempts))
            .where(t.payouts.c.contest_id == contest_id)
            .group_by(t.payouts.c.status)
        ).all()
    return Progress(
        str(state), sum(int(r[2] or 0) for r in rows), {str(r[0]): int(r[1]) for r in rows}
    )


def every_entry_wins(prizes: int) -> RankTable:
    """Places 1-10 weigh 3, the rest 1: every entry is paid, amounts differ."""
    top = min(10, prizes)
    tiers = [PrizeTier(1, top, 3)]
    if prizes > top:
        tiers.append(PrizeTier(top + 1, prizes, 1))
    return RankTable(tuple(tiers))


def settled_contest(
    world: SqlWorld, books: StripeBooks, prizes: int, run: int, fee: int = 100_000
) -> Contest:
    """A SETTLED contest with `prizes` entries, each a winner with a Connect account."""
    contest = world.create(
        name=f"Crash run {run}",
        capacity=prizes,
        entry_limit=MaxEntries(1),
        payout=every_entry_wins(prizes),
        entry_fee=Money(fee, "usd"),
    )
    for n in range(prizes):
        user = f"winner-{run}-{n:04d}"
        world.give_account(user, books.create_account())
        result = world.join(contest, user, key=f"join-{run}-{n}", variant=n)
        if not result.accepted:
            raise RuntimeError(f"setting up: {user}'s join was not accepted: {result}")
    world.settle_without_paying()
    if world.state(contest) != ContestState.SETTLED.value:
        raise RuntimeError(f"setting up: the contest is {world.state(contest)}, not SETTLED")
    return contest


def run_campaign(
    config: CrashPayoutsConfig,
    postgres_url: str,
    stripe_url: str,
    workdir: Path,
    mode: str = "short",
) -> CampaignReport:
    report = CampaignReport("crash_payouts", "Crash during payouts", mode=mode)
    report.checked = [
        "contest reaches PAID after every kill and restart",
        "emulator: exactly one transfer per payout fingerprint, none unlabelled",
        "emulator: each transfer's amount and destination are the recorded payout's",
        "withholding: decided once per prize (audit, ledger), 24% where reportable",
        "database: every payout CONFIRMED with the emulator's transfer id",
        "audit: one payout.confirmed per payout",
        "ledger verifies (every posting set balanced, closed contests conserved)",
    ]
    rng = random.Random(config.seed)
    started = time.monotonic()
    books = StripeBooks(stripe_url)
    for key in ("prizes", "transfers", "duplicate transfers", "restarts", "prizes withheld"):
        report.figures[key] = 0
    with fresh_schema(postgres_url, "crash") as url:
        retry = RequestRetry(attempts=3, first_delay=0.01, max_delay=0.05, sleep_budget=1.0)
        gateway = StripeGateway.for_environment(API_KEY, "test", base_url=stripe_url, retry=retry)
        env = worker_environment(url, stripe_url, FANTASY_WORKER_INTERVAL_SECONDS="0.2")
        for run in range(config.runs):
            world = SqlWorld(url, gateway)
            try:
                contest = settled_contest(world, books, config.prizes, run, config.entry_fee)
                log = workdir / f"crash-run-{run}.log"
                worker = WorkerProcess(fantasy_worker(WORKER_INTERVAL), env, log)
                _kill_and_restart(config, rng, world, worker, books, contest, report)
                _check_run(world, books, contest, report)
            finally:
                world.close()
            report.runs += 1
        ledger = verify_ledger(world.p)
        report.check(ledger.ok, f"the ledger does not verify: {ledger}")
        report.figures["closed contests conserved"] = sum(
            1 for c in ledger.closed_contests if c.conserved
        )
    report.seconds = round(time.monotonic() - started, 1)
    figures = report.figures
    report.summary = (
        f"{report.faults.get('SIGKILL during payouts', 0)} kills during payouts over "
        f"{report.runs} run{'s' if report.runs != 1 else ''}, {figures['prizes']:,} prizes, "
        f"{figures['transfers']:,} transfers, "
        f"{figures['duplicate transfers']} duplicates, "
        f"ledger {'balanced' if ledger.ok else 'NOT balanced'}"
    )
    return report


def _kill_and_restart(
    config: CrashPayoutsConfig,
    rng: random.Random,
    world: SqlWorld,
    worker: WorkerProcess,
    books: StripeBooks,
    contest: Contest,
    report: CampaignReport,
) -> None:
    cid = contest.contest_id
    # Kill points within the first four fifths, so that no kill point is missed because
    # the worker finished the last payouts between two polls.
    window = range(1, max(2, config.prizes * 4 // 5))
    targets = sorted(rng.sample(window, min(config.kills_per_run, len(window))))
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    try:
        for n, target in enumerate(targets):
            worker.start()
            before = progress(world.engine, cid).attempts
            # Kill only once this process is paying (it marked a payout SENDING itself)
            # and the contest reached the kill point.
            while time.monotonic() < deadline:
                now = progress(world.engine, cid)
                if now.state == ContestState.PAID.value:
                    break
                if now.attempts > before and now.confirmed >= target:
                    break
                time.sleep(POLL_SECONDS)
            if now.state == ContestState.PAID.value or time.monotonic() >= deadline:
                break
            every = config.kill_after_a_transfer_every
            if every and n % every == 0:
                if not _hold_the_next_transfer(world, books, cid, deadline):
                    break
            else:
                time.sleep(rng.uniform(0, config.jitter_seconds))
            worker.kill()
            books.set_faults(hold_transfers=0)
            report.fault("SIGKILL during payouts")
            _classify_kill(world, books, cid, report)
            if config.forget_keys_every and worker.kills % config.forget_keys_every == 0:
                books.forget_idempotency_keys()
                report.fault("idempotency keys forgotten before a restart (Stripe's 24 h)")
        if not worker.alive:
            worker.start()
        while time.monotonic() < deadline:
            if progress(world.engine, cid).state == ContestState.PAID.value:
                break
            time.sleep(0.05)
        else:
            report.problems.append(
                f"{cid} not PAID within {RUN_TIMEOUT_SECONDS:.0f} s: {progress(world.engine, cid)}"
            )
    finally:
        worker.stop()
        report.count("restarts", max(worker.starts - 1, 0))


def _hold_the_next_transfer(world: SqlWorld, books: StripeBooks, cid: str, deadline: float) -> bool:
    """Have the emulator hold the reply of the worker's next transfer, and wait until it
    does: the transfer is made, the worker has not heard of it. False if the contest was
    paid first (no transfer left to hold) or time ran out."""
    held = books.faults()["held"]
    books.set_faults(hold_transfers=1)
    while time.monotonic() < deadline:
        if books.faults()["held"] > held:
            return True
        if progress(world.engine, cid).state == ContestState.PAID.value:
            break
        time.sleep(POLL_SECONDS)
    books.set_faults(hold_transfers=0)
    return False


def _classify_kill(world: SqlWorld, books: StripeBooks, cid: str, report: CampaignReport) -> None:
    """Where in the payment of one prize did the kill land? (Read after the process is dead.)"""
    now = progress(world.engine, cid)
    made = books.transfer_tally(cid).count
    unrecorded = made - now.confirmed
    if unrecorded > 0:
        report.count("kills after a transfer, before its record")
    elif now.sending > 0:
        report.count("kills between marking SENDING and the transfer")
    else:
        report.count("kills between payouts")


def _check_run(
    world: SqlWorld, books: StripeBooks, contest: Contest, report: CampaignReport
) -> None:
    cid = contest.contest_id
    fee = contest.terms.entry_fee.minor
    tally = books.transfer_tally(cid)
    with world.p.uow() as uow:
        state = uow.contests.get(cid).state
        payouts = uow.payouts.for_contest(cid)
        accounts = {x.user_id: uow.accounts.get(x.user_id) for x in payouts}
        confirmations = Counter(
            r.subject for r in uow.audit.for_contest(cid) if r.action == "payout.confirmed"
        )
        sends = sum(1 for r in uow.audit.for_contest(cid) if r.action == "payout.sending")
        withheld_audits = Counter(
            r.subject for r in uow.audit.for_contest(cid) if r.action == "payout.withheld"
        )
        posted = {
            s.key.removeprefix("withheld:"): s.amount
            for s in uow.ledger.for_contest(cid)
            if s.movement is Movement.PRIZE_WITHHELD
        }
    report.count("prizes", len(payouts))
    report.count("prizes withheld", sum(1 for x in payouts if x.withheld_minor))
    report.count("transfers", tally.count)
    report.count("duplicate transfers", tally.duplicates)
    report.count("payout attempts (audited sends)", sends)
    report.check(state is ContestState.PAID, f"{cid} ended {state.value}, not PAID")
    report.check(tally.unlabelled == 0, f"{cid}: {tally.unlabelled} transfers without fingerprint")
    report.check(tally.duplicates == 0, f"{cid}: {tally.duplicates} duplicate transfers")
    expected = {x.fingerprint for x in payouts}
    missing = expected - tally.by_fingerprint.keys()
    extra = tally.by_fingerprint.keys() - expected
    report.check(not missing, f"{cid}: {len(missing)} never paid, e.g. {sorted(missing)[:3]}")
    report.check(not extra, f"{cid}: {len(extra)} transfers for no payout of ours")
    ids = {str(tr.metadata["payout_fingerprint"]): str(tr.id) for tr in books.transfers(cid)}
    for payout in payouts:
        fp = payout.fingerprint
        account = accounts[payout.user_id]
        report.check(payout.status is PayoutStatus.CONFIRMED, f"{fp} is {payout.status.value}")
        withheld = payout.withheld_minor
        report.check(withheld is not None, f"{fp}: paid with no withholding decided")
        rest = payout.amount_minor - (withheld or 0)
        report.check(
            tally.amounts.get(fp) in (None, rest),
            f"{fp}: transferred {tally.amounts.get(fp)}, owed {rest} ({withheld} withheld)",
        )
        # The winner's only contest: net = prize - fee, reportable from 2025's $600.
        due = backup_withholding(payout.amount_minor) if payout.amount_minor - fee >= 60_000 else 0
        report.check(withheld == due, f"{fp}: withheld {withheld}, due {due}")
        report.check(
            posted.get(fp, 0) == (withheld or 0)
            and withheld_audits[payout.entry_id] == (1 if withheld else 0),
            f"{fp}: withheld {withheld}, posted {posted.get(fp)}, "
            f"audited {withheld_audits[payout.entry_id]} times",
        )
        report.check(
            account is not None and tally.destinations.get(fp) in (None, account.account_id),
            f"{fp}: sent to {tally.destinations.get(fp)}",
        )
        report.check(
            payout.transfer_id == ids.get(fp),
            f"{fp}: recorded {payout.transfer_id}, the emulator has {ids.get(fp)}",
        )
        report.check(
            confirmations[payout.entry_id] == 1,
            f"{fp}: confirmed {confirmations[payout.entry_id]} times in the audit trail",
        )
