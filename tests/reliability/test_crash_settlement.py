"""The worker killed while it settles and pays: no settlement half written, no prize paid twice."""

from __future__ import annotations

from pathlib import Path

from campaign_crash_settlement import CrashSettlementConfig, run_campaign


def test_the_worker_killed_while_settling_leaves_no_settlement_half_done(
    postgres_base_url: str, localstripe_url: str, tmp_path: Path
) -> None:
    config = CrashSettlementConfig()
    report = run_campaign(config, postgres_base_url, localstripe_url, tmp_path)

    assert report.ok, report.describe_failure()
    assert report.faults["SIGKILL of the worker inside the settlement transaction"] == 2
    assert report.faults["SIGKILL of the worker just after the settlement committed"] == 1
    assert report.faults["SIGKILL of the worker during payouts"] == 1
    assert report.figures["kills checked for a half-written settlement"] == 4
    assert report.figures["half-written settlements seen"] == 0
    assert report.figures["transfers"] == report.figures["prizes"] > 0
    assert report.figures["duplicate transfers"] == 0
    assert report.figures["settlements recorded"] == 1
