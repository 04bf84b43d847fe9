"""Operator routes of the calendar: list its lines, pause and resume one (audited)."""

from __future__ import annotations

import attrs
from api_support import Api, assert_problem, services_over
from litestar import Litestar

from apps.api.state import SERVICES
from apps.settings import Settings
from fantasy_core.calendar import Calendar
from support.calendar_world import LINES, SmallCatalogue
from support.world import World


def with_calendar(api: Api, app: Litestar, settings: Settings, world: World) -> None:
    world.p = attrs.evolve(world.p, calendar=Calendar(LINES), catalogue=SmallCatalogue())
    app.state[SERVICES] = services_over(world, settings)


def test_operators_list_pause_and_resume_calendar_lines_audited(
    api: Api, app: Litestar, settings: Settings, world: World
) -> None:
    with_calendar(api, app, settings, world)
    listed = api.client.get("/operator/calendar", headers=api.operator)
    assert listed.status_code == 200
    assert [(line["key"], line["paused"]) for line in listed.json()] == [
        ("duo", False),
        ("ten", False),
    ]
    assert listed.json()[0] | {"paused": False} == {
        "key": "duo",
        "sport": "nfl",
        "template": "duo",
        "open_days_before": 3,
        "count": 1,
        "refill": True,
        "refill_cap": 2,
        "paused": False,
    }
    paused = api.client.post("/operator/calendar/ten/pause", headers=api.operator)
    assert (paused.status_code, paused.json()["paused"]) == (200, True)
    listed = api.client.get("/operator/calendar", headers=api.operator).json()
    assert [line["paused"] for line in listed] == [False, True]
    resumed = api.client.post("/operator/calendar/ten/resume", headers=api.operator)
    assert (resumed.status_code, resumed.json()["paused"]) == (200, False)
    operator_id = api.user_id(api.operator)
    with world.p.uow() as uow:
        actions = [r.action for r in uow.audit.for_actor(operator_id)]
    assert actions[-2:] == ["calendar.paused", "calendar.resumed"]


def test_an_unknown_calendar_line_is_a_404_naming_the_lines(
    api: Api, app: Litestar, settings: Settings, world: World
) -> None:
    with_calendar(api, app, settings, world)
    response = api.client.post("/operator/calendar/nope/pause", headers=api.operator)
    body = assert_problem(response, 404, "unknown-calendar-line")
    assert "lines: duo, ten" in body["detail"]
