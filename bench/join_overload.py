"""Benchmark: joins at 4x the load the server sustains shed the excess instead of queueing it.

Usage: uv run python bench/join_overload.py [--seconds S] [--clients C] [--factor F]
           [--postgres-url URL] [--lane-process]

The server is bench/join_server.py (the product's app, one process, PostgreSQL, the sandbox
gateway) with batches of at most 16 joins and at most 24 joins waiting for the lane beyond
the batch running (FANTASY_JOIN_MAX_WAITING, decision 0057; --max-waiting to try another):
at most 40 accepted joins in flight under overload against the normal load's 32, so an
accepted join waits about 1.25x its normal time; the normal load itself is shed only in
the moments a small batch runs (a few in a thousand). Two phases of S seconds, each on a
contest of a million seats of its own:

- normal: C clients (default 32) join back to back: C - 8 from wrk, 8 from a probe in
  this process that times each of its joins itself;
- overload: F x C clients (default 4 x 32): F x C - 8 from wrk, the same probe.

Every client honours a 503's Retry-After (wrk's script waits it out on that connection),
as the problem asks. Figures: the joins accepted per second and answered 503 per second,
the probe's p50 and p99 of ACCEPTED joins (201) in each phase, and their ratio (goal: the
overload p99 within 2x of the normal one); the entries counted in the database against
the 201s answered (goal: none of the 201s missing; the database may hold a few more, the
joins wrk had sent when it stopped and never read the answer of); the sheds the process counted in
its /metrics (`fantasy_join_overload_shed_total`) against the 503s answered.
`--lane-process`: the server with FANTASY_JOIN_LANE_PROCESS=true (decision 0065); the
figure is then `join_overload_lane_process`.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg

from harness import emit, free_port, fresh_postgres, postgres_url_for
from join_http import LUA, SEAT_HOLDING, rate, start_server, wrk

PROBES = 8
BATCH_MAX = 16  # joins a batch
# Joins waiting beyond the batch running (decision 0057): at most 16 + 24 = 40 accepted in
# flight under overload, 1.25x the normal load's 32, so an accepted join waits about
# 1.25x its normal time (Little's law); 32 let the wait grow to 1.5x, 16 shed the normal load.
MAX_WAITING = 24

# wrk's script, plus: after a 503 the connection waits out the Retry-After (wrk calls
# delay() for a connection right after response() for it; one thread, so no race).
RETRY_AFTER = r"""
local wait_ms = 0
local base_response = response
function response(status, headers, body)
  base_response(status, headers, body)
  wait_ms = 0
  if status == 503 then
    wait_ms = 1000 * tonumber(headers["Retry-After"] or headers["retry-after"] or "1")
  end
end

function delay()
  return wait_ms
end
"""


def flood_script(directory: Path, name: str, path: str, info: dict[str, Any]) -> Path:
    body = "[[" + "]], [[".join(info["bodies"]) + "]]"
    tokens = ", ".join(json.dumps(t) for t in info["tokens"])
    script = directory / f"{name}.lua"
    text = LUA % {
        "tokens": tokens,
        "bodies": body,
        "paths": json.dumps(path),
        "run": f"{name}-{time.time_ns()}",
    }
    script.write_text(text + RETRY_AFTER)
    return script


class Probe:
    """PROBES clients joining back to back, each timing its own requests."""

    def __init__(self, port: int, path: str, info: dict[str, Any], name: str) -> None:
        self.url = f"http://127.0.0.1:{port}{path}"
        self.info = info
        self.name = name
        self.accepted: list[float] = []
        self.statuses: dict[int, int] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(n,)) for n in range(PROBES)]

    def _run(self, n: int) -> None:
        tokens, bodies = self.info["tokens"], self.info["bodies"]
        with httpx.Client(timeout=30) as client:
            count = 0
            while not self._stop.is_set():
                count += 1
                headers = {
                    "Authorization": f"Bearer {tokens[(count * 13 + n * 7) % len(tokens)]}",
                    "Content-Type": "application/json",
                    "Idempotency-Key": f"{self.name}-{n}-{count}",
                }
                started = time.perf_counter()
                answer = client.post(self.url, content=bodies[count % len(bodies)], headers=headers)
                took = time.perf_counter() - started
                with self._lock:
                    self.statuses[answer.status_code] = self.statuses.get(answer.status_code, 0) + 1
                    if answer.status_code == 201:
                        self.accepted.append(took)
                if answer.status_code == 503:
                    self._stop.wait(float(answer.headers.get("Retry-After", "1")))

    def __enter__(self) -> Probe:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(60)

    def percentile(self, q: int) -> float:
        return statistics.quantiles(self.accepted, n=100, method="inclusive")[q - 1]


def shed_counted(port: int) -> int:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    for line in text.splitlines():
        if line.startswith("fantasy_join_overload_shed"):
            return int(float(line.split()[-1]))
    raise SystemExit("/metrics has no fantasy_join_overload_shed")


def entries_held(url: str, contest_id: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM entries WHERE contest_id = %s AND status = ANY(%s)",
            (contest_id, list(SEAT_HOLDING)),
        ).fetchone()
    return 0 if row is None else int(row[0])


def phase(
    port: int, directory: Path, info: dict[str, Any], contest: str, clients: int, seconds: int
) -> dict[str, Any]:
    path = f"/contests/{contest}/entries"
    name = f"phase{clients}"
    shed_before = shed_counted(port)
    with Probe(port, path, info, name) as probe:
        summary = wrk(port, flood_script(directory, name, path, info), clients - PROBES, seconds)
    statuses = dict(summary["statuses"])
    for status, count in probe.statuses.items():
        statuses[status] = statuses.get(status, 0) + count
    duration = summary["duration_us"] / 1e6
    return {
        "clients": clients,
        "accepted_per_second": round(statuses.get(201, 0) / duration, 1),
        "shed_per_second": round(statuses.get(503, 0) / duration, 1),
        "offered_per_second": round(sum(statuses.values()) / duration, 1),
        "probe_accepted": len(probe.accepted),
        "p50_accepted_ms": round(probe.percentile(50) * 1000, 1),
        "p99_accepted_ms": round(probe.percentile(99) * 1000, 1),
        "wrk_p99_all_ms": round(summary["p99_us"] / 1000, 1),
        "statuses": statuses,
        "client_errors": summary["errors"],
        "shed_counted": shed_counted(port) - shed_before,
        "wrk_joins_per_second": round(rate(summary, 201), 1),
    }


def run(
    clients: int,
    factor: int,
    seconds: int,
    pg_url: str | None,
    max_waiting: int = MAX_WAITING,
    lane_process: bool = False,
) -> dict[str, object]:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install -y wrk")
    url = fresh_postgres(postgres_url_for("overload", pg_url))
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="join-overload-") as scratch:
        directory = Path(scratch)
        settings = {
            "FANTASY_JOIN_BATCH_MAX": str(BATCH_MAX),
            "FANTASY_JOIN_MAX_WAITING": str(max_waiting),
        }
        if lane_process:
            settings["FANTASY_JOIN_LANE_PROCESS"] = "true"
        server, info = start_server(url, port, directory, settings)
        try:
            warm = info["lobby"][2]
            wrk(
                port, flood_script(directory, "warm", f"/contests/{warm}/entries", info), clients, 3
            )
            normal = phase(port, directory, info, info["lobby"][0], clients, seconds)
            over = phase(port, directory, info, info["lobby"][1], clients * factor, seconds)
        finally:
            server.terminate()
            server.wait(30)
    held = {
        "normal": entries_held(url, info["lobby"][0]),
        "overload": entries_held(url, info["lobby"][1]),
    }
    ratio = over["p99_accepted_ms"] / normal["p99_accepted_ms"]
    return {
        "scenario": "join_overload_lane_process" if lane_process else "join_overload",
        "clients": clients,
        "factor": factor,
        "batch_max": BATCH_MAX,
        "max_waiting": max_waiting,
        "normal": normal,
        "overload": over,
        "p99_ratio": round(ratio, 2),
        "lost": sum(
            max(0, figures["statuses"].get(201, 0) - held[phase_name])
            for phase_name, figures in (("normal", normal), ("overload", over))
        ),
        "entries_held": held,
        "shed_answered": over["statuses"].get(503, 0),
        "shed_counted": over["shed_counted"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--factor", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--postgres-url", default=None)
    parser.add_argument(
        "--max-waiting", type=int, default=MAX_WAITING,
        help=f"FANTASY_JOIN_MAX_WAITING of the server (default: {MAX_WAITING})",
    )  # fmt: skip
    parser.add_argument(
        "--lane-process", action="store_true",
        help="the server with FANTASY_JOIN_LANE_PROCESS=true",
    )  # fmt: skip
    args = parser.parse_args()
    figures = run(
        args.clients, args.factor, args.seconds, args.postgres_url, args.max_waiting,
        args.lane_process,
    )  # fmt: skip
    emit(figures)


if __name__ == "__main__":
    main()
