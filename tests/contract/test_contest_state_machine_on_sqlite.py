"""The contest state machine on the SQLAlchemy adapter, on a SQLite file of its own per example.

The same rules, faults, crashes and invariants as on the in-memory store
(support.contest_machine), each example on a copy of the migrated SQLite template.
Fewer examples than in memory, as each step is real SQL: FANTASY_STATEFUL_SQLITE_EXAMPLES
(default 8) x up to 30 steps each, and every pinned crash point.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from itertools import count
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from adapters.sqlalchemy import SqlDatabase, make_engine
from support.contest_machine import PINNED, ContestMachine, play
from support.crashing_store import CrashingUnits

EXAMPLES = int(os.environ.get("FANTASY_STATEFUL_SQLITE_EXAMPLES", "8"))
_numbers = count()


class ContestMachineOnSqlite(ContestMachine):
    def __init__(self, template: Path, directory: Path) -> None:
        self._path = directory / f"machine-{next(_numbers)}.db"
        shutil.copyfile(template, self._path)
        self._engine = make_engine(f"sqlite:///{self._path}")
        super().__init__()

    def crashing_store(self) -> CrashingUnits:
        return CrashingUnits(SqlDatabase(self._engine).unit_of_work)

    def teardown(self) -> None:
        self._engine.dispose()
        for leftover in self._path.parent.glob(self._path.name + "*"):
            leftover.unlink()


def test_contests_keep_their_money_invariants_on_sqlite(
    sqlite_template: Path, tmp_path: Path
) -> None:
    run_state_machine_as_test(
        lambda: ContestMachineOnSqlite(sqlite_template, tmp_path),
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )


@pytest.mark.parametrize(("steps", "crash"), PINNED.values(), ids=PINNED.keys())
def test_the_rare_crash_points_keep_the_money_invariants_on_sqlite(
    steps: Callable[[ContestMachine, str], object],
    crash: str | None,
    sqlite_template: Path,
    tmp_path: Path,
) -> None:
    crashes = play(ContestMachineOnSqlite(sqlite_template, tmp_path), steps)
    assert crash is None or crash in crashes, crashes
