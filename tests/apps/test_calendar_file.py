"""The calendar file: the shipped default loads, and a bad file is refused at start-up with
every problem named by file, line number and calendar line."""

from __future__ import annotations

from pathlib import Path

import pytest

from apps.calendar_file import (
    DEFAULT_CALENDAR_FILE,
    CalendarFileError,
    parse_calendar,
    read_calendar,
)
from apps.settings import SettingsError, load_settings
from apps.templates import TEMPLATES, Catalogue

sport_of = Catalogue().sport_of


def test_the_shipped_calendar_opens_catalogue_templates_and_refills_head_to_head() -> None:
    calendar = read_calendar(DEFAULT_CALENDAR_FILE, sport_of)
    assert [line.key for line in calendar.lines] == [
        "fifty_fifty",
        "double_up",
        "tournament",
        "head_to_head",
        "league",
    ]
    assert all(line.template in TEMPLATES for line in calendar.lines)
    assert [line.key for line in calendar.lines if line.refill] == ["head_to_head"]


def test_settings_read_the_shipped_calendar_by_default_and_none_when_off() -> None:
    assert len(load_settings({}).calendar.lines) == 5
    assert load_settings({"FANTASY_CALENDAR_FILE": "off"}).calendar.lines == ()


GOOD = """
[[line]]
key = "fifty"
sport = "nfl"
template = "fifty_fifty"
open_days_before = 6
"""


def test_a_calendar_file_of_its_own(tmp_path: Path) -> None:
    path = tmp_path / "calendar.toml"
    path.write_text(GOOD, encoding="utf-8")
    [line] = load_settings({"FANTASY_CALENDAR_FILE": str(path)}).calendar.lines
    assert (line.key, line.template, line.open_days_before, line.count) == (
        "fifty",
        "fifty_fifty",
        6,
        1,
    )


BAD = """# two lines wrong
[[line]]
key = "fifty"
sport = "nfl"
template = "fifty_fifty"
open_days_before = 6

[[line]]
key = "h2h"
sport = "nfl"
template = "head_to_head"
open_days_before = 6
refill = true

[[line]]
key = "mystery"
sport = "nfl"
template = "no_such_template"
open_days_before = 2
colour = "blue"

[[line]]
key = "nba"
sport = "nba"
template = "league"
open_days_before = 2
"""


def test_every_problem_is_named_with_its_file_line_and_calendar_line() -> None:
    with pytest.raises(CalendarFileError) as refused:
        parse_calendar(BAD, "cal.toml", sport_of)
    assert refused.value.problems == (
        "cal.toml:8: line 2 (h2h): line h2h: a refilled line needs a refill_cap >= 1",
        "cal.toml:15: line 3 (mystery): unknown field(s) colour",
        "cal.toml:22: line 4 (nba): template 'league' plays nfl, not nba",
    )


def test_an_unknown_template_and_a_duplicate_key_are_refused() -> None:
    text = GOOD + GOOD.replace("fifty_fifty", "nope")
    with pytest.raises(CalendarFileError) as refused:
        parse_calendar(text, "c.toml", sport_of)
    assert refused.value.problems == ("c.toml:8: line 2 (fifty): no contest template 'nope'",)
    with pytest.raises(CalendarFileError, match="key 'fifty' names two lines"):
        parse_calendar(GOOD + GOOD, "c.toml", sport_of)


def test_a_file_that_is_not_toml_or_missing_fails_start_up_naming_the_variable(
    tmp_path: Path,
) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[[line]\nkey=", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"CALENDAR_FILE: .*broken\.toml: not valid TOML"):
        load_settings({"FANTASY_CALENDAR_FILE": str(broken)})
    with pytest.raises(SettingsError, match=r"FANTASY_CALENDAR_FILE: .*missing\.toml: cannot read"):
        load_settings({"FANTASY_CALENDAR_FILE": str(tmp_path / "missing.toml")})


def test_a_wrongly_typed_value_is_refused_not_coerced() -> None:
    text = GOOD.replace("open_days_before = 6", 'open_days_before = "6"')
    with pytest.raises(CalendarFileError, match=r"c.toml:2: line 1 \(fifty\): .*open_days_before"):
        parse_calendar(text, "c.toml", sport_of)
