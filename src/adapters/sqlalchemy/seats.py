"""Seat bookkeeping: each contest's `seats_taken` counter, moved as its entries take seats.

`contests.seats_taken` counts the contest's entries that hold a seat (reserved, pending
action or active): a join compares it with the capacity instead of counting entries.
Every change of an entry's seat moves it here, and nowhere else, in the same transaction
as the change of the entry.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from sqlalchemy import bindparam, select, text

from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.statements import Prepared, Statements
from fantasy_core.entries import SEAT_HOLDING, Entry

SEAT_STATUSES = sorted(s.value for s in SEAT_HOLDING)
"""The stored statuses of an entry that holds a seat."""

# Built once: a join counts its seat with it, under the contest's lock. By its key:
# planned once (decision 0078).
_ADD_SEATS = Prepared(
    t.contests.update()
    .where(t.contests.c.contest_id == bindparam("target"))
    .values(seats_taken=t.contests.c.seats_taken + bindparam("delta")),
    plan_once=True,
)
# PostgreSQL: the counters of several contests this transaction holds locked, in one
# statement over two arrays (decision 0062), where an executemany runs once a contest.
# Only for rows locked already: joined to a list, an UPDATE takes new row locks in no set
# order, and two of them could deadlock.
_ADD_SEATS_OF_LOCKED = Prepared(
    text(
        "UPDATE contests SET seats_taken = contests.seats_taken + m.delta"
        " FROM unnest(CAST(:targets AS VARCHAR[]), CAST(:deltas AS BIGINT[]))"
        " AS m(contest_id, delta)"
        " WHERE contests.contest_id = m.contest_id"
    )
)
_SEATS_TAKEN = Prepared(
    select(t.contests.c.seats_taken).where(t.contests.c.contest_id == bindparam("contest_id"))
)


def seat_moves(entries: Sequence[Entry], before: Mapping[str, tuple[str, str]]) -> Counter[str]:
    """How saving `entries` moves each contest's seat counter, given the (contest id,
    status) each stored one had before (absent: the entry is new)."""
    moves: Counter[str] = Counter()
    for entry in entries:
        moves[entry.contest_id] += int(entry.holds_seat)
        if entry.entry_id in before and before[entry.entry_id][1] in SEAT_STATUSES:
            moves[before[entry.entry_id][0]] -= 1
    return moves


class SeatCounters:
    """The seat counters one unit of work reads and moves.

    No one else can change the counter of a contest this transaction holds locked until
    the transaction ends: the value read with the lock, plus what this transaction moved
    it by, is known without asking the database again (a join's seat check costs no
    query). `forget` when the transaction ends.
    """

    def __init__(self, db: Statements) -> None:
        self._db = db
        self._locked: dict[str, int] = {}

    def read_with_lock(self, contest_id: str, seats: int) -> None:
        """The counter of a contest as this transaction read it, locking the contest."""
        self._locked[contest_id] = seats

    def set_by_statement(self, contest_id: str, seats: int) -> None:
        """The counter as a statement of this transaction just set it (and returned it)."""
        if contest_id in self._locked:
            self._locked[contest_id] = seats

    def taken(self, contest_id: str) -> int:
        """How many seats of the contest are held (0 for no such contest)."""
        locked = self._locked.get(contest_id)
        if locked is not None:
            return locked  # read with the lock this transaction holds
        seats = self._db.run(_SEATS_TAKEN, {"contest_id": contest_id}).scalar()
        return 0 if seats is None else int(seats)

    def move(self, deltas: Mapping[str, int]) -> None:
        """Move each contest's counter by its delta (entries took or gave back seats): one
        statement; for several contests, one over arrays if this transaction holds them all
        locked on PostgreSQL, else an executemany in contest id order."""
        runs = self.moves(deltas)
        if runs is None:
            params = [{"target": c, "delta": d} for c, d in sorted(deltas.items()) if d]
            self._db.execute(_ADD_SEATS.for_dialect(self._db.connection), params)
        elif runs:
            self._db.run_all(runs)
        self.moved(deltas)

    def moves(self, deltas: Mapping[str, int]) -> list[tuple[Prepared, dict[str, object]]] | None:
        """The statement that moves each contest's counter by its delta (none if nothing
        moves), for the caller to run and then tell `moved`; None if it takes an
        executemany (several contests, not all locked by this transaction)."""
        moved = {c: deltas[c] for c in sorted(deltas) if deltas[c]}
        if len(moved) == 1:
            [(contest_id, delta)] = moved.items()
            return [(_ADD_SEATS, {"target": contest_id, "delta": delta})]
        if moved and self._db.dialect == "postgresql" and self._locked.keys() >= moved.keys():
            arrays = {"targets": list(moved), "deltas": list(moved.values())}
            return [(_ADD_SEATS_OF_LOCKED, arrays)]
        return [] if not moved else None

    def moved(self, deltas: Mapping[str, int]) -> None:
        """The counters were moved by `deltas`: what this transaction knows of them follows."""
        for contest_id, delta in deltas.items():
            if delta and contest_id in self._locked:
                self._locked[contest_id] += delta

    def forget(self) -> None:
        """The transaction ended: what was known under its locks may change now."""
        self._locked.clear()
