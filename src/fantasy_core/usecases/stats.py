"""Ingesting provider data (untrusted) and the lines scoring uses."""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction

from fantasy_core.errors import (
    FeedUnavailable,
    InvalidFeedData,
    InvalidStatLine,
)
from fantasy_core.lifecycle import ContestState
from fantasy_core.platform import Platform
from fantasy_core.ports import UnitOfWork
from fantasy_core.stats import FeedSnapshot, ProviderChange, validate_snapshot, version_conflict
from fantasy_core.usecases.alerts import clear, clear_now

WATCHED = (ContestState.LOCKED, ContestState.LIVE, ContestState.COMPLETE)


def feed_down_alert(slate_id: str) -> str:
    return f"feed-down-{slate_id}"


def feed_unreadable_alert(slate_id: str) -> str:
    return f"feed-unreadable-{slate_id}"


def feed_invalid_prefix(slate_id: str) -> str:
    return f"feed-invalid-{slate_id}-"


def slates_to_watch(p: Platform) -> list[str]:
    """Slates of contests whose games matter now (locked, live or awaiting settlement)."""
    with p.reading() as uow:
        ids = uow.contests.ids_in_states(WATCHED)
        return sorted({uow.contests.get(cid).terms.slate_id for cid in ids})


def ingest(p: Platform, slate_id: str) -> bool:
    """Take the feed's view of a slate, validate it, store it once; True when stored.

    Invalid data is not stored: each problem is alerted (naming game, player,
    field and rule) and audited, and contests wait on the last valid data.
    The feed answering resolves its "down" and "unreadable" alerts; valid data
    stored resolves the alerts about the slate's invalid data.
    """
    try:
        snapshot = p.feed.snapshot(slate_id)
    except (InvalidFeedData, InvalidStatLine) as error:
        # The provider answered with data that cannot even be read: alert and wait.
        p.alert(feed_unreadable_alert(slate_id), f"unreadable data for {slate_id}: {error}")
        with p.uow() as uow:
            p.audit(uow, "stats.unreadable", subject=slate_id, ok=False, detail=str(error))
            uow.commit()
        return False
    except FeedUnavailable as error:
        p.alert(feed_down_alert(slate_id), f"stats feed unavailable for {slate_id}: {error}")
        with p.uow() as uow:
            p.audit(uow, "stats.unavailable", subject=slate_id, ok=False, detail=str(error))
            uow.commit()
        return False
    clear_now(p, [feed_down_alert(slate_id), feed_unreadable_alert(slate_id)])
    sha = snapshot.sha256()
    with p.uow() as uow:
        previous = uow.stats.latest(slate_id)
        if previous is not None and previous.version > snapshot.version:
            return False  # older data than what we hold: the feed is behind, nothing new
        if previous is not None and previous.version == snapshot.version:
            problems = version_conflict(previous, snapshot)
            if not problems:
                return False  # the same data again
        else:
            problems = validate_snapshot(snapshot, previous)
        if problems:
            first_time = uow.stats.record_rejection(
                slate_id, snapshot.version, sha, p.clock.now(), snapshot.canonical_bytes()
            )
            if not first_time:
                return False  # this very payload was refused, audited and alerted before
            for problem in problems:
                p.audit(
                    uow,
                    "stats.rejected",
                    subject=slate_id,
                    ok=False,
                    detail=f"{problem.rule}: {problem.message} ({sha})",
                )
            uow.commit()
        elif not uow.stats.store(snapshot, sha, p.clock.now()):
            return False  # another worker stored this very version first
        else:
            p.audit(
                uow,
                "stats.ingested",
                subject=slate_id,
                detail=f"version {snapshot.version}, {len(snapshot.lines)} lines, {sha}",
            )
            if previous is not None:
                for change in final_line_changes(previous, snapshot, p.clock.now()):
                    uow.stats.add_provider_change(slate_id, change)
                    p.audit(uow, "stats.changed", subject=slate_id, detail=change.describe())
            clear(p, uow, uow.alerts.unresolved_keys(feed_invalid_prefix(slate_id)))
            uow.commit()
    for problem in problems:
        p.alert(
            f"{feed_invalid_prefix(slate_id)}{problem.rule}-{problem.game_id}-{problem.player_id}",
            f"rejected data for {slate_id}: {problem.message}",
        )
    return not problems


def final_line_changes(
    previous: FeedSnapshot, current: FeedSnapshot, at: datetime
) -> list[ProviderChange]:
    """Each stat of a game already final before that the provider changed (a correction).

    Lines of games still in progress change every minute and are not listed; a
    final game's line changing is a stat correction: old value, new value, versions.
    """
    finals = {g.game_id for g in previous.games if g.is_final}
    before = {(x.player_id, x.game_id): x.as_dict() for x in previous.lines if x.game_id in finals}
    changes: list[ProviderChange] = []
    for line in current.lines:
        old = before.get((line.player_id, line.game_id))
        if old is None:
            continue
        new = line.as_dict()
        for stat in sorted(old.keys() | new.keys()):
            was, now = old.get(stat, Fraction(0)), new.get(stat, Fraction(0))
            if was != now:
                changes.append(
                    ProviderChange(
                        line.player_id,
                        line.game_id,
                        stat,
                        was,
                        now,
                        previous.version,
                        current.version,
                        at,
                    )
                )
    return changes


def slate_data_valid(uow: UnitOfWork, slate_id: str) -> bool:
    """True unless the feed's newest data for the slate was rejected (a contest then waits)."""
    latest = uow.stats.latest(slate_id)
    rejected = uow.stats.last_rejected_version(slate_id)
    return rejected is None or (latest is not None and latest.version > rejected)


def effective_lines(uow: UnitOfWork, slate_id: str) -> dict[str, dict[str, Fraction]]:
    """The stat lines scoring uses: the latest valid feed data with corrections applied."""
    snapshot = uow.stats.latest(slate_id)
    lines = {} if snapshot is None else snapshot.lines_by_player()
    for correction in uow.stats.corrections(slate_id):
        lines.setdefault(correction.player_id, {})[correction.stat] = correction.value
    return lines
