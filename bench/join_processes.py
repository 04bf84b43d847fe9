"""Benchmark: joins over HTTP with 1 and with 2 API processes on this machine.

Usage: uv run python bench/join_processes.py [--seconds S] [--clients C] [--repeat R]
           [--postgres-url URL]

Two servers (bench/join_server.py, each on a fresh database): one with one process, one
with two processes accepting on one port, as `fantasy serve --workers 2` runs them (each
process its own join batcher, token-check batcher and connection pool). The same load as
bench/join_http.py (C wrk connections, every request a new join on one contest of a
million seats), R rounds of: the lean floor (bench/lean_floor_server.py), joins on the
one-process server, joins on the two-process server; each run S seconds.

Figures per process count: joins per second (201s), p50 and p99, the ratio to the lean
floor run of the same round, and the two-process figure over the one-process one (the
median of the rounds' ratios). The mean batch size is not given: each process counts its
own batches, and one request reads one process's counters.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path
from typing import Any

from harness import emit, free_port, fresh_postgres, median, postgres_url_for
from join_http import lua_script, rate, start_lean_floor, start_server, wrk

COUNTS = (1, 2)


def run(clients: int, seconds: int, repeat: int, pg_url: str | None) -> list[dict[str, object]]:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install -y wrk")
    runs: dict[int, list[dict[str, Any]]] = {n: [] for n in COUNTS}
    leans: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="join-processes-") as scratch:
        directory = Path(scratch)
        servers: dict[int, tuple[Any, int, dict[str, Any]]] = {}
        lean_url = fresh_postgres(postgres_url_for("processes_lean", pg_url))
        lean_port = free_port()
        lean = start_lean_floor(lean_url, lean_port, directory)
        try:
            for n in COUNTS:
                url = fresh_postgres(postgres_url_for(f"processes{n}", pg_url))
                port = free_port()
                own = directory / f"p{n}"
                own.mkdir()
                server, info = start_server(url, port, own, processes=n)
                servers[n] = (server, port, info)

            def joins(n: int, name: str, duration: int) -> dict[str, Any]:
                _, port, info = servers[n]
                path = [f"/contests/{info['big']}/entries"]
                return wrk(port, lua_script(directory, name, path, info), clients, duration)

            wrk(lean_port, lua_script(directory, "warm-lean", ["/floor"], info), clients, 3)
            for n in COUNTS:
                joins(n, f"warm{n}", 3)
            for r in range(repeat):
                script = lua_script(directory, f"lean{r}", ["/floor"], info)
                leans.append(wrk(lean_port, script, clients, seconds))
                for n in COUNTS:
                    runs[n].append(joins(n, f"join{n}-{r}", seconds))
        finally:
            for n, (server, _, _) in servers.items():
                server.terminate()
                server.wait(30)
                log = (directory / f"p{n}" / "server.log").read_text()
                errors = [line for line in log.splitlines() if "Error" in line]
                if errors:
                    print(f"{n} processes, last of {len(errors)} errors: {errors[-1]}")
            lean.terminate()
            lean.wait(30)
    records: list[dict[str, object]] = []
    for n in COUNTS:
        records.append(
            {
                "scenario": "join_processes",
                "processes": n,
                "clients": clients,
                "joins_per_second": round(median(rate(s, 201) for s in runs[n]), 1),
                "p50_ms": round(median(s["p50_us"] for s in runs[n]) / 1000, 2),
                "p99_ms": round(median(s["p99_us"] for s in runs[n]) / 1000, 2),
                "floor_requests_per_second": round(median(rate(s) for s in leans), 1),
                "ratio": round(
                    median(rate(j, 201) / rate(f) for j, f in zip(runs[n], leans, strict=True)), 3
                ),
                "over_one_process": round(
                    median(
                        rate(j, 201) / rate(o, 201) for j, o in zip(runs[n], runs[1], strict=True)
                    ),
                    3,
                ),
                "not_201": sum(s["requests"] - s["statuses"].get(201, 0) for s in runs[n]),
                "statuses": {
                    status: sum(s["statuses"].get(status, 0) for s in runs[n])
                    for status in sorted({st for s in runs[n] for st in s["statuses"]})
                },
                "runs_joins_per_second": [round(rate(s, 201), 1) for s in runs[n]],
                "runs_floor_requests_per_second": [round(rate(s), 1) for s in leans],
            }
        )
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--postgres-url", default=None)
    args = parser.parse_args()
    for record in run(args.clients, args.seconds, args.repeat, args.postgres_url):
        emit(record)


if __name__ == "__main__":
    main()
