"""`fantasy status`: the figures `/metrics` serves, as a table a person reads in a terminal."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta

from fantasy_core.alerting import AlertState
from fantasy_core.audit import Severity
from fantasy_core.usecases.figures import PlatformFigures


def status_lines(f: PlatformFigures) -> list[str]:
    """One section per subject: a heading, then `name  value` rows aligned in two columns."""
    alerts = {
        f"{severity.value} {state.value}": f.alerts.get((severity, state), 0)
        for severity in (Severity.CRITICAL, Severity.WARNING)
        for state in (AlertState.OPEN, AlertState.ACKNOWLEDGED)
    }
    joins = f.counted("join.")
    sections: list[tuple[str, Mapping[str, object]]] = [
        ("contests", {state.value: n for state, n in f.contests.items()}),
        ("joins", joins or {"none yet": ""}),
        (
            "charges",
            {
                "succeeded": joins.get("accepted", 0),
                "declined": joins.get("declined", 0),
                "needs action": joins.get("pending_action", 0),
            },
        ),
        ("payouts", {status.value: n for status, n in f.payouts.items()}),
        ("refunds", f.counted("refund.") or {"none yet": ""}),
        ("alerts unresolved", alerts),
        (
            "alert outbox",
            {
                channel: f"{n} waiting" + (" (DOWN)" if channel in f.channels_down else "")
                for channel, n in f.outbox_backlog.items()
            }
            or {"no channel configured": ""},
        ),
        (
            "feed (age of the newest valid data)",
            {slate: _age(age) for slate, age in f.feed_age.items()} or {"no slate watched": ""},
        ),
        (
            "workers (since the last pass)",
            {worker: _age(span) for worker, span in f.worker_quiet.items()} or {"none running": ""},
        ),
    ]
    lines = [f"fantasy status at {f.at.isoformat()}"]
    for heading, rows in sections:
        lines += ["", heading, *_rows(rows.items())]
    return lines


def _rows(rows: Iterable[tuple[str, object]]) -> list[str]:
    listed = list(rows)
    width = max(len(name) for name, _ in listed)
    return [f"  {name:<{width}}  {value}".rstrip() for name, value in listed]


def _age(span: timedelta | None) -> str:
    if span is None:
        return "no data yet"
    seconds = int(span.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
