"""The checks a paid join passes, in order, inside the transaction that reserves its seat:
no break from play in force, paid play offered where the player is, old enough there,
and within every limit the player set."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from attrs import frozen

from fantasy_core.errors import JurisdictionExcluded
from fantasy_core.protection.limits import Spend, check_limits
from fantasy_core.protection.players import PlayerProfile, check_age
from fantasy_core.protection.restrictions import check_not_restricted
from fantasy_core.protection.rules import JurisdictionRules


@frozen
class Location:
    """Where a player is at the time of a join, and who said so (recorded with the join):
    `source` is e.g. 'declared' (the request said), 'registered' (no other answer: the
    player's home jurisdiction), or a geolocation provider's name."""

    jurisdiction: str
    source: str


def check_paid_join(
    rules: JurisdictionRules,
    profile: PlayerProfile,
    location: Location,
    fee_minor: int,
    spent: Iterable[Spend],
    now: datetime,
) -> None:
    """PlayerRestricted, JurisdictionExcluded, UnderAge or LimitReached (the first that
    applies, in that order) if the player may not join a contest with fee `fee_minor` at
    `now`; `spent` is what counts against their limits already. A free contest is
    refused only by a break from play."""
    check_not_restricted(profile.restriction, now)
    if fee_minor == 0:
        return  # a free contest moves no money: only a break from play stops it
    if not rules.offers_paid_play(location.jurisdiction):
        raise JurisdictionExcluded(location.jurisdiction)
    check_age(rules, profile.date_of_birth, location.jurisdiction, now.date())
    check_limits(profile.limits.in_force(now), spent, fee_minor, now)
