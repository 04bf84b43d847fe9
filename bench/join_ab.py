"""Benchmark: an interleaved A/B of the joins over HTTP, two servers side by side.

Usage: uv run python bench/join_ab.py TREE_A TREE_B [--set-a NAME=VALUE] [--set-b NAME=VALUE]
           [--contests 1|8] [--rounds R] [--seconds S] [--clients C] [--postgres-url URL]

Each side is a checkout of this project with its own environment (`uv sync` in it, so
`TREE/.venv/bin/python` runs its code): bench/join_server.py of each tree serves on a free
127.0.0.1 port, with a fresh database each (`fantasy_bench_ab_a`, `_b`), with the
settings given (`--set-b FANTASY_JOIN_LANE_PROCESS=true`; one tree twice compares two
settings). After a warm-up of each, wrk loads them in turn, A then B in even rounds and B
then A in odd ones, so that the machine's drift (a quarter over minutes here) falls on
both sides alike. Prints one line a run as it goes, then one JSON line: the medians of
each side, their ratio, and the ratio of each pair of runs (B over A).
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from harness import emit, free_port, fresh_postgres, median, postgres_url_for
from join_http import cpu_counters, lua_script, rate, start_server, with_cpu, wrk


def run(args: argparse.Namespace) -> dict[str, object]:
    sides = {"A": (Path(args.tree_a), args.set_a), "B": (Path(args.tree_b), args.set_b)}
    with tempfile.TemporaryDirectory(prefix="join-ab-") as scratch:
        servers: dict[str, tuple[subprocess.Popen[bytes], int, Path, dict[str, Any]]] = {}
        try:
            for name, (tree, settings) in sides.items():
                directory = Path(scratch) / name
                directory.mkdir()
                url = fresh_postgres(postgres_url_for(f"ab_{name.lower()}", args.postgres_url))
                port = free_port()
                chosen = dict(setting.split("=", 1) for setting in settings)
                server, info = start_server(url, port, directory, chosen, tree=tree.resolve())
                servers[name] = (server, port, directory, info)
            paths = {
                name: [f"/contests/{info['big']}/entries"]
                if args.contests == 1
                else [f"/contests/{cid}/entries" for cid in info["lobby"]]
                for name, (_, _, _, info) in servers.items()
            }
            for name, (_, port, directory, info) in servers.items():
                wrk(port, lua_script(directory, "warm", paths[name], info), args.clients, 3)
            runs: dict[str, list[dict[str, Any]]] = {"A": [], "B": []}
            for n in range(args.rounds):
                for name in ("A", "B") if n % 2 == 0 else ("B", "A"):
                    server, port, directory, info = servers[name]
                    before = cpu_counters(server.pid)
                    script = lua_script(directory, f"round{n}", paths[name], info)
                    summary = wrk(port, script, args.clients, args.seconds)
                    joined = summary["statuses"].get(201, 0)
                    runs[name].append(with_cpu(summary, before, cpu_counters(server.pid), joined))
                    print(
                        f"{name} round {n}: {rate(summary, 201):.0f} joins/s, "
                        f"p99 {summary['p99_us'] / 1000:.0f} ms, "
                        f"{summary['requests'] - joined} not 201",
                        flush=True,
                    )
        finally:
            for server, *_ in servers.values():
                server.terminate()
                server.wait(30)
    a = median(rate(s, 201) for s in runs["A"])
    b = median(rate(s, 201) for s in runs["B"])
    return {
        "scenario": "join_ab",
        "contests": args.contests,
        "a": {"tree": args.tree_a, "settings": args.set_a},
        "b": {"tree": args.tree_b, "settings": args.set_b},
        "a_joins_per_second": round(a, 1),
        "b_joins_per_second": round(b, 1),
        "b_over_a": round(b / a, 3),
        "pairs_b_over_a": [
            round(rate(y, 201) / rate(x, 201), 3) for x, y in zip(runs["A"], runs["B"], strict=True)
        ],
        "a_p99_ms": round(median(s["p99_us"] for s in runs["A"]) / 1000, 1),
        "b_p99_ms": round(median(s["p99_us"] for s in runs["B"]) / 1000, 1),
        "a_server_cpu_ms": round(median(s["server_cpu_ms"] or 0 for s in runs["A"]), 3),
        "b_server_cpu_ms": round(median(s["server_cpu_ms"] or 0 for s in runs["B"]), 3),
        "not_201": sum(s["requests"] - s["statuses"].get(201, 0) for s in runs["A"] + runs["B"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("tree_a")
    parser.add_argument("tree_b")
    parser.add_argument("--set-a", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--set-b", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--contests", type=int, choices=(1, 8), default=1)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--postgres-url", default=None)
    emit(run(parser.parse_args()))


if __name__ == "__main__":
    main()
