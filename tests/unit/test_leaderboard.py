"""The live leaderboard agrees with a full recomputation after any sequence of stat updates."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fantasy_core.leaderboard import Leaderboard
from fantasy_core.payouts import top_heavy
from fantasy_core.settlement import settle_entries

PLAYERS = [f"p{i}" for i in range(8)]
points_values = st.fractions(min_value=-10, max_value=60, max_denominator=100).filter(
    lambda f: 100 % f.denominator == 0 or 1000 % f.denominator == 0
)


def owners(lineups: Mapping[str, object]) -> dict[str, str]:
    return {entry: f"user-of-{entry}" for entry in lineups}


def test_an_update_rescores_only_the_holders_and_reorders() -> None:
    lineups = {"a": ("p0", "p1"), "b": ("p1", "p2"), "c": ("p2", "p3")}
    board = Leaderboard(
        lineups,
        {"p0": Fraction(1), "p1": Fraction(2), "p2": Fraction(3), "p3": Fraction(4)},
        owners(lineups),
    )
    assert [(s.rank, s.entry_id) for s in board.page(0, 3)] == [(1, "c"), (2, "b"), (3, "a")]
    assert board.update("p0", Fraction("10.5")) == 1
    assert [(s.rank, s.entry_id, s.score) for s in board.page(0, 3)] == [
        (1, "a", Fraction("12.5")),
        (2, "c", Fraction(7)),
        (3, "b", Fraction(5)),
    ]
    assert board.rank_of("b") == 3


def test_tied_entries_share_a_rank_and_list_by_entry_id() -> None:
    lineups = {"z": ("p0",), "m": ("p0",), "a": ("p1",)}
    board = Leaderboard(lineups, {"p0": Fraction(5)}, owners(lineups))
    assert [(s.rank, s.entry_id) for s in board.page(0, 5)] == [(1, "m"), (1, "z"), (3, "a")]
    assert [s.entry_id for s in board.page(1, 1)] == ["z"]


def test_a_negative_page_is_refused() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        Leaderboard({}, {}, {}).page(-1, 5)


@given(
    st.lists(
        st.lists(st.sampled_from(PLAYERS), min_size=1, max_size=3, unique=True),
        min_size=1,
        max_size=25,
    ),
    st.lists(st.tuples(st.sampled_from(PLAYERS), points_values), max_size=12),
)
def test_after_any_updates_the_board_matches_a_full_recomputation(
    lineups: list[list[str]], updates: list[tuple[str, Fraction]]
) -> None:
    entries = {f"e{i:03d}": tuple(lineup) for i, lineup in enumerate(lineups)}
    points: dict[str, Fraction] = {p: Fraction(0) for p in PLAYERS}
    structure = top_heavy(5)
    pool = 10 * len(entries) * 100
    prizes = structure.place_prizes(len(entries), pool, 100)
    board = Leaderboard(entries, points, owners(entries), prizes)
    for player, value in updates:
        board.update(player, value)
        points[player] = value
    expected = settle_entries(entries, points, structure, pool, 100)
    got = board.page(0, len(entries))
    assert [s.entry_id for s in got] == list(expected.entry_ids)
    assert [s.rank for s in got] == list(expected.ranks)
    assert [s.score for s in got] == [expected.score(i) for i in range(len(expected))]
    assert [s.prize_minor for s in got] == list(expected.prizes)
    assert [s.user_id for s in got] == [f"user-of-{e}" for e in expected.entry_ids]
    assert [s.player_ids for s in got] == [entries[e] for e in expected.entry_ids]
