"""Benchmark: one stat update applied to the leaderboard of a 1,000,000-entry contest.

Usage: uv run python bench/live_scoring.py [--entries N] [--held-by-bps B] [--repeat R]
The updated player is held by B basis points of the entries (default 1000: 10%);
only those entries are rescored. Prints one JSON line per update, with the time
to apply it and the time to read the first page of the new standings.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from fractions import Fraction

from fantasy_core.leaderboard import Leaderboard

PLAYERS = 400
LINEUP_SIZE = 9
STAR = "p000"


def build(entries: int, held_by_bps: int, seed: int) -> Leaderboard:
    rng = random.Random(seed)
    others = [f"p{i:03d}" for i in range(1, PLAYERS)]
    points = {p: Fraction(rng.randint(0, 3000), 100) for p in others}
    points[STAR] = Fraction(0)
    lineups: dict[str, tuple[str, ...]] = {}
    for i in range(entries):
        picks = rng.sample(others, LINEUP_SIZE)
        if rng.randrange(10_000) < held_by_bps:
            picks[-1] = STAR
        lineups[f"e{i:07d}"] = tuple(picks)
    return Leaderboard(lineups, points, dict.fromkeys(lineups, "bench-user"))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--held-by-bps", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args()
    board = build(args.entries, args.held_by_bps, args.seed)
    for n in range(args.repeat):
        started = time.perf_counter()
        rescored = board.update(STAR, Fraction(1_000 + 737 * n, 100))
        applied = time.perf_counter() - started
        started = time.perf_counter()
        board.page(0, 50)
        read = time.perf_counter() - started
        print(
            json.dumps(
                {
                    "scenario": "live_scoring_update",
                    "entries": args.entries,
                    "rescored": rescored,
                    "seconds": round(applied, 4),
                    "first_page_seconds": round(read, 4),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
