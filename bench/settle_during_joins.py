"""Benchmark: settle a contest of N entries while joins for other contests run, on one PostgreSQL.

Usage: uv run python bench/settle_during_joins.py [--entries N] [--clients C] [--seconds S]
           [--postgres-url URL]

One database: bench/settle_db.py's preparation (a COMPLETE contest of N entries on the real
NFL week-1 slate, due for settlement), and in the same database the join server of
bench/join_http.py (the product's app under uvicorn, one process, its own contests open
for joins and its 2,048 players). In order:

1. settle alone: the tick that takes the contest to SETTLED (read, score, rank, payouts,
   ledger, snapshot, one commit), timed in this process as settle_db.py times it; the
   contest is then put back to COMPLETE (settle_db.unsettle);
2. joins alone: C wrk clients joining the 8 open contests for S seconds;
3. both: the same joins, and one second after they start, the same settlement; wrk runs
   in loads of 3 s until the settlement has ended, and the figures are the whole
   window's (joins/s over all of it; p99 the slowest load's p99, a bound);
4. joins alone again (the machine's speed drifts: the two runs bracket the third).

Figures: the settlement's seconds alone and during the joins (and their ratio); joins per
second and p99 alone (median of the two runs) and during the settlement (and their
ratio); 201s missing from the database (none may be). Prints one JSON line.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psycopg

from harness import emit, free_port, median, postgres_url, postgres_url_for
from join_http import lua_script, rate, start_server, wrk
from settle_db import prepare, settle_once, unsettle

CHUNK = 3  # seconds a load of wrk runs while the settlement does


def joined(url: str, contests: list[str]) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM entries WHERE contest_id = ANY(%s) AND status = 'active'",
            (contests,),
        ).fetchone()
    return int(row[0]) if row else 0


def run(entries: int, clients: int, seconds: int, pg_url: str | None) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="settle-joins-") as scratch:
        directory = Path(scratch)
        url = postgres_url_for("settle_joins", postgres_url(pg_url))
        ready = prepare("postgresql", entries, directory, url)
        server = None
        try:
            alone, payouts = settle_once(ready)
            unsettle(ready)
            port = free_port()
            server, info = start_server(ready.url, port, directory)
            paths = [f"/contests/{cid}/entries" for cid in info["lobby"]]

            def load(name: str, duration: int) -> dict[str, Any]:
                return wrk(port, lua_script(directory, name, paths, info), clients, duration)

            load("warm", 3)
            before = load("alone-before", seconds)
            settled: dict[str, float] = {}

            def settle_in_a_second() -> None:
                time.sleep(1)
                settled["seconds"] = settle_once(ready)[0]

            settler = threading.Thread(target=settle_in_a_second)
            settler.start()
            # Loads of CHUNK seconds until the settlement has ended: the window covers it
            # however much it is slowed, and little more.
            chunks = [load(f"during{n}", CHUNK) for n in range(1)]
            while settler.is_alive():
                chunks.append(load(f"during{len(chunks)}", CHUNK))
            settler.join()
            after = load("alone-after", seconds)
            during = {
                "requests": sum(c["requests"] for c in chunks),
                "duration_us": sum(c["duration_us"] for c in chunks),
                "statuses": {201: sum(c["statuses"].get(201, 0) for c in chunks)},
                # The slowest chunk's p99: a bound on the window's, not a percentile of it.
                "p99_us": max(c["p99_us"] for c in chunks),
            }
            answered = sum(s["statuses"].get(201, 0) for s in (before, *chunks, after))
            warm_and_fill = joined(ready.url, info["lobby"])
        finally:
            if server is not None:
                server.terminate()
                server.wait(30)
            ready.close()
    alone_joins = median([rate(before, 201), rate(after, 201)])
    during_joins = rate(during, 201)
    return {
        "scenario": "settle_during_joins",
        "entries": entries,
        "clients": clients,
        "payouts": payouts,
        "settle_alone_seconds": round(alone, 3),
        "settle_during_joins_seconds": round(settled["seconds"], 3),
        "settle_ratio": round(settled["seconds"] / alone, 2),
        "joins_alone_per_second": round(alone_joins, 1),
        "joins_alone_p99_ms": round(median([before["p99_us"], after["p99_us"]]) / 1000, 1),
        "joins_during_per_second": round(during_joins, 1),
        "joins_during_p99_ms": round(during["p99_us"] / 1000, 1),
        "joins_ratio": round(during_joins / alone_joins, 2),
        "joins_window_seconds": round(during["duration_us"] / 1e6, 1),
        "runs_joins_alone_per_second": [round(rate(before, 201), 1), round(rate(after, 201), 1)],
        # The database holds the warm-up's joins too: at least every 201 answered.
        "lost": max(0, answered - warm_and_fill),
        "not_201": sum(s["requests"] - s["statuses"].get(201, 0) for s in (before, during, after)),
        "settle_started_after_seconds": 1,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--postgres-url", default=None)
    args = parser.parse_args()
    emit(run(args.entries, args.clients, args.seconds, args.postgres_url))


if __name__ == "__main__":
    main()
