"""Per-player entry limits: single entry, a fixed maximum, and FanDuel's limit by field size."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fantasy_core.entry_limits import (
    EntryLimit,
    FieldSizeEntryLimit,
    MaxEntries,
    SingleEntry,
    entry_limit_canonical,
    entry_limit_from_canonical,
)
from fantasy_core.errors import InvalidEntryLimit

FIELD_SIZE = FieldSizeEntryLimit()


@pytest.mark.parametrize(
    ("capacity", "allowed"),
    [
        (2, 1),
        (12, 1),
        (13, 2),
        (36, 2),
        (37, 3),
        (100, 3),
        (101, 3),  # 3% of 101 is 3.03, rounded down
        (134, 4),  # 4.02
        (4_999, 149),  # 149.97, rounded down
        (5_000, 150),
        (1_000_000, 150),
    ],
)
def test_field_size_limit_follows_fanduels_chart_at_every_boundary(
    capacity: int, allowed: int
) -> None:
    assert FIELD_SIZE.max_entries(capacity) == allowed


@pytest.mark.parametrize("capacity", [1, 0, -12, True])
def test_field_size_limit_needs_a_field_of_at_least_two(capacity: int) -> None:
    with pytest.raises(InvalidEntryLimit, match="at least 2"):
        FIELD_SIZE.max_entries(capacity)


@given(st.integers(min_value=2, max_value=20_000))
def test_field_size_limit_never_shrinks_as_the_field_grows(capacity: int) -> None:
    assert 1 <= FIELD_SIZE.max_entries(capacity) <= FIELD_SIZE.max_entries(capacity + 1) <= 150


@given(st.integers(min_value=101, max_value=4_999))
def test_field_size_limit_between_101_and_4999_is_three_percent_rounded_down(
    capacity: int,
) -> None:
    allowed = FIELD_SIZE.max_entries(capacity)
    assert allowed * 100 <= 3 * capacity < (allowed + 1) * 100


def test_single_entry_allows_one_entry_in_any_contest() -> None:
    assert SingleEntry().max_entries(1) == 1
    assert SingleEntry().max_entries(100_000) == 1
    with pytest.raises(InvalidEntryLimit):
        SingleEntry().max_entries(0)


def test_max_entries_allows_n_but_never_more_than_the_contest_holds() -> None:
    assert MaxEntries(3).max_entries(100) == 3
    assert MaxEntries(150).max_entries(20) == 20
    with pytest.raises(InvalidEntryLimit):
        MaxEntries(3).max_entries(True)


@pytest.mark.parametrize("n", [0, -1, True, 2.0, "3"])
def test_max_entries_needs_a_whole_number_of_at_least_one(n: object) -> None:
    with pytest.raises(InvalidEntryLimit, match=r">= 1"):
        MaxEntries(n)  # type: ignore[arg-type]


def test_each_limit_describes_itself() -> None:
    assert SingleEntry().describe() == "single entry: 1 entry per player"
    assert MaxEntries(1).describe() == "up to 1 entry per player"
    assert MaxEntries(20).describe() == "up to 20 entries per player"
    assert "3% of the field (rounded down) for 101-4,999" in FIELD_SIZE.describe()


@pytest.mark.parametrize(
    ("limit", "stored"),
    [
        (SingleEntry(), {"kind": "single_entry"}),
        (MaxEntries(20), {"kind": "max_entries", "n": 20}),
        (FieldSizeEntryLimit(), {"kind": "field_size"}),
    ],
)
def test_a_limit_survives_its_stored_json_form(
    limit: EntryLimit, stored: dict[str, object]
) -> None:
    assert entry_limit_canonical(limit) == stored
    assert entry_limit_from_canonical(json.loads(json.dumps(stored))) == limit


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (["single_entry"], "must be a JSON object"),
        ({}, "unknown entry limit kind None"),
        ({"kind": "unlimited"}, "unknown entry limit kind 'unlimited'"),
        ({"kind": 1}, "unknown entry limit kind 1"),
        ({"kind": "single_entry", "n": 1}, r"unexpected \['n'\]"),
        ({"kind": "max_entries"}, r"missing \['n'\]"),
        ({"kind": "max_entries", "n": "3"}, "integer 'n', got '3'"),
        ({"kind": "max_entries", "n": 3.0}, "integer 'n', got 3.0"),
        ({"kind": "max_entries", "n": True}, "integer 'n', got True"),
        ({"kind": "max_entries", "n": 0}, "got 0"),
    ],
)
def test_a_malformed_stored_limit_is_refused_precisely(data: object, message: str) -> None:
    with pytest.raises(InvalidEntryLimit, match=message):
        entry_limit_from_canonical(data)
