"""The worker SIGKILLed while delivering alerts, full size.

Usage: uv run python bench/reliability/alert_delivery.py [--alerts 90] [--kills 40] [--seed N]
Alerts raised, acknowledged and resolved; a worker process delivering their notices to
a webhook, a PagerDuty-shaped receiver and an SMTP server on 127.0.0.1 killed with
SIGKILL at random moments. Exit 0 when every notice arrived, repeats (by id) stayed
within one per kill, and each incident's changes arrived in order.
See tests/reliability/campaign_alert_delivery.py.
"""

from __future__ import annotations

import argparse
import sys

from common import add_common_options, finish, workdir  # first: puts tests/ on the import path

# isort: split
from campaign_alert_delivery import AlertDeliveryConfig, run_campaign


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=90)
    parser.add_argument("--kills", type=int, default=40)
    add_common_options(parser)
    args = parser.parse_args()
    config = AlertDeliveryConfig(alerts=args.alerts, kills=args.kills, seed=args.seed)
    with workdir("alert_delivery") as directory:
        report = run_campaign(config, args.postgres_url, directory, mode="full")
    return finish(report, directory)


if __name__ == "__main__":
    sys.exit(main())
