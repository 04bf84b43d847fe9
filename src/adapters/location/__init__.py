"""Locators: where a player is at the time of a join (the core's Locator port)."""

from adapters.location.locators import DeclaredLocation, FixedLocations

__all__ = ["DeclaredLocation", "FixedLocations"]
