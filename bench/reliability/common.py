"""What every reliability script shares: import paths, the PostgreSQL server, the emulator.

The campaigns live in tests/reliability/ (their short versions run in CI through
pytest); these scripts run the same code at full size. PostgreSQL: the server of
FANTASY_TEST_POSTGRES_URL (or --postgres-url); each campaign works in a schema of
its own, dropped at the end. Results: one JSON file per campaign in
var/reliability/ (read by run_all.py to write docs/reliability.md).
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "var" / "reliability"
for path in (ROOT / "tests", ROOT / "tests" / "reliability"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from support.campaign import CampaignReport  # noqa: E402
from support.postgres_schema import (  # noqa: E402
    POSTGRES_URL_VARIABLE,
    postgres_url_from_environment,
)
from support.stripe_emulator_fixture import running_emulator  # noqa: E402

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def add_common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--postgres-url",
        default=postgres_url_from_environment() or DEFAULT_POSTGRES_URL,
        help=f"the server (default ${POSTGRES_URL_VARIABLE}, else {DEFAULT_POSTGRES_URL})",
    )
    parser.add_argument("--seed", type=int, default=2025)


@contextmanager
def workdir(key: str) -> Iterator[Path]:
    """A scratch directory for logs and clock files; kept (its path printed) if the run fails."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=f"{key}-", dir=RESULTS))
    log_to_file(path)
    yield path


def log_to_file(directory: Path) -> Path:
    """The platform's own log lines (warnings about every retried request...) go to a file."""
    path = directory / "fantasy.log"
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logger = logging.getLogger("fantasy")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return path


@contextmanager
def emulator(directory: Path) -> Iterator[str]:
    with running_emulator(directory / "stripe-emulator.log") as url:
        yield url


def finish(report: CampaignReport, directory: Path) -> int:
    """Save the report, print it, and the exit code: 0 when every check held."""
    saved = report.save(RESULTS)
    print(report.summary)
    for name, value in report.figures.items():
        print(f"  {name}: {value}")
    for name, value in report.faults.items():
        print(f"  fault: {name}: {value}")
    if not report.ok:
        print(report.describe_failure(), file=sys.stderr)
        print(f"logs kept in {directory}", file=sys.stderr)
        return 1
    print(f"report: {saved} ({report.seconds} s)")
    _remove(directory)
    return 0


def _remove(directory: Path) -> None:
    for child in sorted(directory.rglob("*"), reverse=True):
        if child.is_dir():
            child.rmdir()
        else:
            child.unlink()
    directory.rmdir()
