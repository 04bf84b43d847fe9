"""Campaign: PostgreSQL unreachable mid-run, and the stats feed down, then wrong, then right.

Database outage. The API (uvicorn on loopback, wired by `apps.bootstrap.start`) and a
worker process reach PostgreSQL through a TCP proxy (support.tcp_proxy), which the
campaign cuts three times: while players are idle (every kind of request is tried
during the outage), at the worst moment of a join (the card charged at Stripe, the
database gone before the entry is recorded), and while the worker pays the winners.
Checked: the API answers 503 with Retry-After (health 200), never a 500, and logs no
unhandled error; the worker stays up, backs off (longer and longer) and resumes; a
join caught half-way leaves nothing half-written (a reservation, no fee) and is
completed by the client's retry with its key, or by the worker; the contest is paid;
on the emulator one charge per join and one transfer per payout; the ledger verifies.

Feed outage. On the in-process platform: the provider is down after lock, then sends
contradictory data (a final game no longer final, more touchdowns than receptions),
then good data. Checked: an alert for each, the contest waits (never completes on bad
data), then completes on the good data and is paid; its settlement names the good
snapshot; the ledger verifies.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import attrs
import httpx
from attrs import frozen

from adapters.stripe_gateway import RequestRetry, StripeGateway
from apps.api.app import create_app
from apps.bootstrap import start
from apps.demo_players import LineupPicker
from apps.settings import Settings
from fantasy_core.entries import EntryStatus
from fantasy_core.errors import StoreUnavailable
from fantasy_core.lifecycle import ContestState
from fantasy_core.money import Money
from fantasy_core.payments import ChargeOutcome, PayoutStatus
from fantasy_core.platform import Platform
from fantasy_core.ports import PaymentGateway
from fantasy_core.stats import FeedSnapshot, GameStatus, StatLine
from fantasy_core.usecases.queries import slate_for_contests
from fantasy_core.usecases.reports import verify_ledger
from support.campaign import CampaignReport
from support.live_server import serving
from support.postgres_schema import fresh_schema, host_and_port, through
from support.processes import WorkerProcess, clocked_worker, worker_environment
from support.shared_clock import FileClock
from support.stripe_books import StripeBooks
from support.stripe_emulator_fixture import API_KEY
from support.tcp_proxy import FaultyProxy
from support.world import LOCK, SLATE, World, snapshot, stat_lines

WEEK = "nfl-2025-reg-wk01"
BEFORE_LOCK = datetime(2025, 9, 4, 12, 15, tzinfo=UTC)
OPERATOR_EMAIL = "ops@example.com"
OPERATOR_PASSWORD = "operator password, long enough"
PASSWORD = "correct horse battery"
BACKOFF = re.compile(r"next try in ([0-9.]+) s")
OUTAGE_SECONDS = 3.0
DEADLINE_SECONDS = 150.0


@frozen
class OutagesConfig:
    players: int = 10
    seed: int = 2025


class CuttingGateway:
    """The Stripe adapter, which can cut the database right after a charge went through."""

    def __init__(self, inner: PaymentGateway, proxy: FaultyProxy) -> None:
        self._inner = inner
        self._proxy = proxy
        self.armed = False

    def charge(
        self, key: str, amount: Money, payment_method: str, metadata: Mapping[str, str]
    ) -> ChargeOutcome:
        outcome = self._inner.charge(key, amount, payment_method, metadata)
        if self.armed:
            self.armed = False
            self._proxy.cut()  # the card is charged; the entry will not be recorded
        return outcome

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


class Api:
    """A player's and the operator's calls, over real HTTP."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.headers: dict[str, dict[str, str]] = {}

    def login(self, who: str, email: str, password: str) -> httpx.Response:
        response = self.client.post("/auth/login", json={"email": email, "password": password})
        if response.status_code == 200:
            self.headers[who] = {"Authorization": f"Bearer {response.json()['access_token']}"}
        return response

    def register(self, who: str) -> None:
        email = f"{who}@example.com"
        self.client.post(
            "/auth/register",
            json={
                "email": email,
                "password": PASSWORD,
                "date_of_birth": "1990-05-17",
                "jurisdiction": "NJ",
            },
        )
        self.login(who, email, PASSWORD).raise_for_status()

    def join(self, contest_id: str, who: str, picks: list[dict[str, str]]) -> httpx.Response:
        return self.client.post(
            f"/contests/{contest_id}/entries",
            json={"lineup": picks, "payment_method": "pm_card_visa"},
            headers={**self.headers[who], "Idempotency-Key": f"join-{who}"},
        )


def run_database_outage(
    config: OutagesConfig,
    postgres_url: str,
    stripe_url: str,
    workdir: Path,
    report: CampaignReport,
) -> None:
    books = StripeBooks(stripe_url)
    errors = _Errors()
    logging.getLogger("fantasy").addHandler(errors)
    with (
        fresh_schema(postgres_url, "outage") as direct_url,
        FaultyProxy(host_and_port(direct_url)) as proxy,
    ):
        url = through(direct_url, "127.0.0.1", proxy.port)
        clock = FileClock(workdir / "clock.txt")
        clock.set(BEFORE_LOCK)
        settings = Settings(
            environment="test",
            database_url=url,
            database_auto_upgrade=False,
            stripe_api_key=API_KEY,
            stripe_api_base=stripe_url,
            operator_email=OPERATOR_EMAIL,
            operator_password=OPERATOR_PASSWORD,
            login_rate_per_minute=100_000,
            join_rate_per_minute=100_000,
        )
        retry = RequestRetry(attempts=3, first_delay=0.05, max_delay=0.2, sleep_budget=1.0)
        stripe = StripeGateway.for_environment(API_KEY, "test", base_url=stripe_url, retry=retry)
        gateway = CuttingGateway(stripe, proxy)
        worker = WorkerProcess(
            clocked_worker(clock.path, 0.2, max_backoff=2.0),
            worker_environment(url, stripe_url),
            workdir / "worker.log",
        )
        try:
            with (
                start(settings, clock=clock, gateway=gateway) as services,
                serving(create_app(settings, services=services)) as base,
                httpx.Client(base_url=base, timeout=30) as client,
            ):
                api = Api(client)
                _story(config, api, services.platform, books, proxy, gateway, clock, worker, report)
        finally:
            code = worker.stop()
            logging.getLogger("fantasy").removeHandler(errors)
        report.check(code == 0, f"the worker exited {code}")
        report.check(worker.starts == 1, f"the worker was started {worker.starts} times")
        report.check(not errors.messages, f"unhandled errors logged: {errors.messages[:3]}")
        _worker_backoff(worker, report)
        report.fault("database cut (connections dropped, new ones refused)", proxy.injected["cut"])
        report.figures["database connections refused while cut"] = proxy.injected[
            "refused while cut"
        ]


def _story(
    config: OutagesConfig,
    api: Api,
    platform: Platform,
    books: StripeBooks,
    proxy: FaultyProxy,
    gateway: CuttingGateway,
    clock: FileClock,
    worker: WorkerProcess,
    report: CampaignReport,
) -> None:
    api.login("operator", OPERATOR_EMAIL, OPERATOR_PASSWORD).raise_for_status()
    created = api.client.post(
        "/operator/contests",
        json={"template": "double_up", "slate_id": WEEK},
        headers=api.headers["operator"],
    )
    created.raise_for_status()
    cid = created.json()["contest_id"]
    picker = LineupPicker(
        slate_for_contests(platform, WEEK).pool,
        "draftkings_nfl_classic",
        random.Random(config.seed),
    )
    players = [f"player-{n}" for n in range(config.players)]
    picks = {
        who: [{"slot": s, "player_id": p} for s, p in picker.lineup().picks] for who in players
    }
    for who in players:
        api.register(who)
        api.client.put(
            "/me/payout-account",
            json={"account_id": books.create_account()},
            headers=api.headers[who],
        ).raise_for_status()
    worker.start()
    worker.wait_for("worker started")
    half = len(players) // 2
    for who in players[:half]:
        report.check(api.join(cid, who, picks[who]).status_code == 201, f"{who} could not join")

    # Outage 1: every kind of request while the database is away.
    proxy.cut()
    answers = _during_outage(api, cid, players[half], picks[players[half]], report)
    time.sleep(OUTAGE_SECONDS)
    proxy.restore()
    report.figures["API requests during outages"] = len(answers)
    for who in players[half:-2]:
        response = _retry(partial(api.join, cid, who, picks[who]))
        report.check(response.status_code == 201, f"{who}: {response.status_code} after the outage")

    # Outage 2: the database goes away between the charge and its record.
    for who, retries in ((players[-2], True), (players[-1], False)):
        gateway.armed = True
        caught = api.join(cid, who, picks[who])
        report.check(caught.status_code == 503, f"{who} caught half-way: {caught.status_code}")
        proxy.restore()
        report.fault("database cut between a charge and its record")
        _half_written(platform, books, cid, who, report)
        if retries:
            again = _retry(partial(api.join, cid, who, picks[who]))
            report.check(again.status_code == 201, f"{who}'s retry: {again.status_code}")
    # The last client never retries: the worker settles its reservation after the grace.
    clock.advance(timedelta(minutes=10))

    # Outage 3: while the worker pays the winners.
    _run_the_week(platform, books, proxy, clock, cid, report)
    _check_money(platform, books, cid, report)


def _during_outage(
    api: Api, cid: str, newcomer: str, picks: list[dict[str, str]], report: CampaignReport
) -> list[int]:
    someone = next(iter(h for w, h in api.headers.items() if w != "operator"))
    calls = [
        ("GET", "/contests", {}, None),
        ("GET", f"/contests/{cid}", {}, None),
        ("GET", f"/contests/{cid}/leaderboard", {}, None),
        ("POST", "/auth/login", {}, {"email": "player-0@example.com", "password": PASSWORD}),
        (
            "POST",
            "/auth/register",
            {},
            {
                "email": "late@example.com",
                "password": PASSWORD,
                "date_of_birth": "1990-05-17",
                "jurisdiction": "NJ",
            },
        ),
        ("GET", "/me", someone, None),
        ("GET", "/me/entries", someone, None),
        ("GET", "/operator/ledger", api.headers["operator"], None),
        ("GET", "/ready", {}, None),
        ("GET", "/health", {}, None),
        (
            "POST",
            f"/contests/{cid}/entries",
            {**api.headers[newcomer], "Idempotency-Key": f"join-{newcomer}"},
            {"lineup": picks, "payment_method": "pm_card_visa"},
        ),
    ]
    statuses = []
    for method, path, headers, body in calls:
        response = api.client.request(method, path, headers=headers, json=body)
        statuses.append(response.status_code)
        expected = 200 if path == "/health" else 503
        report.check(
            response.status_code == expected,
            f"during the outage {method} {path}: {response.status_code} {response.text[:200]}",
        )
        if response.status_code == 503 and path != "/ready":
            report.check("Retry-After" in response.headers, f"{method} {path}: no Retry-After")
        report.count(f"answers during outages: {response.status_code}")
    return statuses


def _retry(call: Callable[[], httpx.Response], attempts: int = 20) -> httpx.Response:
    """A client honouring 503 + Retry-After (here: a short pause), with the same key."""
    response: httpx.Response = call()
    for _ in range(attempts):
        if response.status_code != 503:
            return response
        time.sleep(0.2)
        response = call()
    return response


def _half_written(
    platform: Platform, books: StripeBooks, cid: str, who: str, report: CampaignReport
) -> None:
    """Stripe has the charge; our side holds the reservation only (no fee, no active
    entry): nothing half-written, and enough to finish the join later."""
    charged = [i for i in books.payment_intents(cid) if i.status == "succeeded"]
    with platform.uow() as uow:
        entries = uow.entries.for_contest(cid)
        fees = {s.key for s in uow.ledger.for_contest(cid) if s.key.startswith("fee:")}
    waiting = [e for e in entries if e.status is EntryStatus.RESERVED]
    report.check(len(waiting) == 1, f"{who}: {len(waiting)} reservations after the cut")
    for entry in waiting:
        report.check(
            "fee:" + entry.fingerprint not in fees, f"{who}: a fee posted for a reservation"
        )
        report.check(
            any(i.metadata.to_dict().get("join_fingerprint") == entry.fingerprint for i in charged),
            f"{who}: the charge is not at Stripe",
        )


def _run_the_week(
    platform: Platform,
    books: StripeBooks,
    proxy: FaultyProxy,
    clock: FileClock,
    cid: str,
    report: CampaignReport,
) -> None:
    games = platform.feed.snapshot(WEEK).games
    give_up = max(g.kickoff for g in games) + timedelta(days=1)
    deadline = time.monotonic() + DEADLINE_SECONDS
    cut_during_payouts = False
    while time.monotonic() < deadline:
        state = _state(platform, cid)
        if state is ContestState.PAID:
            break
        if clock.now() < give_up:
            clock.advance(timedelta(hours=2))
        if cut_during_payouts:
            time.sleep(0.3)
            continue
        # The worker can complete, settle and pay a handful of winners between two looks
        # at the contest's state (a CI run ended PAID with no cut, the contest likely seen
        # LIVE, then PAID): so between two looks, whatever the state, watch the emulator,
        # and cut at the contest's first transfer; every 20 ms before completion, so as not
        # to keep the emulator busy all week. Once the contest is complete, watch long
        # enough for a loaded machine's next worker pass: a second-long watch that missed
        # it next saw the contest PAID.
        complete = state in (ContestState.COMPLETE, ContestState.SETTLED)
        if _first_transfer(books, cid, 15.0 if complete else 0.3, 0.005 if complete else 0.02):
            proxy.cut()
            with_cut = books.transfer_tally(cid).count
            report.figures["transfers made when the database was cut"] = with_cut
            report.fault("database cut while the worker paid")
            time.sleep(OUTAGE_SECONDS)
            proxy.restore()
            cut_during_payouts = True
    report.check(_state(platform, cid) is ContestState.PAID, f"{cid} not PAID in time")
    report.check(cut_during_payouts, "the database was never cut during payouts")


def _first_transfer(books: StripeBooks, cid: str, within: float, every: float) -> bool:
    """Whether the emulator holds a transfer of the contest within `within` seconds,
    asking it every `every` seconds."""
    until = time.monotonic() + within
    while books.transfer_tally(cid).count == 0:
        if time.monotonic() >= until:
            return False
        time.sleep(every)
    return True


def _state(platform: Platform, cid: str) -> ContestState | None:
    try:
        with platform.uow() as uow:
            return uow.contests.get(cid).state
    except StoreUnavailable:
        return None  # the campaign cut the database: ask again later


def _check_money(platform: Platform, books: StripeBooks, cid: str, report: CampaignReport) -> None:
    with platform.uow() as uow:
        entries = uow.entries.for_contest(cid)
        payouts = uow.payouts.for_contest(cid)
    intents = [i for i in books.payment_intents(cid) if i.status == "succeeded"]
    per_key = Counter(str(i.metadata.to_dict().get("join_fingerprint")) for i in intents)
    refunds = Counter(r.payment_intent for r in books.refunds_of({i.id for i in intents}))
    status = {e.fingerprint: e.status for e in entries}
    report.figures["charges"] = len(intents)
    report.figures["double charges"] = sum(n - 1 for n in per_key.values() if n > 1)
    for intent in intents:
        key = str(intent.metadata.to_dict().get("join_fingerprint"))
        entry_status = status.get(key)
        report.check(per_key[key] == 1, f"{key} charged {per_key[key]} times")
        report.check(
            entry_status is EntryStatus.ACTIVE or refunds[intent.id] == 1,
            f"{intent.id}: entry {entry_status}, refunded {refunds[intent.id]} times",
        )
    report.check(
        not [e for e in entries if e.status in (EntryStatus.RESERVED, EntryStatus.PENDING_ACTION)],
        "seats still reserved at the end",
    )
    tally = books.transfer_tally(cid)
    report.figures["payouts"] = len(payouts)
    report.figures["transfers"] = tally.count
    report.figures["duplicate transfers"] = tally.duplicates
    report.check(tally.duplicates == 0, f"{tally.duplicates} duplicate transfers")
    report.check(
        all(p.status is PayoutStatus.CONFIRMED for p in payouts)
        and set(tally.by_fingerprint) == {p.fingerprint for p in payouts},
        "payouts and transfers differ",
    )
    ledger = verify_ledger(platform)
    report.check(ledger.ok, f"the ledger does not verify: {ledger}")
    report.figures["ledger verifies"] = "yes" if ledger.ok else "no"


def _worker_backoff(worker: WorkerProcess, report: CampaignReport) -> None:
    waits: list[float] = []
    for line in worker.log.read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        match = BACKOFF.search(str(record.get("message", "")))
        if match and "database unreachable" in record["message"]:
            waits.append(float(match.group(1)))
    report.figures["worker passes failed on the database"] = len(waits)
    report.figures["worker backoff (s)"] = " ".join(f"{w:g}" for w in waits[:12])
    report.check(len(waits) >= 3, f"the worker saw {len(waits)} failed passes")
    report.check(max(waits, default=0) > min(waits, default=0), f"no backoff: {waits}")


# ---- the feed ---------------------------------------------------------------------------------


def contradictory_snapshot(version: int) -> FeedSnapshot:
    """After a final snapshot: a game back in progress, and a line with more receiving
    touchdowns than receptions."""
    good = snapshot(GameStatus.FINAL, version)
    games = (good.games[0], attrs.evolve(good.games[1], status=GameStatus.IN_PROGRESS))
    lines = list(stat_lines())
    first = lines[0]
    lines[0] = StatLine.of(
        first.player_id, first.team, first.game_id, {"receptions": 1, "receiving_tds": 3}
    )
    return FeedSnapshot(SLATE, version, games, tuple(lines))


def run_feed_outage(report: CampaignReport) -> None:
    world = World()
    contest = world.create()
    for n, user in enumerate(("ann", "bob", "cat", "dan")):
        world.give_account(user)
        world.join(contest, user, variant=n)
    world.clock.set(LOCK)
    world.run()
    world.feed.publish(snapshot(GameStatus.IN_PROGRESS, 2))
    world.clock.advance(timedelta(minutes=1))
    world.run()
    report.check(world.state(contest) == "LIVE", f"not LIVE: {world.state(contest)}")

    # Down for three hours of game time (a pass every 20 minutes).
    world.feed.go_down("provider answered 503")
    for _ in range(9):
        world.clock.advance(timedelta(minutes=20))
        world.run()
        report.fault("feed down during a worker pass")
    report.check(
        world.state(contest) == "LIVE", f"moved while the feed was down: {world.state(contest)}"
    )
    # Back, with the games final (the contest completes), then contradicting itself.
    world.feed.come_back()
    world.feed.publish(snapshot(GameStatus.FINAL, 3))
    world.clock.advance(timedelta(minutes=1))
    world.run()
    world.feed.publish(contradictory_snapshot(4))
    world.clock.advance(timedelta(minutes=1))
    world.run()
    report.fault("contradictory feed data (final regressed, touchdowns exceed receptions)")
    for _ in range(6):  # hours past the correction window: it must still wait
        world.clock.advance(timedelta(minutes=30))
        world.run()
    held = world.state(contest)
    report.check(held in ("LIVE", "COMPLETE"), f"settled on contradictory data: {held}")
    # Good data again: it completes, settles and pays.
    world.feed.publish(snapshot(GameStatus.FINAL, 5))
    world.clock.advance(timedelta(minutes=1))
    world.run()
    for _ in range(4):
        world.clock.advance(timedelta(minutes=40))
        world.run()
    report.check(
        world.state(contest) == "PAID", f"not PAID after good data: {world.state(contest)}"
    )
    keys = world.alerts.raised_keys()
    report.check(
        any(k.startswith(f"feed-down-{SLATE}") for k in keys), f"no feed-down alert: {keys}"
    )
    invalid = [k for k in keys if k.startswith(f"feed-invalid-{SLATE}")]
    report.check(bool(invalid), f"no alert for the contradictory data: {keys}")
    with world.store.unit_of_work() as uow:
        stored = uow.settlements.get(contest.contest_id)
        audit = Counter(r.action for r in uow.audit.for_actor("system"))
    good = snapshot(GameStatus.FINAL, 5).sha256()
    report.check(
        stored is not None and good.encode() in stored[0],
        "the settlement does not name the good snapshot (version 5)",
    )
    report.check(verify_ledger(world.p).ok, "the ledger does not verify after the feed outage")
    report.figures["feed: alerts raised"] = len(set(keys))
    report.figures["feed: passes while down"] = audit["stats.unavailable"]
    report.figures["feed: snapshots rejected"] = audit["stats.rejected"]
    report.figures["feed: state held while data was bad"] = held


def run_campaign(
    config: OutagesConfig,
    postgres_url: str | None,
    stripe_url: str,
    workdir: Path,
    mode: str = "short",
) -> CampaignReport:
    report = CampaignReport("outages", "Database outage and feed outage", mode=mode)
    report.checked = [
        "database cut (idle, between a charge and its record, during payouts): the API "
        "answers 503 + Retry-After (health 200), never 500, logs no unhandled error",
        "the worker stays up, backs off longer and longer, resumes; the contest is paid",
        "a join caught half-way: a reservation only (no fee), completed by the client's "
        "retry or by the worker; one charge per join, one transfer per payout; ledger verifies",
        "feed down, then contradictory, then good: alerts, the contest waits, then completes "
        "on the good data and is paid",
    ]
    started = time.monotonic()
    if postgres_url is not None:
        run_database_outage(config, postgres_url, stripe_url, workdir, report)
        report.runs += 1
    run_feed_outage(report)
    report.runs += 1
    report.seconds = round(time.monotonic() - started, 1)
    f = report.figures
    cuts = report.faults.get("database cut (connections dropped, new ones refused)", 0)
    report.summary = (
        f"database cut {cuts} times: {f.get('API requests during outages', 0)} API requests "
        "during the outage, "
        f"0 answered 500; worker backed off ({f.get('worker backoff (s)', '-')} s) and resumed; "
        f"{f.get('charges', 0)} charges, {f.get('transfers', 0)} transfers, 0 twice; feed down "
        f"then contradictory: {f.get('feed: alerts raised', 0)} alerts, contest waited, then paid"
    )
    return report
