"""Benchmark: the web lobby and a contest page at 32 clients, on SQLite and PostgreSQL,
with a floor measured beside them.

Usage: uv run python bench/web_pages.py [--seconds S] [--clients C] [--postgres-url URL]
           [--stores sqlite,postgresql]

For each store the app runs as `fantasy serve` runs it (bench/web_server.py: one uvicorn
process on 127.0.0.1, a fresh database with six open contests of the real week-1 pool),
and wrk (Debian's package) sends GET requests from C connections back to back for S
seconds after a warm-up, anonymously (the pages a visitor opens first):
- lobby: GET /web/ (the open contests, filters, time to lock);
- contest: GET /web/contests/{id} (terms, prize tables, the pool, the builder's slots);
- the floor of each page (bench/web_floor_server.py, started beside the app on the same
  database and measured in the same run): a bare ASGI app under uvicorn reading the rows
  the page shows with the raw driver (sqlite3, psycopg) and writing the HTML with string
  joins, one query per request, what a contest's version fixes written once per version;
- a second line, named for what it is: a fixed page of the contest page's size through
  the app's own stack (GET /bench/page-floor: uvicorn, Litestar, no database, no template,
  none of the pages' session or CSRF middleware).
Prints one JSON line per page and store: requests per second, p50 and p99 latency (ms),
the page's bytes, its floor's figures and bytes, the ratio of p99 to the floor's, the
fixed page's figures, the goal (p99 <= 50 ms) and whether it was met.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from harness import emit, free_port, fresh_postgres, postgres_url_for

BENCH = Path(__file__).resolve().parent
GOAL_P99_MS = 50.0
LUA = r"""
function done(summary, latency, requests)
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"errors": %d, "non_2xx": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
"""


def wrk(url: str, script: Path, clients: int, seconds: float) -> dict[str, Any]:
    command = [
        "wrk", "-t2", f"-c{clients}", f"-d{round(seconds)}s", "--timeout", "10s",
        "-s", str(script), url,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"wrk failed ({done.returncode}): {done.stderr}{done.stdout}")
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            summary: dict[str, Any] = json.loads(line.removeprefix("BENCH_JSON "))
            return summary
    raise SystemExit(f"wrk printed no summary:\n{done.stdout}")


def serve(
    database_url: str, directory: Path
) -> tuple[subprocess.Popen[bytes], int, dict[str, Any]]:
    port = free_port()
    info = directory / "info.json"
    server = subprocess.Popen(
        [sys.executable, str(BENCH / "web_server.py"), "--database-url", database_url,
         "--port", str(port), "--info", str(info)],
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited ({server.returncode})")
        try:
            if info.exists() and httpx.get(f"http://127.0.0.1:{port}/health").is_success:
                return server, port, json.loads(info.read_text())
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.kill()
    raise SystemExit("the server did not answer within 120 s")


def serve_floor(database_url: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(BENCH / "web_floor_server.py"), "--database-url", database_url,
         "--port", str(port)],
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the floor server exited ({server.returncode})")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health").is_success:
                return server, port
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.kill()
    raise SystemExit("the floor server did not answer within 60 s")


def _rps(s: dict[str, Any]) -> float:
    return round(float(s["requests"]) / (float(s["duration_us"]) / 1e6), 1)


def measure(store: str, database_url: str, clients: int, seconds: float) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        script = directory / "done.lua"
        script.write_text(LUA)
        server, port, info = serve(database_url, directory)
        floor_server, floor_port = serve_floor(database_url)
        try:
            base, lean = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{floor_port}"
            contest = info["contests"][0]
            pages = {
                "lobby": f"{base}/web/",
                "contest": f"{base}/web/contests/{contest}",
                "lobby_floor": f"{lean}/floor/lobby",
                "contest_floor": f"{lean}/floor/contests/{contest}",
                "fixed_page": f"{base}/bench/page-floor",
            }
            sizes = {}
            for name, url in pages.items():
                answer = httpx.get(url)
                assert answer.status_code == 200, url
                sizes[name] = len(answer.content)
            figures = {}
            for name, url in pages.items():
                wrk(url, script, clients, 2)  # warm-up
                figures[name] = wrk(url, script, clients, seconds)
            fixed = figures["fixed_page"]
            for name in ("lobby", "contest"):
                s, floor = figures[name], figures[f"{name}_floor"]
                p99, floor_p99 = s["p99_us"] / 1000, floor["p99_us"] / 1000
                emit(
                    {
                        "scenario": f"web_{name}_{store}",
                        "store": store,
                        "clients": clients,
                        "requests_per_second": _rps(s),
                        "p50_ms": round(s["p50_us"] / 1000, 2),
                        "p99_ms": round(p99, 2),
                        "bytes": sizes[name],
                        "errors": s["errors"] + s["non_2xx"],
                        "floor_requests_per_second": _rps(floor),
                        "floor_p50_ms": round(floor["p50_us"] / 1000, 2),
                        "floor_p99_ms": round(floor_p99, 2),
                        "floor_bytes": sizes[f"{name}_floor"],
                        "ratio": round(p99 / floor_p99, 2),
                        "fixed_page_requests_per_second": _rps(fixed),
                        "fixed_page_p99_ms": round(fixed["p99_us"] / 1000, 2),
                        "fixed_page_bytes": sizes["fixed_page"],
                        "goal_p99_ms": GOAL_P99_MS,
                        "met": p99 <= GOAL_P99_MS and s["errors"] + s["non_2xx"] == 0,
                    }
                )
        finally:
            for process in (server, floor_server):
                process.terminate()
                process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--postgres-url")
    parser.add_argument("--stores", default="sqlite,postgresql")
    args = parser.parse_args()
    for store in args.stores.split(","):
        if store == "sqlite":
            with tempfile.TemporaryDirectory() as scratch:
                measure(store, f"sqlite:///{scratch}/web.db", args.clients, args.seconds)
        else:
            url = fresh_postgres(postgres_url_for("web_pages", args.postgres_url))
            measure(store, url, args.clients, args.seconds)


if __name__ == "__main__":
    main()
