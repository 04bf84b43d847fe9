"""Every reliability campaign, then docs/reliability.md written from their figures.

Usage: uv run python bench/reliability/run_all.py [--full] [--only NAME[,NAME...]]
                                                  [--postgres-url URL] [--seed N]
                                                  [--no-doc | --doc-only]

Without --full each campaign runs at its CI size (the same as tests/reliability);
with --full at its full size (50 kills during payouts, thousands of prizes, ...).
PostgreSQL: FANTASY_TEST_POSTGRES_URL (or --postgres-url; each campaign makes and
drops a schema of its own); one Stripe emulator serves them all. Each campaign's
report is saved as var/reliability/<name>.json; the document is written from the
reports of this run (a campaign left out with --only keeps its last saved report);
--doc-only rewrites it from the saved reports without running anything.
Exit 0 when every campaign run held.
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import RESULTS, ROOT, add_common_options, emulator, workdir  # first: sets the path

# isort: split
import campaign_alert_delivery as alert_delivery
import campaign_calendar as calendar_openings
import campaign_crash_joins as crash_joins
import campaign_crash_payouts as crash
import campaign_crash_settlement as crash_settlement
import campaign_hostile_input as hostile
import campaign_lost_replies as replies
import campaign_outages as outages
import campaign_webhooks as webhooks
import campaign_workers as workers
from sqlalchemy import create_engine, text

from support.campaign import CampaignReport

DOC = ROOT / "docs" / "reliability.md"

Runner = Callable[[bool, int, str | None, str, Path], CampaignReport]


def _crash(full: bool, seed: int, pg: str | None, stripe: str, work: Path) -> CampaignReport:
    assert pg is not None
    config = (
        crash.CrashPayoutsConfig(runs=10, kills_per_run=5, prizes=250, seed=seed)
        if full
        else crash.CrashPayoutsConfig(runs=1, kills_per_run=5, prizes=60, seed=seed)
    )
    return crash.run_campaign(config, pg, stripe, work, mode=_mode(full))


def _crash_joins(full: bool, seed: int, pg: str | None, stripe: str, work: Path) -> CampaignReport:
    assert pg is not None
    config = (
        crash_joins.CrashJoinsConfig(runs=4, players=60, api_kills_per_run=5, seed=seed)
        if full
        else crash_joins.CrashJoinsConfig(seed=seed)
    )
    return crash_joins.run_campaign(config, pg, stripe, work, mode=_mode(full))


def _crash_settlement(
    full: bool, seed: int, pg: str | None, stripe: str, work: Path
) -> CampaignReport:
    assert pg is not None
    config = (
        crash_settlement.CrashSettlementConfig(
            runs=4,
            entries=20_000,
            prizes=250,
            settle_kills_per_run=4,
            pay_kills_per_run=3,
            seed=seed,
        )
        if full
        else crash_settlement.CrashSettlementConfig(seed=seed)
    )
    return crash_settlement.run_campaign(config, pg, stripe, work, mode=_mode(full))


def _workers(full: bool, seed: int, pg: str | None, stripe: str, work: Path) -> CampaignReport:
    assert pg is not None
    config = (
        workers.WorkersConfig(plan=workers.FULL_PLAN, step=timedelta(hours=1), seed=seed)
        if full
        else workers.WorkersConfig(seed=seed)
    )
    return workers.run_campaign(config, pg, stripe, work, mode=_mode(full))


def _calendar(full: bool, seed: int, pg: str | None, stripe: str, work: Path) -> CampaignReport:
    assert pg is not None
    config = (
        calendar_openings.CalendarCampaignConfig(rounds=30, fills_per_round=3, seed=seed)
        if full
        else calendar_openings.CalendarCampaignConfig(seed=seed)
    )
    return calendar_openings.run_campaign(config, pg, work, mode=_mode(full))


def _webhooks(full: bool, seed: int, pg: str | None, stripe: str, work: Path) -> CampaignReport:
    config = (
        webhooks.WebhooksConfig(per_group=20, invalid_per_phase=40, seed=seed)
        if full
        else webhooks.WebhooksConfig(seed=seed)
    )
    return webhooks.run_campaign(config, work, mode=_mode(full))


def _hostile(full: bool, seed: int, pg: str | None, stripe: str, work: Path) -> CampaignReport:
    config = (
        hostile.HostileConfig(max_examples=40, phases="examples,coverage,fuzzing", seed=seed)
        if full
        else hostile.HostileConfig(max_examples=3, roles=("player", "operator"), seed=seed)
    )
    return hostile.run_campaign(config, pg, work, mode=_mode(full))


def _replies(full: bool, seed: int, pg: str | None, stripe: str, work: Path) -> CampaignReport:
    config = (
        replies.LostRepliesConfig(players=200, withdrawals=20, seed=seed)
        if full
        else replies.LostRepliesConfig(seed=seed)
    )
    return replies.run_campaign(config, pg, stripe, work, mode=_mode(full))


def _outages(full: bool, seed: int, pg: str | None, stripe: str, work: Path) -> CampaignReport:
    config = outages.OutagesConfig(players=20 if full else 10, seed=seed)
    return outages.run_campaign(config, pg, stripe, work, mode=_mode(full))


def _alert_delivery(
    full: bool, seed: int, pg: str | None, stripe: str, work: Path
) -> CampaignReport:
    assert pg is not None
    config = (
        alert_delivery.AlertDeliveryConfig(alerts=90, kills=40, seed=seed)
        if full
        else alert_delivery.AlertDeliveryConfig(alerts=12, kills=6, seed=seed)
    )
    return alert_delivery.run_campaign(config, pg, work, mode=_mode(full))


# name -> (needs PostgreSQL, runner), in the order of the document
CAMPAIGNS: dict[str, tuple[bool, Runner]] = {
    "crash_payouts": (True, _crash),
    "crash_joins": (True, _crash_joins),
    "crash_settlement": (True, _crash_settlement),
    "workers": (True, _workers),
    "calendar": (True, _calendar),
    "webhooks": (False, _webhooks),
    "hostile_input": (False, _hostile),
    "lost_replies": (False, _replies),
    "outages": (True, _outages),
    "alert_delivery": (True, _alert_delivery),
}


def _mode(full: bool) -> str:
    return "full" if full else "short"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="full size (minutes, not seconds)")
    parser.add_argument("--only", help=f"comma-separated, of: {', '.join(CAMPAIGNS)}")
    parser.add_argument("--no-doc", action="store_true", help="do not write docs/reliability.md")
    parser.add_argument(
        "--doc-only",
        action="store_true",
        help="run nothing: write the document from the saved reports",
    )
    add_common_options(parser)
    args = parser.parse_args()
    chosen = list(CAMPAIGNS) if not args.only else args.only.split(",")
    unknown = [name for name in chosen if name not in CAMPAIGNS]
    if unknown:
        parser.error(f"unknown campaigns: {', '.join(unknown)}")
    if args.doc_only:
        write_document(True)
        print(f"wrote {DOC.relative_to(ROOT)} from {RESULTS.relative_to(ROOT)}/*.json")
        return 0
    postgres = _reachable(args.postgres_url)
    ok = True
    with workdir("run_all") as directory, emulator(directory) as stripe_url:
        for name in chosen:
            needs_pg, runner = CAMPAIGNS[name]
            if needs_pg and postgres is None:
                print(f"{name}: skipped, no PostgreSQL at {args.postgres_url}")
                continue
            print(f"{name}: running ({_mode(args.full)})...", flush=True)
            scratch = directory / name
            scratch.mkdir()
            started = time.monotonic()
            report = runner(args.full, args.seed, postgres, stripe_url, scratch)
            report.save(RESULTS)
            verdict = "held" if report.ok else f"FAILED ({len(report.problems)} problems)"
            print(f"{name}: {verdict} in {time.monotonic() - started:.0f} s: {report.summary}")
            if not report.ok:
                ok = False
                print(report.describe_failure(), file=sys.stderr)
    if not args.no_doc:
        write_document(postgres is not None)
        print(f"wrote {DOC.relative_to(ROOT)}")
    if not ok:
        print(f"logs kept in {directory}", file=sys.stderr)
    return 0 if ok else 1


def _reachable(url: str) -> str | None:
    try:
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as error:
        print(f"PostgreSQL at {url} unreachable: {error}", file=sys.stderr)
        return None
    return url


# ---- the document ----------------------------------------------------------------------------


def write_document(postgres: bool) -> None:
    reports: dict[str, CampaignReport] = {}
    for name in CAMPAIGNS:
        path = RESULTS / f"{name}.json"
        if path.exists():
            report = CampaignReport.load(path)
            if not report.finished:  # saved before reports carried their date
                saved = datetime.fromtimestamp(path.stat().st_mtime, UTC)
                report.finished = f"{saved:%Y-%m-%d %H:%M} UTC"
            reports[name] = report
    DOC.write_text(render(reports, postgres))


def render(reports: dict[str, CampaignReport], postgres: bool) -> str:
    modes = sorted({r.mode for r in reports.values()})
    lines = [
        "# Reliability: faults injected at scale, and what was counted",
        "",
        "Generated by `uv run python bench/reliability/run_all.py"
        f"{' --full' if modes == ['full'] else ''}` on "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC ({_machine()}); do not edit by hand. "
        "Every figure below comes from the campaign runs it names. CI runs the short version "
        "of every "
        "campaign through `pytest tests/reliability`; the code of each campaign is "
        "`tests/reliability/campaign_<name>.py`.",
        "",
        "Money is counted on the Stripe emulator's side (localstripe, extended: "
        "`tests/support/stripe_emulator.py`), not only in our database: a payout "
        "recorded once but transferred twice would pass every check of ours.",
        "",
        "| campaign | size | runs | faults injected | result |",
        "|---|---|---|---|---|",
    ]
    for name in CAMPAIGNS:
        report = reports.get(name)
        if report is None:
            lines.append(f"| {name} | - | - | - | not run |")
            continue
        faults = sum(report.faults.values())
        verdict = "**held**: " if report.ok else "**FAILED**: "
        lines.append(
            f"| {report.title} | {report.mode} | {report.runs} | {faults:,} | "
            f"{verdict}{report.summary} |"
        )
    lines.append("")
    if not postgres:
        lines += ["PostgreSQL was unreachable: the campaigns that need it kept older reports.", ""]
    for name in CAMPAIGNS:
        report = reports.get(name)
        if report is not None:
            lines += _section(report)
    lines += _findings()
    return "\n".join(lines).rstrip() + "\n"


def _section(report: CampaignReport) -> list[str]:
    module = f"tests/reliability/campaign_{report.key}.py"
    lines = [
        f"## {report.title}",
        "",
        f"`{module}`: {report.mode} size, run on {report.finished or 'an unknown date'} in "
        f"{report.seconds:g} s. {report.summary}.",
        "",
        "What was checked:",
        "",
        *[f"- {item}" for item in report.checked],
        "",
        "| faults injected | count |",
        "|---|---|",
        *[f"| {name} | {count:,} |" for name, count in report.faults.items()],
        "",
        "| figure | value |",
        "|---|---|",
        *[f"| {name} | {_figure(value)} |" for name, value in report.figures.items()],
        "",
    ]
    if report.problems:
        lines += ["Problems:", "", *[f"- {p}" for p in report.problems[:30]], ""]
    return lines


def _figure(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _machine() -> str:
    cores = subprocess.run(["nproc"], capture_output=True, text=True, check=False).stdout.strip()
    python = platform.python_version()
    return f"{platform.system()} {platform.machine()}, {cores or '?'} cores, Python {python}"


def _findings() -> list[str]:
    return [
        "## Defects these campaigns found (each fixed, each with the test that failed first)",
        "",
        "- **Payment events lost on a failure part-way** (`fantasy_core/usecases/"
        "payment_events.py`): the event id was marked processed in its own transaction "
        "before the change was made; a database failure or crash in between left it marked "
        'but unapplied, and Stripe\'s redeliveries were answered "seen". A reversed transfer '
        "was lost for good. Now the mark is written with the change (or after an idempotent "
        "one). Test: `tests/reliability/test_payment_events_interrupted.py`.",
        "- **Refunds confirmed twice by racing workers** (`fantasy_core/usecases/refunds.py`):"
        " a worker that read a refund PENDING wrote it back over another's confirmation and "
        "confirmed it again (two audit records; after a crash, a refund re-sent). Now read "
        "again under the contest's lock. Test: `tests/reliability/test_payout_races.py` "
        "(its payout twin guards the payout lock added meanwhile in the storage adapter).",
        "- **Database errors answered 500** (`apps/api/problems.py`): an unreachable "
        "database is now a 503 problem with Retry-After; other database errors stay 500. "
        "Test: `tests/reliability/test_outages.py`.",
        "- **NUL characters answered 500 on PostgreSQL** (ids, reasons, emails, lineups): "
        "PostgreSQL cannot store them; **repeated JSON keys accepted** (the last one won: a "
        "proxy checking the first would see another payment method than the one charged); "
        "**JSON nested 100,000 deep answered 500**. All are now a 400 before any handler "
        "runs (`apps/api/hygiene.py`). Test: `tests/reliability/test_hostile_input.py`.",
        "- **OPTIONS on operator routes answered 500** (`apps/api/auth.py`: the guards read "
        "a user the auth middleware never sets for OPTIONS). Now 401.",
        "- **The OpenAPI document did not describe the API**: no 401/403/404/409/422/503, "
        "400s documented in the framework's shape instead of our problem+json, every route "
        "marked as needing a token (public ones included), the Stripe-Signature header "
        "missing. Each route now documents its problems and its security.",
        "- **Signed webhooks that are not events were refused silently** "
        "(`adapters/stripe_gateway/webhooks.py`): every refusal is now logged. Test: "
        "`tests/reliability/test_webhooks.py`.",
        "",
        "What the campaigns do not cover yet, and why the code changed as it did: "
        "[decision 0010](decisions/0010-reliability-campaigns.md).",
        "",
    ]


if __name__ == "__main__":
    sys.exit(main())
