"""The three kinds of scoring rule (per unit, threshold bonus, tiers) and the lines they explain."""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Mapping
from fractions import Fraction

from attrs import field, frozen

from fantasy_core.errors import InvalidScoringRules, InvalidStatLine
from fantasy_core.scoring.exact import exact_points, format_points, fraction_text, is_terminating

StatValue = Fraction | int
"""A stat as the core sees it: an exact number (half sacks make some stats fractional)."""

_STAT_KEY = re.compile(r"[a-z][a-z0-9_]*")
_ABSENT = object()


def _check_stat_key(_: object, __: object, value: str) -> None:
    if type(value) is not str or _STAT_KEY.fullmatch(value) is None:
        raise InvalidScoringRules(
            f"a stat key is lower-case letters, digits and '_' after a first letter; got {value!r}"
        )


def _points(value: Fraction | int) -> Fraction:
    return exact_points(value, "points")


def _bonus(value: Fraction | int) -> Fraction:
    return exact_points(value, "a threshold bonus")


def _at_least(value: Fraction | int) -> Fraction:
    return exact_points(value, "a threshold")


def _check_nonzero(instance: object, _: object, value: Fraction) -> None:
    if value == 0:
        raise InvalidScoringRules(f"a rule worth 0 does nothing; leave it out: {instance!r}")


def _check_low(_: object, __: object, value: int) -> None:
    if type(value) is not int:
        raise InvalidScoringRules(f"a tier's low bound must be an int, got {value!r}")


def _check_high(_: object, __: object, value: int | None) -> None:
    if value is not None and type(value) is not int:
        raise InvalidScoringRules(f"a tier's high bound must be an int or None, got {value!r}")


def read_stat(stats: Mapping[str, StatValue], key: str) -> StatValue | None:
    """The exact value of `key` in a stat line, None when the line has no such key."""
    value = stats.get(key, _ABSENT)
    if value is _ABSENT:
        return None
    if type(value) is int or (isinstance(value, Fraction) and is_terminating(value)):
        return value
    raise InvalidStatLine(
        f"{key} must be an int or a Fraction with a terminating decimal, got {value!r}"
    )


@functools.lru_cache(maxsize=256)
def _signed(points: Fraction) -> str:
    return f"+{format_points(points)}" if points > 0 else format_points(points)


@frozen
class ScoreLine:
    """One rule's contribution: `value` of `stat` scores `points` under `rule`."""

    stat: str
    value: Fraction
    rule: str
    points: Fraction


@frozen
class PerUnit:
    """`points` for every unit of `stat` (so negative yards cost points); absent counts 0."""

    stat: str = field(validator=_check_stat_key)
    points: Fraction = field(converter=_points, validator=_check_nonzero)

    def points_for(self, stats: Mapping[str, StatValue]) -> Fraction | None:
        """The points this rule gives a stat line, None when it does not fire (stat 0 or absent)."""
        value = read_stat(stats, self.stat)
        return value * self.points if value else None

    def describe(self, value: Fraction) -> str:
        return f"{_signed(self.points)} per unit"

    def canonical(self) -> dict[str, object]:
        return {"kind": "per_unit", "stat": self.stat, "points": fraction_text(self.points)}


@frozen
class Threshold:
    """`bonus` once when `stat` reaches `at_least` (positive, so a missing stat never earns it)."""

    stat: str = field(validator=_check_stat_key)
    at_least: Fraction = field(converter=_at_least)
    bonus: Fraction = field(converter=_bonus, validator=_check_nonzero)

    @at_least.validator
    def _check_positive(self, _: object, value: Fraction) -> None:
        if value <= 0:
            raise InvalidScoringRules(
                f"a threshold must be positive (a missing stat counts 0 and must earn nothing), "
                f"got {format_points(value)} for {self.stat}"
            )

    def points_for(self, stats: Mapping[str, StatValue]) -> Fraction | None:
        """The bonus when the stat reaches the threshold, else None."""
        value = read_stat(stats, self.stat)
        return self.bonus if value is not None and value >= self.at_least else None

    def describe(self, value: Fraction) -> str:
        return f"{_signed(self.bonus)} bonus at {format_points(self.at_least)} or more"

    def canonical(self) -> dict[str, object]:
        return {
            "kind": "threshold",
            "stat": self.stat,
            "at_least": fraction_text(self.at_least),
            "bonus": fraction_text(self.bonus),
        }


@frozen
class Tier:
    """`points` when the stat lies in low..high, both inclusive; `high` None: no upper bound."""

    low: int = field(validator=_check_low)
    high: int | None = field(validator=_check_high)
    points: Fraction = field(converter=_points)

    def __attrs_post_init__(self) -> None:
        if self.high is not None and self.high < self.low:
            raise InvalidScoringRules(f"a tier's high {self.high} is below its low {self.low}")

    def contains(self, value: StatValue) -> bool:
        return self.low <= value and (self.high is None or value <= self.high)

    def describe(self) -> str:
        if self.high is None:
            span = f"{self.low} or more"
        elif self.high == self.low:
            span = f"{self.low}"
        else:
            span = f"{self.low} to {self.high}"
        return f"{_signed(self.points)} for {span}"

    def canonical(self) -> dict[str, object]:
        return {"low": self.low, "high": self.high, "points": fraction_text(self.points)}


def _check_tiers(_: object, __: object, tiers: tuple[Tier, ...]) -> None:
    if type(tiers) is not tuple or not tiers or not all(isinstance(t, Tier) for t in tiers):
        raise InvalidScoringRules(f"tiers must be a non-empty tuple of Tier, got {tiers!r}")
    for before, after in itertools.pairwise(tiers):
        if before.high is None or before.high >= after.low:
            raise InvalidScoringRules(
                f"tiers must be ordered and must not overlap: {before.describe()!r} "
                f"then {after.describe()!r}"
            )


@frozen
class Tiered:
    """Points by the tier `stat` falls in, e.g. a defence's points allowed.

    Applies only to a stat line that HAS the stat: a quarterback's line has no
    points allowed and gets nothing from this rule, not the best tier. A present
    value that falls in no tier (in a gap, below the first tier, or 6.5 between
    integer tiers) is not a valid stat line: InvalidStatLine.
    """

    stat: str = field(validator=_check_stat_key)
    tiers: tuple[Tier, ...] = field(validator=_check_tiers)

    def tier_for(self, value: StatValue) -> Tier:
        for tier in self.tiers:
            if tier.contains(value):
                return tier
        raise InvalidStatLine(f"{self.stat} = {format_points(value)} falls in no tier")

    def points_for(self, stats: Mapping[str, StatValue]) -> Fraction | None:
        """The points of the stat's tier; None when the stat line has no such stat."""
        value = read_stat(stats, self.stat)
        return None if value is None else self.tier_for(value).points

    def describe(self, value: Fraction) -> str:
        return self.tier_for(value).describe()

    def canonical(self) -> dict[str, object]:
        return {
            "kind": "tiered",
            "stat": self.stat,
            "tiers": [tier.canonical() for tier in self.tiers],
        }


Rule = PerUnit | Threshold | Tiered
"""Any one scoring rule; a rule set is an ordered tuple of these."""


def explain_rule(rule: Rule, stats: Mapping[str, StatValue]) -> ScoreLine | None:
    """The line `rule` contributes to a stat line's explanation, None when it does not fire."""
    points = rule.points_for(stats)
    if points is None:
        return None
    value = Fraction(stats[rule.stat])
    return ScoreLine(rule.stat, value, rule.describe(value), points)
