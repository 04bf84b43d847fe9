"""Campaign: the API killed (SIGKILL) during a burst of joins: no charge left half done.

The real API (`fantasy serve --no-worker`, configured only by its FANTASY_*
environment: PostgreSQL, the Stripe adapter on the emulator) serves a burst of joins
from one client thread per player into two contests, one with fewer seats than
players; some players pay with a declining card, some withdraw the entry they got.
Each client sends its Idempotency-Key again after every lost connection (or 503)
until it hears a final answer. The API is SIGKILLed at random moments of the burst,
`api_kills_per_run` times, and restarted on the same port each time; after a kill,
the player of one join it caught half done goes away for good. A worker process
runs beside the API, as deployed; once the burst is over its clock jumps past the
reservations' grace period, and it resolves what the dead processes and the
departed players left waiting.

Counted on the emulator's side: no join fingerprint charged twice; every succeeded
charge is an active entry, or its entry is not active and it was refunded exactly
once, in full. On ours: no seat left reserved, no contest over capacity, the seat
counter equal to the seats held, every answer the clients heard true of the entry;
and the ledger verifies.

The worker killed while it settles: campaign_crash_settlement.py.
"""

from __future__ import annotations

import random
import signal
import socket
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from attrs import define, field, frozen

from fantasy_core.contest import Contest
from fantasy_core.entries import SEAT_HOLDING, Entry, EntryStatus, join_fingerprint
from fantasy_core.entry_limits import MaxEntries
from fantasy_core.payments import RefundStatus
from support.campaign import CampaignReport
from support.crash_campaign import (
    LEDGER_CHECKED,
    POLL_SECONDS,
    RUN_TIMEOUT_SECONDS,
    WORKER_INTERVAL,
    ledger_verifies,
)
from support.postgres_schema import fresh_schema
from support.processes import BIN, WorkerProcess, clocked_worker, worker_environment
from support.shared_clock import FileClock
from support.sql_world import SqlWorld
from support.stripe_books import StripeBooks
from support.world import lineup

DECLINED = "pm_card_chargeCustomerFail"  # localstripe's declining card
PASSWORD = "correct horse battery"
TOKEN_SECRET = "crash-joins-campaign-token-secret-0123456789"  # tokens outlive restarts
# A client's pause before sending its key again, doubled after each failure in a row.
CLIENT_PAUSE_SECONDS = 0.05
CLIENT_MAX_PAUSE_SECONDS = 0.4
HTTP_TIMEOUT_SECONDS = 30.0
JOIN_ANSWERS = frozenset({201, 402, 409})
RETRY_ANSWERS = frozenset({429, 503})


@frozen
class CrashJoinsConfig:
    runs: int = 1
    players: int = 16
    api_kills_per_run: int = 3
    tight_seats_share: float = 0.5  # the tight contest's capacity, as a share of the players
    declined_every: int = 7  # every n-th player pays the tight contest with a declining card
    withdraw_every: int = 5  # every n-th player withdraws its first entry once accepted
    seed: int = 2025
    # After reaching a kill point, wait up to this long before the SIGKILL.
    jitter_seconds: float = 0.03


def run_campaign(
    config: CrashJoinsConfig,
    postgres_url: str,
    stripe_url: str,
    workdir: Path,
    mode: str = "short",
) -> CampaignReport:
    report = CampaignReport("crash_joins", "Crash during joins", mode=mode)
    report.checked = [
        "joins: clients send their Idempotency-Key again after each lost connection; "
        "every answer they heard is true of the entry (201 active, 402 declined)",
        "emulator: no join fingerprint charged twice; every succeeded charge is an active "
        "entry, or refunded exactly once in full",
        "database: no seat left reserved, no contest over capacity, the seat counters (the "
        "contest's and each player's) equal to the seats held, every refund confirmed",
        LEDGER_CHECKED,
    ]
    rng = random.Random(config.seed)
    started = time.monotonic()
    books = StripeBooks(stripe_url)
    for key in (
        "joins",
        "charges",
        "double charges",
        "charges without an entry or a refund",
        "refunds",
    ):
        report.figures[key] = 0
    with fresh_schema(postgres_url, "crashjoins") as url:
        for run in range(config.runs):
            run_joins(config, rng, url, stripe_url, books, workdir, run, report)
            report.runs += 1
        balanced = ledger_verifies(url, report)
    report.figures["ledger verifies"] = "yes" if balanced else "no"
    report.seconds = round(time.monotonic() - started, 1)
    f, faults = report.figures, report.faults
    report.summary = (
        f"{faults.get('SIGKILL of the API during a burst of joins', 0)} API kills during "
        f"{f['joins']:,} joins: {f['charges']:,} charges, {f['double charges']} double, "
        f"{f['charges without an entry or a refund']} without an entry or a refund; ledger "
        f"{'balanced' if balanced else 'NOT balanced'}"
    )
    return report


@frozen
class Join:
    contest_id: str
    key: str
    card: str
    withdraw: bool = False  # withdraw the entry once it is accepted


@frozen
class Player:
    name: str
    user_id: str
    token: str
    joins: tuple[Join, ...]


@frozen
class Answer:
    player: str
    user_id: str
    join: Join
    status: int | None  # None: the client went away without an answer
    entry_id: str | None
    withdrawn: int | None = None  # the withdrawal's answer, when one was asked


@define
class Burst:
    """What the clients saw, shared by their threads."""

    players: int
    total: int  # joins the players mean to make
    lock: threading.Lock = field(factory=threading.Lock)
    done: int = 0  # joins with a final answer, or given up
    responses: int = 0  # HTTP answers of any status
    in_flight: int = 0
    lost: int = 0  # requests whose connection was lost (or refused)
    retried: int = 0  # requests sent again after a 503 or a lost connection
    statuses: Counter[int] = field(factory=Counter)
    answers: list[Answer] = field(factory=list)
    departed: set[str] = field(factory=set)  # players gone for good at their next lost request

    def sending(self) -> None:
        with self.lock:
            self.in_flight += 1

    def heard(self, status: int) -> None:
        with self.lock:
            self.in_flight -= 1
            self.responses += 1
            self.statuses[status] += 1

    def lost_connection(self) -> None:
        with self.lock:
            self.in_flight -= 1
            self.lost += 1

    def finished(self, answer: Answer) -> None:
        with self.lock:
            self.done += 1
            self.answers.append(answer)


def run_joins(
    config: CrashJoinsConfig,
    rng: random.Random,
    url: str,
    stripe_url: str,
    books: StripeBooks,
    workdir: Path,
    run: int,
    report: CampaignReport,
) -> None:
    """The burst with the API killed, then what the worker beside it resolves."""
    world = SqlWorld(url)
    port = _free_port()
    env = worker_environment(
        url,
        stripe_url,
        FANTASY_TOKEN_SECRET=TOKEN_SECRET,
        FANTASY_LOGIN_RATE_PER_MINUTE="1000000",
        FANTASY_JOIN_RATE_PER_MINUTE="1000000",
    )
    api = WorkerProcess(fantasy_api(port), env, workdir / f"api-run-{run}.log")
    # The worker runs beside the API, as deployed, on a clock that stands still until
    # the burst is over and then jumps past the reservations' grace period.
    clock = FileClock(workdir / f"joins-clock-{run}.txt")
    clock.set(datetime.now(UTC))
    worker = WorkerProcess(
        clocked_worker(clock.path, WORKER_INTERVAL),
        worker_environment(url, stripe_url),
        workdir / f"joins-worker-{run}.log",
    )
    try:
        contests = _burst_contests(world, config, run)
        api.start()
        worker.start()
        base = f"http://127.0.0.1:{port}"
        burst = _burst(config, rng, world, books, contests, api, base, run, report)
        code = api.stop()
        # uvicorn raises SIGTERM again once it has shut down gracefully.
        report.check(code in (0, -signal.SIGTERM), f"run {run}: the last API process exited {code}")
        _report_burst(burst, api, run, report)
        clock.set(datetime.now(UTC) + timedelta(minutes=10))
        _resolved_by_the_worker(world, contests, worker, run, report)
        _check_joins(world, books, contests, burst.answers, report)
    finally:
        api.kill()
        worker.kill()
        world.close()


def _burst(
    config: CrashJoinsConfig,
    rng: random.Random,
    world: SqlWorld,
    books: StripeBooks,
    contests: dict[str, Contest],
    api: WorkerProcess,
    base: str,
    run: int,
    report: CampaignReport,
) -> Burst:
    _wait_until_serving(api, base)
    players = _players(config, base, contests, run)
    burst = Burst(len(players), sum(len(p.joins) for p in players))
    threads = [
        threading.Thread(target=_client, args=(base, p, burst), daemon=True) for p in players
    ]
    for thread in threads:
        thread.start()
    _kill_the_api(config, rng, world, books, contests, api, burst, report)
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    report.check(
        not any(thread.is_alive() for thread in threads),
        f"run {run}: clients still waiting for an answer after {RUN_TIMEOUT_SECONDS:.0f} s",
    )
    return burst


def _report_burst(burst: Burst, api: WorkerProcess, run: int, report: CampaignReport) -> None:
    report.count("API restarts", max(api.starts - 1, 0))
    report.count("joins", burst.total)
    report.count("client requests lost with their connection", burst.lost)
    report.count("client requests sent again with the same key", burst.retried)
    for status, n in sorted(burst.statuses.items()):
        report.count(f"API answers {status}", n)
    report.check(not burst.statuses.get(500), f"run {run}: {burst.statuses.get(500)} answers 500")


def fantasy_api(port: int) -> list[str]:
    """The production API command, without the worker beside it."""
    return [
        str(BIN / "fantasy"),
        "serve",
        "--no-worker",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_until_serving(api: WorkerProcess, base: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(f"{base}/health", timeout=1).raise_for_status()
            return
        except httpx.HTTPError:
            if not api.alive:
                raise RuntimeError(f"the API exited before serving: see {api.log}") from None
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _burst_contests(world: SqlWorld, config: CrashJoinsConfig, run: int) -> dict[str, Contest]:
    """A roomy contest (two entries a player) and a tight one (fewer seats than players).

    They lock in two days of real time: the API process runs on the system clock.
    """
    lock_at = datetime.now(UTC) + timedelta(days=2)
    tight = max(2, int(config.players * config.tight_seats_share))
    return {
        "roomy": world.create(
            name=f"Burst run {run} (roomy)",
            lock_at=lock_at,
            capacity=config.players * 2,
            entry_limit=MaxEntries(2),
        ),
        "tight": world.create(
            name=f"Burst run {run} (tight)",
            lock_at=lock_at,
            capacity=tight,
            entry_limit=MaxEntries(1),
        ),
    }


def _players(
    config: CrashJoinsConfig, base: str, contests: dict[str, Contest], run: int
) -> list[Player]:
    """Registered and logged in while the API is up; each with its joins, in a seeded order."""
    rng = random.Random(config.seed + run)
    roomy, tight = contests["roomy"].contest_id, contests["tight"].contest_id
    players = []
    with httpx.Client(base_url=base, timeout=HTTP_TIMEOUT_SECONDS) as client:
        for n in range(config.players):
            name = f"burst-{run}-{n:03d}"
            email = f"{name}@example.com"
            credentials = {"email": email, "password": PASSWORD}
            born = {"date_of_birth": "1990-05-17", "jurisdiction": "NJ"}
            client.post("/auth/register", json={**credentials, **born}).raise_for_status()
            login = client.post("/auth/login", json=credentials)
            login.raise_for_status()
            tight_card = DECLINED if n % config.declined_every == 1 else "pm_card_visa"
            joins = [
                Join(roomy, f"{name}-roomy-0", "pm_card_visa", n % config.withdraw_every == 0),
                Join(roomy, f"{name}-roomy-1", "pm_card_visa"),
                Join(tight, f"{name}-tight", tight_card),
            ]
            rng.shuffle(joins)
            players.append(
                Player(
                    name,
                    str(login.json()["user_id"]),
                    str(login.json()["access_token"]),
                    tuple(joins),
                )
            )
    return players


def _client(base: str, player: Player, burst: Burst) -> None:
    """One player's client: each join until a final answer (its key sent again and again)."""
    headers = {"Authorization": f"Bearer {player.token}"}
    with httpx.Client(base_url=base, timeout=HTTP_TIMEOUT_SECONDS, headers=headers) as client:
        for variant, join in enumerate(player.joins):
            picks = [{"slot": s, "player_id": p} for s, p in lineup(variant).picks]
            body = {"lineup": picks, "payment_method": join.card}
            response = _until_final(
                client,
                burst,
                f"/contests/{join.contest_id}/entries",
                body,
                {"Idempotency-Key": join.key},
                player.user_id,
            )
            entry_id = None
            if response is not None and response.status_code in (201, 402, 409):
                entry_id = response.json().get("entry_id")
            withdrawn = None
            if join.withdraw and response is not None and response.status_code == 201:
                answer = _until_final(
                    client, burst, f"/entries/{entry_id}/withdraw", None, {}, player.user_id
                )
                withdrawn = None if answer is None else answer.status_code
            status = None if response is None else response.status_code
            burst.finished(Answer(player.name, player.user_id, join, status, entry_id, withdrawn))
            if response is None:  # the client went away: its other joins are never sent
                for rest in player.joins[variant + 1 :]:
                    burst.finished(Answer(player.name, player.user_id, rest, None, None))
                return


def _until_final(
    client: httpx.Client,
    burst: Burst,
    path: str,
    body: dict[str, Any] | None,
    headers: dict[str, str],
    user_id: str,
) -> httpx.Response | None:
    """POST until an answer that is not 503/429; None if the player went away first."""
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    pause, attempts = CLIENT_PAUSE_SECONDS, 0
    while time.monotonic() < deadline:
        if attempts:
            with burst.lock:
                burst.retried += 1
        attempts += 1
        burst.sending()
        try:
            response = client.post(path, json=body, headers=headers)
        except httpx.TransportError:
            burst.lost_connection()
            if user_id in burst.departed:
                return None
        else:
            burst.heard(response.status_code)
            if response.status_code not in RETRY_ANSWERS:
                return response
        time.sleep(pause)
        pause = min(pause * 2, CLIENT_MAX_PAUSE_SECONDS)
    return None


def _kill_the_api(
    config: CrashJoinsConfig,
    rng: random.Random,
    world: SqlWorld,
    books: StripeBooks,
    contests: dict[str, Contest],
    api: WorkerProcess,
    burst: Burst,
    report: CampaignReport,
) -> None:
    """Kill after a random number of finished joins, once the current process answered one.

    Kill points within the first half of the joins: at least a quarter of them (the
    players who go away leave a quarter at most unsent) cannot all be answered between
    two polls, so no kill point is missed.
    """
    total = burst.total
    window = range(1, max(2, total // 2))
    targets = sorted(rng.sample(window, min(config.api_kills_per_run, len(window))))
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    for target in targets:
        heard_before = burst.responses
        while time.monotonic() < deadline:
            if burst.responses > heard_before and burst.done >= target:
                break
            if not api.alive:
                raise RuntimeError(f"the API died by itself: see {api.log}")
            time.sleep(POLL_SECONDS)
        else:
            report.problems.append(f"kill point {target} of {total} joins never reached")
            return
        time.sleep(rng.uniform(0, config.jitter_seconds))
        in_flight = burst.in_flight
        api.kill()
        report.fault("SIGKILL of the API during a burst of joins")
        report.count("requests in flight at a kill", in_flight)
        _after_the_kill(world, books, contests, burst, report)
        api.start()


def _after_the_kill(
    world: SqlWorld,
    books: StripeBooks,
    contests: dict[str, Contest],
    burst: Burst,
    report: CampaignReport,
) -> None:
    """What the dead process left half done (read while no process serves); and who leaves.

    The player of the first join caught half done goes away for good, leaving its
    reservation to the worker (one a kill, a quarter of the players at most, so that
    the burst goes on); the others send their key again once the API is back.
    """
    ids = {c.contest_id for c in contests.values()}
    charged: Counter[str] = Counter()
    for cid in ids:
        charged += books.charge_tally(cid)
    with world.p.uow() as uow:
        waiting = [
            e
            for e in uow.entries.with_status([EntryStatus.RESERVED])
            if e.contest_id in ids and e.user_id not in burst.departed
        ]
        owed = [r for r in uow.refunds.pending() if r.contest_id in ids]
    caught = sum(1 for e in waiting if charged[e.fingerprint])
    report.count("joins caught reserved, before their charge, at a kill", len(waiting) - caught)
    report.count("joins caught charged, before their record, at a kill", caught)
    report.count("withdrawals caught before their refund was sent, at a kill", len(owed))
    if waiting and len(burst.departed) < burst.players // 4:
        report.count("players gone for good after a kill")
        with burst.lock:
            burst.departed.add(waiting[0].user_id)


def _resolved_by_the_worker(
    world: SqlWorld,
    contests: dict[str, Contest],
    worker: WorkerProcess,
    run: int,
    report: CampaignReport,
) -> None:
    """Until the worker, its clock now past the grace period, left nothing waiting."""
    ids = {c.contest_id for c in contests.values()}
    report.count("reservations left to the worker", _waiting(world, ids))
    try:
        worker.wait_for("worker started")
        deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
        while _waiting(world, ids) or _owed(world, ids):
            if time.monotonic() > deadline:
                report.problems.append(
                    f"run {run}: {_waiting(world, ids)} seats still reserved, "
                    f"{_owed(world, ids)} refunds unsent after {RUN_TIMEOUT_SECONDS:.0f} s"
                )
                break
            time.sleep(0.05)
    finally:
        code = worker.stop()
    report.check(code == 0, f"run {run}: the worker exited {code}")


def _waiting(world: SqlWorld, ids: set[str]) -> int:
    with world.p.uow() as uow:
        waiting = uow.entries.with_status([EntryStatus.RESERVED, EntryStatus.PENDING_ACTION])
        return sum(1 for e in waiting if e.contest_id in ids)


def _owed(world: SqlWorld, ids: set[str]) -> int:
    with world.p.uow() as uow:
        return sum(1 for r in uow.refunds.pending() if r.contest_id in ids)


def _check_joins(
    world: SqlWorld,
    books: StripeBooks,
    contests: dict[str, Contest],
    answers: list[Answer],
    report: CampaignReport,
) -> None:
    by_fingerprint: dict[str, Entry] = {}
    for contest in contests.values():
        by_fingerprint.update(_check_contest_money(world, books, contest, report))
    for answer in answers:
        _check_answer(answer, by_fingerprint, report)


def _check_contest_money(
    world: SqlWorld, books: StripeBooks, contest: Contest, report: CampaignReport
) -> dict[str, Entry]:
    cid = contest.contest_id
    with world.p.uow() as uow:
        entries = uow.entries.for_contest(cid)
        refunds = uow.refunds.for_contest(cid)
        seats = uow.entries.seats_taken(cid)
        players = uow.entries.seats_of_users((cid, e.user_id) for e in entries)
    by_fingerprint = {e.fingerprint: e for e in entries}
    succeeded = [i for i in books.payment_intents(cid) if i.status == "succeeded"]
    per_key = Counter(str(i.metadata.to_dict().get("join_fingerprint")) for i in succeeded)
    emulator_refunds = books.refunds_of({i.id for i in succeeded})
    refunded = Counter(str(r.payment_intent) for r in emulator_refunds)
    refunded_amount: Counter[str] = Counter()
    for made in emulator_refunds:
        refunded_amount[str(made.payment_intent)] += int(made.amount)
    report.count("charges", len(succeeded))
    report.count("double charges", sum(n - 1 for n in per_key.values() if n > 1))
    report.count("refunds", len(emulator_refunds))
    for key, n in per_key.items():
        report.check(n == 1, f"join {key} charged {n} times")
    for intent in succeeded:
        entry = by_fingerprint.get(str(intent.metadata.to_dict().get("join_fingerprint")))
        paid_back = refunded[intent.id] == 1 and refunded_amount[intent.id] == int(intent.amount)
        if entry is None or (entry.status is not EntryStatus.ACTIVE and not paid_back):
            report.count("charges without an entry or a refund")
            report.problems.append(
                f"{intent.id}: charged for {'no entry' if entry is None else entry.status.value} "
                f"and refunded {refunded[intent.id]} times ({refunded_amount[intent.id]} of "
                f"{intent.amount})"
            )
        elif entry.status is EntryStatus.ACTIVE:
            report.check(refunded[intent.id] == 0, f"{intent.id}: active, yet refunded")
    statuses = Counter(e.status for e in entries)
    for status, n in statuses.items():
        report.count(f"entries {status.value}", n)
    for entry in entries:
        if entry.status is EntryStatus.ACTIVE:
            report.check(per_key[entry.fingerprint] == 1, f"{entry.entry_id} active, not charged")
    report.check(
        not statuses[EntryStatus.RESERVED] and not statuses[EntryStatus.PENDING_ACTION],
        f"{cid}: seats still reserved at the end: {dict(statuses)}",
    )
    active = statuses[EntryStatus.ACTIVE]
    capacity = contest.terms.capacity
    report.check(active <= capacity, f"{cid}: {active} active entries for {capacity} seats")
    held = sum(1 for e in entries if e.status in SEAT_HOLDING)
    report.check(seats == held, f"{cid}: the seat counter says {seats}, {held} seats are held")
    holding = Counter((cid, e.user_id) for e in entries if e.status in SEAT_HOLDING)
    for pair, counted in players.items():
        report.check(
            counted == holding[pair],
            f"{pair}: its seat counter says {counted}, {holding[pair]} held",
        )
    for refund in refunds:
        report.check(
            refund.status is RefundStatus.CONFIRMED, f"refund {refund.key}: {refund.status}"
        )
    report.check(
        len(emulator_refunds) == len(refunds),
        f"{cid}: {len(emulator_refunds)} refunds on the emulator, {len(refunds)} owed",
    )
    return by_fingerprint


def _check_answer(answer: Answer, entries: dict[str, Entry], report: CampaignReport) -> None:
    """What a client heard is what happened to its entry."""
    join = answer.join
    entry = entries.get(join_fingerprint(join.contest_id, answer.user_id, join.key))
    seen = "no entry" if entry is None else entry.status.value
    if answer.status is None:
        report.count("joins the client gave up on")
        return
    report.check(
        answer.status in JOIN_ANSWERS, f"{answer.player} {join.key}: answered {answer.status}"
    )
    if answer.status == 201:
        expected = {EntryStatus.WITHDRAWN if answer.withdrawn == 200 else EntryStatus.ACTIVE}
        if join.withdraw and answer.withdrawn is None:  # went away while withdrawing
            expected = {EntryStatus.ACTIVE, EntryStatus.WITHDRAWN}
        report.check(
            entry is not None and entry.status in expected and entry.entry_id == answer.entry_id,
            f"{answer.player} {join.key}: heard 201 ({answer.entry_id}), the entry is {seen}",
        )
        if join.withdraw and answer.withdrawn is not None:
            report.count("withdrawals")
            report.check(answer.withdrawn == 200, f"{join.key}: withdrawal {answer.withdrawn}")
    elif answer.status == 402:
        report.check(
            entry is not None and entry.status is EntryStatus.DECLINED,
            f"{answer.player} {join.key}: heard 402, the entry is {seen}",
        )
    elif answer.status == 409:
        report.count("joins refused (full or over the entry limit)")
        report.check(
            entry is None or not entry.holds_seat,
            f"{answer.player} {join.key}: heard 409, the entry is {seen}",
        )
