"""Crash during payouts, full size: the worker SIGKILLed at random while paying, then restarted.

Usage: uv run python bench/reliability/crash_payouts.py [--kills 50] [--prizes 250]
                                                         [--kills-per-run 5] [--seed N]
Each run pays a contest of --prizes winners through the real `fantasy worker` on
PostgreSQL and the Stripe emulator, killing it --kills-per-run times; runs repeat
until --kills kills. Exit 0 when every winner was paid exactly once (counted on the
emulator), every contest PAID and the ledger verifies. See
tests/reliability/campaign_crash_payouts.py.
"""

from __future__ import annotations

import argparse
import math
import sys

from common import (  # first: puts tests/ on the import path
    add_common_options,
    emulator,
    finish,
    workdir,
)

# isort: split
from campaign_crash_payouts import CrashPayoutsConfig, run_campaign


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--kills-per-run", type=int, default=5)
    parser.add_argument("--prizes", type=int, default=250)
    add_common_options(parser)
    args = parser.parse_args()
    config = CrashPayoutsConfig(
        runs=math.ceil(args.kills / args.kills_per_run),
        kills_per_run=args.kills_per_run,
        prizes=args.prizes,
        seed=args.seed,
    )
    with workdir("crash_payouts") as directory, emulator(directory) as stripe_url:
        report = run_campaign(config, args.postgres_url, stripe_url, directory, mode="full")
    return finish(report, directory)


if __name__ == "__main__":
    sys.exit(main())
