"""Benchmark: what a database round trip costs a join lane in a worker thread.

Usage: uv run python bench/lean_join_round_trips.py [--contests 1|8] [--extra 8,18]
           [--rounds R] [--seconds S] [--clients C] [--postgres-url URL]

The lean join (bench/lean_join_server.py --batched) served four ways side by side on one
database: its batch's two statements on the event loop through async psycopg (the floor
as bench/join_http.py runs it), in a worker thread through sync psycopg (`--in-thread`,
as the product's join lane runs its batch), and in the thread with each count of
`--extra` more round trips a batch (`SELECT 1`, next to nothing for PostgreSQL). R
rounds of S seconds with wrk at C clients, the order reversed every other round. The
product's server (bench/join_server.py) runs only to prepare the contests, players and
tokens. Prints one JSON line a way: the median joins per second, and its ratio to the
thread's.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from harness import emit, free_port, fresh_postgres, median, postgres_url_for
from join_http import lua_script, start_lean_floor, start_server, wrk


def run(
    contests: int, extras: list[int], rounds: int, seconds: int, clients: int, pg: str | None
) -> list[dict[str, object]]:
    url = fresh_postgres(postgres_url_for("lean_join_round_trips", pg))
    ways: dict[str, list[str]] = {"async": [], "thread": ["--in-thread"]}
    for extra in extras:
        ways[f"thread+{extra}"] = ["--in-thread", f"--extra-round-trips={extra}"]
    with tempfile.TemporaryDirectory(prefix="lean-join-round-trips-") as scratch:
        directory = Path(scratch)
        product, info = start_server(url, free_port(), directory)
        servers: dict[str, tuple[int, Any]] = {}
        try:
            for name, flags in ways.items():
                port = free_port()
                servers[name] = port, start_lean_floor(
                    url, port, directory, "lean_join_server.py",
                    str(directory / "server.json"), "--batched", *flags,
                )  # fmt: skip
            targets = [info["big"]] if contests == 1 else info["lobby"]
            paths = [f"/contests/{cid}/entries" for cid in targets]
            rates: dict[str, list[float]] = {name: [] for name in ways}
            for round_ in range(rounds):
                order = list(ways) if round_ % 2 == 0 else list(reversed(ways))
                for name in order:
                    port, _ = servers[name]
                    if round_ == 0:
                        wrk(port, lua_script(directory, f"warm-{name}", paths, info), clients, 2)
                    script = lua_script(directory, f"{name}-{round_}", paths, info)
                    summary = wrk(port, script, clients, seconds)
                    joined = summary["statuses"].get(201, 0)
                    rates[name].append(joined / (summary["duration_us"] / 1e6))
        finally:
            product.terminate()
            for _, server in servers.values():
                server.terminate()
    thread = median(rates["thread"])
    return [
        {
            "scenario": "lean_join_round_trips",
            "way": name,
            "contests": len(targets),
            "clients": clients,
            "joins_per_second": round(median(runs), 1),
            "runs_joins_per_second": [round(r, 1) for r in runs],
            "over_thread": round(median(runs) / thread, 3) if thread else None,
        }
        for name, runs in rates.items()
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--contests", type=int, choices=(1, 8), default=1)
    parser.add_argument("--extra", default="8,18", help="extra round trips a batch, each a way")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--postgres-url", default=None)
    args = parser.parse_args()
    extras = [int(part) for part in args.extra.split(",") if part]
    for record in run(
        args.contests, extras, args.rounds, args.seconds, args.clients, args.postgres_url
    ):
        emit(record)


if __name__ == "__main__":
    main()
