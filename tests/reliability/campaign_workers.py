"""Campaign: four worker processes on one PostgreSQL run a week's slate of contests at once.

Contests of every template are created on the real 2025 week-1 slate (the replay
feed of nflverse data) and joined up front through the use cases, with the fees
charged through the Stripe adapter on the emulator. Then four worker processes
(`support.worker_process`: the production worker wired by `apps.bootstrap.start`,
on a clock read from a shared file) run side by side while the campaign moves that
clock from before lock, through every kickoff and final whistle, past the
correction window. One contest is under-filled, so it is cancelled at lock and
refunded.

Each transition and each payout must happen exactly once: counted in the audit
trail (one record per step per contest, one confirmation per payout and refund),
on the emulator (one transfer per payout fingerprint, one refund per refunded
charge, one charge per join), and the ledger verifies.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from attrs import frozen

from apps.bootstrap import start
from apps.demo_players import LineupPicker
from apps.settings import Settings
from apps.templates import template
from fantasy_core.audit import AuditRecord
from fantasy_core.contest import Contest
from fantasy_core.entries import Entry, EntryStatus
from fantasy_core.lifecycle import ContestState, is_closed
from fantasy_core.payments import Payout, PayoutStatus, Refund, RefundStatus
from fantasy_core.payout_accounts import PayoutAccount
from fantasy_core.platform import Platform
from fantasy_core.usecases.contests import create_contest
from fantasy_core.usecases.joining import JoinRequest, join
from fantasy_core.usecases.queries import slate_for_contests
from fantasy_core.usecases.reports import verify_ledger
from support.campaign import CampaignReport
from support.postgres_schema import fresh_schema
from support.processes import WorkerProcess, clocked_worker, worker_environment
from support.protection import register_on
from support.shared_clock import FileClock
from support.stripe_books import StripeBooks
from support.stripe_emulator_fixture import API_KEY

SLATE = "nfl-2025-reg-wk01"
PLAYED = ("contest.locked", "contest.live", "contest.complete", "contest.settled", "contest.paid")
TRANSITION = re.compile(r"^contest (\S+): (\S+) -> (\S+) ")
PASSES = re.compile(r"worker stopped after (\d+) passes \((\d+) failed\)")
FINISH_TIMEOUT_SECONDS = 150.0
# Twelve hours before the week's first kickoff (Thursday night: Friday 00:15 UTC).
BEFORE_LOCK = datetime(2025, 9, 4, 12, 15, tzinfo=UTC)


@frozen
class Planned:
    template: str
    entries: int
    lock_after_first_kickoff: timedelta = timedelta(0)


SHORT_PLAN = (
    Planned("fifty_fifty", 10),
    Planned("double_up", 12),
    Planned("tournament", 30),
    Planned("head_to_head", 2),
    Planned("league", 3),  # needs 6: cancelled at lock, every fee refunded
    Planned("fifty_fifty", 8, timedelta(days=2, hours=16, minutes=45)),  # Sunday 17:00 UTC
)
FULL_PLAN = (
    Planned("fifty_fifty", 10),
    Planned("fifty_fifty", 10, timedelta(days=2, hours=16, minutes=45)),
    Planned("double_up", 20),
    Planned("double_up", 20, timedelta(days=2, hours=20, minutes=10)),  # Sunday 20:25 UTC
    Planned("tournament", 100),
    Planned("tournament", 100, timedelta(days=2, hours=16, minutes=45)),
    Planned("tournament", 80, timedelta(days=2, hours=20, minutes=10)),
    Planned("head_to_head", 2),
    Planned("head_to_head", 2, timedelta(days=2, hours=16, minutes=45)),
    Planned("league", 3),
    Planned("league", 12),
)


@frozen
class WorkersConfig:
    plan: tuple[Planned, ...] = SHORT_PLAN
    workers: int = 4
    step: timedelta = timedelta(hours=3)
    pause_seconds: float = 0.3
    seed: int = 2025


def run_campaign(
    config: WorkersConfig,
    postgres_url: str,
    stripe_url: str,
    workdir: Path,
    mode: str = "short",
) -> CampaignReport:
    report = CampaignReport("workers", "Several workers at once", mode=mode)
    report.checked = [
        "every contest closed: PAID, or CANCELLED when under-filled",
        "audit: each lifecycle step exactly once per contest (locked, live, complete, "
        "settled, paid / cancelled), one settlement each",
        "audit: one confirmation per payout and per refund",
        "emulator: one transfer per payout fingerprint, one refund per refunded charge, "
        "one succeeded charge per join",
        "ledger verifies; every worker stopped cleanly on SIGTERM",
    ]
    started = time.monotonic()
    books = StripeBooks(stripe_url)
    with fresh_schema(postgres_url, "workers") as url:
        clock = FileClock(workdir / "clock.txt")
        settings = Settings(
            environment="test",
            database_url=url,
            database_auto_upgrade=False,
            stripe_api_key=API_KEY,
            stripe_api_base=stripe_url,
        )
        clock.set(BEFORE_LOCK)
        with start(settings, clock=clock) as services:
            p = services.platform
            contests = _create_and_join(config, p, books)
            env = worker_environment(url, stripe_url)
            workers = [
                WorkerProcess(clocked_worker(clock.path, 0.2), env, workdir / f"worker-{n}.log")
                for n in range(config.workers)
            ]
            for worker in workers:
                worker.start()
            try:
                # The clock reaches the week's end in seconds and then stands still: a worker
                # still starting by then would lock, finish and never settle its contests.
                for worker in workers:
                    worker.wait_for("worker started", timeout=60.0)
                _run_the_week(config, p, clock, contests, report)
            finally:
                codes = [worker.stop() for worker in workers]
            report.check(codes == [0] * len(workers), f"workers exited with {codes}")
            _check(p, books, contests, report)
            _who_did_what(workers, report)
    report.runs = 1
    report.fault(
        f"worker passes by {config.workers} processes racing on one database",
        int(str(report.figures.pop("worker passes", 0))),
    )
    report.seconds = round(time.monotonic() - started, 1)
    f = report.figures
    report.summary = (
        f"{config.workers} worker processes, {len(contests)} contests, "
        f"{f['transitions']} transitions ({f['duplicate transitions']} duplicated), "
        f"{f['payouts']} payouts, {f['transfers']} transfers ({f['duplicate transfers']} "
        f"duplicates), {f['refunds']} refunds, ledger "
        f"{'balanced' if f['ledger verifies'] == 'yes' else 'NOT balanced'}"
    )
    return report


def _create_and_join(config: WorkersConfig, p: Platform, books: StripeBooks) -> list[Contest]:
    rng = random.Random(config.seed)
    slate = slate_for_contests(p, SLATE)
    picker = LineupPicker(slate.pool, "draftkings_nfl_classic", rng)
    contests: list[Contest] = []
    for n, planned in enumerate(config.plan):
        lock_at = slate.first_kickoff + planned.lock_after_first_kickoff
        name = f"{planned.template} #{n}"
        contest = create_contest(
            p,
            template(planned.template).terms(slate.pool, lock_at, name, kickoffs=slate.kickoffs),
            actor="operator",
        )
        contests.append(contest)
        for e in range(planned.entries):
            user = f"player-{n}-{e:03d}"
            register_on(p, user)
            with p.uow() as uow:
                uow.accounts.save(PayoutAccount.enabled(user, books.create_account()))
                uow.commit()
            request = JoinRequest(
                contest.contest_id, user, f"key-{n}-{e}", picker.lineup(), "pm_card_visa"
            )
            result = join(p, request)
            if result.status is not EntryStatus.ACTIVE:
                raise RuntimeError(f"setting up: {user} could not join {name}: {result}")
    return contests


def _run_the_week(
    config: WorkersConfig,
    p: Platform,
    clock: FileClock,
    contests: list[Contest],
    report: CampaignReport,
) -> None:
    """Move the shared clock step by step until every contest closed (the workers act alone)."""
    games = p.feed.snapshot(SLATE).games
    last_whistle = max(g.kickoff for g in games) + timedelta(hours=3)
    give_up = last_whistle + timedelta(days=1)
    deadline = time.monotonic() + FINISH_TIMEOUT_SECONDS
    steps = 0
    while True:
        if clock.now() > last_whistle and _all_done(p, contests):
            break
        if time.monotonic() > deadline:
            report.problems.append(
                f"not every contest closed by {clock.now():%a %H:%M} (clock) "
                f"within {FINISH_TIMEOUT_SECONDS:.0f} s"
            )
            break
        if clock.now() < give_up:  # a day after the last game, time may stand still
            clock.advance(config.step)
            steps += 1
        time.sleep(config.pause_seconds)
    report.figures["clock steps"] = steps


def _all_done(p: Platform, contests: list[Contest]) -> bool:
    with p.uow() as uow:
        closed = all(is_closed(uow.contests.get(c.contest_id).state) for c in contests)
        return closed and not uow.refunds.pending()


def _check(
    p: Platform, books: StripeBooks, contests: list[Contest], report: CampaignReport
) -> None:
    for key in (
        "transitions",
        "duplicate transitions",
        "payouts",
        "transfers",
        "duplicate transfers",
        "refunds",
        "charges",
    ):
        report.figures[key] = 0
    for contest in contests:
        cid = contest.contest_id
        with p.uow() as uow:
            state = uow.contests.get(cid).state
            audit = uow.audit.for_contest(cid)
            payouts = uow.payouts.for_contest(cid)
            refunds = uow.refunds.for_contest(cid)
            entries = uow.entries.for_contest(cid)
            settled = uow.settlements.get(cid)
        actions = Counter(r.action for r in audit)
        if not is_closed(state):
            last = "; ".join(f"{r.action} {r.detail}" for r in audit[-4:])
            report.problems.append(f"{cid} ended {state.value}, last: {last}")
            continue
        expected = PLAYED if state is ContestState.PAID else ("contest.cancelled",)
        for step in expected:
            report.check(actions[step] == 1, f"{cid}: {step} audited {actions[step]} times")
        steps = [actions[s] for s in (*PLAYED, "contest.cancelled")]
        report.count("transitions", sum(steps))
        report.count("duplicate transitions", sum(max(n - 1, 0) for n in steps))
        if state is ContestState.PAID:
            report.check(settled is not None, f"{cid}: no settlement snapshot")
            report.check(
                actions["settlement.recorded"] == 1,
                f"{cid}: settled {actions['settlement.recorded']} times",
            )
        _check_payouts(books, cid, payouts, audit, report)
        _check_refunds_and_charges(books, cid, refunds, entries, audit, report)
    ledger = verify_ledger(p)
    report.check(ledger.ok, f"the ledger does not verify: {ledger}")
    report.figures["ledger verifies"] = "yes" if ledger.ok else "no"


def _check_payouts(
    books: StripeBooks,
    cid: str,
    payouts: list[Payout],
    audit: list[AuditRecord],
    report: CampaignReport,
) -> None:
    tally = books.transfer_tally(cid)
    confirmed = Counter(r.subject for r in audit if r.action == "payout.confirmed")
    report.count("payouts", len(payouts))
    report.count("transfers", tally.count)
    report.count("duplicate transfers", tally.duplicates)
    report.check(tally.duplicates == 0, f"{cid}: {tally.duplicates} duplicate transfers")
    report.check(
        set(tally.by_fingerprint) == {x.fingerprint for x in payouts},
        f"{cid}: transfers {sorted(tally.by_fingerprint)} != payouts",
    )
    for payout in payouts:
        report.check(
            payout.status is PayoutStatus.CONFIRMED, f"{payout.fingerprint}: {payout.status}"
        )
        report.check(
            # The prize less any backup withholding (decision 0042).
            tally.amounts.get(payout.fingerprint) == payout.transfer_minor,
            f"{payout.fingerprint}: transferred {tally.amounts.get(payout.fingerprint)}, "
            f"owed {payout.transfer_minor} ({payout.withheld_minor} withheld)",
        )
        n = confirmed[payout.entry_id]
        report.check(n == 1, f"{payout.fingerprint}: payout.confirmed audited {n} times")
        if n > 1:
            report.count("payouts confirmed more than once in the audit")


def _check_refunds_and_charges(
    books: StripeBooks,
    cid: str,
    refunds: list[Refund],
    entries: list[Entry],
    audit: list[AuditRecord],
    report: CampaignReport,
) -> None:
    charges = books.charge_tally(cid)
    report.count("charges", sum(charges.values()))
    for entry in entries:
        n = charges[entry.fingerprint]
        report.check(n == 1, f"{entry.entry_id}: charged {n} times on the emulator")
    intents = {i.id: i for i in books.payment_intents(cid)}
    emulator_refunds = Counter(r.payment_intent for r in books.refunds_of(set(intents)))
    confirmed = Counter(r.subject for r in audit if r.action == "refund.confirmed")
    report.count("refunds", len(refunds))
    for refund in refunds:
        report.check(
            refund.status is RefundStatus.CONFIRMED, f"refund {refund.key}: {refund.status}"
        )
        n = emulator_refunds[refund.charge_id]
        report.check(n == 1, f"refund {refund.key}: {n} refunds on the emulator")
        m = confirmed[refund.entry_id]
        report.check(m == 1, f"refund {refund.key}: refund.confirmed audited {m} times")
    report.check(
        sum(emulator_refunds.values()) == len(refunds),
        f"{cid}: {sum(emulator_refunds.values())} refunds on the emulator, {len(refunds)} owed",
    )


def _who_did_what(workers: list[WorkerProcess], report: CampaignReport) -> None:
    """Transitions per worker process, from their logs: the work was shared, not serialised."""
    shares = []
    for worker in workers:
        made = 0
        for line in worker.log.read_text().splitlines():
            try:
                message = json.loads(line).get("message", "")
            except ValueError:
                continue
            if TRANSITION.match(message):
                made += 1
        shares.append(made)
    report.figures["transitions per worker process"] = " / ".join(str(s) for s in shares)
    passes = 0
    for worker in workers:
        found = PASSES.findall(worker.log.read_text())
        passes += sum(int(n) + int(failed) for n, failed in found)
    report.figures["worker passes"] = passes
