"""Benchmark: payouts per second against a gateway that refuses writes beyond 100 a second.

Usage: uv run python bench/payouts_rate_limited.py [--payouts N] [--limit L] [--repeat R]
           [--postgres-url URL]

A contest of 5N entries is settled on PostgreSQL (bench/settle_db.py's setup), which
writes N payouts, and every winner gets a payout account. Then the timed part: the real
use case `execute_payouts` sends them all through the real Stripe adapter
(StripeGateway, with its own retries of 429s) to bench/rate_limited_stripe.py, a local
stand-in for Stripe's transfers API in another process that answers 429 to any write
beyond L (default 100) in one second, as Stripe does in live mode.

Figures: payouts confirmed per second and their ratio to the limit (goal >= 0.9), the
429s the stand-in answered, and how many payouts were left unconfirmed (goal 0: every
refusal absorbed by the retries). The gateway paces its requests as production does
(FANTASY_STRIPE_REQUESTS_PER_SECOND, 95% of the limit) and the worker sends 4 payouts
at once (FANTASY_PAYOUT_SENDERS); --unpaced sends one at a time, unpaced, as before.
Prints one JSON line per run and one with the medians.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import attrs
import httpx
from sqlalchemy import func, select

from adapters.location import DeclaredLocation
from adapters.sqlalchemy import tables as t
from adapters.stripe_gateway import StripeGateway
from apps.settings import PRODUCTION_PAYOUT_SENDERS, STRIPE_LIVE_PACE
from fantasy_core.payments import PayoutStatus
from fantasy_core.payout_accounts import PayoutAccount
from fantasy_core.platform import Protection
from fantasy_core.protection.rules import JurisdictionRules
from fantasy_core.usecases.paying import execute_payouts
from harness import emit, free_port, median, postgres_url_for
from settle_db import prepare, settle_once

BENCH = Path(__file__).resolve().parent


def start_stub(port: int, limit: int) -> subprocess.Popen[bytes]:
    stub = subprocess.Popen(
        [sys.executable, str(BENCH / "rate_limited_stripe.py"), "--port", str(port),
         "--limit", str(limit)],
    )  # fmt: skip
    for _ in range(100):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/stats", timeout=1).status_code == 200:
                return stub
        except httpx.TransportError:
            time.sleep(0.1)
    stub.terminate()
    raise SystemExit("the Stripe stand-in did not start")


def run(
    payouts: int, limit: int, pg_url: str | None, paced: bool = True, protected: bool = False
) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="payouts-bench-") as scratch:
        url = postgres_url_for("payouts", pg_url)
        ready = prepare("postgresql", payouts * 5, Path(scratch), url)
        port = free_port()
        stub = start_stub(port, limit)
        try:
            settle_once(ready)
            with ready.platform.uow() as uow:
                for user in sorted({row[2] for row in ready.rows}):
                    uow.accounts.save(PayoutAccount.enabled(user, "acct_" + user.replace("-", "_")))
                uow.commit()
            # Paced as production paces Stripe's 100 a second (apps.settings), scaled.
            gateway = StripeGateway.for_environment(
                "sk_test_benchmark",
                "test",
                base_url=f"http://127.0.0.1:{port}",
                requests_per_second=limit * STRIPE_LIVE_PACE / 100 if paced else None,
            )
            senders = PRODUCTION_PAYOUT_SENDERS if paced else 1
            platform = attrs.evolve(ready.platform, gateway=gateway, payout_senders=senders)
            if protected:  # as the apps run: each first send decides its backup withholding
                platform = attrs.evolve(
                    platform, protection=Protection(JurisdictionRules(), DeclaredLocation())
                )
            started = time.perf_counter()
            confirmed = execute_payouts(platform)
            seconds = time.perf_counter() - started
            stats = httpx.get(f"http://127.0.0.1:{port}/stats").json()
            with ready.engine.connect() as conn:
                total = conn.execute(select(func.count()).select_from(t.payouts)).scalar_one()
                left = conn.execute(
                    select(func.count())
                    .select_from(t.payouts)
                    .where(t.payouts.c.status != PayoutStatus.CONFIRMED.value)
                ).scalar_one()
        finally:
            stub.terminate()
            stub.wait(10)
            ready.close()
    rate = confirmed / seconds
    return {
        "scenario": ("payouts_rate_limited" if paced else "payouts_rate_limited_unpaced")
        + ("_protected" if protected else ""),
        "payouts": int(total),
        "limit_per_second": limit,
        "seconds": round(seconds, 3),
        "payouts_per_second": round(rate, 1),
        "ratio": round(rate / limit, 3),
        "refused_429": stats["refused"],
        "left_unconfirmed": int(left),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--payouts", type=int, default=1_500)
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--postgres-url", default=None)
    parser.add_argument("--unpaced", action="store_true", help="send as fast as the worker can")
    parser.add_argument(
        "--protected",
        action="store_true",
        help="run player protection as the apps do (backup withholding decided per payout; "
        "default: off, as before)",
    )
    args = parser.parse_args()
    runs = [
        emit(
            run(
                args.payouts,
                args.limit,
                args.postgres_url,
                paced=not args.unpaced,
                protected=args.protected,
            )
        )
        for _ in range(args.repeat)
    ]
    if len(runs) > 1:
        summary = dict(runs[0])
        for key in ("seconds", "payouts_per_second", "ratio"):
            summary[key] = median(float(str(r[key])) for r in runs)
        summary["runs"] = len(runs)
        emit(summary)


if __name__ == "__main__":
    main()
