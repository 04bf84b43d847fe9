"""Reading a rule set's canonical (JSON-able) form back into rules, refusing anything malformed."""

from __future__ import annotations

from collections.abc import Mapping

from fantasy_core.errors import InvalidScoringRules
from fantasy_core.scoring.exact import parse_fraction_text
from fantasy_core.scoring.rules import PerUnit, Rule, Threshold, Tier, Tiered

CANONICAL_VERSION = 1
"""Bumped only if the canonical form of an existing rule kind ever has to change shape."""


def fields_of(data: object, where: str, expected: set[str]) -> Mapping[str, object]:
    """`data` as a mapping with exactly the keys `expected`, or InvalidScoringRules saying why."""
    if not isinstance(data, Mapping) or not all(isinstance(k, str) for k in data):
        raise InvalidScoringRules(f"{where}: expected an object, got {data!r}")
    missing = expected - set(data)
    unexpected = set(data) - expected
    if missing or unexpected:
        raise InvalidScoringRules(
            f"{where}: missing keys {sorted(missing)}, unexpected keys {sorted(unexpected)}"
        )
    return data


def text_of(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise InvalidScoringRules(f"{where}: expected a string, got {value!r}")
    return value


def _int_of(value: object, where: str) -> int:
    if type(value) is not int:
        raise InvalidScoringRules(f"{where}: expected an integer, got {value!r}")
    return value


def _tier_from(data: object, where: str) -> Tier:
    fields = fields_of(data, where, {"low", "high", "points"})
    high = fields["high"]
    return Tier(
        low=_int_of(fields["low"], f"{where}.low"),
        high=None if high is None else _int_of(high, f"{where}.high"),
        points=parse_fraction_text(fields["points"], f"{where}.points"),
    )


def _kind_of(data: object, where: str) -> str:
    if not isinstance(data, Mapping):
        raise InvalidScoringRules(f"{where}: expected an object, got {data!r}")
    return text_of(data.get("kind"), f"{where}.kind")


def rule_from(data: object, where: str) -> Rule:
    """One rule from its canonical form; `where` locates it in error messages (e.g. "rules[3]")."""
    kind = _kind_of(data, where)
    try:
        if kind == "per_unit":
            fields = fields_of(data, where, {"kind", "stat", "points"})
            return PerUnit(
                stat=text_of(fields["stat"], f"{where}.stat"),
                points=parse_fraction_text(fields["points"], f"{where}.points"),
            )
        if kind == "threshold":
            fields = fields_of(data, where, {"kind", "stat", "at_least", "bonus"})
            return Threshold(
                stat=text_of(fields["stat"], f"{where}.stat"),
                at_least=parse_fraction_text(fields["at_least"], f"{where}.at_least"),
                bonus=parse_fraction_text(fields["bonus"], f"{where}.bonus"),
            )
        if kind == "tiered":
            fields = fields_of(data, where, {"kind", "stat", "tiers"})
            tiers = fields["tiers"]
            if not isinstance(tiers, list):
                raise InvalidScoringRules(f"{where}.tiers: expected a list, got {tiers!r}")
            return Tiered(
                stat=text_of(fields["stat"], f"{where}.stat"),
                tiers=tuple(_tier_from(t, f"{where}.tiers[{i}]") for i, t in enumerate(tiers)),
            )
    except InvalidScoringRules as error:
        if str(error).startswith(where):
            raise
        raise InvalidScoringRules(f"{where}: {error}") from error
    raise InvalidScoringRules(
        f"{where}.kind: expected 'per_unit', 'threshold' or 'tiered', got {kind!r}"
    )
