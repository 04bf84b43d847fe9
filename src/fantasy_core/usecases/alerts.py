"""Alerts through their life: raised, repeated, acknowledged, resolved, each change audited.

`raise_alert` runs in its own unit of work (alerts are raised after the work that
found the problem committed, or failed). `clear` runs inside the caller's unit of
work, so that the condition clearing (a payout confirmed) and the alert resolving
commit together.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from fantasy_core.alerting import AlertChange, AlertState, StoredAlert, raised
from fantasy_core.audit import Alert
from fantasy_core.errors import DuplicateRecord, UnknownAlert
from fantasy_core.outbox import AlertNotice
from fantasy_core.ports import UnitOfWork

if TYPE_CHECKING:  # the Platform's own methods call in here
    from fantasy_core.platform import Platform

SYSTEM = "system"


def channel_down_alert(channel: str) -> str:
    return f"alert-channel-down-{channel}"


def raise_alert(p: Platform, alert: Alert) -> StoredAlert:
    """Store `alert` under its key: a new incident, or a repeat of the unresolved one."""
    try:
        return _raise_once(p, alert)
    except DuplicateRecord:
        # Another process stored the key's first incident between our read and write:
        # now there is a row to lock, and this raise becomes a repeat of it.
        return _raise_once(p, alert)


def _raise_once(p: Platform, alert: Alert) -> StoredAlert:
    with p.uow() as uow:
        current = uow.alerts.lock(alert.key)
        stored, change = raised(current, alert)
        if current is None:
            uow.alerts.add(stored)
        else:
            uow.alerts.save(stored)
        if change is None:
            _audit(p, uow, stored, "alert.repeated", SYSTEM, f"seen {stored.count} times")
        else:
            _changed(p, uow, stored, change, SYSTEM)
        uow.commit()
    return stored


def acknowledge_alert(p: Platform, key: str, by: str) -> StoredAlert:
    """An operator takes the alert; raises UnknownAlert, or OperatorActionRefused if resolved."""
    with p.uow() as uow:
        stored = _locked(uow, key)
        change = stored.acknowledge(by, p.clock.now())
        if change is not None:
            uow.alerts.save(stored)
            _changed(p, uow, stored, change, by)
            uow.commit()
    return stored


def resolve_alert(p: Platform, key: str, by: str) -> StoredAlert:
    """An operator closes the alert (resolving a resolved one changes nothing)."""
    with p.uow() as uow:
        stored = _locked(uow, key)
        change = stored.resolve(by, p.clock.now())
        if change is not None:
            uow.alerts.save(stored)
            _changed(p, uow, stored, change, by)
            uow.commit()
    return stored


def clear(p: Platform, uow: UnitOfWork, keys: Iterable[str]) -> list[str]:
    """The conditions behind `keys` cleared: resolve those unresolved, in the caller's
    unit of work (which commits them with its own work); the keys resolved."""
    done: list[str] = []
    for stored in uow.alerts.lock_unresolved(keys):
        change = stored.resolve(SYSTEM, p.clock.now())
        if change is not None:
            uow.alerts.save(stored)
            _changed(p, uow, stored, change, SYSTEM)
            done.append(stored.key)
    return done


def clear_now(p: Platform, keys: Iterable[str] = (), prefix: str | None = None) -> list[str]:
    """`clear` in a unit of work of its own, for `keys` and every unresolved key
    starting with `prefix`; commits only when something was resolved."""
    with p.uow() as uow:
        wanted = set(keys)
        if prefix is not None:
            wanted.update(uow.alerts.unresolved_keys(prefix))
        done = clear(p, uow, wanted)
        if done:
            uow.commit()
    return done


def list_alerts(p: Platform, states: Iterable[AlertState] | None = None) -> list[StoredAlert]:
    """The alerts (in `states` when given), by first sighting."""
    with p.reading() as uow:
        return uow.alerts.listed(states)


def _locked(uow: UnitOfWork, key: str) -> StoredAlert:
    stored = uow.alerts.lock(key)
    if stored is None:
        raise UnknownAlert(f"no alert {key!r}")
    return stored


def _changed(
    p: Platform, uow: UnitOfWork, stored: StoredAlert, change: AlertChange, actor: str
) -> None:
    """Record a change of state: audited, and queued once for each channel in the outbox
    (except, for a channel's own "down" alert, that channel)."""
    detail = {
        AlertChange.OPENED: f"{stored.severity.value}: {stored.message}",
        AlertChange.ACKNOWLEDGED: f"acknowledged by {actor}",
        AlertChange.RESOLVED: f"resolved by {actor} after {stored.count} sightings",
    }[change]
    _audit(p, uow, stored, f"alert.{change.value}", actor, detail)
    now = p.clock.now()
    for channel in p.channels:
        if stored.key != channel_down_alert(channel.name):
            uow.outbox.add(AlertNotice.of(stored, change, channel.name, now))


def _audit(
    p: Platform, uow: UnitOfWork, stored: StoredAlert, action: str, actor: str, detail: str
) -> None:
    p.audit(
        uow,
        action,
        contest_id=stored.contest_id,
        subject=stored.incident_key,
        actor=actor,
        detail=detail,
    )
