"""A join batch's reads under its locks, as one call of the unit of work (decision 0074),
on every adapter: each answers what its own repository call answers, in the port's order,
and on PostgreSQL all of them travel in one round trip."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from adapters.sqlalchemy import libpq
from contract.backends import Backend
from contract.test_player_repository_contract import a_profile
from contract.test_repository_contract import a_contest, an_entry
from fantasy_core.entries import EntryStatus
from fantasy_core.errors import DuplicateRecord, UnknownEntry
from fantasy_core.ports import JoinReads
from support.round_trips import counted_round_trips

FINGERPRINTS = ["join-e3", "join-none", "join-e1"]
CONTESTS = ["c2", "c1", "c9", "c1"]  # c9: no such contest
PAIRS = [("c1", "ann"), ("c2", "bob"), ("c2", "ann"), ("c9", "cat")]
USERS = ["bob", "cat", "ann", "bob"]  # cat: no protection record


def _stored(backend: Backend) -> None:
    with backend.uow() as uow:
        for contest_id in ("c1", "c2"):
            uow.contests.add(a_contest(contest_id))
        uow.entries.add_all(
            [
                an_entry("e1", "c1", "ann"),
                an_entry("e2", "c1", "ann", status=EntryStatus.RESERVED),
                an_entry("e3", "c2", "bob"),
                an_entry("e4", "c2", "ann", status=EntryStatus.DECLINED),
            ]
        )
        for user in ("ann", "bob"):
            uow.players.add(a_profile(user))
        uow.commit()
    with backend.uow() as uow:  # the contests' terms, parsed once and kept by the adapter
        uow.contests.lock_all(["c1", "c2"])


def test_a_join_batch_s_reads_answer_as_their_own_calls_do(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    _stored(backend)
    with backend.uow() as uow:
        one_by_one = JoinReads(
            uow.entries.by_fingerprints(FINGERPRINTS),
            uow.contests.lock_all(CONTESTS),
            uow.entries.seats_of_users(PAIRS),
            uow.players.lock_all(USERS),
        )
    trips = counted_round_trips(monkeypatch)
    with backend.uow() as uow:
        together = uow.read_for_joins(FINGERPRINTS, CONTESTS, PAIRS, USERS)
    assert together == one_by_one
    assert sorted(together.found) == ["join-e1", "join-e3"]
    assert together.found["join-e3"].entry_id == "e3"
    assert sorted(together.contests) == ["c1", "c2"]
    assert together.contests["c2"].contest_id == "c2"
    # A reserved entry holds its seat, a declined one does not.
    assert together.held == {("c1", "ann"): 2, ("c2", "bob"): 1, ("c2", "ann"): 0, ("c9", "cat"): 0}
    assert sorted(together.profiles) == ["ann", "bob"]
    assert together.profiles["bob"] == a_profile("bob")
    if backend.name == "postgresql":
        assert trips == [4]  # with the BEGIN: one round trip for the four statements


def test_nothing_asked_reads_nothing(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    trips = counted_round_trips(monkeypatch)
    with backend.uow() as uow:
        assert uow.read_for_joins([], [], [], []) == JoinReads({}, {}, {}, {})
        assert uow.lock_for_record([], []) == ({}, [])
    assert trips == []


def test_the_reads_run_in_the_port_s_order_the_players_locked_after_the_contests(
    sql_backend: Backend,
) -> None:
    """The lock order every joiner keeps (contests, then players), the seats counted under
    the contests' locks, and a record's entries read under its contests' locks."""
    _stored(sql_backend)
    seen: list[str] = []

    def statement(_c: Any, _cursor: Any, text: str, *_: Any) -> None:
        seen.append(text)

    engine = sql_backend.sql
    event.listen(engine, "before_cursor_execute", statement)
    try:
        with sql_backend.uow() as uow:
            uow.read_for_joins(FINGERPRINTS, CONTESTS, PAIRS, USERS)
        with sql_backend.uow() as uow:
            uow.lock_for_record(["c1"], ["e1"])
    finally:
        event.remove(engine, "before_cursor_execute", statement)
    reads = [text for text in seen if text.lstrip().upper().startswith(("SELECT", "WITH"))]
    assert len(reads) == 6, reads
    # The record's: the contest locked before its entries are read.
    assert "FROM contests" in reads[4]
    assert "FROM entries" in reads[5]
    assert "fingerprint" in reads[0]
    assert "FROM contests" in reads[1]
    assert "FROM player_seats" in reads[2]
    assert "FROM player_profiles" in reads[3]
    if engine.dialect.name == "postgresql":  # SQLite's transaction holds the whole file
        assert " FOR NO KEY UPDATE" in reads[1]
        assert " FOR NO KEY UPDATE" in reads[3]


def test_a_record_locks_its_contests_then_reads_its_entries_in_one_round_trip(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    _stored(backend)
    trips = counted_round_trips(monkeypatch)
    with backend.uow() as uow:
        contests, entries = uow.lock_for_record(["c2", "c1", "c2"], ["e3", "e1"])
        assert sorted(contests) == ["c1", "c2"]
        assert [e.entry_id for e in entries] == ["e3", "e1"]  # in the order asked
        assert entries[1] == an_entry("e1", "c1", "ann")
    if backend.name == "postgresql":
        assert trips == [2]  # the terms are known: no read of them after
    with backend.uow() as uow, pytest.raises(UnknownEntry, match="e7"):
        uow.lock_for_record(["c1"], ["e1", "e7"])


def _trips_and_commits(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, bool]]:
    """Each round trip's statements, and whether it carried the COMMIT."""
    trips: list[tuple[int, bool]] = []
    real = libpq.execute_all

    def counted(connection: Any, runs: Any, *, commit: bool = False) -> Any:
        trips.append((len(runs), commit))
        return real(connection, runs, commit=commit)

    monkeypatch.setattr(libpq, "execute_all", counted)
    return trips


def test_entries_added_under_their_contests_locks_are_sent_with_the_commit(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A join batch's reservation (decision 0080): its contests locked by its reads, the
    INSERT and the seat counters' moves travel with the COMMIT, one round trip less."""
    _stored(backend)
    with backend.uow() as uow:
        seats = uow.entries.seats_taken("c1")
    trips = _trips_and_commits(monkeypatch)
    with backend.uow() as uow:
        uow.read_for_joins([], ["c1"], [], [])
        uow.entries.add_all(
            [an_entry("e5", "c1", "cat", status=EntryStatus.RESERVED), an_entry("e6", "c1", "cat")]
        )
        uow.commit()
    if backend.name == "postgresql":
        # The lock; then the INSERT and the contest's and the player's counters, committed.
        assert trips == [(1, False), (3, True)]
    with backend.uow() as uow:
        assert uow.entries.get("e5").status is EntryStatus.RESERVED
        assert uow.entries.seats_taken("c1") == seats + 2
        assert uow.entries.seats_of_user("c1", "cat") == 2


def test_a_duplicate_added_under_its_contests_locks_is_refused_by_the_commit_at_the_latest(
    backend: Backend,
) -> None:
    """Sent with the COMMIT, a duplicate fingerprint still raises DuplicateRecord, and
    nothing of the unit of work is stored: no entry, no seat counted."""
    _stored(backend)
    with backend.uow() as uow:
        seats = uow.entries.seats_taken("c1")
    clash = an_entry("e6", "c1", "cat")
    clash.fingerprint = "join-e1"

    def locked_added_committed() -> None:
        with backend.uow() as uow:
            uow.read_for_joins([], ["c1"], [], [])
            uow.entries.add_all([an_entry("e5", "c1", "cat"), clash])
            uow.commit()

    with pytest.raises(DuplicateRecord):
        locked_added_committed()
    with backend.uow() as uow:
        assert uow.entries.by_fingerprints(["join-e5", "join-e6"]) == {}
        assert uow.entries.seats_taken("c1") == seats
        assert uow.entries.seats_of_user("c1", "cat") == 0
