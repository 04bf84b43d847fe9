"""Four workers on one PostgreSQL open and refill the calendar's contests, SIGKILLed at
random: each calendar key opened exactly once, counted in the database."""

from __future__ import annotations

from pathlib import Path

from campaign_calendar import CalendarCampaignConfig, run_campaign


def test_workers_killed_while_opening_and_refilling_open_each_calendar_key_once(
    postgres_base_url: str, tmp_path: Path
) -> None:
    report = run_campaign(CalendarCampaignConfig(), postgres_base_url, tmp_path)

    assert report.ok, report.describe_failure()
    assert report.faults["SIGKILL of a worker"] > 0
    assert report.figures["keys opened twice"] == 0
    assert report.figures["keys due not opened"] == 0
    assert report.figures["refills"] > 0
    assert report.figures["contests"] == report.figures["calendar keys opened"]
