"""The platform's figures at one instant, for `/metrics` and `fantasy status`.

Read-only, in one unit of work. Counts of things that happened (joins, charges,
refunds, payout attempts) come from the audit trail, which is append-only: they
only ever grow, as a Prometheus counter must. Counts of things as they are now
(contests by state, payouts by status, unresolved alerts, undelivered notices) are
gauges.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime, timedelta

from attrs import frozen

from fantasy_core.alerting import AlertState
from fantasy_core.audit import Severity
from fantasy_core.lifecycle import ContestState
from fantasy_core.payments import PayoutStatus
from fantasy_core.platform import Platform
from fantasy_core.usecases.delivery import channel_health
from fantasy_core.usecases.stats import WATCHED


@frozen
class PlatformFigures:
    at: datetime
    contests: Mapping[ContestState, int]
    # Every audit action (join.accepted, payout.failed, refund.confirmed, ...) and its count.
    actions: Mapping[str, int]
    payouts: Mapping[PayoutStatus, int]
    # Unresolved alerts by (severity, state): open or acknowledged.
    alerts: Mapping[tuple[Severity, AlertState], int]
    # Undelivered alert notices by configured channel (0 included).
    outbox_backlog: Mapping[str, int]
    # Channels failing past the delivery policy's threshold.
    channels_down: frozenset[str]
    # Slates with a locked, live or completing contest: how old their newest valid data
    # is (None: none stored yet).
    feed_age: Mapping[str, timedelta | None]
    # Each running worker: how long since it completed a pass.
    worker_quiet: Mapping[str, timedelta]

    def counted(self, prefix: str) -> dict[str, int]:
        """The audit actions under `prefix` ("join."), by what follows it ("accepted")."""
        return {
            action.removeprefix(prefix): n
            for action, n in sorted(self.actions.items())
            if action.startswith(prefix)
        }


def platform_figures(p: Platform) -> PlatformFigures:
    """Everything `/metrics` and `fantasy status` show, read at once."""
    now = p.clock.now()
    with p.reading() as uow:
        contests = {s: len(uow.contests.ids_in_states([s])) for s in ContestState}
        actions = uow.audit.counts()
        payouts = dict.fromkeys(PayoutStatus, 0) | uow.payouts.count_by_status()
        unresolved = uow.alerts.listed([AlertState.OPEN, AlertState.ACKNOWLEDGED])
        slates = sorted(
            {uow.contests.get(cid).terms.slate_id for cid in uow.contests.ids_in_states(WATCHED)}
        )
        received = {slate: uow.stats.received_at(slate) for slate in slates}
        passes = uow.workers.last_passes()
    health = channel_health(p)
    return PlatformFigures(
        at=now,
        contests=contests,
        actions=actions,
        payouts=payouts,
        alerts=dict(Counter((a.severity, a.state) for a in unresolved)),
        outbox_backlog={h.name: h.backlog for h in health},
        channels_down=frozenset(h.name for h in health if h.down),
        feed_age={
            s: None if at is None else max(now - at, timedelta(0)) for s, at in received.items()
        },
        worker_quiet={w: max(now - at, timedelta(0)) for w, at in sorted(passes.items())},
    )
