"""A world whose platform runs player protection, and players registered on it."""

from __future__ import annotations

from datetime import date

import attrs

from adapters.location import FixedLocations
from fantasy_core.platform import Protection
from fantasy_core.protection.players import new_profile
from fantasy_core.protection.rules import JurisdictionRules
from fantasy_core.usecases.protecting import register_player
from support.world import World

ADULT = date(1990, 5, 17)


def protect(world: World, rules: JurisdictionRules | None = None) -> FixedLocations:
    """Turn protection on for `world`'s platform; the locator, for the test to place players."""
    locator = FixedLocations()
    world.p = attrs.evolve(world.p, protection=Protection(rules or JurisdictionRules(), locator))
    return locator


def register(world: World, user: str, jurisdiction: str = "NJ", born: date = ADULT) -> None:
    protection = world.p.protection
    assert protection is not None, "protect(world) first"
    profile = new_profile(
        protection.rules, user, f"{user}@example.com", born, jurisdiction, world.clock.now()
    )
    register_player(world.p, profile)
