"""The calendar's keys and paused lines in SQL: a key is claimed by inserting its row."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.statements import Statements
from fantasy_core.calendar import CalendarKey, CalendarOpening


class SqlCalendar:
    def __init__(self, db: Statements) -> None:
        self._db = db

    def claim(self, opening: CalendarOpening) -> bool:
        # ON CONFLICT DO NOTHING: on PostgreSQL a second claimer waits on the first's
        # uncommitted row, then inserts nothing if it committed (or its own if it rolled back).
        values = {
            "calendar_key": opening.key.text,
            "slate_id": opening.key.slate_id,
            "line": opening.key.line,
            "sequence": opening.key.sequence,
            "contest_id": opening.contest_id,
            "opened_at": opening.opened_at,
        }
        return self._db.execute(self._db.insert_new(t.calendar_contests), values).rowcount == 1

    def opened(self, slate_ids: Iterable[str]) -> list[CalendarOpening]:
        wanted = sorted(set(slate_ids))
        if not wanted:
            return []
        table = t.calendar_contests
        query = select(table).where(table.c.slate_id.in_(wanted))
        openings = [
            CalendarOpening(
                CalendarKey(row.slate_id, row.line, row.sequence), row.contest_id, row.opened_at
            )
            for row in self._db.execute(query)
        ]
        return sorted(openings, key=lambda o: o.key)

    def paused_lines(self) -> set[str]:
        return {str(line) for line in self._db.execute(select(t.calendar_pauses.c.line)).scalars()}

    def set_paused(self, line: str, paused: bool) -> bool:
        table = t.calendar_pauses
        if paused:
            return self._db.execute(self._db.insert_new(table), {"line": line}).rowcount == 1
        return self._db.execute(table.delete().where(table.c.line == line)).rowcount == 1
