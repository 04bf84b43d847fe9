"""PostgreSQL cut mid-run (503s, backoff, resume, nothing half-written); the feed down, then
wrong, then right (alerts, the contest waits, then completes)."""

from __future__ import annotations

from pathlib import Path

from campaign_outages import OutagesConfig, run_campaign, run_feed_outage

from support.campaign import CampaignReport


def test_a_database_outage_is_answered_503_and_everything_resumes_with_nothing_twice(
    postgres_base_url: str, localstripe_url: str, tmp_path: Path
) -> None:
    report = run_campaign(OutagesConfig(), postgres_base_url, localstripe_url, tmp_path)

    assert report.ok, report.describe_failure()
    assert report.figures["answers during outages: 503"] >= 10
    assert "answers during outages: 500" not in report.figures
    assert report.figures["double charges"] == report.figures["duplicate transfers"] == 0


def test_a_feed_down_then_contradictory_holds_the_contest_until_good_data() -> None:
    report = CampaignReport("feed", "Feed outage")
    run_feed_outage(report)

    assert report.ok, report.describe_failure()
    assert report.figures["feed: state held while data was bad"] == "COMPLETE"
