"""Webhooks, full size: duplicated, shuffled, hours-late, forged and replayed Stripe events.

Usage: uv run python bench/reliability/webhooks.py [--per-group 20] [--seed N]
Through the API's webhook route (the real app on SQLite). Exit 0 when each valid
event was applied once and every invalid delivery refused (4xx) and logged. See
tests/reliability/campaign_webhooks.py.
"""

from __future__ import annotations

import argparse
import sys

from common import add_common_options, finish, workdir  # first: puts tests/ on the path

# isort: split
from campaign_webhooks import WebhooksConfig, run_campaign


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-group", type=int, default=20)
    add_common_options(parser)
    args = parser.parse_args()
    config = WebhooksConfig(per_group=args.per_group, invalid_per_phase=40, seed=args.seed)
    with workdir("webhooks") as directory:
        report = run_campaign(config, directory, mode="full")
    return finish(report, directory)


if __name__ == "__main__":
    sys.exit(main())
