"""Campaign: the worker killed (SIGKILL) while it settles and pays: no settlement half written.

A contest of `entries` bulk-loaded entries on the real week-1 slate is taken to
COMPLETE, then the real `fantasy worker` settles and pays it and is killed,
`settle_kills_per_run` times inside the settlement transaction (at random points of
it: the campaign holds back the settlement's last write, so that a fast settlement
cannot commit before its kill point), once just after the settlement committed, and
`pay_kills_per_run` times while paying, restarted after each kill and left to finish.
After every kill, before the restart, the database holds either no settlement at
all (COMPLETE: no payout, snapshot, ledger posting or audit record of it) or all of
it (SETTLED or PAID, the same rows every time). At the end: one settlement, one
payout per prize summing to the prize pool, each paid exactly once on the emulator,
the contest PAID; and the ledger verifies.

The API killed during a burst of joins: campaign_crash_joins.py.
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from attrs import evolve, frozen
from sqlalchemy import Connection, Engine, func, select, text, update

from adapters.clock import ControllableClock
from adapters.sqlalchemy import make_engine
from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.records import entry_values
from apps.bootstrap import start
from apps.demo_players import LineupPicker
from apps.settings import Settings
from fantasy_core.contest import ContestTerms
from fantasy_core.entries import Entry, EntryStatus, join_fingerprint
from fantasy_core.entry_limits import MaxEntries
from fantasy_core.ledger import fee_collected
from fantasy_core.lifecycle import ContestState
from fantasy_core.money import Money
from fantasy_core.payments import PayoutStatus
from fantasy_core.payouts import top_heavy
from fantasy_core.scoring import preset
from fantasy_core.settlement import prize_pool
from fantasy_core.usecases.contests import create_contest
from fantasy_core.usecases.lifecycle import tick
from fantasy_core.usecases.queries import slate_for_contests
from fantasy_core.usecases.stats import ingest
from support.campaign import CampaignReport
from support.crash_campaign import (
    LEDGER_CHECKED,
    POLL_SECONDS,
    RUN_TIMEOUT_SECONDS,
    WORKER_INTERVAL,
    ledger_verifies,
)
from support.postgres_schema import fresh_schema, with_options
from support.processes import WorkerProcess, fantasy_worker, worker_environment
from support.sql_world import SqlWorld
from support.stripe_books import StripeBooks

# The real week-1 slate (the workers' replay feed knows it), loaded entries.
SLATE = "nfl-2025-reg-wk01"
BEFORE_LOCK = datetime(2025, 9, 4, 12, 15, tzinfo=UTC)
FEE_MINOR = 1_000
RAKE_BPS = 1_000
ENTRIES_PER_USER = 5
CONNECT_ACCOUNTS = 5  # winners share a few Connect accounts: each transfer is still its own
# The worker's locks, from pg_locks: the settlement step holds the contest's row lock
# (RowShareLock on contests), has written payouts (RowExclusiveLock on payouts), and
# waits on the campaign for its snapshot (an ungranted lock on settlements).
LOCKS = text(
    "SELECT l.relation::regclass::text, l.mode, l.granted "
    "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE a.application_name = :name AND l.locktype = 'relation'"
)
BACKENDS = text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name")
SETTLING = (("contests", "RowShareLock", True), ("entries", "AccessShareLock", True))
PAYOUTS_WRITTEN = (("payouts", "RowExclusiveLock", True),)
HELD_BACK = (("settlements", "RowExclusiveLock", False),)
# The state moves from SETTLED to PAID after a kill; every other row must stay as it was.
SETTLED_OR_PAID = "SETTLED or PAID"


@frozen
class CrashSettlementConfig:
    runs: int = 1
    entries: int = 2_000
    prizes: int = 40
    settle_kills_per_run: int = 2
    pay_kills_per_run: int = 1
    seed: int = 2025
    # After reaching a kill point, wait up to this long before the SIGKILL.
    jitter_seconds: float = 0.03


def run_campaign(
    config: CrashSettlementConfig,
    postgres_url: str,
    stripe_url: str,
    workdir: Path,
    mode: str = "short",
) -> CampaignReport:
    report = CampaignReport("crash_settlement", "Crash during settlement", mode=mode)
    report.checked = [
        "settlement: after every kill, nothing of the settlement or all of it (payouts, "
        "snapshot, ledger postings, audit records), never part",
        "settlement: one snapshot, one settlement.recorded, one payout per prize summing to "
        "the prize pool; emulator: one transfer per payout fingerprint, of its amount",
        LEDGER_CHECKED,
    ]
    rng = random.Random(config.seed)
    started = time.monotonic()
    books = StripeBooks(stripe_url)
    for key in (
        "entries settled",
        "prizes",
        "transfers",
        "duplicate transfers",
        "half-written settlements seen",
    ):
        report.figures[key] = 0
    with fresh_schema(postgres_url, "crashsettle") as url:
        for run in range(config.runs):
            run_settlement(config, rng, url, stripe_url, books, workdir, run, report)
            report.runs += 1
        balanced = ledger_verifies(url, report)
    report.figures["ledger verifies"] = "yes" if balanced else "no"
    report.seconds = round(time.monotonic() - started, 1)
    f = report.figures
    report.summary = (
        f"{_worker_kills(report)} worker kills while settling {f['entries settled']:,} "
        f"entries: {f['half-written settlements seen']} half-written, {f['transfers']:,} "
        f"transfers, {f['duplicate transfers']} duplicates; ledger "
        f"{'balanced' if balanced else 'NOT balanced'}"
    )
    return report


def _worker_kills(report: CampaignReport) -> int:
    return sum(n for name, n in report.faults.items() if name.startswith("SIGKILL of the worker"))


@frozen
class SettlementRows:
    """Every row a settlement writes, as committed (read after the process died)."""

    state: str
    payouts: int
    payout_total: int
    snapshot: str | None
    postings: int  # the rake and prizes-awarded posting sets
    recorded: int  # audit: settlement.recorded
    settled: int  # audit: contest.settled

    def nothing(self) -> bool:
        return self.state == ContestState.COMPLETE.value and not (
            self.payouts or self.snapshot or self.postings or self.recorded or self.settled
        )

    def whole(self, pool: int) -> bool:
        return (
            self.state in (ContestState.SETTLED.value, ContestState.PAID.value)
            and self.payouts > 0
            and self.payout_total == pool
            and self.snapshot is not None
            and self.postings == 2
            and self.recorded == 1
            and self.settled == 1
        )


@frozen
class Loaded:
    contest_id: str
    entries: int
    pool: int  # the prize pool the settlement must pay out, in minor units
    accounts: dict[str, str]  # user -> the Connect account prizes go to


def run_settlement(
    config: CrashSettlementConfig,
    rng: random.Random,
    url: str,
    stripe_url: str,
    books: StripeBooks,
    workdir: Path,
    run: int,
    report: CampaignReport,
) -> None:
    loaded = _complete_contest(config, url, books, run)
    report.count("entries settled", loaded.entries)
    name = f"crash-settle-{os.getpid()}-{run}"  # its sessions, in pg_stat_activity and pg_locks
    worker_url = with_options(url, application_name=name)
    env = worker_environment(worker_url, stripe_url)
    worker = WorkerProcess(fantasy_worker(WORKER_INTERVAL), env, workdir / f"settle-{run}.log")
    engine = make_engine(url)
    seen: set[SettlementRows] = set()
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as monitor:
            kills = Kills(config, rng, engine, monitor, worker, name, loaded, seen, report)
            kills.inside_the_settlement()
            kills.after_the_commit()
            kills.during_payouts()
            worker.start()
            kills.until(ContestState.PAID)
        code = worker.stop()
        report.check(code == 0, f"settlement run {run}: the worker exited {code}")
        report.count("worker restarts", max(worker.starts - 1, 0))
        _check_settlement(url, engine, books, loaded, seen, report)
    finally:
        worker.kill()
        engine.dispose()


def _complete_contest(
    config: CrashSettlementConfig, url: str, books: StripeBooks, run: int
) -> Loaded:
    """A COMPLETE contest of `entries` loaded entries on the week-1 slate, due to settle.

    The entries are written as joins leave them (active, their fees in the ledger: one
    posting set for them all) in bulk; the lifecycle up to COMPLETE runs through the
    use cases on the final stats, on a clock of its own. The worker, on the system
    clock, finds the correction window long past.
    """
    clock = ControllableClock(BEFORE_LOCK)
    settings = Settings(environment="test", database_url=url, database_auto_upgrade=False)
    accounts = tuple(books.create_account() for _ in range(CONNECT_ACCOUNTS))
    with start(settings, clock=clock) as services:
        p = services.platform
        slate = slate_for_contests(p, SLATE)
        terms = ContestTerms(
            name=f"Crash settlement run {run}",
            sport_template="draftkings_nfl_classic",
            pool=slate.pool,
            lock_at=slate.first_kickoff,
            entry_fee=Money(FEE_MINOR, "usd"),
            capacity=config.entries,
            entry_limit=MaxEntries(ENTRIES_PER_USER),
            rules=preset("draftkings_nfl_classic"),
            payout=top_heavy(config.prizes),
            rake_bps=RAKE_BPS,
        )
        contest = create_contest(p, terms, actor="operator")
        cid = contest.contest_id
        picker = LineupPicker(slate.pool, "draftkings_nfl_classic", random.Random(config.seed))
        rows = []
        users: dict[str, str] = {}
        for n in range(config.entries):
            user = f"settle-{run}-{n // ENTRIES_PER_USER:05d}"
            users[user] = accounts[(n // ENTRIES_PER_USER) % len(accounts)]
            entry = Entry(
                entry_id=f"entry-{cid}-{n:06d}",
                contest_id=cid,
                user_id=user,
                fingerprint=join_fingerprint(cid, user, f"bulk-{n}"),
                lineup=picker.lineup(),
                payment_method="pm_card_visa",
                fee_minor=FEE_MINOR,
                created_at=clock.now(),
                status=EntryStatus.ACTIVE,
                charge_id=f"ch_bulk_{cid}_{n}",
            )
            rows.append(entry_values(entry))
        assert services.engine is not None
        with services.engine.begin() as connection:
            connection.execute(t.entries.insert(), rows)
            connection.execute(
                update(t.contests)
                .where(t.contests.c.contest_id == cid)
                .values(seats_taken=len(rows))
            )
            held = Counter(str(row["user_id"]) for row in rows)
            connection.execute(
                t.player_seats.insert(),
                [{"contest_id": cid, "user_id": u, "seats": n} for u, n in held.items()],
            )
            connection.execute(
                t.payout_accounts.insert(),
                [
                    {"user_id": u, "account_id": a, "payouts_enabled": True}
                    for u, a in users.items()
                ],
            )
        total = FEE_MINOR * config.entries
        with p.uow() as uow:
            uow.ledger.record(fee_collected("fee:bulk:" + cid, cid, Money(total, "usd")))
            uow.commit()
        games = p.feed.snapshot(SLATE).games
        clock.set(max(g.kickoff for g in games) + timedelta(hours=6))
        ingest(p, SLATE)  # stored once: an earlier run may have stored it already
        tick(p)
        with p.uow() as uow:
            state = uow.contests.get(cid).state
        if state is not ContestState.COMPLETE:
            raise RuntimeError(f"setting up: the contest is {state.value}, not COMPLETE")
    pool = prize_pool(total, RAKE_BPS, None, config.entries).pool
    return Loaded(cid, config.entries, pool, users)


def settlement_rows(connection: Connection, cid: str) -> SettlementRows:
    state = connection.execute(
        select(t.contests.c.state).where(t.contests.c.contest_id == cid)
    ).scalar_one()
    payouts, total = connection.execute(
        select(func.count(), func.coalesce(func.sum(t.payouts.c.amount_minor), 0)).where(
            t.payouts.c.contest_id == cid
        )
    ).one()
    snapshot = connection.execute(
        select(t.settlements.c.sha256).where(t.settlements.c.contest_id == cid)
    ).scalar_one_or_none()
    postings = connection.execute(
        select(func.count()).where(t.posting_sets.c.key.in_(["rake:" + cid, "awarded:" + cid]))
    ).scalar_one()
    audited = connection.execute(
        select(t.audit.c.action, func.count())
        .where(t.audit.c.contest_id == cid)
        .where(t.audit.c.action.in_(["settlement.recorded", "contest.settled"]))
        .group_by(t.audit.c.action)
    ).all()
    actions = {str(action): int(n) for action, n in audited}
    return SettlementRows(
        state=str(state),
        payouts=int(payouts),
        payout_total=int(total),
        snapshot=None if snapshot is None else str(snapshot),
        postings=int(postings),
        recorded=int(actions.get("settlement.recorded", 0)),
        settled=int(actions.get("contest.settled", 0)),
    )


class Kills:
    """The worker's kill points in one settlement run, and the check after each kill."""

    def __init__(
        self,
        config: CrashSettlementConfig,
        rng: random.Random,
        engine: Engine,
        monitor: Connection,
        worker: WorkerProcess,
        name: str,
        loaded: Loaded,
        seen: set[SettlementRows],
        report: CampaignReport,
    ) -> None:
        self.config = config
        self.name = name
        self.rng = rng
        self.engine = engine
        self.monitor = monitor
        self.worker = worker
        self.loaded = loaded
        self.seen = seen
        self.report = report
        self.deadline = time.monotonic() + RUN_TIMEOUT_SECONDS

    def inside_the_settlement(self) -> None:
        """Kills while the settlement transaction is open, its last write held back.

        The campaign holds a SHARE lock on the settlements table, so the worker's
        settlement waits at its snapshot's insert (its payouts and postings written,
        nothing committed) however fast it is. The first kill lands there; each next
        one at a random moment between the contest's lock and that point.
        """
        span = 0.0
        with self.engine.connect() as blocker:
            for n in range(self.config.settle_kills_per_run):
                blocker.execute(text("LOCK TABLE settlements IN SHARE MODE"))
                self.worker.start()
                began = self._wait_for_locks(SETTLING)
                if n == 0:
                    self._wait_for_locks(HELD_BACK)
                    span = time.monotonic() - began
                else:
                    time.sleep(self.rng.uniform(0, span))
                self._classify_settling_kill()
                self._kill("SIGKILL of the worker inside the settlement transaction", blocker)
        if span:
            self.report.figures["settlement transaction, lock to last write (ms)"] = round(
                span * 1000
            )

    def after_the_commit(self) -> None:
        """A kill as soon as the settlement is committed, before the first payout is sent."""
        self.worker.start()
        self.until(ContestState.SETTLED)
        time.sleep(self.rng.uniform(0, self.config.jitter_seconds))
        self._kill("SIGKILL of the worker just after the settlement committed")

    def during_payouts(self) -> None:
        """Kills after a random number of confirmed payouts (within the first four fifths)."""
        with self.engine.connect() as connection:
            prizes = settlement_rows(connection, self.loaded.contest_id).payouts
        window = range(1, max(2, prizes * 4 // 5))
        count = min(self.config.pay_kills_per_run, len(window))
        for target in sorted(self.rng.sample(window, count)):
            self.worker.start()
            before = self._payouts()[1]
            while time.monotonic() < self.deadline:
                confirmed, attempts = self._payouts()
                if attempts > before and confirmed >= target:
                    break
                time.sleep(POLL_SECONDS)
            time.sleep(self.rng.uniform(0, self.config.jitter_seconds))
            self._kill("SIGKILL of the worker during payouts")

    def until(self, state: ContestState) -> None:
        """Until the contest is in `state` (or PAID: nothing comes after)."""
        cid = self.loaded.contest_id
        while time.monotonic() < self.deadline:
            with self.engine.connect() as connection:
                now = settlement_rows(connection, cid).state
            if now in (state.value, ContestState.PAID.value):
                return
            if not self.worker.alive:
                raise RuntimeError(f"the worker exited by itself: see {self.worker.log}")
            time.sleep(POLL_SECONDS)
        raise TimeoutError(f"{cid} not {state.value} within {RUN_TIMEOUT_SECONDS:.0f} s")

    def _payouts(self) -> tuple[int, int]:
        query = select(
            func.count().filter(t.payouts.c.status == PayoutStatus.CONFIRMED.value),
            func.coalesce(func.sum(t.payouts.c.attempts), 0),
        ).where(t.payouts.c.contest_id == self.loaded.contest_id)
        with self.engine.connect() as connection:
            confirmed, attempts = connection.execute(query).one()
        return int(confirmed), int(attempts)

    def _locks(self) -> set[tuple[str, str, bool]]:
        rows = self.monitor.execute(LOCKS, {"name": self.name}).all()
        return {(str(r[0]), str(r[1]), bool(r[2])) for r in rows}

    def _wait_for_locks(self, locks: tuple[tuple[str, str, bool], ...]) -> float:
        while time.monotonic() < self.deadline:
            if set(locks) <= self._locks():
                return time.monotonic()
            if not self.worker.alive:
                raise RuntimeError(f"the worker exited by itself: see {self.worker.log}")
            time.sleep(POLL_SECONDS)
        raise TimeoutError(f"the worker never held {locks} within {RUN_TIMEOUT_SECONDS:.0f} s")

    def _classify_settling_kill(self) -> None:
        locks = self._locks()
        if set(HELD_BACK) <= locks:
            self.report.count("settlement kills at its last write (payouts written, uncommitted)")
        elif set(PAYOUTS_WRITTEN) <= locks:
            self.report.count("settlement kills while writing its payouts")
        else:
            self.report.count("settlement kills while reading and ranking the entries")

    def _kill(self, fault: str, blocker: Connection | None = None) -> None:
        self.worker.kill()
        self.report.fault(fault)
        # The server ends a dead worker's session (rolling its transaction back) when it
        # reads the closed connection. A session held back at the snapshot's insert
        # reads no further until it has the lock (its client may have died part-way
        # through sending the document): release it, with no worker running, and wait.
        if blocker is not None:
            blocker.rollback()
        while self.monitor.execute(BACKENDS, {"name": self.name}).scalar_one():
            if time.monotonic() > self.deadline:
                raise TimeoutError("the killed worker's database sessions never ended")
            time.sleep(0.01)
        self._check_not_half_written()

    def _check_not_half_written(self) -> None:
        with self.engine.connect() as connection:
            rows = settlement_rows(connection, self.loaded.contest_id)
        self.report.count("kills checked for a half-written settlement")
        if rows.nothing():
            self.report.count("kills that found no settlement (COMPLETE, nothing written)")
            return
        whole = rows.whole(self.loaded.pool)
        if whole:
            self.report.count("kills that found the whole settlement")
            self.seen.add(evolve(rows, state=SETTLED_OR_PAID))
        else:
            self.report.count("half-written settlements seen")
        self.report.check(whole, f"a half-written settlement after a kill: {rows}")


def _check_settlement(
    url: str,
    engine: Engine,
    books: StripeBooks,
    loaded: Loaded,
    seen: set[SettlementRows],
    report: CampaignReport,
) -> None:
    cid = loaded.contest_id
    with engine.connect() as connection:
        rows = settlement_rows(connection, cid)
    final = evolve(rows, state=SETTLED_OR_PAID)
    report.check(rows.state == ContestState.PAID.value, f"{cid} ended {rows.state}, not PAID")
    report.check(rows.whole(loaded.pool), f"{cid}: the settlement at the end: {rows}")
    report.check(seen <= {final}, f"{cid}: the settlement changed between kills: {seen} -> {final}")
    report.count("settlements recorded", rows.recorded)
    world = SqlWorld(url)
    try:
        with world.p.uow() as uow:
            payouts = uow.payouts.for_contest(cid)
            audit = uow.audit.for_contest(cid)
    finally:
        world.close()
    confirmed = Counter(r.subject for r in audit if r.action == "payout.confirmed")
    report.count("prizes", len(payouts))
    report.check(
        len({x.entry_id for x in payouts}) == len(payouts), f"{cid}: an entry paid two prizes"
    )
    report.check(
        sum(x.amount_minor for x in payouts) == loaded.pool,
        f"{cid}: payouts sum to {sum(x.amount_minor for x in payouts)}, the pool is {loaded.pool}",
    )
    tally = books.transfer_tally(cid)
    report.count("transfers", tally.count)
    report.count("duplicate transfers", tally.duplicates)
    report.check(tally.duplicates == 0, f"{cid}: {tally.duplicates} duplicate transfers")
    report.check(tally.unlabelled == 0, f"{cid}: {tally.unlabelled} transfers without fingerprint")
    report.check(
        set(tally.by_fingerprint) == {x.fingerprint for x in payouts},
        f"{cid}: {len(tally.by_fingerprint)} fingerprints transferred, {len(payouts)} payouts",
    )
    ids = {str(tr.metadata["payout_fingerprint"]): str(tr.id) for tr in books.transfers(cid)}
    for payout in payouts:
        fp = payout.fingerprint
        report.check(payout.status is PayoutStatus.CONFIRMED, f"{fp} is {payout.status.value}")
        report.check(
            # The prize less its backup withholding (decision 0042: the worker runs player
            # protection, and big prizes to players with no W-9 are reportable).
            tally.amounts.get(fp) == payout.transfer_minor,
            f"{fp}: transferred {tally.amounts.get(fp)}, owed {payout.transfer_minor} "
            f"({payout.withheld_minor} of {payout.amount_minor} withheld)",
        )
        report.check(
            tally.destinations.get(fp) == loaded.accounts.get(payout.user_id),
            f"{fp}: sent to {tally.destinations.get(fp)}",
        )
        report.check(
            payout.transfer_id == ids.get(fp),
            f"{fp}: recorded {payout.transfer_id}, the emulator has {ids.get(fp)}",
        )
        report.check(
            confirmed[payout.entry_id] == 1,
            f"{fp}: confirmed {confirmed[payout.entry_id]} times in the audit trail",
        )
