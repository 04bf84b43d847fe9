"""Benchmark: the join lane alone, `join_many` in a loop with no HTTP, on PostgreSQL.

Usage: uv run python bench/join_lane.py [--batch B] [--batches N] [--contests 1|8]
           [--hold-gil WORK_MS,REST_MS] [--by-call] [--postgres-url URL]

The database is prepared as bench/join_server.py prepares it (its contests, players and
lineups), with the app's services built from the same settings. Each batch is B new joins
(distinct keys, players in turn) on the big contest, or spread over the lobby's 8
contests; five batches warm up first. Prints one JSON line: the medians of a batch's wall
time and of the lane thread's CPU, and the joins per second that wall time gives.

`--hold-gil 0.2,0.2` runs a second thread in the process that runs Python for WORK_MS, then
sleeps REST_MS, in turn: what the event loop does to the lane in the server. The lane's
wall time over its CPU, with and without it, is what sharing the GIL costs the lane
(docs/performance.md, 2026-12-04 noon).

`--by-call` times each call the batch makes of the SQL adapter (the outermost only: a
call inside another counts in its caller), and adds each one's wall time and CPU a batch,
in ms, to the line (`by_call`): where a batch's time goes (2026-12-04 afternoon).
"""

from __future__ import annotations

import argparse
import functools
import json
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from adapters.sqlalchemy.contests import SqlContests
from adapters.sqlalchemy.entries import SqlEntries
from adapters.sqlalchemy.journals import SqlAuditLog, SqlLedger
from adapters.sqlalchemy.players import SqlPlayers
from adapters.sqlalchemy.uow import SqlUnitOfWork
from apps.bootstrap import start
from apps.logs import configure_logging
from apps.settings import load_settings
from fantasy_core.lineups import Lineup
from fantasy_core.usecases.joining import JoinRequest
from fantasy_core.usecases.joining_batch import join_many
from harness import emit, fresh_postgres, median, postgres_url_for
from join_server import bench_settings, prepare

WARM_UP = 5


def hold_gil(work_ms: float, rest_ms: float) -> None:
    """Start a daemon thread that runs Python for `work_ms`, then sleeps `rest_ms`, forever."""

    def spin() -> None:
        while True:
            until = time.perf_counter() + work_ms / 1000
            while time.perf_counter() < until:
                json.dumps({"a": [1, 2, 3], "b": "x" * 50})
            time.sleep(rest_ms / 1000)

    threading.Thread(target=spin, name="hold-gil", daemon=True).start()


# The adapter's calls a join batch makes, by class.
CALLS: dict[type, tuple[str, ...]] = {
    SqlEntries: ("by_fingerprints", "seats_of_users", "add_all", "lock_all", "save_all"),
    SqlContests: ("lock_all",),
    SqlPlayers: ("lock_all",),
    SqlLedger: ("record_all",),
    SqlAuditLog: ("flush",),
    SqlUnitOfWork: ("__enter__", "commit"),
}


class CallTimes:
    """Wall time and CPU of the adapter's outermost calls, by name, since `clear`."""

    def __init__(self) -> None:
        self.wall: Counter[str] = Counter()
        self.cpu: Counter[str] = Counter()
        self._depth = 0

    def clear(self) -> None:
        self.wall.clear()
        self.cpu.clear()

    def install(self) -> None:
        for cls, names in CALLS.items():
            for name in names:
                setattr(cls, name, self._timed(f"{cls.__name__}.{name}", getattr(cls, name)))

    def _timed(self, label: str, call: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(call)
        def timed(*args: Any, **kwargs: Any) -> Any:
            self._depth += 1
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return call(*args, **kwargs)
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self.wall[label] += time.perf_counter() - wall
                    self.cpu[label] += time.thread_time() - cpu

        return timed


def run(
    batch: int,
    batches: int,
    contests: int,
    gil: tuple[float, float] | None,
    pg_url: str | None,
    by_call: bool = False,
) -> dict[str, object]:
    url = fresh_postgres(postgres_url_for("join_lane", pg_url))
    with (
        tempfile.TemporaryFile("w", encoding="utf-8") as log,
        start(load_settings(bench_settings(url, {}))) as services,
    ):
        configure_logging(stream=log)
        info: dict[str, Any] = prepare(services, 2048, 500, 7)
        users = [account.user_id for account in info["accounts"]]
        lineups = [
            Lineup(tuple((pick["slot"], pick["player_id"]) for pick in json.loads(b)["lineup"]))
            for b in info["bodies"]
        ]
        targets = [info["big"]] if contests == 1 else info["lobby"]
        if gil is not None:
            hold_gil(*gil)
        times = CallTimes()
        if by_call:
            times.install()
        walls: list[float] = []
        cpus: list[float] = []
        n = 0
        for round_ in range(WARM_UP + batches):
            requests = []
            for _ in range(batch):
                n += 1
                target, user = targets[n % len(targets)], users[n % len(users)]
                lineup = lineups[n % len(lineups)]
                requests.append(JoinRequest(target, user, f"lane-{n}", lineup, "pm_card_visa"))
            if round_ == WARM_UP:
                times.clear()
            wall, cpu = time.perf_counter(), time.thread_time()
            answers = join_many(services.platform, requests)
            wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
            failed = [a for a in answers if isinstance(a, Exception)]
            if failed:
                raise SystemExit(f"{len(failed)} joins of a batch failed: {failed[0]!r}")
            if round_ >= WARM_UP:
                walls.append(wall)
                cpus.append(cpu)
    wall_ms, cpu_ms = 1000 * median(walls), 1000 * median(cpus)
    return {
        "scenario": "join_lane",
        "contests": len(targets),
        "batch": batch,
        "batches": batches,
        "hold_gil_ms": list(gil) if gil is not None else None,
        "wall_ms_a_batch": round(wall_ms, 2),
        "cpu_ms_a_batch": round(cpu_ms, 2),
        "joins_per_second": round(1000 * batch / wall_ms, 1),
        "by_call": {
            label: {
                "wall_ms_a_batch": round(1000 * spent / batches, 2),
                "cpu_ms_a_batch": round(1000 * times.cpu[label] / batches, 2),
            }
            for label, spent in times.wall.most_common()
        }
        if by_call
        else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--batch", type=int, default=17)
    parser.add_argument("--batches", type=int, default=150)
    parser.add_argument("--contests", type=int, choices=(1, 8), default=1)
    parser.add_argument("--hold-gil", default=None, metavar="WORK_MS,REST_MS")
    parser.add_argument("--by-call", action="store_true")
    parser.add_argument("--postgres-url", default=None)
    args = parser.parse_args()
    gil = None
    if args.hold_gil is not None:
        work, rest = (float(part) for part in args.hold_gil.split(","))
        gil = (work, rest)
    emit(run(args.batch, args.batches, args.contests, gil, args.postgres_url, args.by_call))


if __name__ == "__main__":
    main()
