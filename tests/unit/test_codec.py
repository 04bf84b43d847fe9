"""The canonical codec: one encoding, its digests, its readers, and a snapshot row's layout."""

from __future__ import annotations

import hashlib
import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fantasy_core.codec import Reader, canonical_bytes, fingerprint, sha256_of
from fantasy_core.errors import InvalidFeedData, InvalidScoringRules
from fantasy_core.scoring import format_points
from fantasy_core.snapshot import EntryRow, InvalidSnapshot, entry_rows, recompute
from support.world import World

documents = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)


@given(documents)
def test_canonical_bytes_are_sorted_compact_ascii_json(document: object) -> None:
    expected = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    assert canonical_bytes(document) == expected.encode("ascii")
    assert json.loads(canonical_bytes(document)) == document
    assert fingerprint(document) == "sha256:" + hashlib.sha256(expected.encode()).hexdigest()


def test_a_document_with_nan_or_infinity_has_no_canonical_bytes() -> None:
    for value in (math.nan, math.inf):
        with pytest.raises(ValueError, match="not JSON compliant"):
            canonical_bytes({"x": value})


def test_a_digest_names_its_algorithm() -> None:
    assert sha256_of(b"") == (
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


def test_a_reader_raises_its_domains_error_saying_where() -> None:
    feed, rules = Reader(InvalidFeedData), Reader(InvalidScoringRules)
    with pytest.raises(InvalidFeedData, match=r"^games\[0\]: expected an object, got \[\]$"):
        feed.fields([], "games[0]", {"game_id"})
    with pytest.raises(
        InvalidScoringRules, match=r"^rule set: missing keys \['name'\], unexpected keys \['x'\]$"
    ):
        rules.fields({"x": 1}, "rule set", {"name"})
    with pytest.raises(InvalidFeedData, match=r"^a\.b: expected a string, got 7$"):
        feed.text(7, "a.b")
    with pytest.raises(InvalidFeedData, match=r"^v: expected an integer, got True$"):
        feed.integer(True, "v")
    with pytest.raises(InvalidFeedData, match=r"^l: expected a list, got \(\)$"):
        feed.items((), "l")
    assert feed.fields({"a": 1}, "x", {"a"}) == {"a": 1}


names = st.text(max_size=8)


@given(names, names, st.lists(names, max_size=4), st.integers(1, 99), st.integers(0, 10**6))
def test_an_entry_row_reads_back_what_it_writes(
    entry_id: str, user_id: str, players: list[str], rank: int, prize: int
) -> None:
    row = EntryRow(entry_id, user_id, tuple(players), "-12.5", rank, prize)
    assert row.written() == [entry_id, user_id, players, "-12.5", rank, prize]
    assert EntryRow.read(json.loads(canonical_bytes(row.written())), "entries[0]") == row


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"entry_id": "e1"}, r"entries\[0\]: expected a list"),
        (["e1", "ann", [], "1", 1], r"entries\[0\]: expected 6 items"),
        (["e1", 7, [], "1", 1, 0], r"entries\[0\]\.user_id: expected a string, got 7"),
        (["e1", "ann", ["p", 3], "1", 1, 0], r"entries\[0\]\.player_ids\[1\]: expected a string"),
        (["e1", "ann", [], 1.5, 1, 0], r"entries\[0\]\.score: expected a string, got 1\.5"),
        (["e1", "ann", [], "1", "1", 0], r"entries\[0\]\.rank: expected an integer, got '1'"),
    ],
)
def test_a_malformed_entry_row_is_refused_saying_where(row: object, message: str) -> None:
    with pytest.raises(InvalidSnapshot, match=message):
        EntryRow.read(row, "entries[0]")


def _settled() -> bytes:
    world = World()
    contest = world.create()
    for n, user in enumerate(("ann", "bob", "cat")):
        world.join(contest, user, key=f"k{n}", variant=n)
    world.play_games()
    with world.store.unit_of_work() as uow:
        stored = uow.settlements.get(contest.contest_id)
    assert stored is not None
    return stored[0]


def test_a_snapshots_rows_are_read_in_its_order_with_exact_scores() -> None:
    document = _settled()
    rows = entry_rows(document)
    assert [row.written() for row in rows] == json.loads(document)["entries"]
    assert [row.rank for row in rows] == sorted(row.rank for row in rows)
    assert all(format_points(row.points) == row.score for row in rows)


def test_a_snapshot_whose_row_is_tampered_with_does_not_recompute() -> None:
    document = json.loads(_settled())
    document["entries"][1][1] = 7  # a user id that is not a string
    with pytest.raises(InvalidSnapshot, match=r"entries\[1\]\.user_id"):
        recompute(canonical_bytes(document))
    with pytest.raises(InvalidSnapshot, match="malformed"):
        entry_rows(b"[]")
