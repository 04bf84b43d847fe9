"""Two locators: the location a join's request declares, checked; and fixed answers (tests,
the demo). A real deployment puts a geolocation provider behind the same port (README)."""

from __future__ import annotations

from collections.abc import Mapping

from fantasy_core.errors import UnknownLocation
from fantasy_core.protection.eligibility import Location
from fantasy_core.protection.rules import US_JURISDICTIONS


class DeclaredLocation:
    """Takes the jurisdiction the request declares (the client's own geolocation), refusing
    one that is not a US state code; with none declared it has no answer, and the player's
    registered jurisdiction applies. It trusts the client: what a regulator accepts is a
    provider that checks the device (see the README on geolocation)."""

    def locate(self, user_id: str, declared: str | None) -> Location | None:
        if declared is None:
            return None
        if declared not in US_JURISDICTIONS:
            raise UnknownLocation(
                f"the declared location {declared!r} is not a US state code (two capitals, or DC)"
            )
        return Location(declared, "declared")


class FixedLocations:
    """Each listed player is where the table says, whatever the request declares; anyone
    else is located as DeclaredLocation would. For tests and the demo."""

    def __init__(self, where: Mapping[str, str] | None = None) -> None:
        self.where = dict(where or {})
        self._declared = DeclaredLocation()

    def locate(self, user_id: str, declared: str | None) -> Location | None:
        fixed = self.where.get(user_id)
        if fixed is not None:
            return Location(fixed, "fixed")
        return self._declared.locate(user_id, declared)
