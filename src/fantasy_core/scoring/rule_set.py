"""A named, ordered set of scoring rules: scores, explanations, canonical form and fingerprint."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

from attrs import field, frozen

from fantasy_core.codec import fingerprint
from fantasy_core.errors import InvalidScoringRules
from fantasy_core.scoring.canonical import CANONICAL_VERSION, READ, rule_from
from fantasy_core.scoring.rules import (
    PerUnit,
    Rule,
    ScoreLine,
    StatValue,
    Threshold,
    Tiered,
    explain_rule,
)


@frozen
class Explanation:
    """How a stat line scored: one line per rule that fired, in rule order; they sum to `total`."""

    lines: tuple[ScoreLine, ...]
    total: Fraction

    def __attrs_post_init__(self) -> None:
        if sum((line.points for line in self.lines), Fraction(0)) != self.total:
            raise InvalidScoringRules(f"explanation lines do not sum to {self.total}")


def _check_name(_: object, __: object, value: str) -> None:
    if type(value) is not str or not value or value != value.strip() or not value.isprintable():
        raise InvalidScoringRules(
            f"a rule set's name must be non-empty printable text without surrounding spaces, "
            f"got {value!r}"
        )


def _identity(rule: Rule) -> tuple[str, str, Fraction | None]:
    # Two per-unit rules on one stat, two tier tables on one stat, or two bonuses at one
    # threshold are almost surely a mistake, and would make explanations ambiguous.
    if isinstance(rule, PerUnit):
        return ("per_unit", rule.stat, None)
    if isinstance(rule, Threshold):
        return ("threshold", rule.stat, rule.at_least)
    return ("tiered", rule.stat, None)


def _check_rules(_: object, __: object, rules: tuple[Rule, ...]) -> None:
    if type(rules) is not tuple or not rules:
        raise InvalidScoringRules(f"rules must be a non-empty tuple of rules, got {rules!r}")
    seen: set[tuple[str, str, Fraction | None]] = set()
    for rule in rules:
        if not isinstance(rule, PerUnit | Threshold | Tiered):
            raise InvalidScoringRules(f"not a scoring rule: {rule!r}")
        identity = _identity(rule)
        if identity in seen:
            raise InvalidScoringRules(f"two {identity[0]} rules on {identity[1]}: {rule!r}")
        seen.add(identity)


@frozen
class ScoringRules:
    """A named rule set, fixed when a contest is created. Pure data: no per-preset code.

    A stat line is a mapping from stat keys to exact values. A key the line lacks
    counts 0 for per-unit and threshold rules, and makes a tiered rule not apply
    (see Tiered). Rule order is part of the rule set: it orders explanation lines.
    """

    name: str = field(validator=_check_name)
    rules: tuple[Rule, ...] = field(validator=_check_rules)

    @property
    def stat_keys(self) -> frozenset[str]:
        """Every stat key some rule of this set reads."""
        return frozenset(rule.stat for rule in self.rules)

    def explain(self, stats: Mapping[str, StatValue]) -> Explanation:
        """One line per rule that fires (a nonzero per-unit stat, a bonus reached, a tier)."""
        fired = (explain_rule(rule, stats) for rule in self.rules)
        lines = tuple(line for line in fired if line is not None)
        return Explanation(lines, sum((line.points for line in lines), Fraction(0)))

    def score(self, stats: Mapping[str, StatValue]) -> Fraction:
        """The exact points of a stat line; always explain(stats).total, computed more cheaply."""
        total = Fraction(0)
        for rule in self.rules:
            points = rule.points_for(stats)
            if points is not None:
                total += points
        return total

    def canonical(self) -> dict[str, object]:
        """The JSON-able form that identifies this rule set (fractions as "n/d" strings)."""
        return {
            "version": CANONICAL_VERSION,
            "name": self.name,
            "rules": [rule.canonical() for rule in self.rules],
        }

    @property
    def fingerprint(self) -> str:
        """The "sha256:<hex>" of the canonical JSON (codec.fingerprint).

        It covers the name and every rule in order, so it changes iff the rule set
        does; two identical rule sets under different names differ, because a
        contest promises its players the rules by name too.
        """
        return fingerprint(self.canonical())

    @classmethod
    def from_canonical(cls, data: object) -> ScoringRules:
        """The rule set a canonical() form describes; InvalidScoringRules saying what is wrong."""
        fields = READ.fields(data, "rule set", {"version", "name", "rules"})
        if fields["version"] != CANONICAL_VERSION or type(fields["version"]) is not int:
            raise InvalidScoringRules(
                f"rule set.version: expected {CANONICAL_VERSION}, got {fields['version']!r}"
            )
        rules = READ.items(fields["rules"], "rule set.rules")
        return cls(
            name=READ.text(fields["name"], "rule set.name"),
            rules=tuple(rule_from(rule, f"rules[{i}]") for i, rule in enumerate(rules)),
        )
