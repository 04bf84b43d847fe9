"""State tables: each record's legal status moves, stated once, and the check every move passes."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import TypeVar

from fantasy_core.errors import IllegalTransition

State = TypeVar("State", bound=enum.Enum)

# A table maps each state to the states it may move to; a state absent from its own
# row cannot "move" to itself either (a repeat of the move is refused, not ignored).
Table = Mapping[State, frozenset[State]]


def check_move(
    table: Table[State], record: str, record_id: str, source: State, target: State, why: str = ""
) -> None:
    """Raise IllegalTransition unless `table` lets `record` `record_id` go `source` -> `target`."""
    if target not in table[source]:
        raise IllegalTransition(record, record_id, str(source.value), str(target.value), why)
