"""Crash during settlement, full size: the worker SIGKILLed while settling, then restarted.

Usage: uv run python bench/reliability/crash_settlement.py [--runs 4] [--entries 20000]
           [--prizes 250] [--settle-kills-per-run 4] [--pay-kills-per-run 3] [--seed N]
Each run settles a contest of --entries entries through the real `fantasy worker`,
killing it inside the settlement transaction, just after its commit and while it pays
the --prizes winners; on PostgreSQL and the Stripe emulator. Exit 0 when no
settlement was ever seen half-written, every winner was paid exactly once (counted
on the emulator) and the ledger verifies. See
tests/reliability/campaign_crash_settlement.py.
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
from campaign_crash_settlement import CrashSettlementConfig, run_campaign


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--prizes", type=int, default=250)
    parser.add_argument("--settle-kills-per-run", type=int, default=4)
    parser.add_argument("--pay-kills-per-run", type=int, default=3)
    add_common_options(parser)
    args = parser.parse_args()
    config = CrashSettlementConfig(
        runs=args.runs,
        entries=args.entries,
        prizes=args.prizes,
        settle_kills_per_run=args.settle_kills_per_run,
        pay_kills_per_run=args.pay_kills_per_run,
        seed=args.seed,
    )
    with workdir("crash_settlement") as directory, emulator(directory) as stripe_url:
        report = run_campaign(config, args.postgres_url, stripe_url, directory, mode="full")
    return finish(report, directory)


if __name__ == "__main__":
    sys.exit(main())
