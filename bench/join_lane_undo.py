"""Benchmark: one cut of decision 0067 against its undoing, batch by batch in one lane.

Usage: uv run python bench/join_lane_undo.py CUT [--batch B] [--batches N] [--contests 1|8]
           [--postgres-url URL]

CUT is one of:
- `narrow-update`: `save_all` updates the columns that changed; undone, every column;
- `held-statuses`: `save_all` of locked entries reads nothing first; undone, it reads the
  rows' contest and status again;
- `seats-array`: several locked contests' seats move in one statement; undone, the
  executemany.

bench/join_lane.py's loop (`join_many` on PostgreSQL, no HTTP) runs with the cut undone
in two batches of every four, the cut kept in the other two. This machine's speed
drifts by a quarter within minutes, which an A/B of two runs cannot tell from a cut of
5%; batches alternating in one process see the same machine. Prints one JSON line: the
median wall time and CPU of a batch each way, and their ratios (cut over undone).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import join_lane
from adapters.sqlalchemy.entries import _STATUSES_BEFORE, SqlEntries
from adapters.sqlalchemy.records import ENTRY_COLUMN_NAMES
from adapters.sqlalchemy.seats import SeatCounters
from fantasy_core.entries import Entry
from harness import emit

WARM_UP = 10


def undoing(cut: str, undone: Callable[[], bool]) -> None:
    """Patch the adapter so that `cut` is undone whenever `undone()` says so."""
    if cut == "narrow-update":
        narrow = SqlEntries._changed_columns

        def columns(self: SqlEntries, entries: Sequence[Entry]) -> tuple[str, ...]:
            return ENTRY_COLUMN_NAMES if undone() else narrow(self, entries)

        SqlEntries._changed_columns = columns  # type: ignore[method-assign]
    elif cut == "held-statuses":
        save_all = SqlEntries.save_all

        def save(self: SqlEntries, entries: Sequence[Entry]) -> None:
            if undone():  # the read of what the rows held, as before the cut
                ids = {"ids": [entry.entry_id for entry in entries]}
                self._db.execute(_STATUSES_BEFORE, ids).all()
            save_all(self, entries)

        SqlEntries.save_all = save  # type: ignore[method-assign]
    elif cut == "seats-array":
        move = SeatCounters.move

        def moved(self: SeatCounters, deltas: Mapping[str, int]) -> None:
            if not undone():
                move(self, deltas)
                return
            locked, self._locked = self._locked, {}  # not locked: the executemany
            try:
                move(self, deltas)
            finally:
                self._locked = {c: n + deltas.get(c, 0) for c, n in locked.items()}

        SeatCounters.move = moved  # type: ignore[method-assign]
    else:
        raise SystemExit(f"unknown cut {cut!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("cut", choices=("narrow-update", "held-statuses", "seats-array"))
    parser.add_argument("--batch", type=int, default=17)
    parser.add_argument("--batches", type=int, default=1000)
    parser.add_argument("--contests", type=int, choices=(1, 8), default=1)
    parser.add_argument("--postgres-url", default=None)
    args = parser.parse_args()
    state = {"batches": 0, "undone": False}
    undoing(args.cut, lambda: bool(state["undone"]))
    walls: dict[bool, list[float]] = {True: [], False: []}
    cpus: dict[bool, list[float]] = {True: [], False: []}
    join_many = join_lane.join_many

    def alternating(platform: Any, requests: Any) -> Any:
        state["batches"] += 1
        undone = state["undone"] = (int(state["batches"]) // 2) % 2 == 0
        wall, cpu = time.perf_counter(), time.thread_time()
        answers = join_many(platform, requests)
        walls[undone].append(time.perf_counter() - wall)
        cpus[undone].append(time.thread_time() - cpu)
        return answers

    join_lane.join_many = alternating
    join_lane.run(args.batch, args.batches, args.contests, None, args.postgres_url)

    def ms(values: list[float]) -> float:
        return round(1000 * statistics.median(values[WARM_UP:]), 3)

    wall = {undone: ms(walls[undone]) for undone in (True, False)}
    cpu = {undone: ms(cpus[undone]) for undone in (True, False)}
    emit(
        {
            "scenario": "join_lane_undo",
            "cut": args.cut,
            "contests": args.contests,
            "batch": args.batch,
            "batches": args.batches,
            "wall_ms_a_batch": {"cut": wall[False], "undone": wall[True]},
            "cpu_ms_a_batch": {"cut": cpu[False], "undone": cpu[True]},
            "wall_cut_over_undone": round(wall[False] / wall[True], 3),
            "cpu_cut_over_undone": round(cpu[False] / cpu[True], 3),
        }
    )


if __name__ == "__main__":
    main()
