"""Lineup rules: roster templates, the slate's player pool, and each way a lineup can be illegal."""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType

import attrs
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from fantasy_core.errors import (
    DomainError,
    InvalidLineup,
    InvalidPlayerPool,
    InvalidSportTemplate,
    UnknownSportTemplate,
)
from fantasy_core.lineups import (
    SPORT_TEMPLATES,
    Lineup,
    PlayerPool,
    Position,
    RosterSlot,
    SlatePlayer,
    SportTemplate,
    sport_template,
    validate_lineup,
)

DK = sport_template("draftkings_nfl_classic")
FD = sport_template("fanduel_nfl")

BAL_KC = "2024_01_BAL_KC"
GB_PHI = "2024_01_GB_PHI"
PIT_ATL = "2024_01_PIT_ATL"

# Week 1 of 2024, three games; DraftKings-like salaries in whole dollars.
_ROWS: tuple[tuple[str, str, str, str, str, int], ...] = (
    ("kc-mahomes", "Patrick Mahomes", "QB", "KC", BAL_KC, 6800),
    ("bal-jackson", "Lamar Jackson", "QB", "BAL", BAL_KC, 7200),
    ("phi-hurts", "Jalen Hurts", "QB", "PHI", GB_PHI, 7000),
    ("kc-pacheco", "Isiah Pacheco", "RB", "KC", BAL_KC, 6000),
    ("kc-perine", "Samaje Perine", "RB", "KC", BAL_KC, 4000),
    ("bal-henry", "Derrick Henry", "RB", "BAL", BAL_KC, 6800),
    ("phi-barkley", "Saquon Barkley", "RB", "PHI", GB_PHI, 6800),
    ("gb-jacobs", "Josh Jacobs", "RB", "GB", GB_PHI, 6200),
    ("atl-robinson", "Bijan Robinson", "RB", "ATL", PIT_ATL, 7600),
    ("kc-rice", "Rashee Rice", "WR", "KC", BAL_KC, 5600),
    ("kc-worthy", "Xavier Worthy", "WR", "KC", BAL_KC, 4600),
    ("kc-smith-schuster", "JuJu Smith-Schuster", "WR", "KC", BAL_KC, 3000),
    ("bal-flowers", "Zay Flowers", "WR", "BAL", BAL_KC, 5500),
    ("phi-brown", "A.J. Brown", "WR", "PHI", GB_PHI, 7900),
    ("gb-reed", "Jayden Reed", "WR", "GB", GB_PHI, 5800),
    ("pit-pickens", "George Pickens", "WR", "PIT", PIT_ATL, 5400),
    ("atl-london", "Drake London", "WR", "ATL", PIT_ATL, 6000),
    ("kc-kelce", "Travis Kelce", "TE", "KC", BAL_KC, 6200),
    ("kc-gray", "Noah Gray", "TE", "KC", BAL_KC, 2500),
    ("bal-andrews", "Mark Andrews", "TE", "BAL", BAL_KC, 4800),
    ("phi-goedert", "Dallas Goedert", "TE", "PHI", GB_PHI, 4200),
    ("kc-butker", "Harrison Butker", "K", "KC", BAL_KC, 4500),
    ("kc-dst", "Chiefs", "DST", "KC", BAL_KC, 3000),
    ("bal-dst", "Ravens", "DST", "BAL", BAL_KC, 2900),
    ("phi-dst", "Eagles", "DST", "PHI", GB_PHI, 3100),
    ("pit-dst", "Steelers", "DST", "PIT", PIT_ATL, 3200),
)
PLAYERS = tuple(SlatePlayer(*row) for row in _ROWS)

# QB, RB, RB, WR, WR, WR, TE, FLEX, DST: 6800+6000+6200+5600+5500+5800+4200+4600+3100 = 47,800.
VALID_IDS = (
    "kc-mahomes",
    "kc-pacheco",
    "gb-jacobs",
    "kc-rice",
    "bal-flowers",
    "gb-reed",
    "phi-goedert",
    "kc-worthy",
    "phi-dst",
)


@pytest.fixture
def pool() -> PlayerPool:
    return PlayerPool.of("2024-week-01-main", PLAYERS)


def lineup_for(template: SportTemplate, *player_ids: str) -> Lineup:
    return Lineup(tuple(zip(template.slot_names, player_ids, strict=False)))


def rejection(template: SportTemplate, pool: PlayerPool, lineup: Lineup) -> InvalidLineup:
    with pytest.raises(InvalidLineup) as caught:
        validate_lineup(template, pool, lineup)
    return caught.value


def with_pick(player_ids: tuple[str, ...], index: int, player_id: str) -> tuple[str, ...]:
    return (*player_ids[:index], player_id, *player_ids[index + 1 :])


# --- the templates ---------------------------------------------------------------------------


def test_draftkings_classic_is_nine_slots_under_fifty_thousand_from_two_games() -> None:
    assert DK.slot_names == ("QB", "RB", "RB", "WR", "WR", "WR", "TE", "FLEX", "DST")
    assert DK.slots[7].eligible == {"RB", "WR", "TE"}
    assert (DK.salary_cap, DK.min_teams, DK.min_games) == (50_000, 2, 2)


def test_fanduel_nfl_is_the_same_shape_under_sixty_thousand_with_a_def_slot() -> None:
    assert FD.slot_names == ("QB", "RB", "RB", "WR", "WR", "WR", "TE", "FLEX", "DEF")
    assert FD.slots[8].eligible == {Position.DST}
    assert (FD.salary_cap, FD.min_teams, FD.min_games) == (60_000, 2, 2)


def test_sport_templates_are_listed_by_name_and_read_only() -> None:
    assert set(SPORT_TEMPLATES) == {"draftkings_nfl_classic", "fanduel_nfl"}
    assert all(name == t.name for name, t in SPORT_TEMPLATES.items())
    with pytest.raises(TypeError):
        SPORT_TEMPLATES["x"] = DK  # type: ignore[index]


def test_an_unknown_template_name_lists_the_known_templates() -> None:
    with pytest.raises(UnknownSportTemplate, match="draftkings_nfl_classic, fanduel_nfl"):
        sport_template("yahoo_nfl")
    assert issubclass(UnknownSportTemplate, DomainError)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: attrs.evolve(DK, slots=()), "at least one roster slot"),
        (lambda: attrs.evolve(DK, salary_cap=0), "salary_cap"),
        (lambda: attrs.evolve(DK, salary_cap=True), "salary_cap"),
        (lambda: attrs.evolve(DK, min_teams=0), "min_teams"),
        (lambda: attrs.evolve(DK, min_games=10), "exceeds its 9 roster slots"),
        (lambda: attrs.evolve(DK, name=" "), "name"),
    ],
)
def test_a_template_no_lineup_could_satisfy_is_refused(
    build: Callable[[], SportTemplate], message: str
) -> None:
    with pytest.raises(InvalidSportTemplate, match=message):
        build()


def test_a_roster_slot_takes_only_known_positions() -> None:
    with pytest.raises(InvalidSportTemplate, match="unknown position 'LB'"):
        RosterSlot("FLEX", frozenset({"RB", "LB"}))
    with pytest.raises(InvalidSportTemplate, match="at least one position"):
        RosterSlot("FLEX", frozenset())
    with pytest.raises(InvalidSportTemplate, match="collection"):
        RosterSlot("QB", "QB")


# --- the player pool -------------------------------------------------------------------------


def test_a_slate_player_needs_a_positive_whole_dollar_salary() -> None:
    for salary in (0, -100, True, 5000.0):
        with pytest.raises(InvalidPlayerPool, match="salary"):
            SlatePlayer("kc-mahomes", "Patrick Mahomes", "QB", "KC", BAL_KC, salary)  # type: ignore[arg-type]


def test_a_slate_player_has_a_known_position() -> None:
    assert PLAYERS[0].position is Position.QB
    with pytest.raises(InvalidPlayerPool, match="unknown position 'LB'"):
        SlatePlayer("bal-smith", "Roquan Smith", "LB", "BAL", BAL_KC, 3000)


def test_a_pool_refuses_two_players_with_the_same_id() -> None:
    twin = attrs.evolve(PLAYERS[1], player_id=PLAYERS[0].player_id)
    with pytest.raises(InvalidPlayerPool, match=r"'kc-mahomes' twice.*Lamar Jackson"):
        PlayerPool.of("s", [*PLAYERS, twin])


def test_a_pool_key_must_be_its_players_id() -> None:
    with pytest.raises(InvalidPlayerPool, match="does not match"):
        PlayerPool("s", {"someone-else": PLAYERS[0]})


def test_a_pool_is_read_only_and_finds_players_by_id(pool: PlayerPool) -> None:
    assert pool.get("kc-kelce") == PLAYERS[17]
    assert pool.get("nobody") is None
    assert len(pool) == len(PLAYERS)
    assert isinstance(pool.players, MappingProxyType)
    with pytest.raises(TypeError):
        pool.players["x"] = PLAYERS[0]  # type: ignore[index]


def test_a_pool_does_not_depend_on_the_order_players_were_listed(pool: PlayerPool) -> None:
    reversed_pool = PlayerPool.of(pool.slate_id, reversed(PLAYERS))
    assert reversed_pool == pool
    assert hash(reversed_pool) == hash(pool)
    assert list(reversed_pool.players) == list(pool.players) == sorted(pool.players)


# --- lineups ---------------------------------------------------------------------------------


def test_a_lineup_lists_its_players_in_slot_order() -> None:
    assert lineup_for(DK, *VALID_IDS).player_ids == VALID_IDS


@pytest.mark.parametrize("pick", [("QB",), ("QB", "kc-mahomes", "x"), "QB", ("QB", 7)])
def test_a_pick_must_be_a_slot_and_player_id_pair(pick: object) -> None:
    with pytest.raises(InvalidLineup) as caught:
        Lineup((pick,))  # type: ignore[arg-type]
    assert caught.value.rule == "malformed_pick"


def test_a_valid_draftkings_classic_lineup_passes(pool: PlayerPool) -> None:
    validate_lineup(DK, pool, lineup_for(DK, *VALID_IDS))


def test_a_valid_fanduel_lineup_passes(pool: PlayerPool) -> None:
    validate_lineup(FD, pool, lineup_for(FD, *VALID_IDS))


def test_a_lineup_with_a_missing_pick_fails_slot_count(pool: PlayerPool) -> None:
    error = rejection(DK, pool, lineup_for(DK, *VALID_IDS[:-1]))
    assert error.rule == "slot_count"
    assert "needs 9 picks" in str(error)
    assert "has 8" in str(error)


def test_a_lineup_with_an_extra_pick_fails_slot_count(pool: PlayerPool) -> None:
    picks = (*lineup_for(DK, *VALID_IDS).picks, ("FLEX", "bal-henry"))
    assert rejection(DK, pool, Lineup(picks)).rule == "slot_count"


def test_a_pick_under_another_slots_name_fails_wrong_slot(pool: PlayerPool) -> None:
    picks = list(lineup_for(DK, *VALID_IDS).picks)
    picks[1], picks[3] = picks[3], picks[1]  # the RB and WR picks trade places, names and all
    error = rejection(DK, pool, Lineup(picks))
    assert (error.rule, error.player_id) == ("wrong_slot", "kc-rice")
    assert "pick 2" in str(error)
    assert "'WR'" in str(error)


def test_a_draftkings_lineup_submitted_to_fanduel_fails_wrong_slot_at_def(
    pool: PlayerPool,
) -> None:
    error = rejection(FD, pool, lineup_for(DK, *VALID_IDS))
    assert (error.rule, error.player_id) == ("wrong_slot", "phi-dst")
    assert "DEF" in str(error)


def test_a_player_not_on_the_slate_fails_unknown_player(pool: PlayerPool) -> None:
    ids = with_pick(VALID_IDS, 6, "sf-kittle")
    error = rejection(DK, pool, lineup_for(DK, *ids))
    assert (error.rule, error.player_id) == ("unknown_player", "sf-kittle")
    assert "TE slot" in str(error)
    assert "2024-week-01-main" in str(error)


def test_a_player_picked_twice_fails_duplicate_player_at_the_second_pick(
    pool: PlayerPool,
) -> None:
    ids = with_pick(VALID_IDS, 7, "kc-pacheco")
    error = rejection(DK, pool, lineup_for(DK, *ids))
    assert (error.rule, error.player_id) == ("duplicate_player", "kc-pacheco")
    assert "Isiah Pacheco" in str(error)
    assert "in the RB slot (pick 2) and again in the FLEX slot (pick 8)" in str(error)


def test_a_quarterback_in_flex_fails_ineligible_position(pool: PlayerPool) -> None:
    ids = with_pick(VALID_IDS, 7, "phi-hurts")
    error = rejection(DK, pool, lineup_for(DK, *ids))
    assert (error.rule, error.player_id) == ("ineligible_position", "phi-hurts")
    assert "Jalen Hurts (QB" in str(error)
    assert "FLEX slot" in str(error)
    assert "RB, TE or WR" in str(error)


def test_a_tight_end_in_a_wide_receiver_slot_fails_ineligible_position(pool: PlayerPool) -> None:
    ids = with_pick(VALID_IDS, 5, "kc-kelce")
    error = rejection(DK, pool, lineup_for(DK, *ids))
    assert (error.rule, error.player_id) == ("ineligible_position", "kc-kelce")
    assert "WR slot (pick 6)" in str(error)


def test_a_kicker_fits_no_nfl_slot(pool: PlayerPool) -> None:
    ids = with_pick(VALID_IDS, 7, "kc-butker")
    assert rejection(DK, pool, lineup_for(DK, *ids)).rule == "ineligible_position"


def test_a_lineup_over_the_salary_cap_names_total_and_cap(pool: PlayerPool) -> None:
    # Barkley, A.J. Brown and Robinson for Jacobs, Reed and Worthy: 47,800 + 600 + 2,100 + 3,000.
    ids: tuple[str, ...] = ("kc-mahomes", "kc-pacheco", "phi-barkley", "kc-rice", "bal-flowers")
    ids += ("phi-brown", "phi-goedert", "atl-robinson", "phi-dst")
    error = rejection(DK, pool, lineup_for(DK, *ids))
    assert (error.rule, error.player_id) == ("salary_cap", None)
    assert "$53,500" in str(error)
    assert "$50,000" in str(error)
    assert "by $3,500" in str(error)
    # The same players fit under FanDuel's larger cap.
    validate_lineup(FD, pool, lineup_for(FD, *ids))


def test_a_lineup_exactly_at_the_salary_cap_is_legal(pool: PlayerPool) -> None:
    at_cap = attrs.evolve(DK, salary_cap=47_800)
    validate_lineup(at_cap, pool, lineup_for(DK, *VALID_IDS))
    error = rejection(attrs.evolve(DK, salary_cap=47_799), pool, lineup_for(DK, *VALID_IDS))
    assert error.rule == "salary_cap"


def test_a_lineup_from_one_team_fails_too_few_teams(pool: PlayerPool) -> None:
    chiefs: tuple[str, ...] = ("kc-mahomes", "kc-pacheco", "kc-perine", "kc-rice", "kc-worthy")
    chiefs += ("kc-smith-schuster", "kc-kelce", "kc-gray", "kc-dst")
    error = rejection(DK, pool, lineup_for(DK, *chiefs))
    assert (error.rule, error.player_id) == ("too_few_teams", None)
    assert "1 team(s) (KC)" in str(error)
    assert "at least 2 teams" in str(error)


def test_a_lineup_from_one_game_fails_too_few_games(pool: PlayerPool) -> None:
    ids: tuple[str, ...] = ("bal-jackson", "kc-pacheco", "bal-henry", "kc-rice", "bal-flowers")
    ids += ("kc-worthy", "bal-andrews", "kc-perine", "kc-dst")
    error = rejection(DK, pool, lineup_for(DK, *ids))
    assert (error.rule, error.player_id) == ("too_few_games", None)
    assert f"1 game(s) ({BAL_KC})" in str(error)


def test_the_earliest_rule_in_the_documented_order_is_reported(pool: PlayerPool) -> None:
    # Unknown (pick 9) beats duplicate (pick 8) beats ineligible (pick 1).
    ids = with_pick(with_pick(with_pick(VALID_IDS, 8, "nyj-dst"), 7, "kc-rice"), 0, "kc-kelce")
    assert rejection(DK, pool, lineup_for(DK, *ids)).rule == "unknown_player"
    ids = with_pick(ids, 8, "phi-dst")
    assert rejection(DK, pool, lineup_for(DK, *ids)).rule == "duplicate_player"
    ids = with_pick(ids, 7, "kc-worthy")
    assert rejection(DK, pool, lineup_for(DK, *ids)).rule == "ineligible_position"


def test_within_a_rule_the_first_offending_pick_in_slot_order_is_reported(
    pool: PlayerPool,
) -> None:
    ids = with_pick(with_pick(VALID_IDS, 7, "phi-hurts"), 2, "phi-dst")
    assert rejection(DK, pool, lineup_for(DK, *ids)).player_id == "phi-dst"


# --- properties ------------------------------------------------------------------------------

RULE_ORDER = (
    "slot_count",
    "wrong_slot",
    "unknown_player",
    "duplicate_player",
    "ineligible_position",
    "salary_cap",
    "too_few_teams",
    "too_few_games",
)
_BY_ID = {p.player_id: p for p in PLAYERS}


def expected_outcome(template: SportTemplate, ids: tuple[str, ...]) -> tuple[str, str | None]:
    """A plain reference model: every rule's offenders, then the earliest rule's first one."""
    known = [_BY_ID[i] for i in ids if i in _BY_ID]
    offenders: dict[str, list[str | None]] = {
        "unknown_player": [i for i in ids if i not in _BY_ID],
        "duplicate_player": [i for n, i in enumerate(ids) if i in ids[:n]],
        "ineligible_position": [
            i
            for slot, i in zip(template.slots, ids, strict=True)
            if i in _BY_ID and _BY_ID[i].position not in slot.eligible
        ],
        "salary_cap": [None] if sum(p.salary for p in known) > template.salary_cap else [],
        "too_few_teams": [None] if len({p.team for p in known}) < template.min_teams else [],
        "too_few_games": [None] if len({p.game_id for p in known}) < template.min_games else [],
    }
    for rule in RULE_ORDER:
        if offenders.get(rule):
            return rule, offenders[rule][0]
    return "valid", None


def outcome(template: SportTemplate, pool: PlayerPool, lineup: Lineup) -> tuple[str, str | None]:
    try:
        validate_lineup(template, pool, lineup)
    except InvalidLineup as error:
        return error.rule, error.player_id
    return "valid", None


@st.composite
def drafted_ids(draw: st.DrawFn, template: SportTemplate) -> tuple[str, ...]:
    """Eligible picks from a drawn subset of teams, then up to two arbitrary or unknown picks,
    so that every rule, and valid lineups, come up often."""
    teams = draw(st.sets(st.sampled_from(sorted({p.team for p in PLAYERS})), min_size=1))
    ids: list[str] = []
    for slot in template.slots:
        eligible = [p.player_id for p in PLAYERS if p.position in slot.eligible]
        unused = [i for i in eligible if i not in ids]
        preferred = [i for i in unused if _BY_ID[i].team in teams] or unused or eligible
        ids.append(draw(st.sampled_from(preferred)))
    anyone = st.sampled_from([*sorted(_BY_ID), "nyj-rodgers", "sf-kittle"])
    for index in draw(st.lists(st.integers(0, len(ids) - 1), max_size=2)):
        ids[index] = draw(anyone)
    return tuple(ids)


@given(st.sampled_from([DK, FD]).flatmap(lambda t: st.tuples(st.just(t), drafted_ids(t))))
def test_validation_reports_the_first_broken_rule_of_a_reference_model(
    drafted: tuple[SportTemplate, tuple[str, ...]],
) -> None:
    template, ids = drafted
    event(expected_outcome(template, ids)[0])
    pool = PlayerPool.of("2024-week-01-main", PLAYERS)
    assert outcome(template, pool, lineup_for(template, *ids)) == expected_outcome(template, ids)


@given(
    st.integers(min_value=0, max_value=8),
    st.integers(min_value=0, max_value=8),
)
def test_swapping_two_players_between_slots_only_ever_breaks_eligibility(i: int, j: int) -> None:
    # A swap keeps salary, teams, games and distinctness, so eligibility is the only rule at stake.
    pool = PlayerPool.of("2024-week-01-main", PLAYERS)
    ids = list(VALID_IDS)
    ids[i], ids[j] = ids[j], ids[i]
    misplaced = [
        pid
        for slot, pid in zip(DK.slots, ids, strict=True)
        if not slot.accepts(_BY_ID[pid].position)
    ]
    expected = ("ineligible_position", misplaced[0]) if misplaced else ("valid", None)
    assert outcome(DK, pool, lineup_for(DK, *ids)) == expected
    if DK.slots[i].eligible.isdisjoint(DK.slots[j].eligible):
        assert misplaced


@settings(max_examples=50)
@given(st.permutations(PLAYERS), drafted_ids(DK))
def test_validation_does_not_depend_on_the_order_of_the_pool(
    shuffled: list[SlatePlayer], ids: tuple[str, ...]
) -> None:
    listed = PlayerPool.of("2024-week-01-main", PLAYERS)
    reordered = PlayerPool("2024-week-01-main", {p.player_id: p for p in shuffled})
    lineup = lineup_for(DK, *ids)
    assert reordered == listed
    assert outcome(DK, reordered, lineup) == outcome(DK, listed, lineup)
