"""Scoring: exact, data-driven rule sets that turn a stat line into points and explain them."""

from fantasy_core.scoring.exact import format_points, parse_stat_value
from fantasy_core.scoring.presets import DST_STAT_KEYS, PRESETS, STAT_KEYS, preset
from fantasy_core.scoring.rule_set import Explanation, ScoringRules
from fantasy_core.scoring.rules import (
    PerUnit,
    Rule,
    ScoreLine,
    StatValue,
    Threshold,
    Tier,
    Tiered,
)

__all__ = [
    "DST_STAT_KEYS",
    "PRESETS",
    "STAT_KEYS",
    "Explanation",
    "PerUnit",
    "Rule",
    "ScoreLine",
    "ScoringRules",
    "StatValue",
    "Threshold",
    "Tier",
    "Tiered",
    "format_points",
    "parse_stat_value",
    "preset",
]
