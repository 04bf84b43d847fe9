"""Four worker processes on one PostgreSQL: each transition and each payout exactly once."""

from __future__ import annotations

from pathlib import Path

from campaign_workers import WorkersConfig, run_campaign


def test_four_workers_run_a_week_of_contests_each_step_and_payout_exactly_once(
    postgres_base_url: str, localstripe_url: str, tmp_path: Path
) -> None:
    report = run_campaign(WorkersConfig(), postgres_base_url, localstripe_url, tmp_path)

    assert report.ok, report.describe_failure()
    assert report.figures["duplicate transitions"] == 0
    assert report.figures["duplicate transfers"] == 0
    assert report.figures["transfers"] == report.figures["payouts"] > 0
    assert report.figures["refunds"] == 3  # the under-filled league's three fees
