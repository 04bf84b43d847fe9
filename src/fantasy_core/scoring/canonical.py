"""Reading a rule set's canonical (JSON-able) form back into rules, refusing anything malformed."""

from __future__ import annotations

from collections.abc import Mapping

from fantasy_core.codec import Reader
from fantasy_core.errors import InvalidScoringRules
from fantasy_core.scoring.exact import parse_fraction_text
from fantasy_core.scoring.rules import PerUnit, Rule, Threshold, Tier, Tiered

CANONICAL_VERSION = 1
"""Bumped only if the canonical form of an existing rule kind ever has to change shape."""

READ = Reader(InvalidScoringRules)
"""The structural checks of a rule set's canonical form, raising InvalidScoringRules."""


def _tier_from(data: object, where: str) -> Tier:
    fields = READ.fields(data, where, {"low", "high", "points"})
    high = fields["high"]
    return Tier(
        low=READ.integer(fields["low"], f"{where}.low"),
        high=None if high is None else READ.integer(high, f"{where}.high"),
        points=parse_fraction_text(fields["points"], f"{where}.points"),
    )


def _kind_of(data: object, where: str) -> str:
    if not isinstance(data, Mapping):
        raise InvalidScoringRules(f"{where}: expected an object, got {data!r}")
    return READ.text(data.get("kind"), f"{where}.kind")


def rule_from(data: object, where: str) -> Rule:
    """One rule from its canonical form; `where` locates it in error messages (e.g. "rules[3]")."""
    kind = _kind_of(data, where)
    try:
        if kind == "per_unit":
            fields = READ.fields(data, where, {"kind", "stat", "points"})
            return PerUnit(
                stat=READ.text(fields["stat"], f"{where}.stat"),
                points=parse_fraction_text(fields["points"], f"{where}.points"),
            )
        if kind == "threshold":
            fields = READ.fields(data, where, {"kind", "stat", "at_least", "bonus"})
            return Threshold(
                stat=READ.text(fields["stat"], f"{where}.stat"),
                at_least=parse_fraction_text(fields["at_least"], f"{where}.at_least"),
                bonus=parse_fraction_text(fields["bonus"], f"{where}.bonus"),
            )
        if kind == "tiered":
            fields = READ.fields(data, where, {"kind", "stat", "tiers"})
            tiers = READ.items(fields["tiers"], f"{where}.tiers")
            return Tiered(
                stat=READ.text(fields["stat"], f"{where}.stat"),
                tiers=tuple(_tier_from(t, f"{where}.tiers[{i}]") for i, t in enumerate(tiers)),
            )
    except InvalidScoringRules as error:
        if str(error).startswith(where):
            raise
        raise InvalidScoringRules(f"{where}: {error}") from error
    raise InvalidScoringRules(
        f"{where}.kind: expected 'per_unit', 'threshold' or 'tiered', got {kind!r}"
    )
