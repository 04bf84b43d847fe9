"""Watchdogs: conditions nobody raised an error for, each raising and resolving its own alert.

They run in the worker's pass and look at what should have happened by now: a contest
past its lock time still SCHEDULED means the lifecycle is stuck for it (a tick that
keeps failing on it, a clock far off). Each alert resolves by itself once the
condition is gone.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from attrs import frozen

from fantasy_core.lifecycle import ContestState
from fantasy_core.platform import Platform
from fantasy_core.usecases.alerts import clear, clear_now

LOCK_OVERDUE = "watchdog-lock-overdue-"
WORKER_SILENT = "watchdog-worker-silent-"


@frozen
class WatchdogThresholds:
    # A SCHEDULED contest this long past its lock time is stuck (a pass runs every few s).
    lock_overdue: timedelta = timedelta(minutes=2)
    # A worker that has not completed a pass for this long is stuck or dead.
    worker_silent: timedelta = timedelta(minutes=5)


@frozen
class WorkerSilence:
    """What /ready shows of the workers: the newest pass of any, and who is silent."""

    last_pass: datetime | None
    silent: dict[str, datetime]


def lock_overdue_alert(contest_id: str) -> str:
    return f"{LOCK_OVERDUE}{contest_id}"


def watch(p: Platform, thresholds: WatchdogThresholds, worker_id: str) -> list[str]:
    """Run every watchdog from worker `worker_id`; the keys of the alerts raised now."""
    return watch_locks(p, thresholds) + watch_workers(p, thresholds, worker_id)


def worker_silent_alert(worker_id: str) -> str:
    return f"{WORKER_SILENT}{worker_id}"


def record_pass(p: Platform, worker_id: str) -> None:
    """The worker completed a pass: its heartbeat, which the others and /ready read."""
    with p.uow() as uow:
        uow.workers.completed(worker_id, p.clock.now())
        uow.commit()


def forget_worker(p: Platform, worker_id: str) -> None:
    """The worker stops cleanly: nobody should wait for its next pass."""
    with p.uow() as uow:
        uow.workers.forget(worker_id)
        clear(p, uow, [worker_silent_alert(worker_id)])
        uow.commit()


def worker_silence(p: Platform, thresholds: WatchdogThresholds) -> WorkerSilence:
    now = p.clock.now()
    with p.uow() as uow:
        passes = uow.workers.last_passes()
    silent = {w: at for w, at in passes.items() if now - at >= thresholds.worker_silent}
    return WorkerSilence(max(passes.values(), default=None), silent)


def watch_workers(p: Platform, thresholds: WatchdogThresholds, worker_id: str) -> list[str]:
    """Alert each other worker silent for `worker_silent`; resolve those passing again."""
    now = p.clock.now()
    silence = worker_silence(p, thresholds)
    with p.uow() as uow:
        alerted = set(uow.alerts.unresolved_keys(WORKER_SILENT))
    raised = []
    for other, at in silence.silent.items():
        if other == worker_id:
            continue  # this one is passing right now
        key = worker_silent_alert(other)
        p.alert(
            key,
            f"worker {other} has completed no pass for {_minutes(now - at)} "
            f"(last at {at.isoformat()}): stuck or dead without stopping",
            critical=True,
        )
        raised.append(key)
    gone = alerted - set(raised)
    if gone:
        clear_now(p, gone)
    return raised


def watch_locks(p: Platform, thresholds: WatchdogThresholds) -> list[str]:
    """Alert each contest still SCHEDULED `lock_overdue` after its lock time; resolve the
    alerts of contests that have moved on."""
    now = p.clock.now()
    with p.uow() as uow:
        overdue = [
            contest
            for contest in (
                uow.contests.get(cid)
                for cid in uow.contests.ids_in_states([ContestState.SCHEDULED])
            )
            if contest.terms.lock_at + thresholds.lock_overdue <= now
        ]
        alerted = set(uow.alerts.unresolved_keys(LOCK_OVERDUE))
    raised = []
    for contest in overdue:
        key = lock_overdue_alert(contest.contest_id)
        late = now - contest.terms.lock_at
        p.alert(
            key,
            f"contest {contest.contest_id} is still SCHEDULED {_minutes(late)} after its lock "
            f"time {contest.terms.lock_at.isoformat()}: its lifecycle is stuck",
            contest_id=contest.contest_id,
            critical=True,
        )
        raised.append(key)
    gone = alerted - set(raised)
    if gone:
        clear_now(p, gone)
    return raised


def _minutes(span: timedelta) -> str:
    return f"{int(span.total_seconds() // 60)} min"
