"""`/metrics` in Prometheus' text format, read back with prometheus-client's own parser,
and `fantasy status`, the same figures as a table in the terminal."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest
from api_support import Api, assert_problem
from litestar import Litestar
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from adapters.sandbox.gateway import REFUSING_ACCOUNT_PREFIX
from apps.api.state import JOINS, SERVICES
from apps.cli import EXIT_OK, main
from apps.metrics import exposition, pass_histogram
from apps.worker import Worker
from fantasy_core.stats import GameStatus
from fantasy_core.usecases.watchdogs import record_pass
from support.channels import RecordingChannel
from support.world import SLATE, World, snapshot


def scrape(api: Api) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = api.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def test_metrics_parse_and_count_contests_joins_charges_payouts_alerts_and_feed_age(
    api: Api, app: Litestar
) -> None:
    services = app.state[SERVICES]
    hook = RecordingChannel("webhook")
    hook.down = True
    services.platform = api.world.p = attrs.evolve(services.platform, channels=(hook,))
    contest = api.contest("head_to_head")
    for n in range(2):  # an account the gateway refuses: the winner's payout is refused
        player = api.player(f"p{n}")
        refusing = {"account_id": f"{REFUSING_ACCOUNT_PREFIX}{n}"}
        assert (
            api.client.put("/me/payout-account", json=refusing, headers=player).status_code == 200
        )
        assert api.join(contest, player, variant=n).status_code == 201
    declined = api.join(contest, api.player("p9"), key="k9", card="pm_card_chargeDeclined")
    assert declined.status_code in (402, 409)
    api.world.play_games()
    got = scrape(api)
    assert got["fantasy_contests", (("state", "SETTLED"),)] == 1
    assert got["fantasy_contests", (("state", "SCHEDULED"),)] == 0
    assert got["fantasy_joins_total", (("outcome", "accepted"),)] == 2
    assert got["fantasy_charges_total", (("result", "succeeded"),)] == 2
    assert got["fantasy_payouts", (("status", "failed"),)] == 1
    assert got["fantasy_payouts", (("status", "confirmed"),)] == 0
    assert got["fantasy_payout_attempts_total", (("outcome", "failed"),)] >= 1
    assert got["fantasy_alerts_unresolved", (("severity", "warning"), ("state", "open"))] >= 1
    assert got["fantasy_alert_outbox_backlog", (("channel", "webhook"),)] >= 1
    assert got["fantasy_alert_channel_down", (("channel", "webhook"),)] == 0  # not yet long
    assert got["fantasy_join_overload_shed_total", ()] == app.state[JOINS].shed


def test_feed_age_is_the_age_of_the_newest_valid_data_of_a_watched_slate(api: Api) -> None:
    contest = api.contest("head_to_head")
    for n in range(2):
        api.join(contest, api.player(f"p{n}"), variant=n)
    assert not any(name == "fantasy_feed_age_seconds" for name, _ in scrape(api))
    api.world.clock.set(api.world.clock.now() + timedelta(hours=5))  # lock
    api.world.run()
    api.world.feed.publish(snapshot(GameStatus.IN_PROGRESS, 2))
    api.world.run()
    api.world.clock.advance(timedelta(seconds=90))
    assert scrape(api)["fantasy_feed_age_seconds", (("slate", SLATE),)] == 90.0


def test_workers_last_passes_are_shown(api: Api) -> None:
    record_pass(api.world.p, "w1")
    api.world.clock.advance(timedelta(seconds=42))
    assert scrape(api)["fantasy_worker_seconds_since_pass", (("worker", "w1"),)] == 42.0


def test_fantasy_status_prints_the_figures_as_a_table(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FANTASY_ENVIRONMENT", "test")
    assert main(["status", "--database-url", "memory:"]) == EXIT_OK
    out = capsys.readouterr().out
    for heading in ("contests", "payouts", "alerts", "alert outbox", "feed", "workers"):
        assert f"\n{heading}" in out
    assert "  SCHEDULED  0" in out


def test_a_worker_reports_each_good_pass_duration_into_its_histogram() -> None:
    registry = CollectorRegistry(auto_describe=False)
    world = World()
    worker = Worker(world.p, 0.01, on_pass=pass_histogram(registry).observe)
    worker.run(max_passes=3)
    [family] = [
        f
        for f in text_string_to_metric_families(exposition(registry).decode())
        if f.name == "fantasy_worker_pass_seconds"
    ]
    counts = [s.value for s in family.samples if s.name == "fantasy_worker_pass_seconds_count"]
    assert counts == [3.0]


def test_a_metrics_token_is_asked_for_when_configured(api: Api, app: Litestar) -> None:
    services = app.state[SERVICES]
    services.settings = attrs.evolve(services.settings, metrics_token="s3cret")
    assert_problem(api.client.get("/metrics"), 401, "not-authenticated")
    wrong = {"Authorization": "Bearer nope"}
    assert_problem(api.client.get("/metrics", headers=wrong), 401, "not-authenticated")
    right = api.client.get("/metrics", headers={"Authorization": "Bearer s3cret"})
    assert right.status_code == 200
    assert "fantasy_contests" in right.text
