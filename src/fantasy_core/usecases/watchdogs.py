"""Watchdogs: conditions nobody raised an error for, each raising and resolving its own alert.

They run in the worker's pass and look at what should have happened by now: a contest
past its lock time still SCHEDULED, LIVE long after its last game should have ended,
SETTLED with payouts that stopped moving; a live slate without valid data; a ledger
that does not balance; a worker that stopped passing. The decisions are the pure
rules of fantasy_core.watchdog_rules; here they are fed from the store. Each alert
resolves by itself once its condition is gone.
"""

from __future__ import annotations

from datetime import datetime

from attrs import frozen

from fantasy_core import watchdog_rules as rules
from fantasy_core.lifecycle import ContestState
from fantasy_core.platform import Platform
from fantasy_core.usecases.alerts import clear, clear_now
from fantasy_core.usecases.reports import verify_ledger
from fantasy_core.usecases.stats import feed_down_alert, feed_invalid_prefix, feed_unreadable_alert
from fantasy_core.watchdog_rules import WatchdogThresholds

__all__ = [
    "FEED_STALE",
    "LEDGER",
    "LIVE_OVERDUE",
    "LOCK_OVERDUE",
    "PAYOUTS_STALLED",
    "WORKER_SILENT",
    "WatchdogThresholds",
    "WorkerSilence",
    "feed_stale_alert",
    "forget_worker",
    "live_overdue_alert",
    "lock_overdue_alert",
    "payouts_stalled_alert",
    "record_pass",
    "watch",
    "watch_feeds",
    "watch_ledger",
    "watch_live",
    "watch_locks",
    "watch_payouts",
    "watch_workers",
    "worker_silence",
    "worker_silent_alert",
]

LOCK_OVERDUE = "watchdog-lock-overdue-"
WORKER_SILENT = "watchdog-worker-silent-"
LIVE_OVERDUE = "watchdog-live-overdue-"
PAYOUTS_STALLED = "watchdog-payouts-stalled-"
FEED_STALE = "watchdog-feed-stale-"
LEDGER = "watchdog-ledger"
# What moves a settled contest's payouts on: settling it, then each payout confirmed.
PAYOUT_MOVES = ("contest.settled", "payout.confirmed")


@frozen
class WorkerSilence:
    """What /ready shows of the workers: the newest pass of any, and who is silent."""

    last_pass: datetime | None
    silent: dict[str, datetime]


def lock_overdue_alert(contest_id: str) -> str:
    return f"{LOCK_OVERDUE}{contest_id}"


def live_overdue_alert(contest_id: str) -> str:
    return f"{LIVE_OVERDUE}{contest_id}"


def payouts_stalled_alert(contest_id: str) -> str:
    return f"{PAYOUTS_STALLED}{contest_id}"


def feed_stale_alert(slate_id: str) -> str:
    return f"{FEED_STALE}{slate_id}"


def watch(p: Platform, thresholds: WatchdogThresholds, worker_id: str) -> list[str]:
    """Run every watchdog of a pass from worker `worker_id` (the ledger's runs on its own
    schedule: see watch_ledger); the keys of the alerts raised now."""
    return (
        watch_locks(p, thresholds)
        + watch_live(p, thresholds)
        + watch_payouts(p, thresholds)
        + watch_feeds(p, thresholds)
        + watch_workers(p, thresholds, worker_id)
    )


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
    with p.reading() as uow:
        passes = uow.workers.last_passes()
    silent = {w: at for w, at in passes.items() if rules.worker_silent(at, now, thresholds)}
    return WorkerSilence(max(passes.values(), default=None), silent)


def watch_workers(p: Platform, thresholds: WatchdogThresholds, worker_id: str) -> list[str]:
    """Alert each other worker silent for `worker_silent`; resolve those passing again."""
    now = p.clock.now()
    silence = worker_silence(p, thresholds)
    with p.reading() as uow:
        alerted = set(uow.alerts.unresolved_keys(WORKER_SILENT))
    raised = []
    for other, at in silence.silent.items():
        if other == worker_id:
            continue  # this one is passing right now
        key = worker_silent_alert(other)
        p.alert(
            key,
            f"worker {other} has completed no pass for {rules.describe(now - at)} "
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
    found: dict[str, tuple[str, str | None]] = {}
    with p.reading() as uow:
        for cid in uow.contests.ids_in_states([ContestState.SCHEDULED]):
            lock_at = uow.contests.get(cid).terms.lock_at
            late = rules.lock_overdue(lock_at, now, thresholds)
            if late is not None:
                found[lock_overdue_alert(cid)] = (
                    f"contest {cid} is still SCHEDULED {rules.describe(late)} after its lock "
                    f"time {lock_at.isoformat()}: its lifecycle is stuck",
                    cid,
                )
    return _settle(p, LOCK_OVERDUE, found)


def watch_live(p: Platform, thresholds: WatchdogThresholds) -> list[str]:
    """Alert each contest still LIVE `live_overdue` after its slate's last game should have
    ended (last kickoff + `game_length`, from the last valid data stored); resolve the
    alerts of contests that completed (or were cancelled)."""
    now = p.clock.now()
    found: dict[str, tuple[str, str | None]] = {}
    with p.reading() as uow:
        ends: dict[str, datetime | None] = {}
        for cid in uow.contests.ids_in_states([ContestState.LIVE]):
            slate_id = uow.contests.get(cid).terms.slate_id
            if slate_id not in ends:
                latest = uow.stats.latest(slate_id)
                kickoffs = () if latest is None else (g.kickoff for g in latest.games)
                ends[slate_id] = rules.scheduled_end(kickoffs, thresholds)
            end = ends[slate_id]
            late = rules.live_overdue(end, now, thresholds)
            if late is not None and end is not None:
                found[live_overdue_alert(cid)] = (
                    f"contest {cid} is still LIVE {rules.describe(late)} after the last game "
                    f"of slate {slate_id} should have ended ({end.isoformat()}): the feed "
                    "has not reported every game final, or its data is refused",
                    cid,
                )
    return _settle(p, LIVE_OVERDUE, found)


def watch_payouts(p: Platform, thresholds: WatchdogThresholds) -> list[str]:
    """Alert each SETTLED contest with unconfirmed payouts of which none has been confirmed
    for `payouts_stalled` (counted from settlement); resolve once they move or are all paid."""
    now = p.clock.now()
    found: dict[str, tuple[str, str | None]] = {}
    with p.reading() as uow:
        for cid in uow.contests.ids_in_states([ContestState.SETTLED]):
            last_move = uow.audit.last_at(cid, PAYOUT_MOVES)
            if last_move is None:
                continue  # settled before the audit kept its settlement: nothing to measure from
            late = rules.payouts_stalled(
                last_move, uow.payouts.any_unconfirmed(cid), now, thresholds
            )
            if late is not None:
                found[payouts_stalled_alert(cid)] = (
                    f"contest {cid} is SETTLED and no payout of it has been confirmed for "
                    f"{rules.describe(late)} (last at {last_move.isoformat()}): payouts are "
                    "stuck (refused, an account not enabled, or the gateway away)",
                    cid,
                )
    return _settle(p, PAYOUTS_STALLED, found)


def watch_feeds(p: Platform, thresholds: WatchdogThresholds) -> list[str]:
    """Alert each slate with a LIVE contest for which the feed has given no valid data for
    `feed_stale` (it is down, unreadable, or refused since then); resolve once it does."""
    now = p.clock.now()
    found: dict[str, tuple[str, str | None]] = {}
    with p.reading() as uow:
        slates = sorted(
            {
                uow.contests.get(c).terms.slate_id
                for c in uow.contests.ids_in_states([ContestState.LIVE])
            }
        )
        for slate_id in slates:
            keys = [feed_down_alert(slate_id), feed_unreadable_alert(slate_id)]
            keys += uow.alerts.unresolved_keys(feed_invalid_prefix(slate_id))
            open_problems = [a for a in (uow.alerts.get(k) for k in keys) if a and a.unresolved]
            late = rules.feed_stale((a.first_at for a in open_problems), now, thresholds)
            if late is not None:
                why = "; ".join(a.message for a in open_problems)
                found[feed_stale_alert(slate_id)] = (
                    f"no valid data from the feed for live slate {slate_id} for "
                    f"{rules.describe(late)}: {why}",
                    None,
                )
    return _settle(p, FEED_STALE, found)


def watch_ledger(p: Platform) -> list[str]:
    """Verify the whole ledger (every posting set balanced, every closed contest's money
    conserved); alert while it fails, resolve once it passes. Reads every posting: the
    worker runs it every `ledger_every`, not every pass."""
    report = verify_ledger(p)
    found: dict[str, tuple[str, str | None]] = {}
    if not report.ok:
        problems = [f"posting set {key} does not balance" for key in report.unbalanced]
        problems += [
            f"contest {c.contest_id} does not conserve its money"
            for c in report.closed_contests
            if not c.conserved
        ]
        found[LEDGER] = (f"the ledger does not verify: {'; '.join(problems)}", None)
    return _settle(p, LEDGER, found)


def _settle(p: Platform, prefix: str, found: dict[str, tuple[str, str | None]]) -> list[str]:
    """Raise each alert `found` (key: message, contest), critical; resolve the unresolved
    alerts under `prefix` no longer found. The keys raised."""
    with p.reading() as uow:
        alerted = set(uow.alerts.unresolved_keys(prefix))
    for key, (message, contest_id) in sorted(found.items()):
        p.alert(key, message, contest_id=contest_id, critical=True)
    gone = alerted - set(found)
    if gone:
        clear_now(p, gone)
    return sorted(found)
