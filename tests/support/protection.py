"""A world whose platform runs player protection, and players registered on it."""

from __future__ import annotations

from datetime import date

import attrs

from adapters.crypto import FernetTaxIds
from adapters.location import FixedLocations
from apps.settings import TEST_TAX_ID_KEY
from fantasy_core.money import Money
from fantasy_core.payouts import winner_take_all
from fantasy_core.platform import Platform, Protection
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
    assert world.p.protection is not None, "protect(world) first"
    register_on(world.p, user, jurisdiction, born)


def register_on(p: Platform, user: str, jurisdiction: str = "NJ", born: date = ADULT) -> None:
    """Give `user` the profile paid play needs on a platform that runs protection (as every
    platform the apps wire does): an adult of `jurisdiction`."""
    protection = p.protection
    assert protection is not None, "this platform runs no player protection"
    profile = new_profile(
        protection.rules, user, f"{user}@example.com", born, jurisdiction, p.clock.now()
    )
    register_player(p, profile)


def taxed(world: World) -> FernetTaxIds:
    protect(world)
    assert world.p.protection is not None
    cipher = FernetTaxIds(TEST_TAX_ID_KEY)
    world.p = attrs.evolve(world.p, protection=attrs.evolve(world.p.protection, tax_ids=cipher))
    return cipher


def big_winner_world(world: World) -> None:
    """Four players at $500, winner take all: one wins $1,800 (net $1,300) in 2025."""
    players = [f"p{n}" for n in range(4)]
    for player in players:
        register(world, player)
        world.give_account(player)
    contest = world.create(entry_fee=Money(50_000, "usd"), payout=winner_take_all())
    for n, player in enumerate(players):
        world.join(contest, player, variant=n)
    world.play_games()
    world.run()
    assert world.state(contest) == "PAID"
