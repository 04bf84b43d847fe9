"""Crash during joins, full size: the API SIGKILLed during a burst of joins, then restarted.

Usage: uv run python bench/reliability/crash_joins.py [--runs 4] [--players 60]
           [--api-kills-per-run 5] [--seed N]
Each run kills the real API (`fantasy serve`) --api-kills-per-run times during a burst
of joins by --players client threads, on PostgreSQL and the Stripe emulator. Exit 0
when no charge is left without an active entry or a refund (counted on the emulator)
and the ledger verifies. See tests/reliability/campaign_crash_joins.py.
"""

from __future__ import annotations

import argparse
import sys

from common import (  # first: puts tests/ on the import path
    add_common_options,
    emulator,
    finish,
    workdir,
)

# isort: split
from campaign_crash_joins import CrashJoinsConfig, run_campaign


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--players", type=int, default=60)
    parser.add_argument("--api-kills-per-run", type=int, default=5)
    add_common_options(parser)
    args = parser.parse_args()
    config = CrashJoinsConfig(
        runs=args.runs,
        players=args.players,
        api_kills_per_run=args.api_kills_per_run,
        seed=args.seed,
    )
    with workdir("crash_joins") as directory, emulator(directory) as stripe_url:
        report = run_campaign(config, args.postgres_url, stripe_url, directory, mode="full")
    return finish(report, directory)


if __name__ == "__main__":
    sys.exit(main())
