"""`fantasy alerts test` and `fantasy alerts list`: channels tried, stored alerts shown."""

from __future__ import annotations

from collections.abc import Iterable

from fantasy_core.alerting import StoredAlert
from fantasy_core.ports import AlertChannel, Clock
from fantasy_core.usecases.delivery import try_channels


def channel_report(channels: Iterable[AlertChannel], clock: Clock) -> tuple[list[str], list[str]]:
    """One test notice through every channel: (report lines, the channels that failed)."""
    results = try_channels(channels, clock)
    lines = [
        f"ok: {name}" if why is None else f"FAILED: {name}: {why}" for name, why in results.items()
    ]
    return lines, [name for name, why in results.items() if why is not None]


def alert_lines(alerts: Iterable[StoredAlert]) -> list[str]:
    """One line per alert: state, severity, key#incident, sightings, first and last seen, who."""
    lines = []
    for a in alerts:
        who = ""
        if a.resolved_by is not None:
            who = f" resolved by {a.resolved_by}"
        elif a.acknowledged_by is not None:
            who = f" acknowledged by {a.acknowledged_by}"
        lines.append(
            f"{a.state.value:<12} {a.severity.value:<8} {a.incident_key} x{a.count} "
            f"first {a.first_at.isoformat()} last {a.last_at.isoformat()}{who}: {a.message}"
        )
    return lines
