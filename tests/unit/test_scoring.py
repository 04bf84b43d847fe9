"""Scoring rules: presets, exactness, explanations, canonical form and fingerprints."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fantasy_core.errors import InvalidScoringRules, InvalidStatLine, UnknownRules
from fantasy_core.scoring import (
    DST_STAT_KEYS,
    PRESETS,
    STAT_KEYS,
    Explanation,
    PerUnit,
    ScoreLine,
    ScoringRules,
    Threshold,
    Tier,
    Tiered,
    format_points,
    parse_stat_value,
    preset,
)

F = Fraction
DK = preset("draftkings_nfl_classic")
FD = preset("fanduel_nfl")
NFLVERSE_ROWS = 8291

# The fingerprint of the DraftKings preset (it has all three rule kinds). If this test
# fails, the preset or the canonical form changed: every stored contest fingerprint breaks.
DK_FINGERPRINT = "sha256:da81156894459484ea101a88600bc09040d1df980a37f8893049fe5f6662617e"


def points(rules: ScoringRules, **stats: Fraction | int) -> str:
    return format_points(rules.score(stats))


# ---- nflverse: standard and PPR reproduce fantasy_points and fantasy_points_ppr ----------


@pytest.fixture(scope="module")
def nflverse_rows(nflverse_player_stats_csv: Path) -> list[tuple[dict[str, str], dict[str, F]]]:
    with nflverse_player_stats_csv.open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    keys = sorted(STAT_KEYS & set(rows[0]))
    parsed: dict[str, F] = {}  # the same few cell texts recur thousands of times

    def value(text: str) -> F:
        if text not in parsed:
            parsed[text] = parse_stat_value(text)
        return parsed[text]

    return [(row, {k: value(row[k]) for k in keys if row[k] not in ("", "NA")}) for row in rows]


@pytest.mark.parametrize(
    ("rules_name", "column"), [("standard", "fantasy_points"), ("ppr", "fantasy_points_ppr")]
)
def test_nflverse_presets_reproduce_nflverse_fantasy_points_on_every_row(
    nflverse_rows: list[tuple[dict[str, str], dict[str, F]]], rules_name: str, column: str
) -> None:
    rules = preset(rules_name)
    assert len(nflverse_rows) == NFLVERSE_ROWS
    scored = [(row, rules.score(stats)) for row, stats in nflverse_rows]
    wrong = [
        (row["player_display_name"], row["week"], format_points(score), row[column])
        for row, score in scored
        if abs(score - F(row[column])) > F(1, 100)
    ]
    assert wrong == []


def test_offence_stat_keys_are_nflverse_player_stats_columns(
    nflverse_player_stats_csv: Path,
) -> None:
    with nflverse_player_stats_csv.open(newline="", encoding="utf-8") as file:
        header = set(next(csv.reader(file)))
    assert header >= STAT_KEYS - DST_STAT_KEYS
    assert not DST_STAT_KEYS & header


# ---- the nflverse presets on hand-made lines ------------------------------------------


def test_standard_scores_a_quarterback_as_nflverse_does() -> None:
    # Aaron Rodgers, 2025 week 1: 244 yards, 4 TD, 1 carry for -1 yard -> 25.66.
    line = {"passing_yards": 244, "passing_tds": 4, "rushing_yards": -1, "receptions": 0}
    assert format_points(preset("standard").score(line)) == "25.66"


def test_negative_yards_cost_points() -> None:
    assert points(preset("standard"), rushing_yards=-7) == "-0.7"
    assert points(preset("standard"), rushing_yards=-7, rushing_fumbles_lost=1) == "-2.7"


def test_receptions_score_nothing_in_standard_half_in_half_ppr_one_in_ppr() -> None:
    line = {"receptions": 5, "receiving_yards": 43}
    assert [points(preset(name), **line) for name in ("standard", "half_ppr", "ppr")] == [
        "4.3",
        "6.8",
        "9.3",
    ]


def test_nflverse_scores_return_tds_but_not_fumble_recovery_tds() -> None:
    standard = preset("standard")
    assert points(standard, special_teams_tds=1) == "6"
    assert points(standard, fumble_recovery_tds=1) == "0"


def test_nflverse_counts_every_kind_of_fumble_lost_and_two_point_conversion() -> None:
    standard = preset("standard")
    for fumble in ("sack_fumbles_lost", "rushing_fumbles_lost", "receiving_fumbles_lost"):
        assert points(standard, **{fumble: 1}) == "-2"
    for conversion in ("passing", "rushing", "receiving"):
        assert points(standard, **{f"{conversion}_2pt_conversions": 1}) == "2"
    assert points(standard, passing_interceptions=2) == "-4"


# ---- DraftKings and FanDuel -----------------------------------------------------------


@pytest.mark.parametrize(
    ("stat", "below", "at", "per_yard"),
    [
        ("passing_yards", 299, 300, F(4, 100)),
        ("rushing_yards", 99, 100, F(1, 10)),
        ("receiving_yards", 99, 100, F(1, 10)),
    ],
)
def test_draftkings_yardage_bonus_is_earned_exactly_at_the_threshold(
    stat: str, below: int, at: int, per_yard: F
) -> None:
    assert DK.score({stat: below}) == below * per_yard
    assert DK.score({stat: at}) == at * per_yard + 3
    assert DK.score({stat: at + 150}) == (at + 150) * per_yard + 3


def test_draftkings_offence_scoring() -> None:
    assert points(DK, passing_interceptions=1) == "-1"
    assert points(DK, receptions=1) == "1"
    assert points(DK, special_teams_tds=1) == "6"
    assert points(DK, fumble_recovery_tds=1) == "6"
    for fumble in ("sack_fumbles_lost", "rushing_fumbles_lost", "receiving_fumbles_lost"):
        assert points(DK, **{fumble: 1}) == "-1"
    assert points(DK, rushing_2pt_conversions=1) == "2"


def test_fanduel_is_half_ppr_with_lighter_interceptions_and_no_yardage_bonus() -> None:
    assert points(FD, receptions=3) == "1.5"
    assert points(FD, passing_interceptions=1) == "-1"
    assert points(FD, rushing_fumbles_lost=1) == "-2"
    assert points(FD, passing_yards=300) == "12"
    assert points(FD, rushing_yards=100) == "10"
    assert points(FD, fumble_recovery_tds=1, special_teams_tds=1) == "12"


@pytest.mark.parametrize(
    ("allowed", "expected"),
    [
        (0, "10"),
        (1, "7"),
        (6, "7"),
        (7, "4"),
        (13, "4"),
        (14, "1"),
        (20, "1"),
        (21, "0"),
        (27, "0"),
        (28, "-1"),
        (34, "-1"),
        (35, "-4"),
        (70, "-4"),
    ],
)
@pytest.mark.parametrize("rules", [DK, FD], ids=["draftkings", "fanduel"])
def test_points_allowed_tiers_at_each_boundary(
    rules: ScoringRules, allowed: int, expected: str
) -> None:
    assert points(rules, dst_points_allowed=allowed) == expected


@pytest.mark.parametrize("rules", [DK, FD], ids=["draftkings", "fanduel"])
def test_points_allowed_tier_applies_only_to_defence_lines(rules: ScoringRules) -> None:
    quarterback = {"passing_yards": 250, "passing_tds": 2}
    assert rules.score(quarterback) == 10 + 8
    assert all(line.stat != "dst_points_allowed" for line in rules.explain(quarterback).lines)


@pytest.mark.parametrize("rules", [DK, FD], ids=["draftkings", "fanduel"])
def test_defence_scoring(rules: ScoringRules) -> None:
    dst = {
        "dst_sacks": 3,
        "dst_interceptions": 1,
        "dst_fumble_recoveries": 1,
        "dst_safeties": 1,
        "dst_blocked_kicks": 1,
        "dst_defensive_tds": 1,
        "dst_return_tds": 1,
        "dst_points_allowed": 17,
    }
    assert rules.score(dst) == 3 + 2 + 2 + 2 + 2 + 6 + 6 + 1


def test_half_sacks_score_half_points() -> None:
    assert points(DK, dst_sacks=F(5, 2), dst_points_allowed=24) == "2.5"


@pytest.mark.parametrize("rules", [DK, FD], ids=["draftkings", "fanduel"])
def test_offence_players_score_nothing_from_their_individual_defence_stats(
    rules: ScoringRules,
) -> None:
    # nflverse fills these columns on players' own lines (a receiver recovering a muffed
    # punt, a linebacker's sacks); only a DST line's dst_* keys earn defence points.
    receiver: dict[str, F | int] = {
        "receptions": 2,
        "fumble_recovery_opp": 1,
        "def_sacks": F(1, 2),
        "def_tds": 1,
    }
    assert rules.score(receiver) == rules.score({"receptions": 2})


def test_points_allowed_in_no_tier_is_an_invalid_stat_line() -> None:
    with pytest.raises(InvalidStatLine, match="dst_points_allowed = -1 falls in no tier"):
        DK.score({"dst_points_allowed": -1})
    with pytest.raises(InvalidStatLine, match=r"6\.5 falls in no tier"):
        DK.score({"dst_points_allowed": F(13, 2)})


# ---- presets as a whole ---------------------------------------------------------------


def test_presets_are_the_five_named_rule_sets_and_read_only() -> None:
    assert sorted(PRESETS) == [
        "draftkings_nfl_classic",
        "fanduel_nfl",
        "half_ppr",
        "ppr",
        "standard",
    ]
    assert all(PRESETS[name].name == name for name in PRESETS)
    with pytest.raises(TypeError):
        PRESETS["mine"] = DK  # type: ignore[index]


def test_unknown_preset_names_the_known_ones() -> None:
    with pytest.raises(UnknownRules, match="'nope'; known: draftkings_nfl_classic, fanduel_nfl"):
        preset("nope")


def test_stat_keys_are_every_key_any_preset_reads() -> None:
    assert frozenset().union(*(r.stat_keys for r in PRESETS.values())) == STAT_KEYS
    assert {"passing_yards", "receptions", "fumble_recovery_tds"} | DST_STAT_KEYS <= STAT_KEYS


# ---- explanations ---------------------------------------------------------------------


def test_explanation_has_one_line_per_rule_that_fires_and_sums_to_the_score() -> None:
    line = {"passing_yards": 300, "passing_tds": 2, "rushing_yards": -3, "receptions": 0}
    explanation = DK.explain(line)
    assert explanation.lines == (
        ScoreLine("passing_yards", F(300), "+0.04 per unit", F(12)),
        ScoreLine("passing_tds", F(2), "+4 per unit", F(8)),
        ScoreLine("rushing_yards", F(-3), "+0.1 per unit", F(-3, 10)),
        ScoreLine("passing_yards", F(300), "+3 bonus at 300 or more", F(3)),
    )
    assert explanation.total == DK.score(line) == F(227, 10)


def test_explanation_names_the_tier() -> None:
    (line,) = DK.explain({"dst_points_allowed": 35}).lines
    assert line == ScoreLine("dst_points_allowed", F(35), "-4 for 35 or more", F(-4))
    (line,) = FD.explain({"dst_points_allowed": 0}).lines
    assert line.rule == "+10 for 0"


def test_an_explanation_whose_lines_do_not_sum_to_its_total_cannot_exist() -> None:
    with pytest.raises(InvalidScoringRules):
        Explanation((ScoreLine("receptions", F(1), "+1 per unit", F(1)),), F(2))


# ---- validation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: PerUnit("receptions", 0.5), "must be an int or a fractions.Fraction, got float"),  # type: ignore[arg-type]
        (lambda: PerUnit("receptions", True), "got bool"),
        (lambda: PerUnit("receptions", F(1, 3)), "terminating decimal"),
        (lambda: PerUnit("receptions", 0), "worth 0"),
        (lambda: PerUnit("", 1), "stat key"),
        (lambda: PerUnit("Passing Yards", 1), "stat key"),
        (lambda: Threshold("passing_yards", 300, 0.5), "got float"),  # type: ignore[arg-type]
        (lambda: Threshold("passing_yards", 0, 3), "threshold must be positive"),
        (lambda: Threshold("passing_yards", 299.5, 3), "got float"),  # type: ignore[arg-type]
        (lambda: Tier(0, None, 1.0), "got float"),  # type: ignore[arg-type]
        (lambda: Tier(7, 6, 1), "high 6 is below its low 7"),
        (lambda: Tier(0.0, 6, 1), "low bound must be an int"),  # type: ignore[arg-type]
        (lambda: Tiered("pa", ()), "non-empty tuple"),
        (lambda: Tiered("pa", (Tier(0, 6, 1), Tier(6, 9, 0))), "must not overlap"),
        (lambda: Tiered("pa", (Tier(7, 9, 1), Tier(0, 6, 0))), "ordered"),
        (lambda: Tiered("pa", (Tier(7, None, 1), Tier(0, 6, 0))), "ordered"),
        (lambda: ScoringRules("x", ()), "non-empty tuple"),
        (lambda: ScoringRules("", (PerUnit("receptions", 1),)), "name"),
        (
            lambda: ScoringRules("x", (PerUnit("receptions", 1), PerUnit("receptions", 2))),
            "two per_unit rules on receptions",
        ),
        (
            lambda: ScoringRules("x", (Threshold("rushing_yards", 100, 3),) * 2),
            "two threshold rules on rushing_yards",
        ),
    ],
)
def test_invalid_rules_cannot_be_built(build: Callable[[], object], message: str) -> None:
    with pytest.raises(InvalidScoringRules, match=message):
        build()


def test_two_bonuses_at_different_thresholds_of_one_stat_are_fine() -> None:
    rules = ScoringRules(
        "bonuses", (Threshold("rushing_yards", 100, 3), Threshold("rushing_yards", 200, 2))
    )
    assert rules.score({"rushing_yards": 250}) == 5


@pytest.mark.parametrize("value", [0.5, F(1, 3), "3", None, True])
def test_stat_values_must_be_exact_terminating_numbers(value: object) -> None:
    with pytest.raises(InvalidStatLine, match="receptions"):
        preset("ppr").score({"receptions": value})  # type: ignore[dict-item]


# ---- parsing and printing exact numbers -------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("12", F(12)),
        ("-3", F(-3)),
        ("0.5", F(1, 2)),
        ("+1.25", F(5, 4)),
        (".5", F(1, 2)),
        ("7.", F(7)),
        ("0.0", F(0)),
        ("1e+05", F(100000)),
        ("2.5E-1", F(1, 4)),
        (" 3 ", F(3)),
        ("6.199999999999999", F(6199999999999999, 10**15)),
    ],
)
def test_stat_values_parse_exactly(text: str, value: F) -> None:
    assert parse_stat_value(text) == value


@pytest.mark.parametrize(
    "text",
    ["", " ", "NA", "nan", "NaN", "inf", "-inf", "1/2", "1_000", "abc", "0x10", "1e1000", "١٢"],
)
def test_non_numbers_are_not_stat_values(text: str) -> None:
    with pytest.raises(InvalidStatLine, match="not an exact finite number"):
        parse_stat_value(text)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (F(62, 10), "6.2"),
        (F(-3, 2), "-1.5"),
        (7, "7"),
        (-7, "-7"),
        (F(0), "0"),
        (F(1, 25), "0.04"),
        (F(-1, 100), "-0.01"),
        (F(1, 8), "0.125"),
        (F(12345, 100), "123.45"),
        (F(-85, 2), "-42.5"),
    ],
)
def test_points_print_as_exact_decimals(value: F | int, text: str) -> None:
    assert format_points(value) == text


def test_points_without_a_finite_decimal_do_not_print() -> None:
    with pytest.raises(ValueError, match="1/3"):
        format_points(F(1, 3))
    with pytest.raises(TypeError):
        format_points(0.5)  # type: ignore[arg-type]


# ---- canonical form and fingerprint ---------------------------------------------------


def test_fingerprint_of_a_preset_is_fixed() -> None:
    assert DK.fingerprint == DK_FINGERPRINT


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_canonical_form_round_trips_through_json(name: str) -> None:
    rules = PRESETS[name]
    data = json.loads(json.dumps(rules.canonical()))
    again = ScoringRules.from_canonical(data)
    assert again == rules
    assert again.fingerprint == rules.fingerprint
    assert again.canonical() == rules.canonical()


def test_canonical_form_spells_fractions_as_n_over_d() -> None:
    rules = ScoringRules(
        "tiny", (PerUnit("passing_yards", F(1, 25)), Tiered("pa", (Tier(0, None, 0),)))
    )
    assert rules.canonical() == {
        "version": 1,
        "name": "tiny",
        "rules": [
            {"kind": "per_unit", "stat": "passing_yards", "points": "1/25"},
            {
                "kind": "tiered",
                "stat": "pa",
                "tiers": [{"low": 0, "high": None, "points": "0/1"}],
            },
        ],
    }


def _changed(rules: ScoringRules, index: int, **changes: Any) -> ScoringRules:
    edited = list(rules.rules)
    edited[index] = attrs.evolve(edited[index], **changes)
    return attrs.evolve(rules, rules=tuple(edited))


def _dk_tier_changed() -> ScoringRules:
    tiered = DK.rules[-1]
    assert isinstance(tiered, Tiered)
    tiers = (*tiered.tiers[:-1], Tier(35, None, F(-5)))
    return _changed(DK, len(DK.rules) - 1, tiers=tiers)


@pytest.mark.parametrize(
    "changed",
    [
        lambda: _changed(DK, 0, points=F(5, 100)),
        lambda: _changed(DK, 0, stat="passing_air_yards"),
        lambda: attrs.evolve(DK, name="draftkings_copy"),
        lambda: attrs.evolve(DK, rules=DK.rules[:-1]),
        lambda: attrs.evolve(DK, rules=(DK.rules[1], DK.rules[0], *DK.rules[2:])),
        _dk_tier_changed,
    ],
    ids=["points", "stat", "name", "rule removed", "order", "tier"],
)
def test_fingerprint_changes_when_the_rule_set_changes(
    changed: Callable[[], ScoringRules],
) -> None:
    assert changed().fingerprint != DK.fingerprint


def test_equal_rule_sets_built_apart_share_a_fingerprint() -> None:
    a = ScoringRules("x", (PerUnit("receptions", F(1, 2)), Threshold("rushing_yards", 100, 3)))
    b = ScoringRules("x", (PerUnit("receptions", F(5, 10)), Threshold("rushing_yards", F(100), 3)))
    assert a == b
    assert a.fingerprint == b.fingerprint


def _good() -> dict[str, object]:
    return preset("draftkings_nfl_classic").canonical()


def _with(path: tuple[object, ...], value: object, *, delete: bool = False) -> dict[str, object]:
    data = json.loads(json.dumps(_good()))
    target = data
    for key in path[:-1]:
        target = target[key]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "rule set: expected an object"),
        (_with(("version",), 2), "rule set.version: expected 1, got 2"),
        (_with(("version",), True), "rule set.version: expected 1, got True"),
        (_with(("name",), None, delete=True), "missing keys \\['name'\\]"),
        (_with(("extra",), 1), "unexpected keys \\['extra'\\]"),
        (_with(("rules",), {}), "rule set.rules: expected a list"),
        (_with(("rules", 0, "kind"), "bonus"), "rules\\[0\\].kind: expected 'per_unit'"),
        (_with(("rules", 0, "points"), "0.04"), "rules\\[0\\].points: expected a fraction"),
        (_with(("rules", 0, "points"), 0.04), "rules\\[0\\].points: expected a fraction"),
        (_with(("rules", 0, "points"), "2/50"), "lowest terms '1/25'"),
        (_with(("rules", 0, "points"), "1/3"), "rules\\[0\\]: .*terminating decimal"),
        (_with(("rules", 0, "stat"), 7), "rules\\[0\\].stat: expected a string"),
        (_with(("rules", 0, "stat"), "Passing"), "rules\\[0\\]: a stat key"),
        (_with(("rules", -1, "tiers"), {}), "rules\\[\\d+\\].tiers: expected a list"),
        (_with(("rules", -1, "tiers", 0, "low"), False), "tiers\\[0\\].low: expected an integer"),
        (_with(("rules", -1, "tiers", 1, "low"), 0), "rules\\[\\d+\\]: .*must not overlap"),
        (_with(("rules", -1, "tiers", 0, "high"), "0"), "tiers\\[0\\].high: expected an integer"),
    ],
)
def test_from_canonical_refuses_malformed_data_saying_where(data: object, message: str) -> None:
    with pytest.raises(InvalidScoringRules, match=message):
        ScoringRules.from_canonical(data)


# ---- properties -----------------------------------------------------------------------

_TERMINATING = st.builds(
    F, st.integers(-10_000, 10_000), st.sampled_from([1, 2, 4, 5, 10, 20, 25, 100])
)
_STAT_VALUE = st.one_of(st.integers(-100, 600), _TERMINATING)
_STAT_LINES = st.builds(
    lambda stats, allowed: {**stats, **allowed},
    st.dictionaries(
        st.sampled_from(sorted(STAT_KEYS - {"dst_points_allowed"})), _STAT_VALUE, max_size=12
    ),
    st.one_of(st.just({}), st.integers(0, 70).map(lambda n: {"dst_points_allowed": n})),
)
_PER_UNIT_RULES = st.dictionaries(
    st.sampled_from(sorted(STAT_KEYS)), _TERMINATING.filter(bool), min_size=1, max_size=10
).map(lambda table: ScoringRules("random", tuple(PerUnit(k, v) for k, v in table.items())))


@settings(max_examples=60)
@given(stats=_STAT_LINES)
def test_explanations_always_sum_to_the_score(stats: Mapping[str, F | int]) -> None:
    for rules in PRESETS.values():
        explanation = rules.explain(stats)
        assert explanation.total == rules.score(stats)
        assert sum(line.points for line in explanation.lines) == explanation.total
        format_points(explanation.total)  # every score prints exactly


def _merged(a: Mapping[str, F | int], b: Mapping[str, F | int]) -> dict[str, F | int]:
    return {key: a.get(key, 0) + b.get(key, 0) for key in {*a, *b}}


@settings(max_examples=60)
@given(rules=_PER_UNIT_RULES, a=_STAT_LINES, b=_STAT_LINES)
def test_per_unit_scoring_is_additive(
    rules: ScoringRules, a: Mapping[str, F | int], b: Mapping[str, F | int]
) -> None:
    assert rules.score(_merged(a, b)) == rules.score(a) + rules.score(b)


@settings(max_examples=60)
@given(rules=_PER_UNIT_RULES)
def test_any_rule_set_round_trips_through_its_canonical_form(rules: ScoringRules) -> None:
    assert ScoringRules.from_canonical(json.loads(json.dumps(rules.canonical()))) == rules
