"""What the two crash campaigns share: their pace, and the ledger check that ends each one.

tests/reliability/campaign_crash_joins.py SIGKILLs the API during a burst of joins,
campaign_crash_settlement.py the worker while it settles; both poll the processes
and the database at the same pace, give every wait the same time, run the worker
at the same interval, and end by verifying the ledger of their own schema.
"""

from __future__ import annotations

from fantasy_core.usecases.reports import verify_ledger
from support.campaign import CampaignReport
from support.sql_world import SqlWorld

POLL_SECONDS = 0.002
RUN_TIMEOUT_SECONDS = 180.0
WORKER_INTERVAL = 0.2
LEDGER_CHECKED = "ledger verifies (every posting set balanced, closed contests conserved)"


def ledger_verifies(url: str, report: CampaignReport) -> bool:
    """Verify the ledger of the schema at `url`, recording a problem if it does not hold."""
    world = SqlWorld(url)
    try:
        ledger = verify_ledger(world.p)
    finally:
        world.close()
    report.check(ledger.ok, f"the ledger does not verify: {ledger}")
    report.count("closed contests conserved", sum(1 for c in ledger.closed_contests if c.conserved))
    return ledger.ok
