"""The values of the protection rules, as data: minimum ages, excluded jurisdictions and
default caps by US jurisdiction, and tax thresholds by year. Shipped defaults below;
an operator's configuration replaces or extends them (apps.settings), the rules never
hard-code a value."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from attrs import field, frozen

from fantasy_core.errors import InvalidConfiguration

# The 50 states and the District of Columbia: a player's jurisdiction is one of these.
US_JURISDICTIONS = frozenset(
    {
        "AL",
        "AK",
        "AZ",
        "AR",
        "CA",
        "CO",
        "CT",
        "DE",
        "DC",
        "FL",
        "GA",
        "HI",
        "ID",
        "IL",
        "IN",
        "IA",
        "KS",
        "KY",
        "LA",
        "ME",
        "MD",
        "MA",
        "MI",
        "MN",
        "MS",
        "MO",
        "MT",
        "NE",
        "NV",
        "NH",
        "NJ",
        "NM",
        "NY",
        "NC",
        "ND",
        "OH",
        "OK",
        "OR",
        "PA",
        "RI",
        "SC",
        "SD",
        "TN",
        "TX",
        "UT",
        "VT",
        "VA",
        "WA",
        "WV",
        "WI",
        "WY",
    }
)


def _frozen_map(value: Mapping[str, int]) -> Mapping[str, int]:
    return MappingProxyType(dict(value))


def _codes(value: Iterable[str]) -> frozenset[str]:
    return frozenset(value)


def _check_codes(codes: Iterable[str]) -> None:
    unknown = sorted(set(codes) - US_JURISDICTIONS)
    if unknown:
        raise InvalidConfiguration(f"not US jurisdiction codes: {', '.join(unknown)}")


def _check_ages(_: object, __: object, value: Mapping[str, int]) -> None:
    _check_codes(value)
    for code, age in value.items():
        if type(age) is not int or not 18 <= age <= 25:
            raise InvalidConfiguration(f"minimum age for {code} must be 18..25, got {age!r}")


def _check_excluded(_: object, __: object, value: frozenset[str]) -> None:
    _check_codes(value)


def _check_caps(_: object, __: object, value: Mapping[str, int]) -> None:
    _check_codes(value)
    for code, cap in value.items():
        if type(cap) is not int or cap <= 0:
            raise InvalidConfiguration(f"monthly cap for {code} must be positive cents: {cap!r}")


def _check_default_age(_: object, __: object, value: int) -> None:
    if type(value) is not int or not 18 <= value <= 25:
        raise InvalidConfiguration(f"the default minimum age must be 18..25, got {value!r}")


@frozen
class JurisdictionRules:
    """Who may play paid contests where: ages, jurisdictions with no paid play, default caps.

    `monthly_caps` are default monthly entry-fee caps (minor units) a new player of that
    jurisdiction starts with (Massachusetts 940 CMR 34.10: $1,000), raised only as any
    limit is loosened (after 90 days)."""

    default_minimum_age: int = field(default=18, validator=_check_default_age)
    minimum_ages: Mapping[str, int] = field(
        factory=lambda: {"AL": 19, "NE": 19, "MA": 21, "AZ": 21, "IA": 21},
        converter=_frozen_map,
        validator=_check_ages,
    )
    excluded: frozenset[str] = field(
        factory=lambda: frozenset({"HI", "ID", "MT", "NV", "WA"}),
        converter=_codes,
        validator=_check_excluded,
    )
    monthly_caps: Mapping[str, int] = field(
        factory=lambda: {"MA": 100_000}, converter=_frozen_map, validator=_check_caps
    )

    def minimum_age(self, jurisdiction: str) -> int:
        return self.minimum_ages.get(jurisdiction, self.default_minimum_age)

    def offers_paid_play(self, jurisdiction: str) -> bool:
        return jurisdiction not in self.excluded

    def with_excluded(self, extra: frozenset[str]) -> JurisdictionRules:
        """These rules with `extra` jurisdictions excluded too (an operator's list)."""
        return JurisdictionRules(
            self.default_minimum_age, self.minimum_ages, self.excluded | extra, self.monthly_caps
        )


def check_jurisdiction_code(code: str) -> str:
    """`code` if it is a US jurisdiction (two capitals); InvalidConfiguration otherwise."""
    if code not in US_JURISDICTIONS:
        raise InvalidConfiguration(f"{code!r} is not a US state code (two capitals, DC too)")
    return code
