"""The repository / unit-of-work contract, checked against every adapter of the port.

Each test is one rule of ports.py, run on the memory store, SQLite and PostgreSQL
(`backend`); rules only a real database can exhibit (concurrent transactions, the
audit trigger) run on the SQL adapters (`sql_backend`).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from fractions import Fraction
from typing import Any, TypeVar

import attrs
import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.exc import DBAPIError

from adapters.sqlalchemy import SqlDatabase, libpq
from contract.backends import Backend
from fantasy_core.audit import AuditRecord, Outcome
from fantasy_core.contest import Contest, ContestMark, ContestTerms
from fantasy_core.entries import Entry, EntryStatus
from fantasy_core.entry_limits import SingleEntry
from fantasy_core.errors import (
    ConcurrentUpdate,
    DuplicateRecord,
    UnknownContest,
    UnknownEntry,
    UnknownPayout,
)
from fantasy_core.ledger import (
    Movement,
    Posting,
    PostingSet,
    fee_collected,
    prize_awarded,
    prize_withheld,
)
from fantasy_core.lifecycle import ContestState
from fantasy_core.lineups import Lineup
from fantasy_core.money import Money
from fantasy_core.payments import (
    Payout,
    PayoutStatus,
    Refund,
    RefundStatus,
    payout_fingerprint,
)
from fantasy_core.payout_accounts import PayoutAccount, PayoutAccountState
from fantasy_core.payouts import FixedTable, FixedTier, fifty_fifty
from fantasy_core.ports import UnitOfWork
from fantasy_core.stats import (
    FeedSnapshot,
    Game,
    GameStatus,
    ProviderChange,
    StatCorrection,
    StatLine,
)
from support.world import LOCK, SLATE, START, World, lineup, snapshot

CREATED = datetime(2025, 9, 7, 9, 30, 15, 123456, tzinfo=UTC)
# An instant written with a non-UTC offset and microseconds: it must come back equal.
ELSEWHERE = datetime(
    2025, 9, 7, 14, 30, 15, 654321, tzinfo=timezone(timedelta(hours=5, minutes=30))
)
TERMS = World().terms()
T = TypeVar("T")


# --- building real domain records --------------------------------------------------------


def a_contest(contest_id: str = "c1", state: ContestState = ContestState.SCHEDULED) -> Contest:
    return Contest(contest_id=contest_id, terms=TERMS, state=state)


def an_entry(
    entry_id: str = "e1",
    contest_id: str = "c1",
    user: str = "ann",
    status: EntryStatus = EntryStatus.ACTIVE,
    charge_id: str | None = None,
    created_at: datetime = CREATED,
) -> Entry:
    return Entry(
        entry_id=entry_id,
        contest_id=contest_id,
        user_id=user,
        fingerprint=f"join-{entry_id}",
        lineup=lineup(len(entry_id)),
        payment_method="pm_card_visa",
        fee_minor=1_000,
        created_at=created_at,
        status=status,
        charge_id=charge_id,
    )


def a_payout(contest_id: str = "c1", entry_id: str = "e1", amount: int = 2_500) -> Payout:
    return Payout(
        fingerprint=payout_fingerprint(contest_id, entry_id, "prize"),
        contest_id=contest_id,
        entry_id=entry_id,
        user_id="ann",
        payout_id="prize",
        amount_minor=amount,
        currency="usd",
    )


def a_refund(
    key: str = "refund-e1",
    entry_id: str = "e1",
    created_at: datetime = CREATED,
    contest_id: str = "c1",
) -> Refund:
    return Refund(
        key=key,
        contest_id=contest_id,
        entry_id=entry_id,
        charge_id=f"ch_{entry_id}",
        amount_minor=1_000,
        reason="contest cancelled",
        created_at=created_at,
    )


def an_audit_record(action: str = "join.accepted", contest_id: str | None = "c1") -> AuditRecord:
    return AuditRecord(CREATED, "ann", action, contest_id, "e1", Outcome.SUCCESS, "charge ch_1")


def a_provider_change(
    player_id: str = "KC-QB0",
    stat: str = "passing_tds",
    old: Fraction = Fraction(2),
    new: Fraction = Fraction(3),
    at: datetime = CREATED,
) -> ProviderChange:
    return ProviderChange(player_id, "g1", stat, old, new, 4, 5, at)


def with_contest_and_entry(uow: UnitOfWork, contest_id: str = "c1", entry_id: str = "e1") -> None:
    uow.contests.add(a_contest(contest_id))
    uow.entries.add(an_entry(entry_id, contest_id))


def write_one_of_everything(uow: UnitOfWork) -> None:
    with_contest_and_entry(uow)
    uow.payouts.add_all([a_payout()])
    uow.refunds.add(a_refund())
    uow.ledger.record(fee_collected("fee:e1", "c1", Money(1_000, "usd")))
    uow.audit.append(an_audit_record())
    uow.stats.store(snapshot(GameStatus.FINAL, 3), "sha256:3", CREATED)
    uow.stats.record_rejection(SLATE, 4, "sha256:4", CREATED, b'{"version":4}')
    uow.stats.add_correction(
        SLATE, StatCorrection("KC-QB0", "passing_yards", "301", "typo", "ops", CREATED)
    )
    uow.stats.add_provider_change(SLATE, a_provider_change())
    uow.settlements.store("c1", b'{"settled":true}', "sha256:s")
    uow.accounts.save(PayoutAccount.enabled("ann", "acct_ann"))
    assert uow.events.first_time("evt_1")


def what_is_visible(uow: UnitOfWork) -> dict[str, bool]:
    """For each repository, whether `write_one_of_everything`'s record is there."""

    def found(lookup: Any, *args: Any) -> bool:
        try:
            return lookup(*args) is not None
        except (UnknownContest, UnknownEntry, UnknownPayout):
            return False

    return {
        "contests": found(uow.contests.get, "c1"),
        "entries": found(uow.entries.get, "e1"),
        "payouts": found(uow.payouts.get, a_payout().fingerprint),
        "refunds": found(uow.refunds.get, "refund-e1"),
        "ledger": bool(uow.ledger.all()),
        "audit": bool(uow.audit.for_contest("c1")),
        "stats": found(uow.stats.latest, SLATE),
        "rejections": found(uow.stats.last_rejected_version, SLATE),
        "corrections": bool(uow.stats.corrections(SLATE)),
        "provider_changes": bool(uow.stats.provider_changes(SLATE)),
        "settlements": found(uow.settlements.get, "c1"),
        "accounts": found(uow.accounts.get, "ann"),
        "events": not uow.events.first_time("evt_1"),
    }


EVERYTHING = dict.fromkeys(
    [
        "contests",
        "entries",
        "payouts",
        "refunds",
        "ledger",
        "audit",
        "stats",
        "rejections",
        "corrections",
        "provider_changes",
        "settlements",
        "accounts",
        "events",
    ],
    True,
)
NOTHING = dict.fromkeys(EVERYTHING, False)


# --- transactions -------------------------------------------------------------------------


def test_commit_makes_every_write_visible_to_later_units_of_work(backend: Backend) -> None:
    with backend.uow() as uow:
        write_one_of_everything(uow)
        uow.commit()
    with backend.uow() as uow:
        assert what_is_visible(uow) == EVERYTHING


def test_leaving_without_commit_discards_everything_in_every_repository(
    backend: Backend,
) -> None:
    with backend.uow() as uow:
        write_one_of_everything(uow)
        assert what_is_visible(uow) == EVERYTHING  # visible inside its own transaction
    with backend.uow() as uow:
        assert what_is_visible(uow) == NOTHING


def a_use_case_that_fails_after_writing(backend: Backend) -> None:
    with backend.uow() as uow:
        write_one_of_everything(uow)
        raise RuntimeError("use case failed")


def test_an_exception_leaving_the_block_discards_everything(backend: Backend) -> None:
    with pytest.raises(RuntimeError, match="use case failed"):
        a_use_case_that_fails_after_writing(backend)
    with backend.uow() as uow:
        assert what_is_visible(uow) == NOTHING


def test_after_commit_the_block_continues_in_a_new_transaction(backend: Backend) -> None:
    with backend.uow() as uow:
        uow.contests.add(a_contest("c1"))
        uow.commit()
        uow.contests.add(a_contest("c2"))  # never committed
    with backend.uow() as uow:
        assert uow.contests.ids_in_states(list(ContestState)) == ["c1"]


def test_records_read_are_copies_so_changes_without_save_change_nothing(
    backend: Backend,
) -> None:
    with backend.uow() as uow:
        write_one_of_everything(uow)
        uow.commit()
    with backend.uow() as uow:
        contest = uow.contests.get("c1")
        contest.cancel(CREATED, "changed my mind", "ops")
        entry = uow.entries.get("e1")
        entry.withdraw("changed my mind")
        payout = uow.payouts.get(a_payout().fingerprint)
        payout.confirm("tr_1")
        refund = uow.refunds.get("refund-e1")
        assert refund is not None
        refund.confirm("re_1")
        account = uow.accounts.get("ann")
        assert account is not None
        account.bank_payout_failed("account closed")
        assert uow.contests.get("c1").state is ContestState.SCHEDULED
        assert uow.entries.get("e1").status is EntryStatus.ACTIVE
        uow.commit()
    with backend.uow() as uow:
        assert uow.contests.get("c1").state is ContestState.SCHEDULED
        assert uow.entries.get("e1").status is EntryStatus.ACTIVE
        assert uow.payouts.get(a_payout().fingerprint).status is PayoutStatus.PENDING
        assert uow.refunds.pending() == [a_refund()]
        assert uow.accounts.get("ann") == PayoutAccount.enabled("ann", "acct_ann")


def test_saved_changes_are_written_back(backend: Backend) -> None:
    with backend.uow() as uow:
        write_one_of_everything(uow)
        uow.commit()
    with backend.uow() as uow:
        entry = uow.entries.get("e1")
        entry.refund("cancelled", charge_id="ch_9")
        uow.entries.save(entry)
        # Every column changed at once, as no single move does: storage keeps what it is given.
        payout = attrs.evolve(
            uow.payouts.get(a_payout().fingerprint),
            status=PayoutStatus.CONFIRMED,
            transfer_id="tr_9",
            attempts=2,
            retry_at=ELSEWHERE,
        )
        uow.payouts.save(payout)
        stored = uow.refunds.get("refund-e1")
        assert stored is not None
        refund = attrs.evolve(
            stored, status=RefundStatus.CONFIRMED, refund_id="re_9", last_error="x"
        )
        uow.refunds.save(refund)
        disabled = PayoutAccount(
            "ann",
            "acct_ann2",
            PayoutAccountState.DISABLED,
            ("external_account", "individual.id_number"),
            "requirements.past_due",
        )
        uow.accounts.save(disabled)
        uow.commit()
    with backend.uow() as uow:
        assert uow.entries.get("e1") == entry
        assert uow.entries.by_charge("ch_9") == entry
        assert uow.payouts.get(payout.fingerprint) == payout
        assert uow.payouts.by_transfer("tr_9") == payout
        assert uow.refunds.get("refund-e1") == refund
        assert uow.refunds.pending() == []
        assert uow.accounts.get("ann") == disabled
        assert uow.accounts.by_account("acct_ann2") == disabled
        assert uow.accounts.by_account("acct_ann") is None


def test_unknown_records_raise_or_return_none_as_the_port_says(backend: Backend) -> None:
    with backend.uow() as uow:
        with pytest.raises(UnknownContest):
            uow.contests.get("nope")
        with pytest.raises(UnknownContest):
            uow.contests.lock("nope")
        with pytest.raises(UnknownContest):
            uow.contests.mark("nope")
        with pytest.raises(UnknownEntry):
            uow.entries.get("nope")
        with pytest.raises(UnknownPayout):
            uow.payouts.get("nope")
        assert uow.entries.by_fingerprint("nope") is None
        assert uow.entries.by_charge("nope") is None
        assert uow.payouts.by_transfer("nope") is None
        assert uow.refunds.get("nope") is None
        assert uow.accounts.get("nope") is None
        assert uow.accounts.by_account("nope") is None
        assert uow.settlements.get("nope") is None
        assert uow.stats.latest("nope") is None
        assert uow.stats.last_rejected_version("nope") is None
        assert uow.stats.corrections("nope") == []
        assert uow.ledger.all() == []
        assert uow.contests.ids_in_states(list(ContestState)) == []


# --- unique keys ---------------------------------------------------------------------------


def test_a_contest_id_is_stored_once(backend: Backend) -> None:
    with backend.uow() as uow:
        uow.contests.add(a_contest("c1"))
        with pytest.raises(DuplicateRecord):
            uow.contests.add(a_contest("c1"))
        uow.contests.add(a_contest("c2"))  # the unit of work is still usable
        uow.commit()
    with backend.uow() as uow:
        assert uow.contests.ids_in_states(list(ContestState)) == ["c1", "c2"]


def test_an_entry_id_and_a_join_fingerprint_are_stored_once(backend: Backend) -> None:
    with backend.uow() as uow:
        with_contest_and_entry(uow)
        with pytest.raises(DuplicateRecord):
            uow.entries.add(an_entry("e1", user="bob"))  # same id
        same_fingerprint = an_entry("e2")
        same_fingerprint.fingerprint = "join-e1"
        with pytest.raises(DuplicateRecord):
            uow.entries.add(same_fingerprint)
        uow.entries.add(an_entry("e3"))
        uow.commit()
    with backend.uow() as uow:
        assert [e.entry_id for e in uow.entries.for_contest("c1")] == ["e1", "e3"]
        assert uow.entries.by_fingerprint("join-e1") == an_entry("e1")


def test_payout_fingerprints_are_unique_and_a_duplicate_stores_none_of_its_batch(
    backend: Backend,
) -> None:
    with backend.uow() as uow:
        with_contest_and_entry(uow, entry_id="e1")
        uow.entries.add(an_entry("e2"))
        uow.payouts.add_all([a_payout(entry_id="e1")])
        with pytest.raises(DuplicateRecord):
            uow.payouts.add_all([a_payout(entry_id="e2"), a_payout(entry_id="e1", amount=9)])
        uow.commit()
    with backend.uow() as uow:
        assert uow.payouts.for_contest("c1") == [a_payout(entry_id="e1")]


def test_a_ledger_key_is_recorded_once(backend: Backend) -> None:
    movement = fee_collected("fee:e1", "c1", Money(1_000, "usd"))
    with backend.uow() as uow:
        assert uow.ledger.record(movement)
        assert not uow.ledger.record(fee_collected("fee:e1", "c1", Money(5, "usd")))
        uow.commit()
    with backend.uow() as uow:
        assert not uow.ledger.record(movement)
        assert uow.ledger.all() == [movement]


def test_a_payment_event_is_applied_once(backend: Backend) -> None:
    with backend.uow() as uow:
        assert uow.events.first_time("evt_1")
        assert not uow.events.first_time("evt_1")
        assert uow.events.first_time("evt_2")
        uow.commit()
    with backend.uow() as uow:
        assert not uow.events.first_time("evt_1")


def test_a_snapshot_version_is_stored_once(backend: Backend) -> None:
    first = snapshot(GameStatus.FINAL, 3, seed=1)
    with backend.uow() as uow:
        assert uow.stats.store(first, first.sha256(), CREATED)
        uow.commit()
    with backend.uow() as uow:
        other = snapshot(GameStatus.FINAL, 3, seed=2)
        assert not uow.stats.store(other, other.sha256(), CREATED)
        assert uow.stats.latest(SLATE) == first


def test_a_contest_is_settled_once(backend: Backend) -> None:
    with backend.uow() as uow:
        uow.contests.add(a_contest("c1"))
        uow.settlements.store("c1", b"first", "sha256:1")
        with pytest.raises(DuplicateRecord):
            uow.settlements.store("c1", b"second", "sha256:2")
        uow.commit()
    with backend.uow() as uow:
        assert uow.settlements.get("c1") == (b"first", "sha256:1")
        assert uow.settlements.digest("c1") == "sha256:1"
        assert uow.settlements.digest("c2") is None


def test_a_refund_key_is_stored_once(backend: Backend) -> None:
    with backend.uow() as uow:
        with_contest_and_entry(uow)
        assert uow.refunds.add(a_refund())
        assert not uow.refunds.add(a_refund(created_at=ELSEWHERE))
        uow.commit()
    with backend.uow() as uow:
        assert uow.refunds.for_contest("c1") == [a_refund()]


def test_a_charge_belongs_to_one_entry(sql_backend: Backend) -> None:
    with sql_backend.uow() as uow:
        uow.contests.add(a_contest("c1"))
        uow.entries.add(an_entry("e1", charge_id="ch_1"))
        with pytest.raises(DuplicateRecord):
            uow.entries.add(an_entry("e2", charge_id="ch_1"))


# --- contests: compare-and-set and row locks ---------------------------------------------


def test_saving_a_contest_writes_its_state_and_version(backend: Backend) -> None:
    with backend.uow() as uow:
        uow.contests.add(a_contest("c1"))
        uow.commit()
    with backend.uow() as uow:
        contest = uow.contests.lock("c1")
        contest.lock(LOCK, entries=5)
        contest.go_live(LOCK)
        contest.complete(ELSEWHERE)
        uow.contests.save(contest)
        uow.commit()
    with backend.uow() as uow:
        stored = uow.contests.get("c1")
        assert (stored.state, stored.version) == (ContestState.COMPLETE, 3)
        assert stored.completed_at == ELSEWHERE
        assert stored.events == []
        stored.settle(ELSEWHERE + timedelta(hours=2))
        uow.contests.save(stored)  # a second save in one unit of work
        stored.mark_paid(ELSEWHERE + timedelta(hours=3), 0)
        uow.contests.save(stored)
        uow.commit()
    with backend.uow() as uow:
        assert uow.contests.get("c1").version == 5


def test_contest_save_is_compare_and_set_on_the_version(sql_backend: Backend) -> None:
    with sql_backend.uow() as uow:
        uow.contests.add(a_contest("c1"))
        uow.commit()
    with sql_backend.uow() as slow:
        stale = slow.contests.get("c1")
        slow.commit()  # ends the read; the next statement begins a new transaction
        with sql_backend.uow() as fast:
            fresh = fast.contests.lock("c1")
            fresh.cancel(CREATED, "operator cancelled", "ops")
            fast.contests.save(fresh)
            fast.commit()
        stale.lock(LOCK, entries=5)
        with pytest.raises(ConcurrentUpdate):
            slow.contests.save(stale)
    with sql_backend.uow() as uow:
        assert uow.contests.get("c1").state is ContestState.CANCELLED


def test_two_open_units_of_work_cannot_both_save_a_contest_they_read(
    fresh_postgres: Backend,
) -> None:
    backend = fresh_postgres
    with backend.uow() as uow:
        uow.contests.add(a_contest("c1"))
        uow.commit()
    with backend.uow() as first, backend.uow() as second:
        one, two = first.contests.get("c1"), second.contests.get("c1")
        one.cancel(CREATED, "first", "ops")
        first.contests.save(one)
        first.commit()
        two.lock(LOCK, entries=5)
        with pytest.raises(ConcurrentUpdate):
            second.contests.save(two)


def test_a_locked_contest_waits_for_the_locker_and_then_sees_its_change(
    fresh_postgres: Backend,
) -> None:
    backend = fresh_postgres
    with backend.uow() as uow:
        uow.contests.add(a_contest("c1"))
        uow.commit()

    def cancel(uow: UnitOfWork, contest: Contest) -> None:
        contest.cancel(CREATED, "cancelled while locked", "ops")
        uow.contests.save(contest)

    seen = seen_by_a_second_locker(backend, lambda uow: uow.contests.lock("c1"), cancel)
    assert [contest.state for contest in seen] == [ContestState.CANCELLED]


def seen_by_a_second_locker(
    backend: Backend, lock: Callable[[UnitOfWork], T], change: Callable[[UnitOfWork, T], None]
) -> list[T]:
    """What a second unit of work's `lock` returns, when the first `lock`s the same rows,
    waits to see the second blocked on its lock, then makes its `change` and commits."""
    seen: list[T] = []
    locked = threading.Event()

    def second_worker() -> None:
        locked.wait()
        with backend.uow() as uow:
            seen.append(lock(uow))

    worker = threading.Thread(target=second_worker)
    worker.start()
    try:
        with backend.uow() as uow:
            held = lock(uow)
            locked.set()
            # Change the rows only once the second worker is seen blocked on our lock.
            wait_until_a_transaction_waits_on_a_lock(backend.sql)
            change(uow, held)
            uow.commit()
    finally:
        worker.join(timeout=10)
    return seen


def wait_until_a_transaction_waits_on_a_lock(engine: Engine, timeout: float = 10.0) -> None:
    """Poll PostgreSQL until a session of this database is blocked by another's lock."""
    blocked = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND cardinality(pg_blocking_pids(pid)) > 0"
    )
    deadline = time.monotonic() + timeout
    with engine.connect() as connection:
        while connection.execute(blocked).scalar_one() == 0:
            connection.rollback()  # each poll sees the sessions as they are now
            if time.monotonic() > deadline:
                raise AssertionError(f"no transaction waited on a lock within {timeout} s")
            time.sleep(0.005)


def test_a_locked_contest_shuts_other_writers_out_until_committed_on_sqlite(
    fresh_sqlite: Backend,
) -> None:
    # SQLite has one writer at a time: a unit of work that locked a contest holds the
    # database's write lock, so another writer cannot even begin until it commits.
    backend = fresh_sqlite
    assert backend.url is not None
    path = backend.url.removeprefix("sqlite:///")
    with backend.uow() as uow:
        uow.contests.add(a_contest("c1"))
        uow.commit()
    with backend.uow() as uow:
        contest = uow.contests.lock("c1")
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        finally:
            other.close()
        contest.cancel(CREATED, "cancelled while locked", "ops")
        uow.contests.save(contest)
        uow.commit()
    with backend.uow() as uow:
        assert uow.contests.lock("c1").state is ContestState.CANCELLED


def test_a_reading_unit_of_work_reads_beside_a_writer_and_never_commits(
    sql_backend: Backend,
) -> None:
    # The pages' reads (Platform.reads): on SQLite a reader takes no write lock, so it
    # neither waits for a writer holding it nor holds it; it sees what was committed.
    backend = sql_backend
    database = SqlDatabase(backend.sql)
    with backend.uow() as uow:
        uow.contests.add(a_contest("c1"))
        uow.commit()
    with backend.uow() as writer:
        contest = writer.contests.lock("c1")  # SQLite: the database's write lock
        contest.cancel(CREATED, "not committed yet", "ops")
        writer.contests.save(contest)
        started = time.monotonic()
        with database.reading_unit_of_work() as reader:
            assert reader.contests.mark("c1") == ContestMark("c1", 0, 0)
            assert reader.contests.get("c1").state is ContestState.SCHEDULED
            with pytest.raises(RuntimeError, match="does not commit"):
                reader.commit()
        assert time.monotonic() - started < 1.0  # not the busy timeout's wait
        writer.commit()
    with database.reading_unit_of_work() as reader:
        assert reader.contests.mark("c1") == ContestMark("c1", 1, 0)
    with backend.uow() as uow:  # and a writer after it is not refused by it
        uow.contests.add(a_contest("c2"))
        uow.commit()


# --- queries and their order ---------------------------------------------------------------


def test_ids_in_states_are_ascending_byte_wise(backend: Backend) -> None:
    ids = {"c-b": ContestState.LIVE, "C-a": ContestState.SCHEDULED, "_c": ContestState.PAID}
    ids |= {"c-a": ContestState.SCHEDULED, "b": ContestState.CANCELLED}
    with backend.uow() as uow:
        for contest_id, state in ids.items():
            uow.contests.add(a_contest(contest_id, state))
        uow.commit()
    with backend.uow() as uow:
        wanted = [ContestState.SCHEDULED, ContestState.LIVE, ContestState.PAID]
        assert uow.contests.ids_in_states(wanted) == ["C-a", "_c", "c-a", "c-b"]
        assert uow.contests.ids_in_states([ContestState.CANCELLED]) == ["b"]
        assert uow.contests.ids_in_states([]) == []
        # Keyset pages: after a page's last id, at most `limit`, the order kept.
        assert uow.contests.ids_in_states(wanted, limit=2) == ["C-a", "_c"]
        assert uow.contests.ids_in_states(wanted, after="_c", limit=2) == ["c-a", "c-b"]
        assert uow.contests.ids_in_states(wanted, after="c-a") == ["c-b"]
        assert uow.contests.ids_in_states(wanted, after="c-b", limit=5) == []
        assert uow.contests.ids_in_states(wanted, after="C", limit=1) == ["C-a"]


def test_a_slates_contests_are_found_in_every_state_and_no_others(backend: Backend) -> None:
    other_pool = attrs.evolve(TERMS.pool, slate_id="2025-reg-02")
    with backend.uow() as uow:
        uow.contests.add(a_contest("b", ContestState.PAID))
        uow.contests.add(a_contest("a", ContestState.CANCELLED))
        uow.contests.add(Contest("c", attrs.evolve(TERMS, pool=other_pool)))
        uow.commit()
    with backend.uow() as uow:
        assert uow.contests.ids_of_slate(TERMS.slate_id) == ["a", "b"]
        assert uow.contests.ids_of_slate("2025-reg-02") == ["c"]
        assert uow.contests.ids_of_slate("no-such-slate") == []


def test_the_latest_completed_come_first_and_no_more_than_asked(backend: Backend) -> None:
    t0 = datetime(2025, 9, 8, 4, 0, tzinfo=UTC)
    finished = {  # id: (state, completed_at)
        "p-old": (ContestState.PAID, t0),
        "p-new": (ContestState.PAID, t0 + timedelta(days=2)),
        "p-tie-a": (ContestState.PAID, t0 + timedelta(days=1)),
        "p-tie-b": (ContestState.PAID, t0 + timedelta(days=1)),
        "s-newest": (ContestState.SETTLED, t0 + timedelta(days=3)),
        "x-never": (ContestState.CANCELLED, None),
    }
    with backend.uow() as uow:
        for contest_id, (state, at) in finished.items():
            contest = a_contest(contest_id, state)
            contest.completed_at = at
            uow.contests.add(contest)
        uow.contests.add(a_contest("live", ContestState.LIVE))
        uow.commit()
    with backend.uow() as uow:
        paid = [ContestState.PAID]
        assert uow.contests.latest_completed(paid, 10) == ["p-new", "p-tie-b", "p-tie-a", "p-old"]
        assert uow.contests.latest_completed(paid, 2) == ["p-new", "p-tie-b"]
        both = [ContestState.PAID, ContestState.SETTLED]
        assert uow.contests.latest_completed(both, 1) == ["s-newest"]
        # Never completed: not listed, whatever its state.
        every = list(ContestState)
        assert "x-never" not in uow.contests.latest_completed(every, 10)
        assert "live" not in uow.contests.latest_completed(every, 10)
        assert uow.contests.latest_completed([], 10) == []
        # Completed in [start, end): the start counts, the end does not; by ascending id.
        day = timedelta(days=1)
        assert uow.contests.completed_between(paid, t0, t0 + 2 * day) == [
            "p-old",
            "p-tie-a",
            "p-tie-b",
        ]
        assert uow.contests.completed_between(paid, t0 + day, t0 + 3 * day) == [
            "p-new",
            "p-tie-a",
            "p-tie-b",
        ]
        assert uow.contests.completed_between(both, t0 + 3 * day, t0 + 4 * day) == ["s-newest"]
        assert uow.contests.completed_between(paid, t0 + 3 * day, t0 + 9 * day) == []
        assert uow.contests.completed_between([], t0, t0 + 9 * day) == []


def test_entries_come_by_ascending_entry_id_filtered_by_status(backend: Backend) -> None:
    statuses = {
        "e10": EntryStatus.ACTIVE,
        "e02": EntryStatus.DECLINED,
        "E99": EntryStatus.ACTIVE,
        "e01": EntryStatus.RESERVED,
        "e_5": EntryStatus.ACTIVE,
    }
    with backend.uow() as uow:
        uow.contests.add(a_contest("c1"))
        uow.contests.add(a_contest("c2"))
        for entry_id, status in statuses.items():
            uow.entries.add(an_entry(entry_id, "c1", status=status))
        uow.entries.add(an_entry("e00", "c2", status=EntryStatus.RESERVED))
        uow.commit()
    with backend.uow() as uow:
        everyone = uow.entries.for_contest("c1")
        assert [e.entry_id for e in everyone] == ["E99", "e01", "e02", "e10", "e_5"]
        assert everyone[0] == an_entry("E99", "c1", status=EntryStatus.ACTIVE)
        active = uow.entries.for_contest("c1", [EntryStatus.ACTIVE])
        assert [e.entry_id for e in active] == ["E99", "e10", "e_5"]
        assert uow.entries.for_contest("c1", []) == []
        waiting = uow.entries.with_status([EntryStatus.RESERVED, EntryStatus.PENDING_ACTION])
        assert [(e.entry_id, e.contest_id) for e in waiting] == [("e00", "c2"), ("e01", "c1")]


def test_seats_taken_counts_only_seat_holding_statuses(backend: Backend) -> None:
    with backend.uow() as uow:
        uow.contests.add(a_contest("c1"))
        uow.contests.add(a_contest("c2"))
        for n, status in enumerate(EntryStatus):
            uow.entries.add(an_entry(f"a{n}", "c1", user="ann", status=status))
            uow.entries.add(an_entry(f"b{n}", "c1", user="bob", status=status))
        uow.entries.add(an_entry("x", "c2", user="ann", status=EntryStatus.ACTIVE))
        uow.commit()
    with backend.uow() as uow:
        # reserved, pending action and active hold a seat; the other four do not
        assert uow.entries.seats_taken("c1") == 6
        assert uow.entries.seats_of_user("c1", "ann") == 3
        assert uow.entries.seats_of_user("c2", "ann") == 1
        assert uow.entries.seats_of_user("c1", "cat") == 0
        assert uow.entries.seats_taken("c3") == 0


def test_seats_taken_follows_every_entry_that_takes_or_gives_back_a_seat(
    backend: Backend,
) -> None:
    with backend.uow() as uow:
        uow.contests.add(a_contest("c1"))
        uow.entries.add(an_entry("e1", "c1", user="ann", status=EntryStatus.RESERVED))
        uow.entries.add(an_entry("e2", "c1", user="bob", status=EntryStatus.RESERVED))
        uow.entries.add(an_entry("e3", "c1", user="cat", status=EntryStatus.DECLINED))
        uow.commit()
    with backend.uow() as uow:
        uow.contests.lock("c1")
        assert uow.entries.seats_taken("c1") == 2
        paid, declined = uow.entries.get("e1"), uow.entries.get("e2")
        paid.accept("ch_e1")
        declined.decline("card declined")
        uow.entries.save(paid)
        uow.entries.save(declined)
        assert uow.entries.seats_taken("c1") == 1  # read under this unit of work's lock
        uow.commit()
        assert uow.entries.seats_taken("c1") == 1  # and after it, from the store
    with backend.uow() as uow:
        withdrawn = uow.entries.get("e1")
        withdrawn.withdraw("withdrawn by the user")
        uow.entries.save(withdrawn)
        uow.entries.save(withdrawn)  # saving it again gives back nothing more
        assert uow.entries.seats_taken("c1") == 0


def test_a_contest_mark_moves_with_every_change_and_every_seat(backend: Backend) -> None:
    # What a page keeping a contest relies on: a change of state (or terms) moves the
    # version, an entry taking or giving back a seat moves the seats.
    with backend.uow() as uow:
        uow.contests.add(a_contest("c1"))
        uow.commit()
    with backend.uow() as uow:
        assert uow.contests.mark("c1") == ContestMark("c1", 0, 0)
        uow.entries.add(an_entry("e1", "c1", user="ann", status=EntryStatus.ACTIVE))
        uow.commit()
    with backend.uow() as uow:
        assert uow.contests.mark("c1") == ContestMark("c1", 0, 1)
        moved = uow.contests.lock("c1")
        moved.move_lock_earlier(moved.terms.lock_at - timedelta(hours=1))
        uow.contests.save_terms(moved)
        uow.commit()
    with backend.uow() as uow:
        assert uow.contests.mark("c1") == ContestMark("c1", 1, 1)
        contest = uow.contests.lock("c1")
        contest.cancel(CREATED, "changed my mind", "ops")
        uow.contests.save(contest)
        withdrawn = uow.entries.get("e1")
        withdrawn.withdraw("withdrawn by the user")
        uow.entries.save(withdrawn)
        uow.commit()
    with backend.uow() as uow:
        assert uow.contests.mark("c1") == ContestMark("c1", 2, 0)


def _rows_read(plan: dict[str, Any], table: str, indexes: set[str]) -> int:
    """The rows an EXPLAIN ANALYZE plan's nodes read from `table` or its `indexes`."""
    here = 0
    if plan.get("Relation Name") == table or plan.get("Index Name") in indexes:
        here = plan["Actual Rows"] * plan["Actual Loops"]
    return here + sum(_rows_read(child, table, indexes) for child in plan.get("Plans", []))


def test_the_seats_of_a_batch_s_players_read_their_own_counters_only(
    fresh_postgres: Backend,
) -> None:
    # A join batch asks for the seats of its (contest, user) pairs, under its contests'
    # locks. Asked over several contests, the query must probe the pairs, not read every
    # counter of those contests (as a contest = ANY(...) AND user = ANY(...) query was
    # planned): a contest of a million players would be read at every batch.
    engine = fresh_postgres.sql
    contests = [f"c{n}" for n in range(8)]
    with fresh_postgres.uow() as uow:
        for contest_id in contests:
            uow.contests.add(a_contest(contest_id))
        uow.commit()
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO entries (entry_id, contest_id, user_id, fingerprint, lineup,"
                " payment_method, fee_minor, created_at, status)"
                " SELECT 'e' || n, 'c' || (n % 8), 'u' || (n / 16), 'f' || n, '[]', 'pm', 100,"
                " now(), CASE WHEN n % 5 = 0 THEN 'declined' ELSE 'active' END"
                " FROM generate_series(0, 19999) AS n"
            )
        )
        # The counters as migration 0021 counts them from entries written before it.
        connection.execute(
            text(
                "INSERT INTO player_seats SELECT contest_id, user_id, count(*) FROM entries"
                " WHERE status = 'active' GROUP BY contest_id, user_id"
            )
        )
        connection.execute(text("ANALYZE player_seats"))
    # 16 pairs over the 8 contests: user u7 has two entries in each contest, one declined
    # in three; "nobody" none.
    asked = [(c, "u7") for c in contests] + [(c, f"u{100 + n}") for n, c in enumerate(contests)]
    asked[11] = ("c3", "nobody")
    traced: list[tuple[str, dict[str, Any]]] = []

    def explain(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "FROM player_seats" in statement:
            traced.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", explain)
    try:
        with fresh_postgres.uow() as uow:
            held = uow.entries.seats_of_users(asked)
    finally:
        event.remove(engine, "before_cursor_execute", explain)
    with engine.begin() as connection:
        expected = {
            (c, u): connection.execute(
                text(
                    "SELECT count(*) FROM entries WHERE contest_id = :c AND user_id = :u"
                    " AND status = 'active'"
                ),
                {"c": c, "u": u},
            ).scalar_one()
            for c, u in asked
        }
        assert held == expected
        assert sorted(set(expected.values())) == [0, 1, 2]  # the counts tell pairs apart
        (statement, parameters), *_ = traced
        [[plan]] = connection.exec_driver_sql(
            f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", parameters
        ).one()
    # An index scan and the heap behind it may each count a row: at most twice the pairs
    # that hold a seat (15), where the lists' query read the 8 users' counters in all 8
    # contests (64 rows) or, planned otherwise, every counter of the 8 contests (10,000).
    assert _rows_read(plan["Plan"], "player_seats", {"pk_player_seats"}) <= 2 * 15


# Decision 0078: what a join batch reads by a key, and the seat counters it moves (one
# contest's, or several locked ones', decision 0079), each with the index it must be
# planned to use, whatever the tables held when it was planned.
_PLANNED_ONCE = {
    ("WHERE entries.fingerprint = ANY",): "uq_entries_fingerprint",
    ("WHERE contests.contest_id = ANY", "FOR NO KEY UPDATE"): "pk_contests",
    ("WHERE player_profiles.user_id = ANY", "FOR NO KEY UPDATE"): "pk_player_profiles",
    ("UPDATE contests SET seats_taken",): "pk_contests",
    ("WHERE entries.entry_id = ANY", "FOR NO KEY UPDATE"): "pk_entries",
}
# Decision 0079: the players' seat counters, read by their key, probed from the arrays'
# rows (no $n in its index condition: its plan is shown generic by pg_prepared_statements,
# tests/contract/test_sql_database.py).
_PROBED_FROM_ARRAYS = {("coalesce((SELECT player_seats.seats",): "pk_player_seats"}


def test_a_join_batch_s_reads_by_key_are_planned_once_by_their_keys(
    fresh_postgres: Backend,
) -> None:
    """Planned once a connection (a generic plan, its values as $n) with sequential scans
    off, on a database all but empty and analyzed so (as the join benchmark analyzes the
    tables it sets up), the worst time to plan: each is still a probe of its key's index,
    not a read of the whole index, and so stays one as the tables grow."""
    engine = fresh_postgres.sql
    plans: list[str] = []

    def explained(dbapi_connection: Any, _: object) -> None:
        dbapi_connection.add_notice_handler(lambda n: plans.append(str(n.message_primary)))
        for command in (
            "LOAD 'auto_explain'",
            "SET auto_explain.log_min_duration = 0",
            "SET auto_explain.log_level = notice",
        ):
            dbapi_connection.execute(command)
        dbapi_connection.commit()

    engine.dispose()  # every connection from here on is a new one, explained
    event.listen(engine, "connect", explained)
    try:
        with fresh_postgres.uow() as uow:
            uow.contests.add(a_contest("c1"))
            uow.contests.add(a_contest("c2"))
            uow.commit()
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
        with fresh_postgres.uow() as uow:
            uow.read_for_joins(["f1"], ["c1"], [("c1", "u1")], ["u1"])
            uow.entries.add_all([an_entry("e1", "c1", user="u1", status=EntryStatus.RESERVED)])
            uow.commit()
        with fresh_postgres.uow() as uow:  # two contests locked: their counters together
            uow.read_for_joins(["f2", "f3"], ["c1", "c2"], [("c1", "u1"), ("c2", "u1")], ["u1"])
            uow.entries.add_all(
                [an_entry(e, c, user="u1") for e, c in (("e2", "c1"), ("e3", "c2"))]
            )
            uow.commit()
        with fresh_postgres.uow() as uow:
            uow.lock_for_record(["c1"], ["e1"])
    finally:
        event.remove(engine, "connect", explained)
        engine.dispose()
    both = [plan for plan in plans if "UPDATE contests SET seats_taken" in plan]
    assert any("= ANY" in plan for plan in both), "no plan of several contests' counters"
    for marks, index in (_PLANNED_ONCE | _PROBED_FROM_ARRAYS).items():
        found = [plan for plan in plans if all(mark in plan for mark in marks)]
        assert found, f"no plan of {marks}"
        for plan in found:
            lines = plan.splitlines()
            assert any("Index Scan" in line and f" {index} " in line for line in lines), plan
            # A probe: the index searched by the key, not read whole and filtered.
            assert any("Index Cond:" in line for line in lines), plan
            assert "Seq Scan" not in plan, plan
            # A generic plan's conditions name parameters ($1); a custom one's hold the values.
            if marks in _PLANNED_ONCE:
                assert all("$" in line for line in lines if "Index Cond:" in line), plan


def test_a_rolled_back_join_gives_its_seat_back(backend: Backend) -> None:
    with backend.uow() as uow:
        uow.contests.add(a_contest("c1"))
        uow.commit()
    with backend.uow() as uow:
        uow.contests.lock("c1")
        uow.entries.add(an_entry("e1", "c1", status=EntryStatus.RESERVED))
        assert uow.entries.seats_taken("c1") == 1
    with backend.uow() as uow:
        assert uow.entries.seats_taken("c1") == 0


def test_batch_entry_forms_read_and_write_what_the_single_forms_do(backend: Backend) -> None:
    with backend.uow() as uow:
        uow.contests.add(a_contest("c1"))
        uow.contests.add(a_contest("c2"))
        uow.entries.add(an_entry("e0", "c1", user="ann", status=EntryStatus.DECLINED))
        uow.commit()
    batch = [
        an_entry("e3", "c1", user="ann", status=EntryStatus.RESERVED),
        an_entry("e1", "c1", user="bob", status=EntryStatus.RESERVED),
        an_entry("e2", "c2", user="ann", status=EntryStatus.RESERVED),
    ]
    with backend.uow() as uow:
        locked = uow.contests.lock_all(["c2", "nope", "c1", "c2"])
        assert list(locked) == ["c1", "c2"]  # ascending, an unknown id left out
        assert locked["c1"] == uow.contests.get("c1")
        assert uow.contests.lock_all([]) == {}
        uow.entries.add_all(batch)
        uow.entries.add_all([])
        assert uow.entries.seats_taken("c1") == 2  # read under this unit of work's lock
        assert uow.entries.seats_taken("c2") == 1
        uow.commit()
    with backend.uow() as uow:
        assert uow.entries.lock_all(["e2", "e3"]) == [batch[2], batch[0]]
        assert uow.entries.lock_all([]) == []
        assert uow.entries.by_fingerprints(["join-e1", "join-e0", "join-nope"]) == {
            "join-e1": batch[1],
            "join-e0": uow.entries.get("e0"),
        }
        assert uow.entries.by_fingerprints([]) == {}
        asked = [("c1", "ann"), ("c1", "bob"), ("c1", "cat"), ("c2", "ann"), ("c2", "bob")]
        assert uow.entries.seats_of_users(asked) == {
            ("c1", "ann"): 1,  # the declined entry holds no seat
            ("c1", "bob"): 1,
            ("c1", "cat"): 0,
            ("c2", "ann"): 1,
            ("c2", "bob"): 0,
        }
        assert uow.entries.seats_of_users([]) == {}
        with pytest.raises(UnknownEntry):
            uow.entries.lock_all(["e1", "nope"])
        with pytest.raises(ValueError, match="twice"):
            uow.entries.lock_all(["e1", "e1"])
    with backend.uow() as uow:
        paid, declined, moved = uow.entries.lock_all(["e1", "e2", "e3"])
        paid.accept("ch_e1")
        declined.decline("card declined")
        moved.accept("ch_e3")
        fresh = an_entry("e4", "c2", user="cat", status=EntryStatus.ACTIVE)
        uow.entries.save_all([paid, declined, moved, fresh])  # save is a put: e4 is new
        assert uow.entries.seats_taken("c1") == 2
        assert uow.entries.seats_taken("c2") == 1
        uow.commit()
    with backend.uow() as uow:
        assert uow.entries.lock_all(["e1", "e2", "e3", "e4"]) == [paid, declined, moved, fresh]
        assert uow.entries.by_charge("ch_e1") == paid
        assert (uow.entries.seats_taken("c1"), uow.entries.seats_taken("c2")) == (2, 1)
        with pytest.raises(ValueError, match="twice"):
            uow.entries.save_all([paid, paid])


def test_contests_are_locked_in_ascending_id_order_whatever_order_they_were_stored_in(
    backend: Backend,
) -> None:
    """Two lockers of overlapping sets (join batches) take the rows in one order, so they
    cannot deadlock: the rows come back (and are locked) by id, not as they lie on disk."""
    with backend.uow() as uow:
        for cid in ("c3", "c2", "c1"):
            uow.contests.add(a_contest(cid))
        uow.commit()
    with backend.uow() as uow:
        assert list(uow.contests.lock_all(["c2", "c1", "c3"])) == ["c1", "c2", "c3"]


def test_a_list_lookup_is_one_statement_whatever_its_length_on_postgresql(
    sql_backend: Backend,
) -> None:
    """A join batch looks entries up by lists as long as the batch. On PostgreSQL the list
    is bound as one array (decision 0061): lists of 1 to 12 ids run one statement text per
    lookup, which psycopg and PostgreSQL prepare once; SQLite spells each length anew.
    Every length finds exactly the entries that exist."""
    entries = [an_entry(f"e{n:02}", user=f"u{n:02}") for n in range(12)]
    with sql_backend.uow() as uow:
        uow.contests.add(a_contest("c1"))
        uow.entries.add_all(entries)
        uow.commit()
    texts: set[str] = set()

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM entries" in statement:
            texts.add(statement)

    event.listen(sql_backend.sql, "before_cursor_execute", seen)
    try:
        for length in range(1, 13):
            some = entries[:length]
            with sql_backend.uow() as uow:
                found = uow.entries.by_fingerprints([e.fingerprint for e in some] + ["join-no"])
                assert found == {e.fingerprint: e for e in some}
                assert uow.entries.lock_all([e.entry_id for e in reversed(some)]) == some[::-1]
    finally:
        event.remove(sql_backend.sql, "before_cursor_execute", seen)
    if sql_backend.sql.dialect.name == "postgresql":
        assert len(texts) == 2, texts  # by fingerprint, by id
    else:
        assert len(texts) == 2 * 12


def test_a_batch_of_entries_with_a_duplicate_stores_none_of_them(backend: Backend) -> None:
    with backend.uow() as uow:
        uow.contests.add(a_contest("c1"))
        uow.entries.add(an_entry("e1", "c1"))
        uow.commit()
    for clash in (an_entry("e1", "c1"), an_entry("e5", "c1")):
        clash.fingerprint = "join-e1" if clash.entry_id == "e5" else clash.fingerprint
        with backend.uow() as uow, pytest.raises(DuplicateRecord):
            uow.entries.add_all([an_entry("e2", "c1"), clash])
    with backend.uow() as uow, pytest.raises(DuplicateRecord):
        uow.entries.add_all([an_entry("e2", "c1"), an_entry("e2", "c1")])
    with backend.uow() as uow:
        assert [e.entry_id for e in uow.entries.for_contest("c1")] == ["e1"]
        assert uow.entries.seats_taken("c1") == 1


def test_an_entry_for_a_contest_that_does_not_exist_is_refused_on_every_write_path(
    backend: Backend,
) -> None:
    """UnknownContest, saying which, whether the entry is added, saved, or one of a batch;
    and nothing of the batch is stored. The SQL stores' foreign key refuses it, and the
    memory store as well: a fake that stored it would let a property test pass a join the
    database refuses."""
    with backend.uow() as uow:
        uow.contests.add(a_contest("c1"))
        uow.commit()
    for write in (
        lambda uow: uow.entries.add(an_entry("e1", "nope")),
        lambda uow: uow.entries.save(an_entry("e1", "nope")),
        lambda uow: uow.entries.add_all([an_entry("e1", "c1"), an_entry("e2", "nope")]),
        lambda uow: uow.entries.save_all([an_entry("e1", "c1"), an_entry("e2", "nope")]),
    ):
        with backend.uow() as uow, pytest.raises(UnknownContest, match="nope"):
            write(uow)
    with backend.uow() as uow:
        assert uow.entries.for_contest("c1") == []
        uow.entries.add(an_entry("e1", "c1"))
        uow.commit()
    with backend.uow() as uow:
        moved = uow.entries.get("e1")
        moved.contest_id = "nope"
        with pytest.raises(UnknownContest, match="nope"):
            uow.entries.save_all([moved])
    with backend.uow() as uow:
        assert uow.entries.lock_all(["e1"]) == [an_entry("e1", "c1")]
        assert uow.entries.for_contest("nope") == []
        assert uow.entries.seats_taken("c1") == 1


def test_a_batch_write_is_one_statement_executed_once_on_postgresql(
    sql_backend: Backend,
) -> None:
    """A join batch writes its entries, audit rows and postings, changes its entries and
    records its posting sets with one statement over arrays each (decisions 0062, 0070):
    on PostgreSQL none of these is an executemany, whatever the batch's size, and each
    batch size runs the same statement texts, once a batch."""
    runs: list[tuple[str, bool]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, _params: Any, _ctx: Any, many: bool) -> None:
        if statement.split(maxsplit=1)[0] in {"INSERT", "UPDATE", "WITH"}:
            runs.append((statement, many))

    with sql_backend.uow() as uow:
        uow.contests.add(a_contest("c1"))
        uow.commit()
    event.listen(sql_backend.sql, "before_cursor_execute", seen)
    try:
        for size in (1, 2, 5):
            reserved = EntryStatus.RESERVED
            batch = [an_entry(f"e{size}-{n}", user=f"u{n}", status=reserved) for n in range(size)]
            with sql_backend.uow() as uow:
                uow.entries.add_all(batch)
                for entry in batch:
                    entry.accept(f"ch_{entry.entry_id}")
                uow.entries.save_all(batch)
                sets = [
                    fee_collected(f"fee:{e.entry_id}", "c1", Money(1_000, "usd")) for e in batch
                ]
                uow.ledger.record_all(sets)
                uow.commit()
            with sql_backend.uow() as uow:
                assert uow.entries.lock_all([e.entry_id for e in batch]) == batch
    finally:
        event.remove(sql_backend.sql, "before_cursor_execute", seen)
    entries = [(s, many) for s, many in runs if " entries " in s or "INTO entries" in s]
    if sql_backend.sql.dialect.name == "postgresql":
        assert not any(many for _, many in runs), runs
        assert len({s for s, _ in runs if s.startswith("UPDATE entries")}) == 1
        assert len({s for s, _ in runs if "posting_sets" in s}) == 1
        inserts = [s for s, _ in entries if s.startswith("INSERT INTO entries")]
        assert len(inserts) == 3, inserts  # one a batch
        assert len(set(inserts)) == 1, inserts
    else:
        assert any(many for _, many in entries)


def test_a_batch_s_changes_and_its_posting_sets_go_with_its_commit(
    sql_backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing waits for the UPDATE of a join batch's entries or for its posting sets: on
    PostgreSQL they are sent with the COMMIT, in its round trip (Statements.defer), and any
    statement run before it, of any kind, sees them."""
    reserved = EntryStatus.RESERVED
    batch = [an_entry(f"e{n}", user=f"u{n}", status=reserved) for n in range(3)]
    with sql_backend.uow() as uow:
        uow.contests.add(a_contest("c1"))
        uow.entries.add_all(batch)
        uow.commit()
    round_trips: list[bool] = []
    real = libpq.execute_all

    def counted(connection: Any, runs: Any, *, commit: bool = False) -> Any:
        round_trips.append(commit)
        return real(connection, runs, commit=commit)

    monkeypatch.setattr(libpq, "execute_all", counted)
    postgresql = sql_backend.sql.dialect.name == "postgresql"
    sets = [fee_collected(f"fee:{e.entry_id}", "c1", Money(1_001, "usd")) for e in batch]
    with sql_backend.uow() as uow:
        locked = uow.entries.lock_all([e.entry_id for e in batch])
        for entry in locked:
            entry.accept(f"ch_{entry.entry_id}")
        round_trips.clear()
        uow.entries.save_all(locked)
        uow.ledger.record_all(sets)
        if postgresql:
            assert round_trips == []
        uow.commit()
        if postgresql:
            assert round_trips == [True]  # one, with the COMMIT
    with sql_backend.uow() as uow:
        assert [e.status for e in uow.entries.lock_all(["e0", "e1", "e2"])] == [
            EntryStatus.ACTIVE
        ] * 3
        assert uow.ledger.for_contest("c1") == sets
    # Read before the commit, by each way a statement runs: the writes are there.
    with sql_backend.uow() as uow:
        uow.entries.add_all([an_entry(f"e{n}", user=f"u{n}", status=reserved) for n in (3, 4, 5)])
        uow.commit()
    with sql_backend.uow() as uow:
        first, second, third = uow.entries.lock_all(["e3", "e4", "e5"])
        for entry in (first, second, third):
            entry.accept(f"ch_{entry.entry_id}")  # a seat held still: no counter moves
        uow.entries.save_all([first])
        assert uow.entries.get("e3") == first  # SQLAlchemy's execution
        uow.entries.save_all([second])
        assert uow.entries.lock_all(["e4"]) == [second]  # a statement run on libpq
        uow.entries.save_all([third])
        assert uow.entries.for_contest("c1")[3:] == [first, second, third]  # a stream
        late = fee_collected("fee:late", "c1", Money(7, "usd"))
        uow.ledger.record_all([late])
        assert uow.ledger.for_contest("c1") == [*sets, late]
    with sql_backend.uow() as uow:
        assert uow.ledger.for_contest("c1") == sets  # not committed: none kept


def test_a_deferred_write_that_fails_fails_the_unit_of_work(sql_backend: Backend) -> None:
    """A write sent with a later statement raises there (at the commit, here), and nothing
    of its unit of work is kept."""
    with sql_backend.uow() as uow:
        uow.contests.add(a_contest("c1"))
        uow.entries.add(an_entry("e1", user="ann", status=EntryStatus.ACTIVE, charge_id="ch_1"))
        uow.entries.add(an_entry("e2", user="bob", status=EntryStatus.RESERVED))
        uow.commit()

    def accept_with_e1_s_charge() -> None:
        with sql_backend.uow() as uow:
            (entry,) = uow.entries.lock_all(["e2"])
            entry.accept("ch_1")  # the unique key refuses it (SQLite at once)
            uow.entries.save_all([entry])
            uow.ledger.record_all([fee_collected("fee:e2", "c1", Money(1_000, "usd"))])
            uow.commit()

    with pytest.raises(DuplicateRecord):
        accept_with_e1_s_charge()
    with sql_backend.uow() as uow:
        assert uow.entries.get("e2").status is EntryStatus.RESERVED
        assert uow.ledger.for_contest("c1") == []


def test_save_all_stores_what_changed_since_the_entry_was_read_or_saved(
    backend: Backend,
) -> None:
    """The SQL adapter writes only the columns an entry changed since this transaction
    locked or saved it, and whole entries read without a lock (decision 0067): whatever
    was changed, saved and changed back, what is stored after the commit is each entry as
    last saved, on every backend."""
    joined, other = an_entry("e1").lineup, lineup(3)
    assert joined != other
    with backend.uow() as uow:
        uow.contests.add(a_contest("c1"))
        reserved = EntryStatus.RESERVED
        uow.entries.add_all([an_entry(f"e{n}", user=f"u{n}", status=reserved) for n in range(5)])
        uow.commit()
    with backend.uow() as uow:
        kept = uow.entries.get("e4")
    kept.accept("ch_e4")
    with backend.uow() as uow:  # read in another unit of work: every column is written
        uow.entries.save_all([kept])
        uow.commit()
    with backend.uow() as uow:
        swapped, paid = uow.entries.lock_all(["e1", "e2"])
        swapped.replace_lineup(other)
        paid.accept("ch_e2")
        uow.entries.save_all([swapped, paid])
        swapped.replace_lineup(swapped.lineup_joined_with)  # back to the first lineup
        uow.entries.save_all([swapped, paid])  # paid: unchanged since saved
        alone = uow.entries.get("e3")
        alone.replace_lineup(other)
        uow.entries.save(alone)
        alone.replace_lineup(alone.lineup_joined_with)
        uow.entries.save_all([alone])
        fixed = uow.entries.by_fingerprint("join-e0")
        assert fixed is not None
        fixed.payment_method = "pm_card_mastercard"  # a column no join changes
        uow.entries.save_all([fixed])
        uow.commit()
    with backend.uow() as uow:
        stored = uow.entries.lock_all(["e0", "e1", "e2", "e3", "e4"])
    assert stored == [fixed, swapped, paid, alone, kept]
    assert [(e.lineup, e.joined_lineup) for e in stored[1:4:2]] == [(joined, joined)] * 2
    assert (stored[4].status, stored[4].charge_id) == (EntryStatus.ACTIVE, "ch_e4")
    assert (stored[2].status, stored[2].charge_id) == (EntryStatus.ACTIVE, "ch_e2")
    assert stored[0].payment_method == "pm_card_mastercard"


def test_seats_of_several_contests_move_in_one_statement_where_all_are_locked(
    sql_backend: Backend,
) -> None:
    """A join batch spread over a lobby counts its seats in one statement on PostgreSQL
    when it holds every contest locked; otherwise, an executemany in contest id order, so
    that two movers never take the same rows' locks in different orders."""
    runs: list[tuple[str, bool]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, _params: Any, _ctx: Any, many: bool) -> None:
        if statement.startswith("UPDATE contests SET seats_taken"):
            runs.append((statement, many))

    with sql_backend.uow() as uow:
        for cid in ("c1", "c2", "c3"):
            uow.contests.add(a_contest(cid))
        uow.commit()
    spread = [("e1", "c1"), ("e2", "c1"), ("e3", "c2"), ("e4", "c3")]
    event.listen(sql_backend.sql, "before_cursor_execute", seen)
    try:
        with sql_backend.uow() as uow:
            uow.contests.lock_all(["c1", "c2", "c3"])
            uow.entries.add_all([an_entry(e, c, user=e) for e, c in spread])
            assert [uow.entries.seats_taken(c) for c in ("c1", "c2", "c3")] == [2, 1, 1]
            uow.commit()
        locked = len(runs)
        with sql_backend.uow() as uow:
            uow.entries.add_all([an_entry("e5", "c3", user="e5"), an_entry("e6", "c2", user="e6")])
            uow.commit()
    finally:
        event.remove(sql_backend.sql, "before_cursor_execute", seen)
    with sql_backend.uow() as uow:
        assert [uow.entries.seats_taken(c) for c in ("c1", "c2", "c3")] == [2, 2, 2]
    assert locked == 1
    if sql_backend.sql.dialect.name == "postgresql":
        assert [many for _, many in runs] == [False, True]
        assert "unnest" in runs[0][0]
    else:
        assert [many for _, many in runs] == [True, True]


def test_seats_follow_locked_entries_saved_again_and_again(backend: Backend) -> None:
    """save_all moves seats by what each entry held before. For entries this unit of work
    locked, that is what they held when locked or last saved here, never read again: an
    entry moved to another contest and back leaves each contest's count as it was."""
    with backend.uow() as uow:
        uow.contests.add(a_contest("c1"))
        uow.contests.add(a_contest("c2"))
        uow.entries.add(an_entry("e1", "c1"))
        uow.commit()
    with backend.uow() as uow:
        (entry,) = uow.entries.lock_all(["e1"])
        entry.contest_id = "c2"
        uow.entries.save_all([entry])
        assert (uow.entries.seats_taken("c1"), uow.entries.seats_taken("c2")) == (0, 1)
        entry.contest_id = "c1"
        uow.entries.save_all([entry])
        assert (uow.entries.seats_taken("c1"), uow.entries.seats_taken("c2")) == (1, 0)
        entry.withdraw("withdrawn by the user")
        uow.entries.save(entry)
        entry.contest_id = "c2"
        uow.entries.save_all([entry])  # a withdrawn entry holds no seat to move
        uow.commit()
    with backend.uow() as uow:
        assert (uow.entries.seats_taken("c1"), uow.entries.seats_taken("c2")) == (0, 0)
        assert uow.entries.lock_all(["e1"]) == [entry]


def _one_reserved_entry(backend: Backend) -> None:
    """Contest c1 with one entry, e1, reserved (holding a seat), committed."""
    with backend.uow() as uow:
        uow.contests.add(a_contest("c1"))
        uow.entries.add(an_entry("e1", "c1", status=EntryStatus.RESERVED))
        uow.commit()


def _declined_by_another_unit_of_work(backend: Backend) -> None:
    """Another unit of work declines e1 (giving its seat back) and commits."""
    with backend.uow() as second:
        declined = second.entries.get("e1")
        declined.decline("card declined")
        second.entries.save(declined)
        second.commit()


def _stored_as_saved_holding_one_seat(backend: Backend, entry: Entry) -> None:
    with backend.uow() as uow:
        assert uow.entries.lock_all(["e1"]) == [entry]
        assert uow.entries.seats_taken("c1") == 1


def test_after_a_commit_a_save_all_knows_nothing_of_what_was_locked_or_read(
    backend: Backend,
) -> None:
    """A commit ends the transaction's locks, and others may then change what it read: a
    save in the next transaction of the same unit of work counts seats from the rows as
    they are, and writes the whole entry."""
    _one_reserved_entry(backend)
    with backend.uow() as first:
        (entry,) = first.entries.lock_all(["e1"])
        first.commit()
        if backend.name != "memory":  # the memory store's unit of work holds the store
            _declined_by_another_unit_of_work(backend)
        entry.accept("ch_e1")
        first.entries.save_all([entry])
        first.commit()
    _stored_as_saved_holding_one_seat(backend, entry)


def test_a_save_of_entries_read_without_a_lock_reads_what_their_rows_hold_first(
    fresh_postgres: Backend,
) -> None:
    """Only rows locked by this transaction (lock_all, or saved) are known without asking:
    an entry read by `get` can change under another transaction before it is saved, and
    its seat moves by what the row holds then."""
    backend = fresh_postgres
    _one_reserved_entry(backend)
    with backend.uow() as first:
        entry = first.entries.get("e1")
        _declined_by_another_unit_of_work(backend)
        entry.accept("ch_e1")
        first.entries.save_all([entry])
        first.commit()
    _stored_as_saved_holding_one_seat(backend, entry)


def test_a_locked_entry_waits_for_the_locker_and_then_sees_its_change(
    fresh_postgres: Backend,
) -> None:
    backend = fresh_postgres
    _one_reserved_entry(backend)

    def accept(uow: UnitOfWork, entries: list[Entry]) -> None:
        entries[0].accept("ch_e1")
        uow.entries.save_all(entries)

    seen = seen_by_a_second_locker(backend, lambda uow: uow.entries.lock_all(["e1"]), accept)
    assert [[entry.status for entry in entries] for entries in seen] == [[EntryStatus.ACTIVE]]


def test_a_joins_record_sends_only_the_status_and_charge_it_changed(
    sql_backend: Backend,
) -> None:
    """A join batch's record locks its entries, accepts them and saves them: its UPDATE
    sets the two columns that changed, sends no lineup or fixed column back, and needs no
    read of what the rows held before (decision 0067)."""
    with sql_backend.uow() as uow:
        uow.contests.add(a_contest("c1"))
        reserved = EntryStatus.RESERVED
        uow.entries.add_all([an_entry(f"e{n}", user=f"u{n}", status=reserved) for n in range(3)])
        uow.commit()
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(sql_backend.sql, "before_cursor_execute", seen)
    try:
        with sql_backend.uow() as uow:
            entries = uow.entries.lock_all(["e0", "e1", "e2"])
            for entry in entries:
                entry.accept(f"ch_{entry.entry_id}")
            uow.entries.save_all(entries)
            uow.entries.save_all(entries)  # nothing changed since: nothing sent
            uow.commit()
    finally:
        event.remove(sql_backend.sql, "before_cursor_execute", seen)
    run = [s for s in statements if s.split(maxsplit=1)[0] in {"SELECT", "UPDATE", "INSERT"}]
    assert len(run) == 2, run  # the lock, then one UPDATE
    assert run[0].startswith("SELECT entries.entry_id, entries.contest_id, entries.user_id")
    assert run[1].startswith("UPDATE entries SET")
    assignments = run[1].split(" SET ", 1)[1].split(" FROM ")[0].split(" WHERE ")[0]
    assert sorted(part.split("=")[0].strip() for part in assignments.split(",")) == [
        "charge_id",
        "status",
    ]
    with sql_backend.uow() as uow:
        assert uow.entries.lock_all(["e0", "e1", "e2"]) == entries


def test_posting_sets_recorded_together_keep_their_order(backend: Backend) -> None:
    """The ledger reads back in recording order: the sets of one batch in the batch's."""
    sets = [
        fee_collected(f"fee:{key}", "c1", Money(100 * n + 1, "usd"))
        for n, key in enumerate("qzamxb", start=1)
    ]
    with backend.uow() as uow:
        uow.ledger.record_all(sets[:1])
        uow.ledger.record_all(sets)
        uow.commit()
    with backend.uow() as uow:
        assert uow.ledger.all() == sets
        assert uow.ledger.for_contest("c1") == sets


def test_posting_sets_recorded_together_are_each_recorded_once(backend: Backend) -> None:
    sets = [
        fee_collected("fee:b", "c1", Money(1_000, "usd")),
        fee_collected("fee:a", "c1", Money(2_000, "usd")),
    ]
    with backend.uow() as uow:
        assert uow.ledger.record(sets[1])
        uow.ledger.record_all(sets)  # fee:a was recorded already
        uow.ledger.record_all(sets)
        uow.ledger.record_all([])
        with pytest.raises(ValueError, match="twice"):
            uow.ledger.record_all([sets[0], sets[0]])
        uow.commit()
    with backend.uow() as uow:
        assert uow.ledger.all() == [sets[1], sets[0]]
        assert uow.ledger.unbalanced() == []


def test_payouts_come_by_entry_and_are_found_by_transfer(backend: Backend) -> None:
    with backend.uow() as uow:
        uow.contests.add(a_contest("c1"))
        for entry_id in ("e3", "e1", "e2"):
            uow.entries.add(an_entry(entry_id))
        uow.payouts.add_all([a_payout(entry_id=e, amount=100) for e in ("e3", "e1", "e2")])
        uow.commit()
    with backend.uow() as uow:
        assert [p.entry_id for p in uow.payouts.for_contest("c1")] == ["e1", "e2", "e3"]
        assert uow.payouts.for_contest("c2") == []
        uow.payouts.add_all([])


def test_a_contest_has_unconfirmed_payouts_until_every_one_is_confirmed(backend: Backend) -> None:
    with backend.uow() as uow:
        uow.contests.add(a_contest("c1"))
        uow.contests.add(a_contest("c2"))
        for entry_id in ("e1", "e2"):
            uow.entries.add(an_entry(entry_id))
        uow.payouts.add_all([a_payout(entry_id=e) for e in ("e1", "e2")])
        uow.commit()
    with backend.uow() as uow:
        assert uow.payouts.any_unconfirmed("c1")
        assert not uow.payouts.any_unconfirmed("c2")  # a contest without payouts
        first, second = uow.payouts.for_contest("c1")
        first.fail("refused", ELSEWHERE)
        second.confirm("tr_2")
        uow.payouts.save(first)
        uow.payouts.save(second)
        assert uow.payouts.any_unconfirmed("c1")  # a failed payout is not paid
        first.confirm("tr_1")
        uow.payouts.save(first)
        assert not uow.payouts.any_unconfirmed("c1")
        uow.commit()
    with backend.uow() as uow:
        assert not uow.payouts.any_unconfirmed("c1")


def test_payouts_are_counted_by_status(backend: Backend) -> None:
    with backend.uow() as uow:
        assert uow.payouts.count_by_status() == {}
        uow.contests.add(a_contest("c1"))
        for entry_id in ("e1", "e2", "e3"):
            uow.entries.add(an_entry(entry_id))
        uow.payouts.add_all([a_payout(entry_id=e) for e in ("e1", "e2", "e3")])
        uow.commit()
    with backend.uow() as uow:
        first, second, _third = uow.payouts.for_contest("c1")
        first.fail("refused", ELSEWHERE)
        second.confirm("tr_2")
        uow.payouts.save(first)
        uow.payouts.save(second)
        uow.commit()
    with backend.uow() as uow:
        assert uow.payouts.count_by_status() == {
            PayoutStatus.FAILED: 1,
            PayoutStatus.CONFIRMED: 1,
            PayoutStatus.PENDING: 1,
        }


def test_a_winners_payouts_come_by_contest_and_reversed_ones_are_reopened(
    backend: Backend,
) -> None:
    with backend.uow() as uow:
        for cid in ("c2", "c1"):
            uow.contests.add(a_contest(cid))
        for entry_id in ("e1", "e2", "e3"):
            uow.entries.add(an_entry(entry_id))
        other = attrs.evolve(a_payout("c1", "e3"), user_id="bob")
        uow.payouts.add_all([a_payout("c2", "e2"), a_payout("c1", "e1"), other])
        uow.commit()
    with backend.uow() as uow:
        mine = uow.payouts.for_user("ann")
        assert [(x.contest_id, x.entry_id) for x in mine] == [("c1", "e1"), ("c2", "e2")]
        assert uow.payouts.for_user("nobody") == []
        assert uow.payouts.reopened() == []
        reversed_, paid = mine
        for payout, transfer_id in ((reversed_, "tr_1"), (paid, "tr_2")):
            payout.decide_withholding(0)
            payout.start_attempt()
            payout.confirm(transfer_id)
        reversed_.reverse("disputed")
        uow.payouts.save(reversed_)
        uow.payouts.save(paid)
        uow.commit()
    with backend.uow() as uow:
        (reopened,) = uow.payouts.reopened()
        assert reopened == reversed_
        assert (reopened.reversals, reopened.transfer_key) == (
            1,
            reversed_.fingerprint + "/resend-1",
        )
        reopened.owe("account disabled")
        uow.payouts.save(reopened)
        assert uow.payouts.reopened() == [reopened]  # owed again: still reopened
        reopened.release()
        reopened.start_attempt()
        reopened.confirm("tr_3")
        uow.payouts.save(reopened)
        assert uow.payouts.reopened() == []  # paid again: nothing to send
        assert uow.payouts.by_transfer("tr_3") == reopened
        uow.commit()


def test_a_payouts_withholding_is_stored_as_decided_and_posted_apart(backend: Backend) -> None:
    with backend.uow() as uow:
        uow.contests.add(a_contest("c1"))
        for entry_id in ("e1", "e2"):
            uow.entries.add(an_entry(entry_id))
        uow.payouts.add_all([a_payout("c1", "e1", amount=10_001), a_payout("c1", "e2", 333)])
        uow.commit()
    with backend.uow() as uow:
        withheld, undecided = uow.payouts.for_contest("c1")
        assert (withheld.withheld_minor, undecided.withheld_minor) == (None, None)
        withheld.decide_withholding(2_400)
        withheld.start_attempt()
        uow.payouts.save(withheld)
        kept = prize_withheld("withheld:" + withheld.fingerprint, "c1", Money(2_400, "usd"))
        assert uow.ledger.record(kept)
        uow.commit()
    with backend.uow() as uow:
        stored = uow.payouts.lock(withheld.fingerprint)
        assert stored == withheld
        assert (stored.withheld_minor, stored.transfer_minor) == (2_400, 7_601)
        assert uow.payouts.get(undecided.fingerprint).withheld_minor is None
        assert uow.ledger.for_contest("c1") == [kept]
        assert not uow.ledger.record(kept)  # once per prize
        assert uow.ledger.unbalanced() == []


def test_a_payout_account_keeps_its_state_and_requirements(backend: Backend) -> None:
    with backend.uow() as uow:
        assert uow.accounts.lock("ann") is None
        account = PayoutAccount("ann")
        account.opened("acct_1")
        uow.accounts.save(account)
        uow.commit()
    with backend.uow() as uow:
        stored = uow.accounts.lock("ann")
        assert stored == account
        assert stored is not None
        assert stored.state is PayoutAccountState.ONBOARDING
        stored.bank_payout_failed("account closed")
        uow.accounts.save(stored)
        uow.commit()
    with backend.uow() as uow:
        again = uow.accounts.get("ann")
        assert again == stored
        assert again is not None
        assert (again.requirements, again.disabled_reason, again.payouts_enabled) == (
            ("external_account",),
            "account closed",
            False,
        )


def test_pending_refunds_come_oldest_first(backend: Backend) -> None:
    with backend.uow() as uow:
        uow.contests.add(a_contest("c1"))
        for n in range(3):
            uow.entries.add(an_entry(f"e{n}"))
        uow.refunds.add(a_refund("refund-b", "e0", CREATED + timedelta(seconds=2)))
        uow.refunds.add(a_refund("refund-a", "e1", CREATED + timedelta(seconds=1)))
        done = a_refund("refund-c", "e2", CREATED)
        done.confirm("re_c")
        uow.refunds.add(done)
        uow.commit()
    with backend.uow() as uow:
        assert [r.key for r in uow.refunds.pending()] == ["refund-a", "refund-b"]
        assert [r.entry_id for r in uow.refunds.for_contest("c1")] == ["e0", "e1", "e2"]


def test_ledger_sets_come_back_whole_in_recording_order(backend: Backend) -> None:
    three_legged = PostingSet(
        key="split:c2",
        contest_id="c2",
        movement=Movement.PRIZE_AWARDED,
        postings=(
            Posting("pool:c2", Money(300, "usd")),
            Posting("prizes_payable:c2", Money(-200, "usd")),
            Posting("house:rake", Money(-100, "usd")),
        ),
    )
    sets = [
        fee_collected("fee:z", "c1", Money(1_000, "usd")),
        three_legged,
        prize_awarded("awarded:c1", "c1", Money(900, "usd")),
        fee_collected("fee:a", "c1", Money(1_000, "eur")),
    ]
    with backend.uow() as uow:
        for posting_set in sets:
            assert uow.ledger.record(posting_set)
        uow.commit()
    with backend.uow() as uow:
        assert uow.ledger.all() == sets
        assert uow.ledger.for_contest("c1") == [sets[0], sets[2], sets[3]]
        assert uow.ledger.for_contest("c2") == [three_legged]


def test_the_audit_trail_comes_back_in_append_order(backend: Backend) -> None:
    records = [
        AuditRecord(CREATED, "system", "contest.locked", "c1", None, Outcome.SUCCESS, ""),
        AuditRecord(ELSEWHERE, "ann", "join.declined", "c1", "e1", Outcome.FAILURE, "card"),
        AuditRecord(CREATED, "ann", "account.linked", None, None, Outcome.SUCCESS, "acct"),
        AuditRecord(CREATED, "system", "contest.live", "c1", None, Outcome.SUCCESS, ""),
    ]
    with backend.uow() as uow:
        for record in records:
            uow.audit.append(record)
        uow.commit()
    with backend.uow() as uow:
        assert uow.audit.for_contest("c1") == [records[0], records[1], records[3]]
        assert uow.audit.for_actor("ann") == [records[1], records[2]]


def test_the_audit_says_when_a_contest_last_saw_an_action_and_counts_each_action(
    backend: Backend,
) -> None:
    later = CREATED + timedelta(minutes=5)
    records = [
        AuditRecord(CREATED, "system", "contest.settled", "c1", None, Outcome.SUCCESS, ""),
        AuditRecord(later, "system", "payout.confirmed", "c1", "e1", Outcome.SUCCESS, ""),
        AuditRecord(ELSEWHERE, "system", "payout.failed", "c1", "e2", Outcome.FAILURE, "x"),
        AuditRecord(ELSEWHERE, "system", "payout.confirmed", "c2", "e3", Outcome.SUCCESS, ""),
    ]
    with backend.uow() as uow:
        for record in records:
            uow.audit.append(record)
        # Read in the same unit of work: what was appended counts before the commit.
        assert uow.audit.last_at("c1", ["contest.settled"]) == CREATED
        uow.commit()
    with backend.uow() as uow:
        assert uow.audit.last_at("c1", ["contest.settled", "payout.confirmed"]) == later
        assert uow.audit.last_at("c1", ["payout.failed"]) == ELSEWHERE
        assert uow.audit.last_at("c2", ["contest.settled"]) is None
        assert uow.audit.last_at("c3", ["payout.confirmed"]) is None
        assert uow.audit.counts() == {
            "contest.settled": 1,
            "payout.confirmed": 2,
            "payout.failed": 1,
        }


def test_rejections_and_corrections_are_kept_per_slate(backend: Backend) -> None:
    with backend.uow() as uow:
        rejected = [
            uow.stats.record_rejection(SLATE, version, sha, CREATED, b"{}")
            # the feed said 6 again, then sent other bad data under 6
            for version, sha in (
                (4, "sha256:4"),
                (6, "sha256:6"),
                (5, "sha256:5"),
                (6, "sha256:6"),
                (6, "sha256:6b"),
            )
        ]
        assert rejected == [True, True, True, False, True]
        corrections = [
            StatCorrection("p2", "receptions", "7", "review", "ops", CREATED),
            StatCorrection("p1", "passing_yards", "301.5", "typo", "ops", ELSEWHERE),
        ]
        for correction in corrections:
            uow.stats.add_correction(SLATE, correction)
        uow.stats.add_correction(
            "other", StatCorrection("p9", "receptions", "1", "x", "ops", CREATED)
        )
        uow.commit()
    with backend.uow() as uow:
        assert uow.stats.last_rejected_version(SLATE) == 6
        assert uow.stats.corrections(SLATE) == corrections
        assert [c.value for c in uow.stats.corrections(SLATE)] == [Fraction(7), Fraction(603, 2)]
        assert uow.stats.corrections("nope") == []


def test_provider_changes_are_kept_per_slate_exactly_and_oldest_first(backend: Backend) -> None:
    changes = [
        a_provider_change("p2", "receptions", Fraction(7), Fraction(0), ELSEWHERE),
        a_provider_change("p1", "passing_yards", Fraction("301.25"), Fraction(-3)),
        a_provider_change("p1", "passing_yards", Fraction(-3), Fraction("0.5")),
    ]
    with backend.uow() as uow:
        for change in changes:
            uow.stats.add_provider_change(SLATE, change)
        uow.stats.add_provider_change("other", a_provider_change("p9"))
        uow.commit()
    with backend.uow() as uow:
        kept = uow.stats.provider_changes(SLATE)
        assert kept == changes
        assert all(c.at.utcoffset() is not None for c in kept)
        assert uow.stats.provider_changes("other") == [a_provider_change("p9")]
        assert uow.stats.provider_changes("nope") == []


def test_a_provider_change_left_uncommitted_is_discarded(backend: Backend) -> None:
    first, second = a_provider_change(), a_provider_change(new=Fraction(4))
    with backend.uow() as uow:
        uow.stats.add_provider_change(SLATE, first)
        uow.commit()
    with backend.uow() as uow:
        uow.stats.add_provider_change(SLATE, second)  # to a slate that has changes already
        assert uow.stats.provider_changes(SLATE) == [first, second]
    with backend.uow() as uow:
        assert uow.stats.provider_changes(SLATE) == [first]


# --- exact round trips ------------------------------------------------------------------


def test_snapshots_round_trip_exactly_and_the_latest_is_the_highest_version(
    backend: Backend,
) -> None:
    kickoff = datetime(2025, 9, 7, 13, 0, tzinfo=timezone(timedelta(hours=-4)))
    exact = FeedSnapshot(
        SLATE,
        7,
        [Game("g1", "KC", "BAL", kickoff, GameStatus.FINAL)],
        [
            StatLine.of("KC-QB0", "KC", "g1", {"passing_yards": Fraction("301.25")}),
            StatLine.of("KC-RB1", "KC", "g1", {"rushing_yards": -3, "receptions": 4}),
        ],
    )
    older = snapshot(GameStatus.IN_PROGRESS, 2)
    with backend.uow() as uow:
        assert uow.stats.store(exact, exact.sha256(), CREATED)
        assert uow.stats.store(older, older.sha256(), CREATED)
        uow.commit()
    later = CREATED + timedelta(seconds=30)
    with backend.uow() as uow:
        assert uow.stats.received_at(SLATE) == CREATED  # of the highest version, 7
        assert uow.stats.received_at("no-such-slate") is None
        newest = snapshot(GameStatus.FINAL, 9)
        assert uow.stats.store(newest, newest.sha256(), later)
        assert uow.stats.received_at(SLATE) == later
    with backend.uow() as uow:
        latest = uow.stats.latest(SLATE)
        assert latest == exact
        assert latest is not None
        assert latest.canonical_bytes() == exact.canonical_bytes()
        assert latest.sha256() == exact.sha256()


def test_contest_terms_round_trip_exactly(backend: Backend) -> None:
    unusual = World().terms(
        name="Ünïcode Showdown 🏈",
        lock_at=LOCK.astimezone(timezone(timedelta(hours=2))),
        entry_fee=Money(2_500, "eur"),
        capacity=1_000,
        entry_limit=SingleEntry(),
        payout=fifty_fifty(),
        rake_bps=1_250,
        guaranteed_pool=Money(2_000_000, "eur"),
        min_entries=1,
        withdraw_cutoff=timedelta(minutes=30),
        correction_window=timedelta(hours=12),
    )
    contests = [Contest("c1", TERMS), Contest("c2", unusual)]
    with backend.uow() as uow:
        for contest in contests:
            uow.contests.add(contest)
        uow.commit()
    with backend.uow() as uow:
        back = [uow.contests.get("c1"), uow.contests.lock("c2")]
    assert back == contests
    assert isinstance(back[1].terms, ContestTerms)
    assert back[1].terms.canonical() == unusual.canonical()
    assert back[1].terms.rules.fingerprint == unusual.rules.fingerprint


def test_fixed_prize_terms_round_trip_exactly(backend: Backend) -> None:
    table = FixedTable(
        (
            FixedTier(1, 1, Money(50_000, "usd")),
            FixedTier(2, 3, Money(10_000, "usd")),
            FixedTier(4, 10, Money(2_000, "usd")),
        )
    )
    fixed = Contest("c1", World().terms(payout=table, guaranteed_pool=table.total))
    with backend.uow() as uow:
        uow.contests.add(fixed)
        uow.commit()
    with backend.uow() as uow:
        back = uow.contests.get("c1")
    assert back == fixed
    assert back.terms.payout == table
    assert back.terms.canonical() == fixed.terms.canonical()


def test_lineups_round_trip_exactly_whatever_their_names_hold(backend: Backend) -> None:
    odd = [
        Lineup((("QB", "a\x1fb"), ("RB", "c\x1ed"))),  # the compact form's separators
        Lineup((("FLEX", 'Zoë "ZZ" Ünal'), ("DST", "[KC]"))),
        Lineup(()),
    ]
    with backend.uow() as uow:
        uow.contests.add(a_contest("c1"))
        for n, picks in enumerate(odd):
            entry = an_entry(f"e{n}")
            entry.lineup = picks
            uow.entries.add(entry)
        uow.commit()
    with backend.uow() as uow:
        assert [e.lineup for e in uow.entries.for_contest("c1")] == odd
        assert uow.entries.get("e0").lineup == odd[0]
        assert [e.lineup for e in uow.entries.with_status([EntryStatus.ACTIVE])] == odd


def test_an_edited_lineup_keeps_the_lineup_it_was_joined_with(backend: Backend) -> None:
    joined = Lineup((("QB", "KC-QB0"), ("RB", "KC-RB1")))
    edited = Lineup((("QB", "BAL-QB0"), ("RB", "a\x1fb")))
    with backend.uow() as uow:
        uow.contests.add(a_contest("c1"))
        entry = an_entry("e1")
        entry.lineup = joined
        uow.entries.add(entry)
        uow.commit()
    with backend.uow() as uow:
        assert uow.entries.get("e1").joined_lineup is None
        entry = uow.entries.get("e1")
        entry.replace_lineup(edited)
        uow.entries.save(entry)
        uow.commit()
    with backend.uow() as uow:
        for found in (
            uow.entries.get("e1"),
            uow.entries.by_fingerprint(entry.fingerprint),
            *uow.entries.for_contest("c1"),
            *uow.entries.lock_all(["e1"]),
        ):
            assert found is not None
            assert (found.lineup, found.joined_lineup) == (edited, joined)
            assert found.lineup_joined_with == joined
        assert uow.entries.for_settlement("c1")[0][3] == edited.player_ids


def test_timestamps_come_back_time_zone_aware_and_equal(backend: Backend) -> None:
    entry = an_entry(created_at=ELSEWHERE)
    payout = attrs.evolve(a_payout(), retry_at=ELSEWHERE)
    refund = a_refund(created_at=ELSEWHERE)
    record = AuditRecord(ELSEWHERE, "ann", "x", "c1", None, Outcome.SUCCESS, "")
    with backend.uow() as uow:
        contest = a_contest("c1", ContestState.LIVE)
        uow.contests.add(contest)
        contest.complete(ELSEWHERE)
        uow.contests.save(contest)
        uow.entries.add(entry)
        uow.payouts.add_all([payout])
        uow.refunds.add(refund)
        uow.audit.append(record)
        uow.commit()
    with backend.uow() as uow:
        instants = [
            uow.contests.get("c1").completed_at,
            uow.entries.get("e1").created_at,
            uow.payouts.get(payout.fingerprint).retry_at,
            uow.refunds.pending()[0].created_at,
            uow.audit.for_contest("c1")[0].at,
        ]
    for instant in instants:
        assert instant is not None
        assert instant.utcoffset() is not None
        assert instant == ELSEWHERE


# --- the audit trail is append-only in the database itself ----------------------------


@pytest.mark.parametrize(
    "statement", ["UPDATE audit SET detail = 'rewritten'", "DELETE FROM audit WHERE id > 0"]
)
def test_audit_rows_cannot_be_updated_or_deleted_even_with_raw_sql(
    sql_backend: Backend, statement: str
) -> None:
    with sql_backend.uow() as uow:
        uow.audit.append(an_audit_record())
        uow.commit()
    with pytest.raises(DBAPIError, match="append-only"), sql_backend.sql.begin() as connection:
        connection.execute(text(statement))
    with sql_backend.uow() as uow:
        assert uow.audit.for_contest("c1") == [an_audit_record()]


def test_settlement_reads_active_entries_counts_by_status_and_lists_a_users_entries(
    backend: Backend,
) -> None:
    world = World()
    contest = world.create()
    with backend.uow() as uow:
        uow.contests.add(contest)
        for n, (user, status) in enumerate(
            [
                ("ann", EntryStatus.ACTIVE),
                ("bob", EntryStatus.DECLINED),
                ("ann", EntryStatus.ACTIVE),
            ]
        ):
            uow.entries.add(
                Entry(
                    f"e{n}",
                    contest.contest_id,
                    user,
                    f"fp{n}",
                    lineup(n),
                    "pm",
                    1_000,
                    START,
                    status,
                )
            )
        uow.commit()
    with backend.uow() as uow:
        assert uow.entries.for_settlement(contest.contest_id) == [
            ("e0", "ann", 1_000, lineup(0).player_ids),
            ("e2", "ann", 1_000, lineup(2).player_ids),
        ]
        assert uow.entries.count(contest.contest_id, [EntryStatus.ACTIVE]) == 2
        assert uow.entries.count(contest.contest_id, [EntryStatus.DECLINED]) == 1
        assert [e.entry_id for e in uow.entries.for_user("ann")] == ["e0", "e2"]
        assert uow.entries.for_user("nobody") == []


def test_the_change_sequence_grows_with_each_snapshot_stored_and_each_correction(
    backend: Backend,
) -> None:
    with backend.uow() as uow:
        assert uow.stats.change_sequence(SLATE) == 0
        uow.stats.store(FeedSnapshot(SLATE, 3, (), ()), "sha256:3", CREATED)
        assert uow.stats.change_sequence(SLATE) == 3
        uow.commit()
    with backend.uow() as uow:
        uow.stats.add_correction(
            SLATE, StatCorrection("p1", "receptions", "2", "review", "ops", CREATED)
        )
        uow.commit()
    with backend.uow() as uow:
        assert uow.stats.change_sequence(SLATE) == 4
        uow.stats.store(FeedSnapshot(SLATE, 9, (), ()), "sha256:9", CREATED)
        uow.stats.store(FeedSnapshot("other", 50, (), ()), "sha256:50", CREATED)
        uow.commit()
    with backend.uow() as uow:
        assert uow.stats.change_sequence(SLATE) == 10
        assert uow.stats.change_sequence("other") == 50
        assert uow.stats.change_sequence("nope") == 0
