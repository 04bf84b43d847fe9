"""Requests lost, replies lost, requests late between Stripe adapter and Stripe: nothing twice."""

from __future__ import annotations

from pathlib import Path

from campaign_lost_replies import LostRepliesConfig, run_campaign


def test_lost_and_late_stripe_traffic_charges_and_pays_nothing_twice(
    postgres_or_none: str | None, localstripe_url: str, tmp_path: Path
) -> None:
    report = run_campaign(LostRepliesConfig(), postgres_or_none, localstripe_url, tmp_path)

    assert report.ok, report.describe_failure()
    assert sum(report.faults.values()) >= 20
    assert report.figures["double charges"] == 0
    assert report.figures["duplicate transfers"] == 0
