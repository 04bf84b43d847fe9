"""Benchmark: settle a contest of N entries in the core alone (score, rank, pay out).

Usage: uv run python bench/settle.py [--entries N] [--repeat R]
Prints one JSON line per run: {"scenario": "settle_core", "entries": N, "seconds": s}.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from fractions import Fraction

from fantasy_core.payouts import paid_places_for, top_heavy
from fantasy_core.scoring import preset
from fantasy_core.settlement import prize_pool, settle_entries

POOL_PLAYERS = 400
LINEUP_SIZE = 9
PAID_SHARE_BPS = 2_000
FEE = 1_000
RAKE_BPS = 1_000


def make_contest(
    entries: int, seed: int
) -> tuple[dict[str, tuple[str, ...]], dict[str, dict[str, Fraction]]]:
    rng = random.Random(seed)
    players = [f"p{i:03d}" for i in range(POOL_PLAYERS)]
    stat_lines = {
        p: {
            "passing_yards": Fraction(rng.randint(0, 400)),
            "rushing_yards": Fraction(rng.randint(-10, 150)),
            "receiving_yards": Fraction(rng.randint(0, 180)),
            "receptions": Fraction(rng.randint(0, 12)),
            "rushing_tds": Fraction(rng.randint(0, 2)),
            "passing_interceptions": Fraction(rng.randint(0, 2)),
        }
        for p in players
    }
    lineups = {f"e{i:07d}": tuple(rng.sample(players, LINEUP_SIZE)) for i in range(entries)}
    return lineups, stat_lines


def run(entries: int, seed: int) -> dict[str, object]:
    lineups, stat_lines = make_contest(entries, seed)
    rules = preset("draftkings_nfl_classic")
    started = time.perf_counter()
    points = {player: rules.score(line) for player, line in stat_lines.items()}
    pool = prize_pool(entries * FEE, RAKE_BPS, guaranteed=None, entries=entries)
    table = top_heavy(paid_places_for(entries, PAID_SHARE_BPS))
    standings = settle_entries(lineups, points, table, pool.pool, FEE)
    seconds = time.perf_counter() - started
    if standings.total_prizes != pool.pool:
        raise SystemExit(f"paid {standings.total_prizes} of a pool of {pool.pool}")
    return {"scenario": "settle_core", "entries": entries, "seconds": round(seconds, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args()
    for _ in range(args.repeat):
        print(json.dumps(run(args.entries, args.seed)), flush=True)


if __name__ == "__main__":
    main()
