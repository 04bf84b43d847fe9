"""Seat bookkeeping: each contest's `seats_taken` counter and each player's seats in it,
moved as the contest's entries take seats.

`contests.seats_taken` counts the contest's entries that hold a seat (reserved, pending
action or active): a join compares it with the capacity instead of counting entries.
`player_seats.seats` counts those of one player (decision 0079): a join compares it with
the entry limit, one row read however many entries the player has. Every change of an
entry's seat moves both here, and nowhere else (but `entries._add_with_seat`, a join's
one statement), in the same transaction as the change of the entry. A player's row
moves only with its contest's counter, which locks the contest's row first: under that
lock, the player's count read is the one that holds until the transaction ends.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import TypeVar

from sqlalchemy import bindparam, select, text
from sqlalchemy.dialects import postgresql, sqlite

from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.statements import Prepared, Run, Statements
from fantasy_core.entries import SEAT_HOLDING, Entry

SEAT_STATUSES = sorted(s.value for s in SEAT_HOLDING)
"""The stored statuses of an entry that holds a seat."""

InsertOfEither = TypeVar("InsertOfEither", postgresql.Insert, sqlite.Insert)

Pair = tuple[str, str]
"""A (contest id, user id): whose seats a player's counter counts."""

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
# Only for rows locked already: an UPDATE of a list takes new row locks in no set order,
# and two of them could deadlock. The rows are found by their key (`= ANY`), each one's
# delta by a subquery over the arrays (a batch's few contests), so that its plan can only
# be a probe of the key: planned once (decisions 0078, 0079), where the join to the
# arrays it was before was planned at every run (0.06 ms a batch spread over 8 contests).
_ADD_SEATS_OF_LOCKED = Prepared(
    text(
        "UPDATE contests SET seats_taken = contests.seats_taken + ("
        "SELECT m.delta FROM unnest(CAST(:targets AS VARCHAR[]), CAST(:deltas AS BIGINT[]))"
        " AS m(contest_id, delta) WHERE m.contest_id = contests.contest_id)"
        " WHERE contests.contest_id = ANY(CAST(:targets AS VARCHAR[]))"
    ),
    plan_once=True,
)
_SEATS_TAKEN = Prepared(
    select(t.contests.c.seats_taken).where(t.contests.c.contest_id == bindparam("contest_id"))
)
# Players' counters. Seats gained: each pair's row moved up, made if new (an upsert:
# each pair once, as ON CONFLICT may not touch a row twice). Seats given back: each pair's
# row moved down, which must exist and stay at or above zero (the table's CHECK): a seat
# given back that was never counted is a bug, said loud. Two statements, as a CHECK is
# tested on the row an INSERT proposes before its conflict is: a proposed -1 fails even
# where the row exists. PostgreSQL: each one statement over three arrays; SQLite: each an
# executemany of one pair a row. The upsert reads no table but through its key's index
# (its conflicts), so it is planned once; the UPDATE, a join of the arrays to the
# counters, is planned at every run for its arrays' values: planned once on a table
# analyzed while empty, it read the key's whole index and filtered it (decision 0079).
_PAIR_ARRAYS = (
    "unnest(CAST(:contests AS VARCHAR[]), CAST(:users AS VARCHAR[]), CAST(:deltas AS BIGINT[]))"
)
_GAIN_PLAYER_SEATS = Prepared(
    text(
        f"INSERT INTO player_seats (contest_id, user_id, seats) SELECT * FROM {_PAIR_ARRAYS}"
        " ON CONFLICT (contest_id, user_id)"
        " DO UPDATE SET seats = player_seats.seats + excluded.seats"
    ),
    plan_once=True,
)
_GIVE_BACK_PLAYER_SEATS = Prepared(
    text(
        "UPDATE player_seats SET seats = player_seats.seats + m.delta"
        f" FROM {_PAIR_ARRAYS} AS m(contest_id, user_id, delta)"
        " WHERE player_seats.contest_id = m.contest_id AND player_seats.user_id = m.user_id"
    )
)


def counted_up(insert: InsertOfEither) -> InsertOfEither:
    """`insert` of (contest id, user id, seats) rows into `player_seats`, each adding its
    seats to the pair's row where the pair has one (either dialect's INSERT)."""
    return insert.on_conflict_do_update(
        index_elements=["contest_id", "user_id"],
        set_={"seats": t.player_seats.c.seats + insert.excluded.seats},
    )


# SQLite: one player's counter moved up by its delta, its row made if new.
_GAIN_PLAYER_SEAT = counted_up(
    sqlite.insert(t.player_seats).values(
        contest_id=bindparam("contest"), user_id=bindparam("user"), seats=bindparam("delta")
    )
)
_GIVE_BACK_PLAYER_SEAT = (
    t.player_seats.update()
    .where(
        t.player_seats.c.contest_id == bindparam("contest"),
        t.player_seats.c.user_id == bindparam("user"),
    )
    .values(seats=t.player_seats.c.seats + bindparam("delta"))
)


def seat_moves(
    entries: Sequence[Entry], before: Mapping[str, tuple[str, str, str]]
) -> Counter[Pair]:
    """How saving `entries` moves each player's seats in each contest, given the (contest
    id, user id, status) each stored one had before (absent: the entry is new)."""
    moves: Counter[Pair] = Counter()
    for entry in entries:
        if entry.holds_seat:
            moves[entry.contest_id, entry.user_id] += 1
        was = before.get(entry.entry_id)
        if was is not None and was[2] in SEAT_STATUSES:
            moves[was[0], was[1]] -= 1
    return moves


def _moving(pairs: Mapping[Pair, int], *, up: bool | None = None) -> list[tuple[Pair, int]]:
    """The pairs whose seats move (`up`: only those gaining; not `up`: only those giving
    back), in (contest id, user id) order."""
    return sorted(
        (pair, delta)
        for pair, delta in pairs.items()
        if delta and (up is None or (delta > 0) == up)
    )


def _arrays(moving: Sequence[tuple[Pair, int]]) -> dict[str, object]:
    """PostgreSQL: pairs and their deltas as the three arrays `_PAIR_ARRAYS` unnests."""
    return {
        "contests": [c for (c, _), _ in moving],
        "users": [u for (_, u), _ in moving],
        "deltas": [d for _, d in moving],
    }


def _each(moving: Sequence[tuple[Pair, int]]) -> list[dict[str, object]]:
    """SQLite: pairs and their deltas as an executemany's parameters."""
    return [{"contest": c, "user": u, "delta": d} for (c, u), d in moving]


def _of_contests(pairs: Mapping[Pair, int]) -> dict[str, int]:
    """Each contest's delta (its players' summed), in contest id order, for every contest
    one of whose players' seats move: one whose players' moves cancel out (an entry given
    to another player) is moved by 0, which still takes its row lock."""
    contests: dict[str, int] = {}
    for (contest_id, _), delta in _moving(pairs):
        contests[contest_id] = contests.get(contest_id, 0) + delta
    return contests


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

    def move(self, pairs: Mapping[Pair, int]) -> None:
        """Move each player's seats in each contest by its delta, and each contest's
        counter by its players' (entries took or gave back seats): the contests' first, in
        contest id order, then the players' gained, then those given back; on PostgreSQL
        in one round trip where the contests' take no executemany (`_contests_runs`)."""
        contests = _of_contests(pairs)
        if not contests:
            return
        runs = self._contests_runs(contests)
        if runs is None:
            params = [{"target": c, "delta": d} for c, d in contests.items()]
            self._db.execute(_ADD_SEATS.for_dialect(self._db.connection), params)
            runs = []
        gained = _moving(pairs, up=True)
        given_back = _moving(pairs, up=False)
        if self._db.dialect == "postgresql":
            runs += [(_GAIN_PLAYER_SEATS, _arrays(gained))] if gained else []
            runs += [(_GIVE_BACK_PLAYER_SEATS, _arrays(given_back))] if given_back else []
            results = self._db.run_all(runs)
            counted = results[-1].rowcount if given_back else 0
        else:
            self._db.run_all(runs)
            if gained:
                self._db.execute(_GAIN_PLAYER_SEAT, _each(gained))
            counted = 0
            if given_back:
                counted = self._db.execute(_GIVE_BACK_PLAYER_SEAT, _each(given_back)).rowcount
        if counted != len(given_back):
            raise RuntimeError(f"seats given back by players holding none: {given_back}")
        self.moved(pairs)

    def moves(self, pairs: Mapping[Pair, int]) -> list[Run] | None:
        """The statements that move each contest's counter by its players' seats gained,
        then the players' counters (none if nothing moves), for the caller to run in this
        order and then tell `moved`; None if they take executemany's (SQLite; or, on
        PostgreSQL, several contests not all locked by this transaction) or any seat is
        given back (its count is checked): then `move`."""
        contests = _of_contests(pairs)
        if not contests:
            return []
        if self._db.dialect != "postgresql" or any(d < 0 for d in pairs.values()):
            return None
        runs = self._contests_runs(contests)
        if runs is None:
            return None
        return [*runs, (_GAIN_PLAYER_SEATS, _arrays(_moving(pairs, up=True)))]

    def _contests_runs(self, contests: Mapping[str, int]) -> list[Run] | None:
        """The statement that moves the contests' counters: one contest's, or, on
        PostgreSQL, several this transaction holds locked; None if it takes an
        executemany (several contests otherwise)."""
        if len(contests) == 1:
            [(contest_id, delta)] = contests.items()
            return [(_ADD_SEATS, {"target": contest_id, "delta": delta})]
        if self._db.dialect == "postgresql" and self.hold_locked(contests):
            arrays = {"targets": list(contests), "deltas": list(contests.values())}
            return [(_ADD_SEATS_OF_LOCKED, arrays)]
        return None

    def hold_locked(self, contest_ids: Iterable[str]) -> bool:
        """Whether this transaction holds every one of the contests locked: no one else can
        delete them, so nothing written for them can miss its parent row."""
        return self._locked.keys() >= set(contest_ids)

    def moved(self, pairs: Mapping[Pair, int]) -> None:
        """The counters were moved by `pairs`: what this transaction knows of them follows."""
        for contest_id, delta in _of_contests(pairs).items():
            if contest_id in self._locked:
                self._locked[contest_id] += delta

    def forget(self) -> None:
        """The transaction ended: what was known under its locks may change now."""
        self._locked.clear()
