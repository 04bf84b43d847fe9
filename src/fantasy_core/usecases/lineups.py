"""Changing a lineup after joining: edits until the contest locks, then, where the contest's
terms allow late swap, swaps of the players whose games have not started. No money moves."""

from __future__ import annotations

from datetime import datetime

from fantasy_core.contest import Contest
from fantasy_core.entries import Entry, EntryStatus
from fantasy_core.errors import LineupChangeRefused, NotYourEntry
from fantasy_core.game_starts import GameStarts, check_swap
from fantasy_core.lifecycle import ContestState
from fantasy_core.lineups import Lineup, sport_template, validate_lineup
from fantasy_core.platform import Platform
from fantasy_core.ports import UnitOfWork
from fantasy_core.usecases.protecting import check_no_break


def edit_lineup(p: Platform, entry_id: str, user_id: str, lineup: Lineup) -> Entry:
    """Replace the lineup of `user_id`'s active entry with `lineup`; the entry as it now is.

    Before lock this is an edit; after it, on a contest with late swap, a swap (see
    check_change). Under the contest's row lock (as joins and lifecycle steps are), so
    a change either lands before the lock step or is judged as a swap after it. The new
    lineup obeys the join's rules (InvalidLineup: which rule, which player).
    NotYourEntry: another player's. LineupChangeRefused: an entry that does not
    play (not_active), the contest no longer takes changes (locked), or a swap touches a
    player whose game has started (player_started, naming him). PlayerRestricted: the
    owner is in a cool-off or self-exclusion (no contest is played then, decision 0043).
    The same lineup again changes nothing. The audit records the old and new lineups'
    fingerprints.
    """
    with p.uow() as uow:
        contest_id = uow.entries.get(entry_id).contest_id
        contest = uow.contests.lock(contest_id)
        entry = uow.entries.get(entry_id)  # read again under the lock
        now = p.clock.now()
        swap = not contest.accepts_entries(now)
        starts = game_starts(uow, contest) if swap and contest.terms.late_swap else None
        if entry.user_id == user_id:  # another's entry is refused as such by check_change
            check_no_break(p, uow, user_id, now)
        check_change(contest, entry, user_id, lineup, now, starts)
        if lineup == entry.lineup:
            return entry
        old = entry.lineup
        entry.replace_lineup(lineup)
        uow.entries.save(entry)
        _audit_change(p, uow, entry, old, swap)
        uow.commit()
    return entry


def game_starts(uow: UnitOfWork, contest: Contest) -> GameStarts:
    """When `contest`'s games start: its terms' kickoffs and the latest valid feed data."""
    terms = contest.terms
    return GameStarts.of(terms.kickoffs, uow.stats.latest(terms.slate_id))


# Where a swap may still happen: from the lock time (even before the worker's lock step)
# until the games are over.
_SWAPPABLE = frozenset({ContestState.SCHEDULED, ContestState.LOCKED, ContestState.LIVE})


def check_change(
    contest: Contest,
    entry: Entry,
    user_id: str,
    lineup: Lineup,
    now: datetime,
    starts: GameStarts | None = None,
) -> None:
    """The rules of a lineup change, in order: the owner, the entry's status, the lineup
    (the join's rules), then whether the contest still takes changes: until lock any;
    after it, on a contest with late swap (and `starts` given), only of players whose
    games have not started, for players whose games have not started."""
    if entry.user_id != user_id:
        raise NotYourEntry(
            f"entry {entry.entry_id} is not {user_id}'s: only its owner changes its lineup"
        )
    if entry.status is not EntryStatus.ACTIVE:
        raise LineupChangeRefused(
            "not_active", f"entry {entry.entry_id} is {entry.status.value}, not active"
        )
    terms = contest.terms
    validate_lineup(sport_template(terms.sport_template), terms.pool, lineup)
    if contest.accepts_entries(now):
        return
    if not terms.late_swap or starts is None or contest.state not in _SWAPPABLE:
        why = "" if terms.late_swap else " (this contest has no late swap)"
        raise LineupChangeRefused(
            "locked",
            f"contest {contest.contest_id} is {contest.state.value}: lineups locked at "
            f"{terms.lock_at.isoformat()}{why}",
        )
    check_swap(terms.pool, entry.lineup, lineup, starts, now)


def _audit_change(p: Platform, uow: UnitOfWork, entry: Entry, old: Lineup, swap: bool) -> None:
    p.audit(
        uow,
        "entry.lineup_swapped" if swap else "entry.lineup_edited",
        contest_id=entry.contest_id,
        subject=entry.entry_id,
        actor=entry.user_id,
        detail=f"lineup {old.fingerprint} -> {entry.lineup.fingerprint}",
    )
