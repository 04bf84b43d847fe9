"""Seat counters against a count of the entries, under random changes of every kind.

`seats_taken` (a contest's seats held) and `seats_of_user(s)` (a player's in a contest)
are counters on SQL (adapters.sqlalchemy.seats, decision 0079), moved by every entry that
takes or gives back a seat, and counted from the entries in memory. Hypothesis drives
each backend through units of work that add entries one at a time and in batches, save
them with any status (and, as storage allows, another player or contest), locked first
or not, then commit or roll back; after every change, inside the unit of work and after
it, each count must equal the entries holding a seat, counted here.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence

import attrs
import psycopg
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.records import entry_values
from contract.backends import Backend
from contract.test_repository_contract import a_contest, an_entry
from fantasy_core.entries import Entry, EntryStatus
from fantasy_core.ports import UnitOfWork

USERS = ("ann", "bob")
CONTESTS = ("c1", "c2")
_examples = itertools.count()
ACTIVE, RESERVED = EntryStatus.ACTIVE, EntryStatus.RESERVED


@attrs.frozen
class Add:
    contest: str
    user: str
    status: EntryStatus


@attrs.frozen
class AddAll:
    made: list[Add]


@attrs.frozen
class Save:
    """The entry `pick` chooses among those known, saved with `status`, and with the other
    player or in the other contest if asked; a new one if none is known yet."""

    pick: int
    status: EntryStatus
    other_user: bool = False
    other_contest: bool = False


@attrs.frozen
class SaveAll:
    picked: list[tuple[int, EntryStatus]]
    lock_first: bool


Change = Add | AddAll | Save | SaveAll

statuses = st.sampled_from(list(EntryStatus))
adds = st.builds(Add, st.sampled_from(CONTESTS), st.sampled_from(USERS), statuses)
changes: st.SearchStrategy[Change] = st.one_of(
    adds,
    st.builds(AddAll, st.lists(adds, min_size=1, max_size=4)),
    st.builds(Save, st.integers(0, 50), statuses, st.booleans(), st.booleans()),
    st.builds(
        SaveAll,
        st.lists(st.tuples(st.integers(0, 50), statuses), min_size=1, max_size=4),
        st.booleans(),
    ),
)
units = st.lists(
    st.tuples(st.lists(changes, min_size=1, max_size=5), st.booleans()), min_size=1, max_size=5
)


class _Run:
    """One example: its own contests (ids unique to it) and the entries it expects."""

    def __init__(self, backend: Backend) -> None:
        n = next(_examples)
        self.backend = backend
        self.contests = {c: f"x{n}-{c}" for c in CONTESTS}
        self.prefix = f"x{n}-e"
        self.stored: dict[str, Entry] = {}
        self.ids = itertools.count()
        with backend.uow() as uow:
            for contest_id in self.contests.values():
                uow.contests.add(a_contest(contest_id))
            uow.commit()

    def new(self, contest: str, user: str, status: EntryStatus) -> Entry:
        entry_id = f"{self.prefix}{next(self.ids)}"
        entry = an_entry(entry_id, self.contests[contest], user=user, status=status)
        return attrs.evolve(entry, fingerprint=f"fp-{entry_id}")

    def check(self, uow: UnitOfWork, entries: dict[str, Entry]) -> None:
        holding = [e for e in entries.values() if e.holds_seat]
        per_contest = Counter(e.contest_id for e in holding)
        per_player = Counter((e.contest_id, e.user_id) for e in holding)
        pairs = [(c, u) for c in self.contests.values() for u in (*USERS, "nobody")]
        assert uow.entries.seats_of_users(pairs) == {p: per_player[p] for p in pairs}
        for contest_id, user_id in pairs:
            assert uow.entries.seats_of_user(contest_id, user_id) == per_player[contest_id, user_id]
        for contest_id in self.contests.values():
            assert uow.entries.seats_taken(contest_id) == per_contest[contest_id], contest_id

    def unit(self, changes: Sequence[Change], commit: bool) -> None:
        entries = dict(self.stored)
        with self.backend.uow() as uow:
            for change in changes:
                self.apply(uow, entries, change)
                self.check(uow, entries)
            if commit:
                uow.commit()
                self.stored = entries
        with self.backend.uow() as uow:
            self.check(uow, self.stored)

    def apply(self, uow: UnitOfWork, entries: dict[str, Entry], change: Change) -> None:
        known = sorted(entries)
        match change:
            case Add(contest, user, status):
                entry = self.new(contest, user, status)
                uow.entries.add(entry)
                entries[entry.entry_id] = entry
            case AddAll(made):
                batch = [self.new(a.contest, a.user, a.status) for a in made]
                uow.entries.add_all(batch)
                entries.update((e.entry_id, e) for e in batch)
            case Save(_, status) if not known:
                entry = self.new(CONTESTS[0], USERS[0], status)
                uow.entries.save(entry)  # a save of an entry not stored adds it
                entries[entry.entry_id] = entry
            case Save(pick, status, other_user, other_contest):
                entry = entries[known[pick % len(known)]]
                user = entry.user_id
                if other_user:
                    user = next(u for u in USERS if u != entry.user_id)
                contest = entry.contest_id
                if other_contest:
                    contest = next(c for c in self.contests.values() if c != entry.contest_id)
                changed = attrs.evolve(entry, status=status, user_id=user, contest_id=contest)
                uow.entries.save(changed)
                entries[entry.entry_id] = changed
            case SaveAll(picked, lock_first) if known:
                chosen = {known[p % len(known)]: status for p, status in picked}
                if lock_first:
                    uow.entries.lock_all(list(chosen))
                changed = [attrs.evolve(entries[i], status=s) for i, s in chosen.items()]
                uow.entries.save_all(changed)
                entries.update((e.entry_id, e) for e in changed)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# A seat given back by one player and taken by another in one contest: the contest's
# counter moves by 0, the players' by -1 and +1.
@example(units=[([Add("c1", "ann", ACTIVE), Save(0, ACTIVE, other_user=True)], True)])
# Every seat of a batch given back together, after the entries were locked (no read).
@example(
    units=[
        ([AddAll([Add("c1", "ann", RESERVED), Add("c2", "ann", RESERVED)])], True),
        ([SaveAll([(0, EntryStatus.DECLINED), (1, EntryStatus.DECLINED)], True)], True),
    ]
)
# Seats taken and given back in a unit of work rolled back: nothing moved.
@example(
    units=[
        ([Add("c1", "bob", EntryStatus.PENDING_ACTION)], True),
        ([Add("c1", "bob", ACTIVE), Save(0, EntryStatus.WITHDRAWN, other_contest=True)], False),
    ]
)
@given(units=units)
def test_every_seat_counter_equals_the_entries_holding_a_seat(
    backend: Backend, units: list[tuple[list[Change], bool]]
) -> None:
    run = _Run(backend)
    for changes, commit in units:
        run.unit(changes, commit)


def test_a_seat_given_back_that_was_never_counted_is_refused(sql_backend: Backend) -> None:
    # Entries written behind the adapter's back (raw SQL), so that no counter moved: one
    # player with no counter's row, another whose row counts one seat of two.
    with sql_backend.uow() as uow:
        uow.contests.add(a_contest("c1"))
        uow.commit()
    ghost, counted, uncounted = (
        an_entry(i, "c1", user=u) for i, u in (("e1", "ann"), ("e2", "bob"), ("e3", "bob"))
    )
    with sql_backend.sql.begin() as connection:
        for entry in (ghost, counted, uncounted):
            connection.execute(t.entries.insert().values(entry_values(entry)))
        connection.execute(t.player_seats.insert().values(contest_id="c1", user_id="bob", seats=1))
        connection.execute(t.contests.update().values(seats_taken=3))
    ghost.withdraw("withdrawn by the user")
    with sql_backend.uow() as uow, pytest.raises(RuntimeError, match=r"\('c1', 'ann'\), -1"):
        uow.entries.save(ghost)
    counted.withdraw("withdrawn by the user")
    uncounted.withdraw("withdrawn by the user")
    # 1 - 2 < 0: the CHECK refuses it (PostgreSQL's error comes from the driver itself,
    # as every error of a statement run through libpq that the core has no name for).
    refused = (IntegrityError, psycopg.errors.CheckViolation)
    with sql_backend.uow() as uow, pytest.raises(refused, match="ck_player_seats"):
        uow.entries.save_all([counted, uncounted])
    with sql_backend.uow() as uow:  # and nothing moved
        assert uow.entries.seats_taken("c1") == 3
        assert uow.entries.seats_of_users([("c1", "ann"), ("c1", "bob")]) == {
            ("c1", "ann"): 0,
            ("c1", "bob"): 1,
        }


def test_a_seat_passed_to_another_player_still_locks_its_contest(
    fresh_postgres: Backend,
) -> None:
    # The contest's counter moves by 0, the players' by -1 and +1: the contest's row must
    # be locked all the same, as a join reads a player's seats under that lock only.
    with fresh_postgres.uow() as uow:
        uow.contests.add(a_contest("c1"))
        uow.entries.add(an_entry("e1", "c1", user="ann"))
        uow.commit()
    with fresh_postgres.uow() as uow:
        uow.entries.save(attrs.evolve(uow.entries.get("e1"), user_id="bob"))
        with fresh_postgres.sql.connect() as other, pytest.raises(OperationalError):
            other.execute(
                text("SELECT 1 FROM contests WHERE contest_id = 'c1' FOR NO KEY UPDATE NOWAIT")
            )
        uow.commit()
    with fresh_postgres.uow() as uow:
        assert uow.entries.seats_taken("c1") == 1
        assert uow.entries.seats_of_users([("c1", "ann"), ("c1", "bob")]) == {
            ("c1", "ann"): 0,
            ("c1", "bob"): 1,
        }
