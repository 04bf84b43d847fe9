"""Campaign: four worker processes on one PostgreSQL open the calendar's contests and refill
them, SIGKILLed at random while they do.

The workers (`support.worker_process`: the production worker wired by `apps.bootstrap.start`
from the FANTASY_* environment, on a clock read from a shared file) run a calendar of their
own (`CALENDAR` below, through FANTASY_CALENDAR_FILE) on the replayed 2025 season. The
campaign moves the clock through the weeks' opening windows; each round it fills some of the
refilled head-to-heads with real joins (the use cases, on the sandbox gateway), and SIGKILLs
a random worker at a random moment, restarting it at once. At the end the workers run on
until nothing more is due, and the database is counted:

- each calendar key exactly once (the table's primary key could not say "exactly"; what is
  counted is that every key due was opened and no other: opened == due per slate and line);
- no contest without its key, no key without its contest, one `calendar.opened` and one
  `contest.created` (actor `calendar`) per contest;
- refills: one per full contest, up to the cap (no two refills for one fill);
- seats: no contest holds more entries than seats, every join accepted holds its seat.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
from attrs import frozen

from apps.bootstrap import start
from apps.calendar_file import parse_calendar
from apps.demo_players import LineupPicker
from apps.settings import Settings
from apps.templates import Catalogue
from fantasy_core.calendar import Calendar, LineState, contests_due
from fantasy_core.entries import EntryStatus
from fantasy_core.errors import JoinRefused
from fantasy_core.lifecycle import ContestState
from fantasy_core.platform import Platform
from fantasy_core.usecases.joining import JoinRequest, join
from fantasy_core.usecases.queries import slate_for_contests
from support.campaign import CampaignReport
from support.postgres_schema import fresh_schema
from support.processes import WorkerProcess, clocked_worker, worker_environment
from support.shared_clock import FileClock

CALENDAR = """
[[line]]
key = "h2h"
sport = "nfl"
template = "head_to_head"
open_days_before = 6
count = 2
refill = true
refill_cap = 6

[[line]]
key = "fifty"
sport = "nfl"
template = "fifty_fifty"
open_days_before = 5
count = 3

[[line]]
key = "tournament"
sport = "nfl"
template = "tournament"
open_days_before = 3
"""
# Week 1's first kick-off is Friday 2025-09-05 00:15 UTC: its head-to-heads open six days
# before; each later week a week later.
START = datetime(2025, 8, 29, 12, tzinfo=UTC)
SETTLE_TIMEOUT_SECONDS = 120.0
CATCH_UP_SECONDS = 30.0


@frozen
class CalendarCampaignConfig:
    workers: int = 4
    rounds: int = 8
    step: timedelta = timedelta(hours=12)
    fills_per_round: int = 2
    seed: int = 2025


def run_campaign(
    config: CalendarCampaignConfig, postgres_url: str, workdir: Path, mode: str = "short"
) -> CampaignReport:
    report = CampaignReport("calendar", "Calendar: workers opening and refilling", mode=mode)
    report.checked = [
        "database: every calendar key due opened exactly once (opened == due per slate and "
        "line, the key unique), none beyond",
        "database: every contest has its calendar key and every key its contest",
        "audit: one contest.created (actor calendar) and one calendar.opened per contest",
        "refills: one per full head-to-head, up to the cap, never two for one fill",
        "seats: no contest over capacity; every accepted join holds its seat",
    ]
    rng = random.Random(config.seed)
    started = time.monotonic()
    calendar_file = workdir / "calendar.toml"
    calendar_file.write_text(CALENDAR, encoding="utf-8")
    calendar = parse_calendar(CALENDAR, str(calendar_file), Catalogue().sport_of)
    with fresh_schema(postgres_url, "calendar") as url:
        clock = FileClock(workdir / "clock.txt")
        clock.set(START)
        settings = Settings(environment="test", database_url=url, database_auto_upgrade=False)
        with start(settings, clock=clock) as services:
            # The campaign's players join without a protection profile: what races here is
            # seats against refills, not who may play (the join rules are the same).
            p = attrs.evolve(services.platform, protection=None)
            env = worker_environment(url, None, FANTASY_CALENDAR_FILE=str(calendar_file))
            workers = [
                WorkerProcess(clocked_worker(clock.path, 0.05), env, workdir / f"worker-{n}.log")
                for n in range(config.workers)
            ]
            for worker in workers:
                worker.start()
            try:
                for worker in workers:
                    worker.wait_for("worker started", timeout=60.0)
                restarted_at: dict[int, int] = {}
                _rounds(config, p, calendar, clock, workers, rng, report, restarted_at)
                _settle(p, calendar, report)
                # A worker restarted late may still be starting: SIGTERM must find it running.
                for worker in workers:
                    _wait_started(worker, restarted_at.get(id(worker), 0))
            finally:
                codes = [worker.stop() for worker in workers]
            report.check(all(c in (0, None) for c in codes), f"workers exited with {codes}")
            _count(p, calendar, report)
    report.runs = 1
    report.seconds = round(time.monotonic() - started, 1)
    f = report.figures
    report.summary = (
        f"{config.workers} worker processes, {report.faults.get('SIGKILL of a worker', 0)} "
        f"kills while opening and refilling: {f['calendar keys opened']} keys opened "
        f"({f['keys opened twice']} twice, {f['keys due not opened']} missing), "
        f"{f['refills']} refills for {f['full head-to-heads']} fills, "
        f"{f['joins accepted']} joins, {f['contests over capacity']} over capacity"
    )
    return report


def _rounds(
    config: CalendarCampaignConfig,
    p: Platform,
    calendar: Calendar,
    clock: FileClock,
    workers: list[WorkerProcess],
    rng: random.Random,
    report: CampaignReport,
    restarted_at: dict[int, int],
) -> None:
    """Each round: the clock moves on, head-to-heads fill while a random worker is killed
    at a random moment (and restarted at once: where its log stood is kept in
    `restarted_at`)."""
    for _ in range(config.rounds):
        clock.advance(config.step)
        victim = rng.choice(workers)
        delay = rng.uniform(0.05, 1.5)
        killer = threading.Timer(delay, victim.kill)
        killer.start()
        for _ in range(config.fills_per_round):
            _fill_one(p, rng, report)
            time.sleep(rng.uniform(0.0, 0.4))
        killer.join()
        if not victim.alive:
            report.fault("SIGKILL of a worker")
            restarted_at[id(victim)] = victim.log.stat().st_size
            victim.start()
        # The clock moves on only once the workers caught up with what is due: every
        # slate's window is then run through, however slowly killed workers restart.
        _caught_up(p, calendar, CATCH_UP_SECONDS)


def _wait_started(worker: WorkerProcess, offset: int, timeout: float = 60.0) -> None:
    """Until the worker's current process logged its start (after `offset` in its log)."""
    deadline = time.monotonic() + timeout
    while "worker started" not in worker.log.read_bytes()[offset:].decode(errors="replace"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"a restarted worker did not start in {timeout} s: {worker.log}")
        time.sleep(0.1)


def _fill_one(p: Platform, rng: random.Random, report: CampaignReport) -> None:
    """Join an open head-to-head until it is full: the workers must refill it."""
    now = p.clock.now()
    with p.uow() as uow:
        slates = [s.slate_id for s in p.feed.schedules() if now < s.first_kickoff]
        candidates = [
            o
            for o in uow.calendar.opened(slates)
            if o.key.line == "h2h"
            and uow.entries.seats_taken(o.contest_id)
            < uow.contests.get(o.contest_id).terms.capacity
        ]
    if not candidates:
        return
    opening = rng.choice(candidates)
    pool = slate_for_contests(p, opening.key.slate_id).pool
    picker = LineupPicker(pool, "draftkings_nfl_classic", rng)
    for _ in range(2):
        report.count("joins tried")
        n = report.figures["joins tried"]
        request = JoinRequest(opening.contest_id, f"player-{n}", f"key-{n}", picker.lineup(),
                              "pm_card_visa")  # fmt: skip
        try:
            result = join(p, request)
        except JoinRefused:
            report.count("joins refused (full or locked)")
            continue
        if result.status is EntryStatus.ACTIVE:
            report.count("joins accepted")


def _due(p: Platform, calendar: Calendar) -> tuple[dict[tuple[str, str], int], dict[str, int]]:
    """What the calendar's rules say each (slate, line) of a slate still ahead should hold
    now, from the database; and the number of full head-to-heads per slate (every slate)."""
    now = p.clock.now()
    due: dict[tuple[str, str], int] = {}
    full: dict[str, int] = Counter()
    with p.uow() as uow:
        schedules = [s for s in p.feed.schedules() if now < s.first_kickoff]
        openings = uow.calendar.opened(p.feed.slates())
        for opening in openings:
            if opening.key.line == "h2h":
                terms = uow.contests.get(opening.contest_id).terms
                if uow.entries.seats_taken(opening.contest_id) >= terms.capacity:
                    full[opening.key.slate_id] += 1
    for schedule in schedules:
        for line in calendar.lines:
            if now < schedule.first_kickoff - timedelta(days=line.open_days_before):
                continue
            state = LineState(full=full[schedule.slate_id] if line.key == "h2h" else 0)
            due[(schedule.slate_id, line.key)] = contests_due(line, state)
    return due, full


def _opened(p: Platform) -> Counter[tuple[str, str]]:
    with p.uow() as uow:
        openings = uow.calendar.opened(p.feed.slates())
    return Counter((o.key.slate_id, o.key.line) for o in openings)


def _caught_up(p: Platform, calendar: Calendar, seconds: float) -> bool:
    """Whether every key due is open, waiting up to `seconds` for the workers."""
    deadline = time.monotonic() + seconds
    while True:
        due, _ = _due(p, calendar)
        opened = _opened(p)
        if all(opened[where] >= n for where, n in due.items()):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.25)


def _settle(p: Platform, calendar: Calendar, report: CampaignReport) -> None:
    """No more faults: the workers run on until every key due is open."""
    if not _caught_up(p, calendar, SETTLE_TIMEOUT_SECONDS):
        report.problems.append(f"keys due still unopened after {SETTLE_TIMEOUT_SECONDS:.0f} s")


def _count(p: Platform, calendar: Calendar, report: CampaignReport) -> None:
    for key in ("keys opened twice", "keys due not opened", "keys beyond due"):
        report.figures[key] = 0
    due, full = _due(p, calendar)
    with p.uow() as uow:
        openings = uow.calendar.opened(p.feed.slates())
        contest_ids = uow.contests.ids_in_states(list(ContestState))
        over = 0
        created: Counter[str] = Counter()
        announced: Counter[str] = Counter()
        for contest_id in contest_ids:
            for record in uow.audit.for_contest(contest_id):
                if record.action == "contest.created" and record.actor == "calendar":
                    created[contest_id] += 1
                if record.action == "calendar.opened" and record.actor == "calendar":
                    announced[contest_id] += 1
            capacity = uow.contests.get(contest_id).terms.capacity
            active = len(uow.entries.for_contest(contest_id, [EntryStatus.ACTIVE]))
            if active > capacity or uow.entries.seats_taken(contest_id) > capacity:
                over += 1
        entries = sum(len(uow.entries.for_contest(c, [EntryStatus.ACTIVE])) for c in contest_ids)
    texts = Counter(o.key.text for o in openings)
    report.figures["calendar keys opened"] = len(openings)
    report.figures["keys opened twice"] = sum(1 for n in texts.values() if n > 1)
    report.figures["contests"] = len(contest_ids)
    report.figures["contests over capacity"] = over
    report.figures["entries held"] = entries
    report.figures.setdefault("joins accepted", 0)
    report.figures["full head-to-heads"] = sum(full.values())
    opened = Counter((o.key.slate_id, o.key.line) for o in openings)
    report.figures["refills"] = sum(n - 2 for (_, line), n in opened.items() if line == "h2h")
    for where, n in due.items():
        if opened[where] < n:
            report.count("keys due not opened", n - opened[where])
        if opened[where] > n:
            report.count("keys beyond due", opened[where] - n)
    h2h = calendar.line("h2h")
    for (slate_id, line), n in opened.items():
        # A slate past its first kick-off: fills right before it may have come too late for
        # a refill, never too many refills.
        if (slate_id, line) not in due and line == "h2h":
            most = h2h.count + min(full[slate_id], h2h.refill_cap)
            if n > most:
                report.count("keys beyond due", n - most)
    report.check(report.figures["keys opened twice"] == 0, "a calendar key opened twice")
    report.check(report.figures["keys due not opened"] == 0, "calendar keys due not opened")
    report.check(report.figures["keys beyond due"] == 0, "more contests than the calendar says")
    report.check(
        sorted(o.contest_id for o in openings) == sorted(contest_ids),
        f"{len(contest_ids)} contests for {len(openings)} calendar keys",
    )
    for contest_id in contest_ids:
        report.check(created[contest_id] == 1, f"{contest_id}: created {created[contest_id]}x")
        report.check(announced[contest_id] == 1, f"{contest_id}: opened {announced[contest_id]}x")
    report.check(over == 0, f"{over} contests over capacity")
    report.check(
        entries == report.figures["joins accepted"],
        f"{entries} entries held for {report.figures['joins accepted']} joins accepted",
    )
