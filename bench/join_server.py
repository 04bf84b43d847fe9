"""The server side of bench/join_http.py: the product's app under uvicorn, plus a floor route.

Usage (by join_http.py): python bench/join_server.py --database-url URL --port P --info FILE

Wires the app as `fantasy serve --no-worker` does (settings, bootstrap, create_app, the
start-up heap frozen, uvicorn, one process; with --processes N, N processes on the port as
`fantasy serve --workers N` runs them), on PostgreSQL with the sandbox gateway.
Before serving it creates the benchmark's contests on the replay feed's week-1 slate and
the players with their tokens, and writes them to FILE as JSON. The floor route, POST
/bench/floor, exists only in this wiring: it goes through the same stack (uvicorn,
Litestar, the JWT middleware, a worker thread, the engine's pool) and does one INSERT in
its own transaction.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import uvicorn
from litestar import Litestar, get, post
from sqlalchemy import BigInteger, Column, Engine, Identity, MetaData, Table, Text, insert, text
from uvicorn.supervisors import Multiprocess

from apps.api.app import create_app
from apps.api.state import JOINS, SERVICES, TOKENS
from apps.bootstrap import Services, start
from apps.heap import freeze_startup_heap
from apps.settings import load_settings
from fantasy_core.accounts import Account
from fantasy_core.contest import ContestTerms
from fantasy_core.entry_limits import MaxEntries
from fantasy_core.errors import InvalidLineup
from fantasy_core.lineups import Lineup, PlayerPool, Position, sport_template, validate_lineup
from fantasy_core.money import Money
from fantasy_core.payouts import paid_places_for, top_heavy
from fantasy_core.scoring import preset
from fantasy_core.usecases.contests import create_contest

SLATE = "nfl-2025-reg-wk01"
PASSWORD = "benchmark-password"
SLOTS = ("QB", "RB", "RB", "WR", "WR", "WR", "TE", "FLEX", "DST")

_floor_metadata = MetaData()
bench_floor = Table(
    "bench_floor",
    _floor_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("client_key", Text, nullable=False),
)


def valid_lineups(pool: PlayerPool, count: int, seed: int) -> list[Lineup]:
    """`count` distinct lineups that pass the DraftKings classic rules (salary cap included)."""
    template = sport_template("draftkings_nfl_classic")
    rng = random.Random(seed)
    by_position: dict[Position, list[str]] = {}
    for player in sorted(pool.players.values(), key=lambda p: p.salary):
        by_position.setdefault(player.position, []).append(player.player_id)
    # The cheaper half of each position keeps most random lineups under the cap.
    cheap = {pos: ids[: max(3, len(ids) // 2)] for pos, ids in by_position.items()}
    flex = cheap[Position.RB] + cheap[Position.WR] + cheap[Position.TE]
    found: dict[tuple[tuple[str, str], ...], Lineup] = {}
    while len(found) < count:
        picks = [
            rng.choice(cheap[Position.QB]),
            *rng.sample(cheap[Position.RB], 2),
            *rng.sample(cheap[Position.WR], 3),
            rng.choice(cheap[Position.TE]),
            rng.choice(flex),
            rng.choice(cheap[Position.DST]),
        ]
        lineup = Lineup(tuple(zip(SLOTS, picks, strict=True)))
        try:
            validate_lineup(template, pool, lineup)
        except InvalidLineup:
            continue
        found[lineup.picks] = lineup
    return list(found.values())


def contest_terms(pool: PlayerPool, name: str, capacity: int, lock_in: timedelta, now: Any) -> Any:
    return ContestTerms(
        name=name,
        sport_template="draftkings_nfl_classic",
        pool=pool,
        lock_at=now + lock_in,
        entry_fee=Money(1_000, "usd"),
        capacity=capacity,
        entry_limit=MaxEntries(150),
        rules=preset("draftkings_nfl_classic"),
        payout=top_heavy(paid_places_for(capacity, 2_000)),
        rake_bps=1_000,
    )


def prepare(services: Services, players: int, fill_capacity: int, lobby: int) -> dict[str, Any]:
    """The contests and players of the benchmark, as the load generator needs them:
    a contest of a million seats, `lobby` more like it, and one of `fill_capacity` seats."""
    platform = services.platform
    now = platform.clock.now()
    pool = platform.feed.player_pool(SLATE)
    big, *others = (
        create_contest(
            platform,
            contest_terms(pool, f"Benchmark Million {n}", 1_000_000, timedelta(days=2), now),
            actor="bench",
        )
        for n in range(1 + lobby)
    )
    small = create_contest(
        platform,
        contest_terms(pool, "Benchmark filling up", fill_capacity, timedelta(days=2), now),
        actor="bench",
    )
    accounts: list[Account] = [
        services.accounts.register_player(
            platform, f"player{n}@bench.example", PASSWORD, date(1990, 5, 17), "NJ"
        )
        for n in range(players)
    ]
    lineups = valid_lineups(pool, 64, seed=7)
    template = sport_template("draftkings_nfl_classic")
    analyze(services)
    return {
        # The slate and its rules, for bench/lean_join_server.py's lineup check.
        "pool": [
            {
                "player_id": p.player_id,
                "position": p.position.value,
                "team": p.team,
                "game_id": p.game_id,
                "salary": p.salary,
            }
            for p in pool.players.values()
        ],
        "template": {
            "slots": [
                {"name": s.name, "eligible": sorted(e.value for e in s.eligible)}
                for s in template.slots
            ],
            "salary_cap": template.salary_cap,
            "min_teams": template.min_teams,
            "min_games": template.min_games,
        },
        "big": big.contest_id,
        "lobby": [big.contest_id] + [c.contest_id for c in others],
        "small": small.contest_id,
        "small_capacity": fill_capacity,
        "accounts": accounts,
        "bodies": [
            json.dumps(
                {
                    "lineup": [{"slot": s, "player_id": p} for s, p in lineup.picks],
                    "payment_method": "pm_card_visa",
                },
                separators=(",", ":"),
            )
            for lineup in lineups
        ],
    }


def analyze(services: Services) -> None:
    """On PostgreSQL, the planner's statistics of what `prepare` just wrote, as pgbench
    vacuums before it measures. A deployment's autovacuum keeps them; this machine's server
    runs without it, and without them the players' lookups by id (the token check, the
    players' locks) scanned all 2,048 rows, 0.2 ms a lookup, where the key's index takes
    0.02 (docs/performance.md, 2026-12-05)."""
    engine = services.engine
    if engine is not None and engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))


def bench_settings(database_url: str, overrides: dict[str, str]) -> dict[str, str]:
    """The app's settings (FANTASY_*), the same in every process of the server."""
    return {
        "FANTASY_ENV": "test",
        "FANTASY_DATABASE_URL": database_url,
        "FANTASY_DATABASE_AUTO_UPGRADE": "true",
        "FANTASY_TOKEN_SECRET": "benchmark-secret-benchmark-secret-0123456789",
        "FANTASY_TOKEN_TTL_MINUTES": "600",
        # The lineups quota is per player (apps.api.quota) and in the path at its
        # default: 2,048 players at this load stay far below it. Logins are not part
        # of the load (the tokens are issued here).
        "FANTASY_LOGIN_RATE_PER_MINUTE": "off",
        **overrides,
    }


def with_bench_routes(app: Litestar, engine: Engine) -> Litestar:
    """`app` plus the benchmark's own routes: the floor through our stack, and the
    process's batch counters."""

    @post("/bench/floor", status_code=201, sync_to_thread=True, exclude_from_auth=True)
    def floor(data: dict[str, str]) -> dict[str, int]:
        """The floor: one INSERT in its own transaction, through the same server stack
        (no token check: the trivial endpoint the issue measured)."""
        with engine.begin() as conn:
            row = conn.execute(
                insert(bench_floor)
                .values(client_key=data.get("key", ""))
                .returning(bench_floor.c.id)
            ).scalar_one()
        return {"id": int(row)}

    @get("/bench/batches", sync_to_thread=False, exclude_from_auth=True)
    def batches() -> dict[str, float]:
        """How many join batches ran in this process, how many joins they held (the mean
        batch size) and the seconds the join lanes spent running them (how busy the lanes
        were); with several processes, one process's figures. With the lane process, its
        child's batches (the API process only hands the joins on)."""
        lane = app.state[SERVICES].lane
        if lane is not None:
            return {"batches": lane.batches, "joins": lane.joins, "busy": lane.busy_seconds}
        joins = app.state[JOINS]
        return {"batches": joins.batches, "joins": joins.items, "busy": joins.busy_seconds}

    app.register(floor)
    app.register(batches)
    return app


def process_app() -> Litestar:
    """One of `--processes N`'s apps, from the environment the first process set (as
    `fantasy serve --workers N` builds its own, apps.api.processes)."""
    settings = load_settings()
    app = create_app(settings)
    engine = app.state[SERVICES].engine
    freeze_startup_heap()
    return with_bench_routes(app, engine)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--info", type=Path, required=True)
    # Enough that none reaches the entry limit (150) in the big contest during a full run.
    parser.add_argument("--players", type=int, default=2048)
    parser.add_argument("--fill-capacity", type=int, default=500)
    parser.add_argument("--lobby", type=int, default=7, help="more contests of a million seats")
    parser.add_argument("--processes", type=int, default=1, help="API processes on the port")
    parser.add_argument(
        "--setting", action="append", default=[], metavar="FANTASY_NAME=VALUE",
        help="a setting of the app's own (bench/join_overload.py bounds the batches)",
    )  # fmt: skip
    args = parser.parse_args()
    overrides = dict(item.split("=", 1) for item in args.setting)
    environ = bench_settings(args.database_url, overrides)
    settings = load_settings(environ)
    with start(settings) as services:
        engine = services.engine
        if engine is None:
            raise SystemExit("the benchmark needs a SQL database")
        _floor_metadata.create_all(engine)
        info = prepare(services, args.players, args.fill_capacity, args.lobby)
        app = with_bench_routes(create_app(settings, services=services), engine)
        tokens = app.state[TOKENS]
        accounts: list[Account] = info.pop("accounts")
        info["tokens"] = [tokens.issue(account) for account in accounts]
        info["port"] = args.port
        info["processes"] = args.processes
        args.info.write_text(json.dumps(info))
        if args.processes == 1:
            freeze_startup_heap()  # as `fantasy serve` does
            uvicorn.run(app, host="127.0.0.1", port=args.port, log_config=None, access_log=False)
            return
    # Several processes, as `fantasy serve --workers N` runs them (apps.serving): each
    # builds its app from the environment; the data and tokens made above are shared
    # through the database and the token secret.
    os.environ.update(environ)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    config = uvicorn.Config(
        "join_server:process_app", factory=True, host="127.0.0.1", port=args.port,
        workers=args.processes, log_config=None, access_log=False,
    )  # fmt: skip
    Multiprocess(config, sockets=[config.bind_socket()]).run()


if __name__ == "__main__":
    main()
