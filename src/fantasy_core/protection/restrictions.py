"""Breaks from play a player chooses: a cool-off (72 hours to 30 days) or a self-exclusion
(one year, five years, or for good). Either stops every join until it ends; entries in
contests that have not locked are withdrawn and refunded; prizes already won are paid.
Neither can be lifted early: a new request can only lengthen what is in force."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from attrs import frozen

from fantasy_core.errors import InvalidProtectionRequest, PlayerRestricted

MIN_COOL_OFF = timedelta(hours=72)
MAX_COOL_OFF = timedelta(days=30)


class RestrictionKind(enum.Enum):
    COOL_OFF = "cool_off"
    SELF_EXCLUSION = "self_exclusion"


class ExclusionTerm(enum.Enum):
    ONE_YEAR = "1y"
    FIVE_YEARS = "5y"
    PERMANENT = "permanent"


@frozen
class Restriction:
    """A break from play from `since` until `until` (None: permanent)."""

    kind: RestrictionKind
    since: datetime
    until: datetime | None

    def active(self, now: datetime) -> bool:
        return self.since <= now and (self.until is None or now < self.until)

    def outlasts(self, other: Restriction) -> bool:
        """Whether this one ends no earlier than `other` (a permanent one outlasts all)."""
        if self.until is None:
            return True
        return other.until is not None and self.until >= other.until


def cool_off(now: datetime, duration: timedelta) -> Restriction:
    if not MIN_COOL_OFF <= duration <= MAX_COOL_OFF:
        raise InvalidProtectionRequest(
            "cool_off_duration", "a cool-off lasts from 72 hours to 30 days"
        )
    return Restriction(RestrictionKind.COOL_OFF, now, now + duration)


def _years_later(at: datetime, years: int) -> datetime:
    try:
        return at.replace(year=at.year + years)
    except ValueError:  # 29 February: the day after the 28th of that year
        return at.replace(year=at.year + years, day=28) + timedelta(days=1)


def self_exclusion(now: datetime, term: ExclusionTerm) -> Restriction:
    until = {
        ExclusionTerm.ONE_YEAR: _years_later(now, 1),
        ExclusionTerm.FIVE_YEARS: _years_later(now, 5),
        ExclusionTerm.PERMANENT: None,
    }[term]
    return Restriction(RestrictionKind.SELF_EXCLUSION, now, until)


def combine(current: Restriction | None, requested: Restriction, now: datetime) -> Restriction:
    """The restriction in force after `requested` at `now`: a new one if none is active;
    otherwise it may only lengthen (or turn a cool-off into a self-exclusion), never
    shorten or lift: InvalidProtectionRequest('cannot_shorten') then."""
    if current is None or not current.active(now):
        return requested
    if requested.outlasts(current):
        kind = (
            RestrictionKind.SELF_EXCLUSION
            if RestrictionKind.SELF_EXCLUSION in (current.kind, requested.kind)
            else RestrictionKind.COOL_OFF
        )
        return Restriction(kind, current.since, requested.until)
    ends = "never" if current.until is None else current.until.isoformat()
    label = current.kind.value.replace("_", "-")
    raise InvalidProtectionRequest(
        "cannot_shorten", f"your {label} ends {ends}; it cannot be shortened or lifted"
    )


def check_not_restricted(restriction: Restriction | None, now: datetime) -> None:
    """PlayerRestricted if `restriction` is in force at `now`."""
    if restriction is None or not restriction.active(now):
        return
    until = restriction.until
    label = "cool-off" if restriction.kind is RestrictionKind.COOL_OFF else "self-exclusion"
    ends = "is permanent" if until is None else f"ends {until.isoformat()}"
    raise PlayerRestricted(
        "self_excluded" if restriction.kind is RestrictionKind.SELF_EXCLUSION else "cool_off",
        until,
        f"you are in a {label}, which {ends}: no contests can be entered until then",
    )
