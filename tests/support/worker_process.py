"""A lifecycle worker process for reliability campaigns: `fantasy worker` with a shared clock.

    python -m support.worker_process --clock-file PATH [--interval S] [--max-backoff S]

Configured like `fantasy worker`, from the FANTASY_* environment (database, Stripe
key and base URL, feed), and wired by the same `apps.bootstrap.start`; the only
difference is the clock, read from a file the campaign advances (support.shared_clock),
and a shorter backoff cap so that an outage ends in seconds, not a minute.
Stops after the current pass on SIGTERM, like the real one.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from apps.bootstrap import start
from apps.logs import configure_logging
from apps.settings import load_settings
from apps.worker import Worker
from support.shared_clock import FileClock


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clock-file", type=Path, required=True)
    parser.add_argument("--interval", type=float, default=0.2)
    parser.add_argument("--max-backoff", type=float, default=2.0)
    args = parser.parse_args()
    configure_logging()
    settings = load_settings()
    with start(settings, clock=FileClock(args.clock_file)) as services:
        worker = Worker(services.platform, args.interval, max_backoff=args.max_backoff)
        worker.install_signal_handlers()
        worker.run()


if __name__ == "__main__":
    main()
