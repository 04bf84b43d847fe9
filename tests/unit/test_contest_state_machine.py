"""Whole contests on the in-memory store, driven at random and along pinned crash points.

The machine itself is support.contest_machine.ContestMachine (its docstring says what it
does); the same machine runs on SQLite in tests/contract. Examples:
FANTASY_STATEFUL_EXAMPLES (default 60) x up to 50 steps each.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, settings

from support.contest_machine import PINNED, ContestMachine, play

EXAMPLES = int(os.environ.get("FANTASY_STATEFUL_EXAMPLES", "60"))

ContestMachine.TestCase.settings = settings(
    max_examples=EXAMPLES,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_contests_keep_their_money_invariants = ContestMachine.TestCase


@pytest.mark.parametrize(("steps", "crash"), PINNED.values(), ids=PINNED.keys())
def test_the_rare_crash_points_keep_the_money_invariants(
    steps: Callable[[ContestMachine, str], object], crash: str | None
) -> None:
    crashes = play(ContestMachine(), steps)
    assert crash is None or crash in crashes, crashes
