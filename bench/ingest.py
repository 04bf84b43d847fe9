"""Benchmark: ingest a full NFL week of real data and rescore a 100,000-entry contest, in the core.

Usage: uv run python bench/ingest.py [--entries N] [--repeat R]
Times, from a week-1 snapshot of the replay feed already fetched: validation
against the previous snapshot, the canonical SHA-256, scoring every stat line,
and scoring plus ranking every entry. Prints one JSON line per run.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from datetime import UTC, datetime, timedelta

from adapters.feeds.replay import ReplayFeed
from fantasy_core.payouts import paid_places_for, top_heavy
from fantasy_core.scoring import preset
from fantasy_core.settlement import settle_entries
from fantasy_core.stats import validate_snapshot

SLATE = "nfl-2025-reg-wk01"


def run(entries: int, seed: int) -> dict[str, object]:
    now = datetime(2025, 9, 9, 12, tzinfo=UTC)
    feed = ReplayFeed.recorded(lambda: now)
    final = feed.snapshot(SLATE)
    earlier = ReplayFeed.recorded(lambda: now - timedelta(days=2, hours=3)).snapshot(SLATE)
    pool = [p.player_id for p in feed.player_pool(SLATE).players.values()]
    rng = random.Random(seed)
    lineups = {f"e{i:07d}": tuple(rng.sample(pool, 9)) for i in range(entries)}
    rules = preset("draftkings_nfl_classic")
    started = time.perf_counter()
    problems = validate_snapshot(final, earlier)
    digest = final.sha256()
    points = {player: rules.score(line) for player, line in final.lines_by_player().items()}
    standings = settle_entries(
        lineups, points, top_heavy(paid_places_for(entries, 2_000)), entries * 900, 1_000
    )
    seconds = time.perf_counter() - started
    if problems or not digest or len(standings) != entries:
        raise SystemExit(f"the benchmark's own data is wrong: {problems[:3]}")
    return {
        "scenario": "ingest_and_rescore_core",
        "lines": len(final.lines),
        "entries": entries,
        "seconds": round(seconds, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args()
    for _ in range(args.repeat):
        print(json.dumps(run(args.entries, args.seed)), flush=True)


if __name__ == "__main__":
    main()
