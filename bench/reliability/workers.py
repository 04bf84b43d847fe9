"""Several workers at once, full size: four worker processes run a week's contests together.

Usage: uv run python bench/reliability/workers.py [--workers 4] [--short] [--seed N]
Eleven contests of every template on the real 2025 week-1 slate (a few hundred
entries), joined up front; four worker processes on one PostgreSQL and the Stripe
emulator, on a shared clock moved through the week. Exit 0 when every transition,
payout and refund happened exactly once (audit trail and emulator) and the ledger
verifies. See tests/reliability/campaign_workers.py.
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta

from common import (  # first: puts tests/ on the import path
    add_common_options,
    emulator,
    finish,
    workdir,
)

# isort: split
from campaign_workers import FULL_PLAN, SHORT_PLAN, WorkersConfig, run_campaign


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--short", action="store_true", help="the CI-sized plan")
    add_common_options(parser)
    args = parser.parse_args()
    config = WorkersConfig(
        plan=SHORT_PLAN if args.short else FULL_PLAN,
        workers=args.workers,
        step=timedelta(hours=3) if args.short else timedelta(hours=1),
        seed=args.seed,
    )
    mode = "short" if args.short else "full"
    with workdir("workers") as directory, emulator(directory) as stripe_url:
        report = run_campaign(config, args.postgres_url, stripe_url, directory, mode=mode)
    return finish(report, directory)


if __name__ == "__main__":
    sys.exit(main())
