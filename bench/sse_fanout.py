"""Benchmark: a stat update reaching 1,000 live-leaderboard subscribers of a 100,000-entry contest.

Usage: uv run python bench/sse_fanout.py [--entries N] [--subscribers S] [--updates U]
           [--poll-seconds P]

A SQLite database holds a LIVE contest of N entries on the replayed 2025 week 1 (loaded as
bench/settle_db.py loads them). `fantasy serve --no-worker` runs the API in a process of
its own; S clients hold GET /contests/{id}/leaderboard/stream open (raw sockets, one
asyncio loop). This process plays the worker: it advances the replay by one minute of
football and ingests it (`ingest`, committed to the database), U times; each client notes
when the event with the new stats change sequence reaches it. The figure is the time
from the ingest's commit to each client's receipt, over every client and update (p50,
p99, max): the API's poll of the change sequence, its incremental rescoring of the
contest, and the fan-out. Prints one JSON line.

The floor, measured in the same run: the same S clients on a lean SSE server
(bench/lean_sse_server.py: a bare ASGI app under uvicorn, no framework, no database) that
pushes an event of the same size the moment it is told to; its p99 is what delivering
those bytes to S sockets on this machine costs at the least.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx

from adapters.alerts import CollectedAlerts
from adapters.clock import ControllableClock
from adapters.feeds.replay import ReplayFeed
from adapters.ids import TimeOrderedIds
from adapters.sandbox import SandboxGateway
from adapters.sqlalchemy import SqlDatabase, open_database
from fantasy_core.contest import ContestTerms
from fantasy_core.entry_limits import MaxEntries
from fantasy_core.lifecycle import ContestState
from fantasy_core.money import Money
from fantasy_core.payouts import paid_places_for, top_heavy
from fantasy_core.platform import Platform
from fantasy_core.scoring import preset
from fantasy_core.usecases.contests import create_contest
from fantasy_core.usecases.lifecycle import tick
from fantasy_core.usecases.live import open_live, refresh_live, stats_sequence
from fantasy_core.usecases.stats import ingest
from harness import emit, free_port, median
from settle_db import FEE, RAKE_BPS, SLATE, entry_rows, load_sqlite, week_one

BENCH = Path(__file__).resolve().parent
GOAL_P99_SECONDS = 0.5


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


# ---- the contest ------------------------------------------------------------------------


def prepare(directory: Path, entries: int) -> tuple[str, Platform, ControllableClock, str]:
    """A LIVE contest of `entries` entries in a fresh SQLite file, 90 minutes into week 1."""
    url = f"sqlite:///{directory / 'live.db'}"
    engine = open_database(url, "test", upgrade=True)
    pool, _, first_kickoff = week_one()
    clock = ControllableClock(first_kickoff - timedelta(days=1))
    platform = Platform(
        uow=SqlDatabase(engine).unit_of_work,
        gateway=SandboxGateway(),
        feed=ReplayFeed.recorded(clock.now),
        clock=clock,
        alerts=CollectedAlerts(),
        ids=TimeOrderedIds(),
    )
    terms = ContestTerms(
        name=f"Streamed ({entries} entries)",
        sport_template="draftkings_nfl_classic",
        pool=pool,
        lock_at=first_kickoff,
        entry_fee=Money(FEE, "usd"),
        capacity=entries,
        entry_limit=MaxEntries(150),
        rules=preset("draftkings_nfl_classic"),
        payout=top_heavy(paid_places_for(entries, 2_000)),
        rake_bps=RAKE_BPS,
    )
    contest = create_contest(platform, terms, actor="bench")
    load_sqlite(Path(str(engine.url.database)), entry_rows(contest.contest_id, pool, entries, 7))
    clock.set(first_kickoff + timedelta(minutes=90))
    ingest(platform, SLATE)
    tick(platform)  # LOCKED, then LIVE
    with platform.uow() as uow:
        state = uow.contests.get(contest.contest_id).state
    if state is not ContestState.LIVE:
        raise SystemExit(f"the contest is {state}, not LIVE")
    return url, platform, clock, contest.contest_id


# ---- the subscribers --------------------------------------------------------------------


class Subscriber:
    """One raw HTTP/1.1 connection reading an event stream; notes when each id arrives."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.arrived: dict[bytes, float] = {}
        self.waiting: dict[bytes, asyncio.Event] = {}
        self.writer: asyncio.StreamWriter | None = None
        self.task: asyncio.Task[None] | None = None

    async def open(self, port: int, path: str, ready: bytes) -> None:
        reader, self.writer = await asyncio.open_connection("127.0.0.1", port)
        self.writer.write(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n".encode()
        )
        await self.writer.drain()
        first = self.expect(ready)
        self.task = asyncio.get_running_loop().create_task(self._read(reader))
        await asyncio.wait_for(first.wait(), 120)

    def expect(self, marker: bytes) -> asyncio.Event:
        event = self.waiting.setdefault(marker, asyncio.Event())
        if marker in self.arrived:
            event.set()
        return event

    async def _read(self, reader: asyncio.StreamReader) -> None:
        while chunk := await reader.read(65536):
            now = time.perf_counter()
            self.buffer += chunk
            for marker, event in self.waiting.items():
                if not event.is_set() and marker in self.buffer:
                    self.arrived[marker] = now
                    event.set()
            if len(self.buffer) > 1 << 20:
                del self.buffer[: len(self.buffer) - 4096]

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        if self.task is not None:
            self.task.cancel()


async def subscribe(count: int, port: int, path: str, ready: bytes) -> list[Subscriber]:
    subscribers = [Subscriber() for _ in range(count)]
    for start in range(0, count, 100):  # a hundred at a time: no accept-queue overflow
        await asyncio.gather(*(s.open(port, path, ready) for s in subscribers[start : start + 100]))
    return subscribers


def expect(subscribers: list[Subscriber], marker: bytes) -> list[asyncio.Event]:
    """Watch for `marker` on every subscriber: before the event is sent, so that each
    receipt is timed as its bytes arrive."""
    return [s.expect(marker) for s in subscribers]


async def receipts(
    subscribers: list[Subscriber], marker: bytes, events: list[asyncio.Event], since: float
) -> list[float]:
    await asyncio.wait_for(asyncio.gather(*(e.wait() for e in events)), 60)
    return [s.arrived[marker] - since for s in subscribers]


# ---- the API and the floor --------------------------------------------------------------


def start_api(url: str, port: int, poll_seconds: float) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "FANTASY_ENV": "test",
        "FANTASY_DATABASE_URL": url,
        "FANTASY_STREAM_POLL_SECONDS": str(poll_seconds),
        "FANTASY_LOG_LEVEL": "WARNING",
    }
    command = [
        sys.executable, "-c", "from apps.cli import main; main()",
        "serve", "--no-worker", "--port", str(port),
    ]  # fmt: skip
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)


def start_floor(port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, str(BENCH / "lean_sse_server.py"), "--port", str(port)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, and SIGKILL when a graceful stop waits on open streams too long."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_answering(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server at {url} did not start") from None
            time.sleep(0.1)


async def measure_api(
    port: int,
    contest_id: str,
    platform: Platform,
    clock: ControllableClock,
    subscribers_count: int,
    updates: int,
) -> tuple[list[float], list[int], list[float]]:
    """Latencies of every receipt, the changes of each update, and the bench's own
    refresh time of an identical board (the rescoring share of a latency)."""
    seq = stats_sequence(platform, SLATE)
    path = f"/contests/{contest_id}/leaderboard/stream"
    subscribers = await subscribe(subscribers_count, port, path, f"id: {seq}\n".encode())
    loop = asyncio.get_running_loop()
    mirror = await loop.run_in_executor(None, open_live, platform, contest_id)
    latencies: list[float] = []
    changed: list[int] = []
    refresh_seconds: list[float] = []
    for _ in range(updates):
        clock.advance(timedelta(minutes=1))
        # The sequence the ingest will reach: the replay's version (no corrections here).
        seq = platform.feed.snapshot(SLATE).version
        marker = f"id: {seq}\n".encode()
        events = expect(subscribers, marker)
        if not await loop.run_in_executor(None, ingest, platform, SLATE):
            raise SystemExit(f"version {seq} of the replay was not ingested")
        committed = time.perf_counter()
        if stats_sequence(platform, SLATE) != seq:
            raise SystemExit(f"the stats change sequence is not {seq}")
        latencies += await receipts(subscribers, marker, events, committed)
        started = time.perf_counter()
        update = await loop.run_in_executor(None, refresh_live, platform, mirror)
        refresh_seconds.append(time.perf_counter() - started)
        changed.append(0 if update is None else len(update.changes))
        await asyncio.sleep(0.3)  # updates a little apart, as a feed sends them
    await asyncio.gather(*(s.close() for s in subscribers))
    return latencies, changed, refresh_seconds


async def measure_floor(port: int, subscribers_count: int, updates: int, size: int) -> list[float]:
    subscribers = await subscribe(subscribers_count, port, "/stream", b"id: 0\n")
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        for n in range(1, updates + 1):
            marker = f"id: {n}\n".encode()
            events = expect(subscribers, marker)
            sent = time.perf_counter()
            await client.post("/publish", params={"id": n, "size": size})
            latencies += await receipts(subscribers, marker, events, sent)
            await asyncio.sleep(0.3)
    await asyncio.gather(*(s.close() for s in subscribers))
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--subscribers", type=int, default=1_000)
    parser.add_argument("--updates", type=int, default=10)
    parser.add_argument("--poll-seconds", type=float, default=0.1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        url, platform, clock, contest_id = prepare(Path(scratch), args.entries)
        port = free_port()
        api = start_api(url, port, args.poll_seconds)
        try:
            wait_answering(f"http://127.0.0.1:{port}/health", api)
            latencies, changed, refresh = asyncio.run(
                measure_api(port, contest_id, platform, clock, args.subscribers, args.updates)
            )
        finally:
            stop(api)
    floor_port = free_port()
    lean = start_floor(floor_port)
    try:
        wait_answering(f"http://127.0.0.1:{floor_port}/health", lean)
        floor = asyncio.run(measure_floor(floor_port, args.subscribers, args.updates, 4_000))
    finally:
        stop(lean)
    p99, floor_p99 = percentile(latencies, 0.99), percentile(floor, 0.99)
    emit(
        {
            "scenario": "sse_fanout",
            "entries": args.entries,
            "subscribers": args.subscribers,
            "updates": args.updates,
            "poll_seconds": args.poll_seconds,
            "changed_entries_median": median(changed),
            "refresh_seconds_median": round(median(refresh), 4),
            "p50_seconds": round(percentile(latencies, 0.5), 4),
            "p99_seconds": round(p99, 4),
            "max_seconds": round(max(latencies), 4),
            "floor_p50_seconds": round(percentile(floor, 0.5), 4),
            "floor_p99_seconds": round(floor_p99, 4),
            "ratio": round(p99 / floor_p99, 2) if floor_p99 > 0 else None,
            "goal_p99_seconds": GOAL_P99_SECONDS,
        }
    )


if __name__ == "__main__":
    main()
