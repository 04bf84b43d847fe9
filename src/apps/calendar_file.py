"""The calendar's configuration file (TOML): read and validated at start-up, every problem
reported at once, each naming the file, its line number and the calendar line.

The shipped default is `calendar.toml` beside this module (its comments describe the
format); `FANTASY_CALENDAR_FILE` names another one, or `off` for none.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from pathlib import Path

from fantasy_core.calendar import Calendar, CalendarLine, InvalidCalendar

DEFAULT_CALENDAR_FILE = Path(__file__).resolve().parent / "calendar.toml"
OFF = "off"
_FIELDS = frozenset(
    {"key", "sport", "template", "open_days_before", "count", "refill", "refill_cap"}
)
_REQUIRED = ("key", "sport", "template", "open_days_before")
_LINE_HEADER = re.compile(r"^\s*\[\[\s*line\s*\]\]")


class CalendarFileError(Exception):
    """The calendar file cannot be used: every problem, one per line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("invalid calendar:\n  " + "\n  ".join(problems))


def read_calendar(path: Path, sport_of_template: Callable[[str], str | None]) -> Calendar:
    """The calendar in `path`; CalendarFileError naming every problem (file:line: line N)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise CalendarFileError([f"{path}: cannot read: {error.strerror}"]) from error
    return parse_calendar(text, str(path), sport_of_template)


def parse_calendar(
    text: str, source: str, sport_of_template: Callable[[str], str | None]
) -> Calendar:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise CalendarFileError([f"{source}: not valid TOML: {error}"]) from error
    problems = [f"{source}: unknown setting {name!r} (only [[line]] tables)" for name in data
                if name != "line"]  # fmt: skip
    raw_lines = data.get("line", [])
    if not isinstance(raw_lines, list):
        raise CalendarFileError([*problems, f"{source}: 'line' must be [[line]] tables"])
    # tomllib keeps no positions: the n-th [[line]] header is the n-th line table.
    headers = [n for n, row in enumerate(text.splitlines(), start=1) if _LINE_HEADER.match(row)]
    lines: list[CalendarLine] = []
    for index, raw in enumerate(raw_lines):
        row = headers[index] if index < len(headers) else 0
        where = f"{source}:{row}: line {index + 1}"
        if isinstance(raw, dict) and isinstance(raw.get("key"), str):
            where += f" ({raw['key']})"
        line = _line(raw, where, sport_of_template, problems)
        if line is not None:
            lines.append(line)
    seen: set[str] = set()
    for line in lines:
        if line.key in seen:
            problems.append(f"{source}: key {line.key!r} names two lines")
        seen.add(line.key)
    if problems:
        raise CalendarFileError(problems)
    return Calendar(tuple(lines))


def _line(
    raw: object, where: str, sport_of_template: Callable[[str], str | None], problems: list[str]
) -> CalendarLine | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be a table")
        return None
    unknown = sorted(set(raw) - _FIELDS)
    missing = [name for name in _REQUIRED if name not in raw]
    if unknown:
        problems.append(f"{where}: unknown field(s) {', '.join(unknown)}")
    if missing:
        problems.append(f"{where}: missing {', '.join(missing)}")
    if unknown or missing:
        return None
    try:
        line = CalendarLine(**raw)
    except InvalidCalendar as error:
        problems.append(f"{where}: {error}")
        return None
    except TypeError as error:  # a value of the wrong type for attrs' converters
        problems.append(f"{where}: {error}")
        return None
    sport = sport_of_template(line.template)
    if sport is None:
        problems.append(f"{where}: no contest template {line.template!r}")
        return None
    if sport != line.sport:
        problems.append(f"{where}: template {line.template!r} plays {sport}, not {line.sport}")
        return None
    return line
