"""Changing a lineup after joining: edits until the contest locks. No money moves."""

from __future__ import annotations

from datetime import datetime

from fantasy_core.contest import Contest
from fantasy_core.entries import Entry, EntryStatus
from fantasy_core.errors import LineupChangeRefused
from fantasy_core.lineups import Lineup, sport_template, validate_lineup
from fantasy_core.platform import Platform
from fantasy_core.ports import UnitOfWork


def edit_lineup(p: Platform, entry_id: str, user_id: str, lineup: Lineup) -> Entry:
    """Replace the lineup of `user_id`'s active entry with `lineup`; the entry as it now is.

    Under the contest's row lock (as joins and lifecycle steps are), so an edit either
    lands before the lock step or is refused after it. The new lineup obeys the join's
    rules (InvalidLineup: which rule, which player). LineupChangeRefused: not the
    owner's entry (not_owner), an entry that does not play (not_active), or the contest
    no longer takes changes (locked). The same lineup again changes nothing. The audit
    records the old and new lineups' fingerprints.
    """
    with p.uow() as uow:
        contest_id = uow.entries.get(entry_id).contest_id
        contest = uow.contests.lock(contest_id)
        entry = uow.entries.get(entry_id)  # read again under the lock
        check_change(contest, entry, user_id, lineup, p.clock.now())
        if lineup == entry.lineup:
            return entry
        old = entry.lineup
        entry.replace_lineup(lineup)
        uow.entries.save(entry)
        _audit_change(p, uow, entry, old)
        uow.commit()
    return entry


def check_change(
    contest: Contest, entry: Entry, user_id: str, lineup: Lineup, now: datetime
) -> None:
    """The rules of a lineup change, in order: the owner, the entry's status, the lineup
    (the join's rules), then whether the contest still takes changes."""
    if entry.user_id != user_id:
        raise LineupChangeRefused("not_owner", f"entry {entry.entry_id} is not {user_id}'s entry")
    if entry.status is not EntryStatus.ACTIVE:
        raise LineupChangeRefused(
            "not_active", f"entry {entry.entry_id} is {entry.status.value}, not active"
        )
    terms = contest.terms
    validate_lineup(sport_template(terms.sport_template), terms.pool, lineup)
    if not contest.accepts_entries(now):
        raise LineupChangeRefused(
            "locked",
            f"contest {contest.contest_id} is {contest.state.value}: lineups locked at "
            f"{terms.lock_at.isoformat()}",
        )


def _audit_change(p: Platform, uow: UnitOfWork, entry: Entry, old: Lineup) -> None:
    p.audit(
        uow,
        "entry.lineup_edited",
        contest_id=entry.contest_id,
        subject=entry.entry_id,
        actor=entry.user_id,
        detail=f"lineup {old.fingerprint} -> {entry.lineup.fingerprint}",
    )
