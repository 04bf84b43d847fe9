"""Player protection as use cases: registering a player's record, the checks of a paid join
(inside the transaction that reserves its seat), limits, cool-offs and self-exclusions,
and withdrawing the entries of a player who took a break."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from attrs import evolve, frozen

from fantasy_core.contest import Contest
from fantasy_core.entries import Entry, EntryStatus
from fantasy_core.errors import PlayRefused, ProfileIncomplete, TierRefused
from fantasy_core.platform import Platform, Protection
from fantasy_core.ports import UnitOfWork
from fantasy_core.protection.eligibility import Location, check_paid_join
from fantasy_core.protection.fairplay import BIG_PRIZE_MINOR, Experience, FairPlay, check_tier
from fantasy_core.protection.limits import (
    LimitKind,
    LimitSchedule,
    PendingChange,
    Spend,
    earliest_start,
    period_end,
    period_start,
)
from fantasy_core.protection.players import PlayerProfile
from fantasy_core.protection.restrictions import (
    ExclusionTerm,
    Restriction,
    check_not_restricted,
    combine,
    cool_off,
    self_exclusion,
)
from fantasy_core.usecases.refunds import owe_refund, send_refunds

Located = Location | None | PlayRefused
"""What the locator answered before a join's transaction: a location, no answer, or the
refusal it raised (kept until the join is known to be new: a replay needs no location)."""


def locate(p: Platform, user_id: str, declared: str | None) -> Located:
    """Ask the locator where the player is, before any transaction (it may be a network call)."""
    if p.protection is None:
        return None
    try:
        return p.protection.locator.locate(user_id, declared)
    except PlayRefused as refused:
        return refused


@frozen
class JoinCheck:
    """One new paid join as the protection rules see it."""

    user_id: str
    fee_minor: int
    located: Located
    fair_play: FairPlay = FairPlay.OPEN


class JoinGuard:
    """The protection checks of the new joins of one transaction, under their players'
    locks: made by `guard_joins`, after the caller's contest locks."""

    def __init__(
        self,
        uow: UnitOfWork | None,
        protection: Protection | None,
        profiles: dict[str, PlayerProfile],
        spent: dict[str, list[Spend]],
        now: datetime,
    ) -> None:
        self._uow = uow
        self._protection = protection
        self._profiles = profiles
        self._spent = spent
        self._now = now

    def check(self, join: JoinCheck) -> Location | None:
        """The refusal (raised), or where the join is made from (None when the platform
        runs no protection). A join that passes counts against the limits of the joins
        checked after it, as the seat it is about to reserve."""
        if self._protection is None:
            return None
        profile = self._profiles.get(join.user_id)
        location = _check_one(self._protection, profile, join, self._spent, self._now)
        if join.fair_play is not FairPlay.OPEN and profile is not None and self._uow is not None:
            # A refusal rolls this transaction back: the caller flags a player found highly
            # experienced here in a transaction of its own (flag_if_experienced).
            check_tier(join.fair_play, experience_of(self._uow, profile))
        self._spent.setdefault(join.user_id, []).append(Spend(self._now, join.fee_minor))
        return location


def guard_joins(p: Platform, uow: UnitOfWork, user_ids: Iterable[str], now: datetime) -> JoinGuard:
    """Lock the players' records (ascending user id, after the caller's contest locks: one
    lock order for every joiner, so no two can deadlock) and read what counts against
    their limits, in the caller's unit of work."""
    if p.protection is None:
        return JoinGuard(None, None, {}, {}, now)
    return guard_locked(p, uow, uow.players.lock_all(user_ids), now)


def guard_locked(
    p: Platform, uow: UnitOfWork, profiles: Mapping[str, PlayerProfile], now: datetime
) -> JoinGuard:
    """`guard_joins` for players whose records the caller locked (`profiles`, by user id,
    as `players.lock_all` answered; a player with no record is left out)."""
    if p.protection is None:
        return JoinGuard(None, None, {}, {}, now)
    profiles = dict(profiles)
    # Only a limit in force needs what the player spent: most players set none, and the
    # spend of the periods is every seat they took this month, read anew at each join.
    limited = sorted(u for u, profile in profiles.items() if profile.limits.in_force(now).values)
    spent = uow.entries.spend_since(limited, earliest_start(now)) if limited else {}
    return JoinGuard(uow, p.protection, profiles, spent, now)


def experience_of(uow: UnitOfWork, profile: PlayerProfile) -> Experience:
    """What the player's fair-play tier is decided by, read in `uow`."""
    return Experience(
        contests_entered=uow.entries.contests_entered(profile.user_id),
        big_prizes=uow.payouts.big_prizes(profile.user_id, BIG_PRIZE_MINOR),
        flagged=profile.highly_experienced_since is not None,
    )


def _reviewed(uow: UnitOfWork, profile: PlayerProfile, now: datetime) -> PlayerProfile:
    """The profile, flagged highly experienced (for good) if the player has become so; the
    caller holds its lock."""
    if profile.highly_experienced_since is not None:
        return profile
    if not experience_of(uow, profile).highly_experienced:
        return profile
    flagged = evolve(profile, highly_experienced_since=now)
    uow.players.save(flagged)
    return flagged


def flag_if_experienced(
    p: Platform, refusals: Iterable[BaseException], users: Iterable[str]
) -> None:
    """After joins refused for being highly experienced, record the status (permanent)."""
    found = [
        user
        for refusal, user in zip(refusals, users, strict=True)
        if isinstance(refusal, TierRefused) and refusal.reason == "highly_experienced_excluded"
    ]
    if found:
        review_experience(p, found)


def review_experience(p: Platform, user_ids: Iterable[str]) -> list[str]:
    """Flag those of `user_ids` who have become highly experienced (more than 1,000 contests
    entered or more than 3 prizes of $1,000 or more); the ids newly flagged. The status is
    permanent: nothing clears it."""
    now = p.clock.now()
    flagged: list[str] = []
    with p.uow() as uow:
        for user_id in sorted(set(user_ids)):
            profile = uow.players.lock(user_id)
            if profile is None or profile.highly_experienced_since is not None:
                continue
            if _reviewed(uow, profile, now).highly_experienced_since is not None:
                flagged.append(user_id)
                p.audit(uow, "player.highly_experienced", subject=user_id)
        uow.commit()
    return flagged


def _check_one(
    protection: Protection,
    profile: PlayerProfile | None,
    check: JoinCheck,
    spent: Mapping[str, list[Spend]],
    now: datetime,
) -> Location:
    if profile is None:
        raise ProfileIncomplete(
            f"{check.user_id} has no date of birth and jurisdiction on file: "
            "give them before entering paid contests"
        )
    if isinstance(check.located, PlayRefused):
        raise check.located
    location = check.located or Location(profile.jurisdiction, "registered")
    check_paid_join(
        protection.rules, profile, location, check.fee_minor, spent.get(check.user_id, []), now
    )
    return location


def located_detail(location: Location | None) -> str:
    """How a join's location is recorded in its audit record."""
    return "" if location is None else f"; located in {location.jurisdiction} ({location.source})"


def identity_holder(p: Platform, identity_key: str) -> str | None:
    """The user who registered this identity (this person), if anyone did."""
    with p.reading() as uow:
        return uow.players.by_identity(identity_key)


def register_player(p: Platform, profile: PlayerProfile) -> None:
    """Store a new player's record (DuplicateRecord: the user or the person has one)."""
    with p.uow() as uow:
        uow.players.add(profile)
        p.audit(
            uow,
            "player.registered",
            subject=profile.user_id,
            actor=profile.user_id,
            detail=f"jurisdiction {profile.jurisdiction}",
        )
        uow.commit()


def highly_experienced(p: Platform, user_ids: Sequence[str]) -> set[str]:
    """Which of `user_ids` the platform found highly experienced (leaderboards show it)."""
    with p.reading() as uow:
        return uow.players.highly_experienced(user_ids)


def break_in_force(p: Platform, user_id: str) -> Restriction | None:
    """The player's cool-off or self-exclusion in force now, if any (None also for a
    platform without protection or an account with no player record)."""
    if p.protection is None:
        return None
    with p.reading() as uow:
        profile = uow.players.get(user_id)
    now = p.clock.now()
    if profile is None or profile.restriction is None or not profile.restriction.active(now):
        return None
    return profile.restriction


def check_no_break(p: Platform, uow: UnitOfWork, user_id: str, now: datetime) -> None:
    """In `uow`: PlayerRestricted (cool_off, self_excluded, with its end) if the player is
    in a break from play: nothing that enters or plays a contest is done for them then."""
    if p.protection is None:
        return
    profile = uow.players.get(user_id)
    if profile is not None:
        check_not_restricted(profile.restriction, now)


def player_profile(p: Platform, user_id: str) -> PlayerProfile | None:
    with p.reading() as uow:
        return uow.players.get(user_id)


def _locked_profile(uow: UnitOfWork, user_id: str) -> PlayerProfile:
    profile = uow.players.lock(user_id)
    if profile is None:
        raise ProfileIncomplete(f"{user_id} has no date of birth and jurisdiction on file")
    return profile


def set_limits(
    p: Platform, user_id: str, requested: Mapping[LimitKind, int | None]
) -> LimitSchedule:
    """Ask for new limits: tighter ones apply at once, looser ones after the delay
    (limits.LOOSENING_DELAY); the schedule as it now stands (what applies, what waits)."""
    now = p.clock.now()
    with p.uow() as uow:
        profile = _locked_profile(uow, user_id)
        schedule = profile.limits.request(requested, now)
        uow.players.save(profile.with_limits(schedule))
        asked = ", ".join(f"{k.value}={v}" for k, v in sorted(requested.items(), key=_by_name))
        p.audit(uow, "player.limits", subject=user_id, actor=user_id, detail=asked)
        uow.commit()
    return schedule


@frozen
class LimitStatus:
    """One limit as the player sees it: its value in force (None: none set), what the
    current period has used of it, when that period ends, and a loosening waiting."""

    kind: LimitKind
    value: int | None
    used: int
    resets_at: datetime
    pending: PendingChange | None


def limits_of(p: Platform, user_id: str) -> list[LimitStatus]:
    """Every limit of the player now, in LimitKind order."""
    now = p.clock.now()
    with p.reading() as uow:
        profile = uow.players.get(user_id)
        if profile is None:
            raise ProfileIncomplete(f"{user_id} has no date of birth and jurisdiction on file")
        spent = uow.entries.spend_since([user_id], earliest_start(now))[user_id]
    in_force = profile.limits.in_force(now)
    waiting = profile.limits.settled(now).pending
    statuses = []
    for kind in LimitKind:
        start = period_start(kind.period, now)
        inside = [s for s in spent if s.at >= start]
        used = sum(s.fee_minor for s in inside) if kind.counts_fees else len(inside)
        statuses.append(
            LimitStatus(
                kind, in_force.get(kind), used, period_end(kind.period, now), waiting.get(kind)
            )
        )
    return statuses


def _by_name(item: tuple[LimitKind, int | None]) -> str:
    return item[0].value


def start_cool_off(p: Platform, user_id: str, duration: timedelta) -> Restriction:
    """A cool-off from now for `duration` (72 hours to 30 days); entries withdrawn."""
    return _restrict(p, user_id, cool_off(p.clock.now(), duration))


def start_self_exclusion(p: Platform, user_id: str, term: ExclusionTerm) -> Restriction:
    """A self-exclusion from now (1 year, 5 years, permanent); entries withdrawn."""
    return _restrict(p, user_id, self_exclusion(p.clock.now(), term))


def _restrict(p: Platform, user_id: str, requested: Restriction) -> Restriction:
    now = p.clock.now()
    with p.uow() as uow:
        profile = _locked_profile(uow, user_id)
        restriction = combine(profile.restriction, requested, now)
        uow.players.save(profile.restricted(restriction))
        ends = "permanent" if restriction.until is None else f"until {restriction.until}"
        p.audit(
            uow,
            f"player.{restriction.kind.value}",
            subject=user_id,
            actor=user_id,
            detail=ends,
        )
        uow.commit()
    withdraw_restricted_entries(p, [user_id])
    return restriction


def withdraw_restricted_entries(p: Platform, user_ids: Sequence[str] | None = None) -> int:
    """Withdraw and refund the active entries, in contests still taking entries, of players
    in a break from play (those of `user_ids`, or every such player); how many.

    Each contest in its own unit of work under its lock, as a withdrawal: the player's
    row is not locked here, so this never waits in the opposite order to a join. An
    entry still waiting for its charge is withdrawn by a later call (the worker's pass
    makes one) once it is active; prizes already won are not touched.
    """
    now = p.clock.now()
    with p.uow() as uow:
        restricted = set(uow.players.restricted(now))
        users = sorted(restricted if user_ids is None else restricted & set(user_ids))
        candidates = [
            (e.contest_id, e.entry_id)
            for user in users
            for e in uow.entries.for_user(user)
            if e.status is EntryStatus.ACTIVE
        ]
    withdrawn = 0
    contests: set[str] = set()
    for contest_id, entry_id in sorted(candidates):
        if _withdraw_one(p, contest_id, entry_id, now):
            withdrawn += 1
            contests.add(contest_id)
    for contest_id in sorted(contests):
        send_refunds(p, contest_id=contest_id)
    return withdrawn


def _withdraw_one(p: Platform, contest_id: str, entry_id: str, now: datetime) -> bool:
    with p.uow() as uow:
        contest: Contest = uow.contests.lock(contest_id)
        entry: Entry = uow.entries.get(entry_id)
        if entry.status is not EntryStatus.ACTIVE or not contest.accepts_entries(now):
            return False
        entry.withdraw("withdrawn: the player is taking a break from play")
        owe_refund(p, uow, entry)
        uow.entries.save(entry)
        p.audit(
            uow,
            "entry.withdrawn",
            contest_id=contest_id,
            subject=entry_id,
            detail="the player's cool-off or self-exclusion",
        )
        uow.commit()
    return True
