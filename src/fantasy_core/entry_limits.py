"""Per-player entry limits: how many entries one player may hold in a contest of a given size."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeAlias, assert_never

from attrs import Attribute, field, frozen

from fantasy_core.errors import InvalidEntryLimit


def _check_capacity(capacity: int, minimum: int) -> None:
    # bool is an int subclass; a capacity of True is a bug, not a field size.
    if type(capacity) is not int or capacity < minimum:
        raise InvalidEntryLimit(
            f"contest capacity must be a whole number of at least {minimum}, got {capacity!r}"
        )


def _plural(count: int) -> str:
    return f"{count} entry" if count == 1 else f"{count} entries"


@frozen
class SingleEntry:
    """One entry per player, whatever the field size."""

    def max_entries(self, capacity: int) -> int:
        _check_capacity(capacity, 1)
        return 1

    def describe(self) -> str:
        return "single entry: 1 entry per player"


def _check_n(_: object, __: Attribute[int], value: int) -> None:
    if type(value) is not int or value < 1:
        raise InvalidEntryLimit(
            f"a maximum number of entries must be a whole number >= 1, got {value!r}"
        )


@frozen
class MaxEntries:
    """At most `n` entries per player; never more than the contest holds, so `min(n, capacity)`."""

    n: int = field(validator=_check_n)

    def max_entries(self, capacity: int) -> int:
        _check_capacity(capacity, 1)
        return min(self.n, capacity)

    def describe(self) -> str:
        return f"up to {_plural(self.n)} per player"


# (largest field size of the tier, entries allowed) for the fixed tiers of FanDuel's chart.
_FIXED_TIERS = ((12, 1), (36, 2), (100, 3))
_PERCENT_TIER_END = 4_999
_PERCENT = 3
_LARGE_FIELD_MAX = 150
_SMALLEST_FIELD = 2


@frozen
class FieldSizeEntryLimit:
    """FanDuel's multi-entry limit, set by the contest's field size (its capacity).

    2-12: 1 entry; 13-36: 2; 37-100: 3; 101-4,999: 3% of the field, rounded DOWN
    (101 -> 3, 4,999 -> 149), so a player never exceeds 3%; 5,000 and more: 150.
    The limit never decreases as the field grows (100 -> 3, 101 -> 3; 4,999 -> 149,
    5,000 -> 150). FanDuel lifts limits for entry fees of $150 or more; that exemption
    is a contest-level choice (use MaxEntries) and is not modelled here.
    """

    def max_entries(self, capacity: int) -> int:
        _check_capacity(capacity, _SMALLEST_FIELD)
        for largest, allowed in _FIXED_TIERS:
            if capacity <= largest:
                return allowed
        if capacity <= _PERCENT_TIER_END:
            return capacity * _PERCENT // 100
        return _LARGE_FIELD_MAX

    def describe(self) -> str:
        return (
            "by field size: 1 entry for 2-12, 2 for 13-36, 3 for 37-100, "
            "3% of the field (rounded down) for 101-4,999, 150 for 5,000 or more"
        )


EntryLimit: TypeAlias = SingleEntry | MaxEntries | FieldSizeEntryLimit

_SINGLE = "single_entry"
_MAX = "max_entries"
_FIELD_SIZE = "field_size"
_KEYS: Mapping[str, frozenset[str]] = {
    _SINGLE: frozenset({"kind"}),
    _MAX: frozenset({"kind", "n"}),
    _FIELD_SIZE: frozenset({"kind"}),
}


def entry_limit_canonical(limit: EntryLimit) -> dict[str, object]:
    """The JSON-able stored form: `{"kind": ...}` plus `"n"` for MaxEntries."""
    match limit:
        case SingleEntry():
            return {"kind": _SINGLE}
        case MaxEntries(n=n):
            return {"kind": _MAX, "n": n}
        case FieldSizeEntryLimit():
            return {"kind": _FIELD_SIZE}
        case _:
            assert_never(limit)


def entry_limit_from_canonical(data: object) -> EntryLimit:
    """Read back `entry_limit_canonical`'s form, refusing anything else with a precise error."""
    if not isinstance(data, Mapping):
        raise InvalidEntryLimit(f"an entry limit must be a JSON object, got {data!r}")
    kind = data.get("kind")
    if not isinstance(kind, str) or kind not in _KEYS:
        known = ", ".join(sorted(_KEYS))
        raise InvalidEntryLimit(f"unknown entry limit kind {kind!r}; known kinds: {known}")
    keys = set(data)
    if keys != _KEYS[kind]:
        missing = sorted(str(k) for k in _KEYS[kind] - keys)
        extra = sorted(str(k) for k in keys - _KEYS[kind])
        raise InvalidEntryLimit(
            f"entry limit {kind!r} takes exactly the keys {sorted(_KEYS[kind])}; "
            f"missing {missing}, unexpected {extra}"
        )
    if kind == _SINGLE:
        return SingleEntry()
    if kind == _FIELD_SIZE:
        return FieldSizeEntryLimit()
    n = data["n"]
    if type(n) is not int:
        raise InvalidEntryLimit(f"entry limit 'max_entries' needs an integer 'n', got {n!r}")
    return MaxEntries(n)
