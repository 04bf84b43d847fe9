"""Benchmark: peak resident memory of a process settling a contest of 1,000,000 entries.

Usage: uv run python bench/memory.py [--entries N] [--backends postgresql,sqlite]
           [--postgres-url URL]

The contest is prepared as bench/settle_db.py prepares it (not measured). A child process
then does only what a worker does to settle it: open the database, build the platform
and run one `tick` (COMPLETE -> SETTLED). It reports its peak resident set size
(getrusage's ru_maxrss and /proc's VmHWM) and its resident size before the tick, so
that the figure is the settling process's, not the loader's. Goal: <= 2 GiB.
Prints one JSON line per backend.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from harness import emit, postgres_url_for
from settle_db import prepare

GOAL_MIB = 2048
BENCH = Path(__file__).resolve().parent


def resident_kib(field: str) -> int:
    """A field of /proc/self/status in KiB (VmRSS: now, VmHWM: the peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise SystemExit(f"no {field} in /proc/self/status")


def child(url: str, now: str) -> None:
    """Settle the database's COMPLETE contest at `now`; print the memory figures as JSON."""
    from adapters.alerts import CollectedAlerts  # noqa: PLC0415 (only in the child)
    from adapters.clock import ControllableClock  # noqa: PLC0415
    from adapters.feeds.replay import ReplayFeed  # noqa: PLC0415
    from adapters.ids import TimeOrderedIds  # noqa: PLC0415
    from adapters.sandbox import SandboxGateway  # noqa: PLC0415
    from adapters.sqlalchemy import (  # noqa: PLC0415
        SqlDatabase,
        garbage_collection_paused,
        open_database,
    )
    from fantasy_core.platform import Platform  # noqa: PLC0415
    from fantasy_core.usecases.lifecycle import tick  # noqa: PLC0415

    engine = open_database(url, "test")
    clock = ControllableClock(datetime.fromisoformat(now))
    platform = Platform(
        uow=SqlDatabase(engine).unit_of_work,
        gateway=SandboxGateway(),
        feed=ReplayFeed.recorded(clock.now),  # read lazily: settling never reads the feed
        clock=clock,
        alerts=CollectedAlerts(),
        ids=TimeOrderedIds(),
        bulk=garbage_collection_paused,  # as bootstrap wires the worker's platform
    )
    before = resident_kib("VmRSS")
    started = time.perf_counter()
    moved = tick(platform)
    seconds = time.perf_counter() - started
    if len(moved) != 1:
        raise SystemExit(f"the tick moved {moved}, not one contest to SETTLED")
    print(
        json.dumps(
            {
                "rss_before_kib": before,
                "peak_kib": resident_kib("VmHWM"),
                "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                "seconds": seconds,
            }
        ),
        flush=True,
    )


def run(backend: str, entries: int, pg_url: str | None) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="memory-bench-") as scratch:
        ready = prepare(backend, entries, Path(scratch), postgres_url_for("memory", pg_url))
        now = ready.clock.now().isoformat()
        url = ready.url if backend == "postgresql" else str(ready.engine.url)
        ready.close()
        del ready  # the parent's million rows are not the child's business
        done = subprocess.run(
            [sys.executable, __file__, "--child", url, now],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"the settling process failed:\n{done.stderr}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    peak_mib = max(figures["peak_kib"], figures["maxrss_kib"]) / 1024
    return {
        "scenario": f"memory_settle_{backend}",
        "entries": entries,
        "peak_rss_mib": round(peak_mib, 1),
        "rss_before_settling_mib": round(figures["rss_before_kib"] / 1024, 1),
        "goal_mib": GOAL_MIB,
        "ratio": round(peak_mib / GOAL_MIB, 3),
        "seconds": round(figures["seconds"], 3),
    }


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--backends", default="postgresql,sqlite")
    parser.add_argument("--postgres-url", default=None)
    args = parser.parse_args()
    for backend in args.backends.split(","):
        emit(run(backend, args.entries, args.postgres_url))


if __name__ == "__main__":
    main()
