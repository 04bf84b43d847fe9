"""Stores with fault injection: a commit the test arms fails as a crash would.

The product's MemoryStore commits or rolls back; tests that kill the process at a chosen
commit (the state machine, the action logs) use this subclass instead. CrashingUnits
arms the same crash around any store's units of work (the SQL adapter's too): the
commit raises instead of committing, and leaving the block discards the work, as every
adapter does with an uncommitted unit of work.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from adapters.memory import MemoryStore, MemoryUnitOfWork
from fantasy_core.ports import UnitOfWork


class SimulatedCrash(Exception):
    """Raised by a commit the test asked to fail: the unit of work is lost, as in a crash."""


class CrashingStore(MemoryStore):
    """A MemoryStore whose N-th commit from now fails with SimulatedCrash.

    `crash_on_commit`: 1 is the next commit, 0 none; one crash per arming. The crashed
    unit of work's writes are discarded, and it cannot commit again.
    """

    def __init__(self) -> None:
        super().__init__()
        self.crash_on_commit = 0

    def crash_at_next_commit(self) -> None:
        """Make the next commit fail as a crash; handy as a hook (e.g. after a gateway call)."""
        self.crash_on_commit = 1

    def unit_of_work(self) -> MemoryUnitOfWork:
        return _CrashingUnitOfWork(self)

    def crash_due(self) -> bool:
        """Count one commit down; True when it is the armed one."""
        if self.crash_on_commit <= 0:
            return False
        self.crash_on_commit -= 1
        return self.crash_on_commit == 0


class _CrashingUnitOfWork(MemoryUnitOfWork):
    def __init__(self, store: CrashingStore) -> None:
        super().__init__(store)
        self._crashing = store
        self._lost = False

    def commit(self) -> None:
        if self._lost:
            raise RuntimeError("commit outside the unit of work's block")
        if self._crashing.crash_due():
            self._lost = True  # leaving the block discards what it wrote
            raise SimulatedCrash("the process died before this commit")
        super().commit()


class CrashingUnits:
    """Units of work from `factory`, any store's; the `crash_on_commit`-th commit from now
    fails with SimulatedCrash (1: the next one, 0: none; one crash per arming)."""

    def __init__(self, factory: Callable[[], UnitOfWork]) -> None:
        self._factory = factory
        self.crash_on_commit = 0

    def crash_at_next_commit(self) -> None:
        self.crash_on_commit = 1

    def unit_of_work(self) -> UnitOfWork:
        return _CrashingWrapper(self._factory(), self)  # type: ignore[return-value]

    def crash_due(self) -> bool:
        if self.crash_on_commit <= 0:
            return False
        self.crash_on_commit -= 1
        return self.crash_on_commit == 0


class _CrashingWrapper:
    def __init__(self, inner: UnitOfWork, units: CrashingUnits) -> None:
        self._inner = inner
        self._units = units
        self._lost = False

    def __enter__(self) -> Self:
        self._inner.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._inner.__exit__(exc_type, exc, tb)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def commit(self) -> None:
        if self._lost:
            raise RuntimeError("commit outside the unit of work's block")
        if self._units.crash_due():
            self._lost = True  # leaving the block discards what it wrote
            raise SimulatedCrash("the process died before this commit")
        self._inner.commit()
