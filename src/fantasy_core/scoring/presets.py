"""The named scoring presets (nflverse standard and PPR, half PPR, DraftKings, FanDuel) as data."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from types import MappingProxyType

from fantasy_core.errors import UnknownRules
from fantasy_core.scoring.rule_set import ScoringRules
from fantasy_core.scoring.rules import PerUnit, Rule, Threshold, Tier, Tiered

# Offence stat keys are nflverse `player_stats` column names. Defence/special-teams (DST)
# keys live in their own `dst_` namespace, on purpose not nflverse's individual `def_*`
# and `fumble_recovery_opp` columns: those are filled on individual players' lines (a
# linebacker's sacks, a receiver who recovers a muffed punt), and a DST rule must score
# nothing on any player's line. A DST stat line carries only these keys:
DST_SACKS = "dst_sacks"
DST_INTERCEPTIONS = "dst_interceptions"
DST_FUMBLE_RECOVERIES = "dst_fumble_recoveries"
DST_SAFETIES = "dst_safeties"
DST_BLOCKED_KICKS = "dst_blocked_kicks"
DST_DEFENSIVE_TDS = "dst_defensive_tds"  # interception and fumble returns for a touchdown
DST_RETURN_TDS = "dst_return_tds"  # kick, punt and blocked-kick returns for a touchdown
DST_POINTS_ALLOWED = "dst_points_allowed"
DST_STAT_KEYS = frozenset(
    {
        DST_SACKS,
        DST_INTERCEPTIONS,
        DST_FUMBLE_RECOVERIES,
        DST_SAFETIES,
        DST_BLOCKED_KICKS,
        DST_DEFENSIVE_TDS,
        DST_RETURN_TDS,
        DST_POINTS_ALLOWED,
    }
)


def _per_unit(points: str, *stats: str) -> tuple[PerUnit, ...]:
    return tuple(PerUnit(stat, Fraction(points)) for stat in stats)


_FUMBLES_LOST = ("sack_fumbles_lost", "rushing_fumbles_lost", "receiving_fumbles_lost")
_TWO_POINT_CONVERSIONS = (
    "passing_2pt_conversions",
    "rushing_2pt_conversions",
    "receiving_2pt_conversions",
)

# nflverse `fantasy_points`: nflfastR R/calculate_stats.R, calculate_stats(), "Fantasy" block:
#   1/25 * passing_yards + 4 * passing_tds - 2 * passing_interceptions
#   + 1/10 * (rushing_yards + receiving_yards)
#   + 6 * (rushing_tds + receiving_tds + special_teams_tds)
#   + 2 * (passing/rushing/receiving 2pt conversions)
#   - 2 * (sack + rushing + receiving fumbles lost)
# and fantasy_points_ppr = fantasy_points + receptions. Checked against every row of
# nflverse player_stats 2025 weeks 1-8 (tests/unit/test_scoring.py). fumble_recovery_tds
# and def_tds are not scored by nflverse.
_NFLVERSE_STANDARD: tuple[Rule, ...] = (
    *_per_unit("0.04", "passing_yards"),
    *_per_unit("4", "passing_tds"),
    *_per_unit("-2", "passing_interceptions"),
    *_per_unit("0.1", "rushing_yards", "receiving_yards"),
    *_per_unit("6", "rushing_tds", "receiving_tds", "special_teams_tds"),
    *_per_unit("2", *_TWO_POINT_CONVERSIONS),
    *_per_unit("-2", *_FUMBLES_LOST),
)

_POINTS_ALLOWED_TIERS = Tiered(
    DST_POINTS_ALLOWED,
    (
        Tier(0, 0, Fraction(10)),
        Tier(1, 6, Fraction(7)),
        Tier(7, 13, Fraction(4)),
        Tier(14, 20, Fraction(1)),
        Tier(21, 27, Fraction(0)),
        Tier(28, 34, Fraction(-1)),
        Tier(35, None, Fraction(-4)),
    ),
)

# The DST scoring DraftKings and FanDuel both publish: sack 1, interception 2, fumble
# recovery 2, safety 2, blocked kick 2, touchdown 6, and the points-allowed tiers above.
_DST: tuple[Rule, ...] = (
    *_per_unit("1", DST_SACKS),
    *_per_unit("2", DST_INTERCEPTIONS, DST_FUMBLE_RECOVERIES, DST_SAFETIES, DST_BLOCKED_KICKS),
    *_per_unit("6", DST_DEFENSIVE_TDS, DST_RETURN_TDS),
    _POINTS_ALLOWED_TIERS,
)

# DraftKings NFL Classic, "Scoring" on https://www.draftkings.com/help/nfl (offence and DST).
# Offence and DST share one rule set; the disjoint keys keep them apart.
_DRAFTKINGS_NFL_CLASSIC: tuple[Rule, ...] = (
    *_per_unit("0.04", "passing_yards"),
    *_per_unit("4", "passing_tds"),
    *_per_unit("-1", "passing_interceptions"),
    *_per_unit("0.1", "rushing_yards", "receiving_yards"),
    *_per_unit("1", "receptions"),
    *_per_unit("6", "rushing_tds", "receiving_tds", "special_teams_tds", "fumble_recovery_tds"),
    *_per_unit("2", *_TWO_POINT_CONVERSIONS),
    *_per_unit("-1", *_FUMBLES_LOST),
    Threshold("passing_yards", 300, Fraction(3)),
    Threshold("rushing_yards", 100, Fraction(3)),
    Threshold("receiving_yards", 100, Fraction(3)),
    *_DST,
)

# FanDuel NFL, "Scoring" on https://www.fanduel.com/rules (NFL full-roster, offence and D/ST):
# half PPR with -1 per interception, no yardage bonuses.
_FANDUEL_NFL: tuple[Rule, ...] = (
    *_per_unit("0.04", "passing_yards"),
    *_per_unit("4", "passing_tds"),
    *_per_unit("-1", "passing_interceptions"),
    *_per_unit("0.1", "rushing_yards", "receiving_yards"),
    *_per_unit("0.5", "receptions"),
    *_per_unit("6", "rushing_tds", "receiving_tds", "special_teams_tds", "fumble_recovery_tds"),
    *_per_unit("2", *_TWO_POINT_CONVERSIONS),
    *_per_unit("-2", *_FUMBLES_LOST),
    *_DST,
)

PRESETS: Mapping[str, ScoringRules] = MappingProxyType(
    {
        rules.name: rules
        for rules in (
            ScoringRules("standard", _NFLVERSE_STANDARD),
            ScoringRules("ppr", (*_NFLVERSE_STANDARD, *_per_unit("1", "receptions"))),
            ScoringRules("half_ppr", (*_NFLVERSE_STANDARD, *_per_unit("0.5", "receptions"))),
            ScoringRules("draftkings_nfl_classic", _DRAFTKINGS_NFL_CLASSIC),
            ScoringRules("fanduel_nfl", _FANDUEL_NFL),
        )
    }
)
"""Every preset by name. Read-only."""

STAT_KEYS: frozenset[str] = frozenset().union(*(rules.stat_keys for rules in PRESETS.values()))
"""Every stat key some preset reads."""


def preset(name: str) -> ScoringRules:
    """The preset called `name`, or UnknownRules listing the known names."""
    try:
        return PRESETS[name]
    except KeyError:
        known = ", ".join(sorted(PRESETS))
        raise UnknownRules(f"unknown scoring rules {name!r}; known: {known}") from None
