"""The API killed during a burst of joins: no charge left without an entry or a refund."""

from __future__ import annotations

from pathlib import Path

from campaign_crash_joins import CrashJoinsConfig, run_campaign


def test_the_api_killed_while_joining_leaves_no_charge_half_done(
    postgres_base_url: str, localstripe_url: str, tmp_path: Path
) -> None:
    config = CrashJoinsConfig()
    report = run_campaign(config, postgres_base_url, localstripe_url, tmp_path)

    assert report.ok, report.describe_failure()
    assert report.faults["SIGKILL of the API during a burst of joins"] == 3
    assert report.figures["double charges"] == 0
    assert report.figures["charges without an entry or a refund"] == 0
