"""The calendar under faults, full size: four workers opening and refilling contests, killed.

Usage: uv run python bench/reliability/calendar_openings.py [--workers 4] [--short] [--seed N]
Four worker processes on one PostgreSQL run a calendar of their own over the replayed 2025
season while the clock moves through two weeks of opening windows, head-to-heads fill and
a random worker is SIGKILLed every round. Exit 0 when every calendar key due opened exactly
once, with its contest and its audit, and no seat was lost. See
tests/reliability/campaign_calendar.py.
"""

from __future__ import annotations

import argparse
import sys

from common import add_common_options, finish, workdir  # first: puts tests/ on the path

# isort: split
from campaign_calendar import CalendarCampaignConfig, run_campaign

FULL = CalendarCampaignConfig(rounds=30, fills_per_round=3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--short", action="store_true", help="the CI-sized campaign")
    add_common_options(parser)
    args = parser.parse_args()
    base = CalendarCampaignConfig() if args.short else FULL
    config = CalendarCampaignConfig(
        workers=args.workers,
        rounds=base.rounds,
        step=base.step,
        fills_per_round=base.fills_per_round,
        seed=args.seed,
    )
    mode = "short" if args.short else "full"
    with workdir("calendar") as directory:
        report = run_campaign(config, args.postgres_url, directory, mode=mode)
    return finish(report, directory)


if __name__ == "__main__":
    sys.exit(main())
