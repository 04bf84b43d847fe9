"""The worker SIGKILLed while delivering alerts: every notice arrives, repeats only by id."""

from __future__ import annotations

from pathlib import Path

from campaign_alert_delivery import AlertDeliveryConfig, run_campaign


def test_a_worker_killed_while_delivering_loses_no_notice_and_repeats_at_most_one_per_kill(
    postgres_base_url: str, tmp_path: Path
) -> None:
    config = AlertDeliveryConfig(alerts=12, kills=6)
    report = run_campaign(config, postgres_base_url, tmp_path)

    assert report.ok, report.describe_failure()
    assert report.figures["notices missing"] == 0
    assert report.figures["notices delivered"] == report.figures["notices expected"] > 0
    assert report.figures["out of order"] == 0
    assert report.faults["worker SIGKILLed while delivering"] == config.kills
