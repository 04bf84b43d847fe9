"""Hostile input over real HTTP: fuzzing from the OpenAPI document, the authorisation matrix,
and values at and past every limit."""

from __future__ import annotations

from pathlib import Path

from campaign_hostile_input import HostileConfig, run_campaign


def test_fuzzing_every_operation_finds_no_server_error_and_no_schema_violation(
    postgres_or_none: str | None, tmp_path: Path
) -> None:
    config = HostileConfig(max_examples=3, roles=("player", "operator"))
    report = run_campaign(config, postgres_or_none, tmp_path, parts=("fuzz",))

    assert report.ok, report.describe_failure()
    # Every documented operation but logout (the matrix's, last).
    figures = report.figures
    assert figures["fuzzing: operations"] == figures["fuzzing: operations documented"] - 1


def test_every_route_answers_each_caller_as_its_role_allows(
    postgres_or_none: str | None, tmp_path: Path
) -> None:
    report = run_campaign(HostileConfig(), postgres_or_none, tmp_path, parts=("matrix",))

    assert report.ok, report.describe_failure()


def test_hostile_values_at_every_limit_are_a_clear_4xx_and_store_nothing(
    postgres_or_none: str | None, tmp_path: Path
) -> None:
    report = run_campaign(HostileConfig(), postgres_or_none, tmp_path, parts=("limits",))

    assert report.ok, report.describe_failure()
