"""An in-memory store whose units of work are serialisable transactions.

One re-entrant lock serialises units of work (a single writer, like SQLite), so
locking a contest is implied. Each unit of work works on copies of the tables and
of every record it reads; commit swaps the copies in, anything else discards
them. Records handed out are copies, so a use case that mutates a record and
then rolls back leaves the store untouched.
"""

from __future__ import annotations

import copy
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Self, TypeVar

from fantasy_core.alerting import AlertState, StoredAlert
from fantasy_core.audit import AuditRecord, log_committed
from fantasy_core.calendar import CalendarOpening
from fantasy_core.contest import Contest, ContestMark
from fantasy_core.entries import SEAT_HOLDING, Entry, EntryStatus, SettlementRow
from fantasy_core.errors import (
    ConcurrentUpdate,
    DuplicateRecord,
    UnknownContest,
    UnknownEntry,
    UnknownPayout,
)
from fantasy_core.ledger import PostingSet
from fantasy_core.lifecycle import ContestState
from fantasy_core.outbox import AlertNotice
from fantasy_core.payments import Payout, PayoutStatus, Refund, RefundStatus
from fantasy_core.payout_accounts import PayoutAccount
from fantasy_core.ports import JoinReads
from fantasy_core.protection.limits import Spend
from fantasy_core.protection.players import PlayerProfile
from fantasy_core.protection.tax import TaxDetails
from fantasy_core.stats import FeedSnapshot, ProviderChange, StatCorrection

T = TypeVar("T")


def _copy(record: T) -> T:
    return copy.copy(record)


class _Tables:
    """Every table of the store; a unit of work holds a shallow copy of it."""

    def __init__(self) -> None:
        self.contests: dict[str, Contest] = {}
        self.entries: dict[str, Entry] = {}
        self.seats: dict[str, int] = {}  # seat-holding entries by contest, kept by _Entries
        self.fingerprints: dict[str, str] = {}
        self.charges: dict[str, str] = {}
        self.payouts: dict[str, Payout] = {}
        self.transfers: dict[str, str] = {}
        self.refunds: dict[str, Refund] = {}
        self.ledger: dict[str, PostingSet] = {}
        self.audit: list[AuditRecord] = []
        self.snapshots: dict[tuple[str, int], tuple[FeedSnapshot, str, datetime]] = {}
        # Rejected feed data by slate, then (version, sha256): its canonical document.
        self.rejections: dict[str, dict[tuple[int, str], bytes]] = {}
        self.corrections: dict[str, list[StatCorrection]] = {}
        self.provider_changes: dict[str, list[ProviderChange]] = {}
        self.settlements: dict[str, tuple[bytes, str]] = {}
        self.accounts: dict[str, PayoutAccount] = {}
        self.events: set[str] = set()
        self.alerts: dict[str, StoredAlert] = {}
        self.notices: dict[str, AlertNotice] = {}
        self.worker_passes: dict[str, datetime] = {}
        self.players: dict[str, PlayerProfile] = {}
        self.identities: dict[str, str] = {}  # identity key -> user id
        self.calendar: dict[str, CalendarOpening] = {}  # by key text
        self.paused_lines: set[str] = set()
        self.tax_details: dict[str, TaxDetails] = {}

    def clone(self) -> _Tables:
        twin = _Tables.__new__(_Tables)
        for name, value in vars(self).items():
            setattr(twin, name, copy.copy(value))
        twin.corrections = {k: list(v) for k, v in self.corrections.items()}
        twin.provider_changes = {k: list(v) for k, v in self.provider_changes.items()}
        twin.rejections = {k: dict(v) for k, v in self.rejections.items()}
        return twin


class MemoryStore:
    """The data of a whole platform, in memory. Make units of work with `unit_of_work()`."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._tables = _Tables()

    def unit_of_work(self) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self)


class MemoryUnitOfWork:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._tables: _Tables | None = None

    def __enter__(self) -> Self:
        self._store._lock.acquire()
        tables = self._store._tables.clone()
        self._tables = tables
        self.contests = _Contests(tables)
        self.entries = _Entries(tables)
        self.payouts = _Payouts(tables)
        self.refunds = _Refunds(tables)
        self.ledger = _Ledger(tables)
        self.audit = _Audit(tables)
        self.stats = _Stats(tables)
        self.settlements = _Settlements(tables)
        self.accounts = _Accounts(tables)
        self.events = _Events(tables)
        self.alerts = _Alerts(tables)
        self.outbox = _Outbox(tables)
        self.workers = _WorkerPasses(tables)
        self.players = _Players(tables)
        self.calendar = _Calendar(tables)
        self.tax_details = _TaxDetails(tables)
        return self

    def read_for_joins(
        self,
        fingerprints: Iterable[str],
        contest_ids: Iterable[str],
        pairs: Iterable[tuple[str, str]],
        user_ids: Iterable[str],
    ) -> JoinReads:
        found = self.entries.by_fingerprints(fingerprints)
        contests = self.contests.lock_all(contest_ids)
        held = self.entries.seats_of_users(pairs)
        return JoinReads(found, contests, held, self.players.lock_all(user_ids))

    def lock_for_record(
        self, contest_ids: Iterable[str], entry_ids: Sequence[str]
    ) -> tuple[dict[str, Contest], list[Entry]]:
        return self.contests.lock_all(contest_ids), self.entries.lock_all(entry_ids)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._tables = None
        self._store._lock.release()

    def commit(self) -> None:
        if self._tables is None:
            raise RuntimeError("commit outside the unit of work's block")
        store = self._store
        appended = self._tables.audit[len(store._tables.audit) :]
        store._tables = self._tables
        log_committed(appended)
        # Later writes in the same block start from what was just committed.
        self._tables = self._tables.clone()
        self.__enter_tables(self._tables)

    def __enter_tables(self, tables: _Tables) -> None:
        for repo in (
            self.contests,
            self.entries,
            self.payouts,
            self.refunds,
            self.ledger,
            self.audit,
            self.stats,
            self.settlements,
            self.accounts,
            self.events,
            self.alerts,
            self.outbox,
            self.workers,
            self.players,
            self.calendar,
            self.tax_details,
        ):
            repo.t = tables


class _Repo:
    def __init__(self, tables: _Tables) -> None:
        self.t = tables


class _Contests(_Repo):
    def add(self, contest: Contest) -> None:
        if contest.contest_id in self.t.contests:
            raise DuplicateRecord(f"contest {contest.contest_id} exists")
        self.t.contests[contest.contest_id] = _stored_contest(contest)

    def get(self, contest_id: str) -> Contest:
        try:
            return _stored_contest(self.t.contests[contest_id])
        except KeyError:
            raise UnknownContest(f"no contest {contest_id}") from None

    def mark(self, contest_id: str) -> ContestMark:
        try:
            version = self.t.contests[contest_id].version
        except KeyError:
            raise UnknownContest(f"no contest {contest_id}") from None
        return ContestMark(contest_id, version, self.t.seats.get(contest_id, 0))

    def lock(self, contest_id: str) -> Contest:
        return self.get(contest_id)  # the store's lock already serialises units of work

    def lock_all(self, contest_ids: Iterable[str]) -> dict[str, Contest]:
        return {c: self.get(c) for c in sorted(set(contest_ids)) if c in self.t.contests}

    def save(self, contest: Contest) -> None:
        stored = self.t.contests.get(contest.contest_id)
        if stored is None:
            raise UnknownContest(f"no contest {contest.contest_id}")
        if stored.version > contest.version:
            raise ConcurrentUpdate(f"contest {contest.contest_id} changed meanwhile")
        self.t.contests[contest.contest_id] = _stored_contest(contest)

    def save_terms(self, contest: Contest) -> None:
        self.save(contest)  # the stored copy is the whole contest, terms included

    def ids_in_states(
        self, states: Iterable[ContestState], after: str | None = None, limit: int | None = None
    ) -> list[str]:
        wanted = set(states)
        found = sorted(
            cid
            for cid, c in self.t.contests.items()
            if c.state in wanted and (after is None or cid > after)
        )
        return found if limit is None else found[:limit]

    def ids_of_slate(self, slate_id: str) -> list[str]:
        return sorted(cid for cid, c in self.t.contests.items() if c.terms.slate_id == slate_id)

    def completed_between(
        self, states: Iterable[ContestState], start: datetime, end: datetime
    ) -> list[str]:
        wanted = set(states)
        return sorted(
            cid
            for cid, c in self.t.contests.items()
            if c.state in wanted and c.completed_at is not None and start <= c.completed_at < end
        )

    def latest_completed(self, states: Iterable[ContestState], limit: int) -> list[str]:
        wanted = set(states)
        done = [
            (c.completed_at, cid)
            for cid, c in self.t.contests.items()
            if c.state in wanted and c.completed_at is not None
        ]
        return [cid for _, cid in sorted(done, reverse=True)[:limit]]


def _stored_contest(contest: Contest) -> Contest:
    """A copy with its own (empty) event list: events are never stored, nor shared."""
    stored = _copy(contest)
    stored.events = []
    return stored


def _contest_exists(tables: _Tables, entry: Entry) -> None:
    """An entry belongs to a stored contest: the SQL store's foreign key, kept here too."""
    if entry.contest_id not in tables.contests:
        raise UnknownContest(f"no contest {entry.contest_id}")


class _Entries(_Repo):
    def add(self, entry: Entry) -> None:
        if entry.entry_id in self.t.entries or entry.fingerprint in self.t.fingerprints:
            raise DuplicateRecord(f"entry {entry.entry_id} ({entry.fingerprint}) exists")
        self.save(entry)
        self.t.fingerprints[entry.fingerprint] = entry.entry_id

    def save(self, entry: Entry) -> None:
        _contest_exists(self.t, entry)
        old = self.t.entries.get(entry.entry_id)
        if old is not None and old.holds_seat:
            self.t.seats[old.contest_id] -= 1
        if entry.holds_seat:
            self.t.seats[entry.contest_id] = self.t.seats.get(entry.contest_id, 0) + 1
        self.t.entries[entry.entry_id] = _copy(entry)
        if entry.charge_id is not None:
            self.t.charges[entry.charge_id] = entry.entry_id

    def get(self, entry_id: str) -> Entry:
        try:
            return _copy(self.t.entries[entry_id])
        except KeyError:
            raise UnknownEntry(f"no entry {entry_id}") from None

    def by_fingerprint(self, fingerprint: str) -> Entry | None:
        entry_id = self.t.fingerprints.get(fingerprint)
        return None if entry_id is None else self.get(entry_id)

    def by_charge(self, charge_id: str) -> Entry | None:
        entry_id = self.t.charges.get(charge_id)
        return None if entry_id is None else self.get(entry_id)

    def for_contest(
        self, contest_id: str, statuses: Iterable[EntryStatus] | None = None
    ) -> list[Entry]:
        wanted = None if statuses is None else set(statuses)
        return [
            _copy(e)
            for _, e in sorted(self.t.entries.items())
            if e.contest_id == contest_id and (wanted is None or e.status in wanted)
        ]

    def for_settlement(self, contest_id: str) -> list[SettlementRow]:
        return [
            (e.entry_id, e.user_id, e.fee_minor, e.lineup.player_ids)
            for _, e in sorted(self.t.entries.items())
            if e.contest_id == contest_id and e.status is EntryStatus.ACTIVE
        ]

    def count(self, contest_id: str, statuses: Iterable[EntryStatus]) -> int:
        wanted = set(statuses)
        return sum(
            1 for e in self.t.entries.values() if e.contest_id == contest_id and e.status in wanted
        )

    def for_user(self, user_id: str) -> list[Entry]:
        return [_copy(e) for _, e in sorted(self.t.entries.items()) if e.user_id == user_id]

    def with_status(self, statuses: Iterable[EntryStatus]) -> list[Entry]:
        wanted = set(statuses)
        return [_copy(e) for _, e in sorted(self.t.entries.items()) if e.status in wanted]

    def seats_taken(self, contest_id: str) -> int:
        return self.t.seats.get(contest_id, 0)

    def seats_of_user(self, contest_id: str, user_id: str) -> int:
        return self.seats_of_users([(contest_id, user_id)])[contest_id, user_id]

    def add_all(self, entries: Sequence[Entry]) -> None:
        ids = [e.entry_id for e in entries]
        fingerprints = [e.fingerprint for e in entries]
        if (
            len(set(ids)) < len(ids)
            or len(set(fingerprints)) < len(fingerprints)
            or any(i in self.t.entries for i in ids)
            or any(f in self.t.fingerprints for f in fingerprints)
        ):
            raise DuplicateRecord(f"one of entries {ids} exists (by id or fingerprint)")
        for entry in entries:
            _contest_exists(self.t, entry)  # before any is stored, as the database's one command
        for entry in entries:
            self.add(entry)

    def save_all(self, entries: Sequence[Entry]) -> None:
        if len({e.entry_id for e in entries}) < len(entries):
            raise ValueError(f"entry ids saved twice: {sorted(e.entry_id for e in entries)}")
        for entry in entries:
            _contest_exists(self.t, entry)
        for entry in entries:
            self.save(entry)

    def lock_all(self, entry_ids: Sequence[str]) -> list[Entry]:
        # One unit of work at a time holds the store: every row read is as good as locked.
        if len(set(entry_ids)) < len(entry_ids):
            raise ValueError(f"entry ids asked twice: {sorted(entry_ids)}")
        return [self.get(entry_id) for entry_id in entry_ids]

    def by_fingerprints(self, fingerprints: Iterable[str]) -> dict[str, Entry]:
        found = ((f, self.by_fingerprint(f)) for f in set(fingerprints))
        return {f: entry for f, entry in found if entry is not None}

    def seats_of_users(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
        seats = dict.fromkeys(pairs, 0)
        for e in self.t.entries.values():
            if (e.contest_id, e.user_id) in seats and e.status in SEAT_HOLDING:
                seats[e.contest_id, e.user_id] += 1
        return seats

    def contests_entered(self, user_id: str) -> int:
        return len(
            {
                e.contest_id
                for e in self.t.entries.values()
                if e.user_id == user_id and e.status is EntryStatus.ACTIVE
            }
        )

    def entrants_over(self, contest_id: str, contests: int) -> list[str]:
        active = [e for e in self.t.entries.values() if e.status is EntryStatus.ACTIVE]
        entrants = {e.user_id for e in active if e.contest_id == contest_id}
        entered: dict[str, set[str]] = {}
        for entry in active:
            if entry.user_id in entrants:
                entered.setdefault(entry.user_id, set()).add(entry.contest_id)
        players = self.t.players
        return sorted(
            user
            for user, seen in entered.items()
            if len(seen) > contests
            and not (user in players and players[user].highly_experienced_since is not None)
        )

    def spend_since(self, user_ids: Iterable[str], since: datetime) -> dict[str, list[Spend]]:
        spent: dict[str, list[Spend]] = {user: [] for user in user_ids}
        for _, e in sorted(self.t.entries.items(), key=lambda item: item[1].created_at):
            if e.user_id in spent and e.status in SEAT_HOLDING and e.created_at >= since:
                spent[e.user_id].append(Spend(e.created_at, e.fee_minor))
        return spent


class _Payouts(_Repo):
    def add_all(self, payouts: Sequence[Payout]) -> None:
        for payout in payouts:
            if payout.fingerprint in self.t.payouts:
                raise DuplicateRecord(f"payout {payout.fingerprint} exists")
        for payout in payouts:
            self.save(payout)

    def save(self, payout: Payout) -> None:
        self.t.payouts[payout.fingerprint] = _copy(payout)
        if payout.transfer_id is not None:
            self.t.transfers[payout.transfer_id] = payout.fingerprint

    def for_contest(self, contest_id: str) -> list[Payout]:
        return sorted(
            (_copy(x) for x in self.t.payouts.values() if x.contest_id == contest_id),
            key=lambda x: x.entry_id,
        )

    def count_by_status(self) -> dict[PayoutStatus, int]:
        return dict(Counter(x.status for x in self.t.payouts.values()))

    def any_unconfirmed(self, contest_id: str) -> bool:
        return any(
            x.contest_id == contest_id and x.status is not PayoutStatus.CONFIRMED
            for x in self.t.payouts.values()
        )

    def get(self, fingerprint: str) -> Payout:
        try:
            return _copy(self.t.payouts[fingerprint])
        except KeyError:
            raise UnknownPayout(f"no payout {fingerprint}") from None

    def lock(self, fingerprint: str) -> Payout:
        return self.get(fingerprint)  # the store's lock already serialises units of work

    def by_transfer(self, transfer_id: str) -> Payout | None:
        fingerprint = self.t.transfers.get(transfer_id)
        return None if fingerprint is None else self.get(fingerprint)

    def big_prizes(self, user_id: str, at_least_minor: int) -> int:
        return sum(
            1
            for p in self.t.payouts.values()
            if p.user_id == user_id and p.amount_minor >= at_least_minor
        )

    def for_user(self, user_id: str) -> list[Payout]:
        return sorted(
            (_copy(x) for x in self.t.payouts.values() if x.user_id == user_id),
            key=lambda x: (x.contest_id, x.entry_id),
        )

    def reopened(self) -> list[Payout]:
        return sorted(
            (
                _copy(x)
                for x in self.t.payouts.values()
                if x.reversals > 0 and x.status is not PayoutStatus.CONFIRMED
            ),
            key=lambda x: x.fingerprint,
        )


class _Refunds(_Repo):
    def add(self, refund: Refund) -> bool:
        if refund.key in self.t.refunds:
            return False
        self.save(refund)
        return True

    def save(self, refund: Refund) -> None:
        self.t.refunds[refund.key] = _copy(refund)

    def get(self, key: str) -> Refund | None:
        refund = self.t.refunds.get(key)
        return None if refund is None else _copy(refund)

    def pending(self) -> list[Refund]:
        return sorted(
            (_copy(r) for r in self.t.refunds.values() if r.status is RefundStatus.PENDING),
            key=lambda r: (r.created_at, r.key),
        )

    def for_contest(self, contest_id: str) -> list[Refund]:
        return sorted(
            (_copy(r) for r in self.t.refunds.values() if r.contest_id == contest_id),
            key=lambda r: r.entry_id,
        )


class _Ledger(_Repo):
    def record(self, posting_set: PostingSet) -> bool:
        if posting_set.key in self.t.ledger:
            return False
        self.t.ledger[posting_set.key] = posting_set
        return True

    def record_all(self, posting_sets: Sequence[PostingSet]) -> None:
        keys = [s.key for s in posting_sets]
        if len(set(keys)) < len(keys):
            raise ValueError(f"posting sets recorded twice in one call: {sorted(keys)}")
        for posting_set in posting_sets:
            self.record(posting_set)

    def for_contest(self, contest_id: str) -> list[PostingSet]:
        return [s for s in self.t.ledger.values() if s.contest_id == contest_id]

    def all(self) -> list[PostingSet]:
        return list(self.t.ledger.values())

    def unbalanced(self) -> list[str]:
        return sorted(
            key
            for key, posting_set in self.t.ledger.items()
            if sum(p.amount.minor for p in posting_set.postings) != 0
        )


class _Audit(_Repo):
    def append(self, record: AuditRecord) -> None:
        self.t.audit.append(record)

    def for_contest(self, contest_id: str) -> list[AuditRecord]:
        return [r for r in self.t.audit if r.contest_id == contest_id]

    def for_actor(self, actor: str) -> list[AuditRecord]:
        return [r for r in self.t.audit if r.actor == actor]

    def last_at(self, contest_id: str, actions: Iterable[str]) -> datetime | None:
        wanted = set(actions)
        return max(
            (r.at for r in self.t.audit if r.contest_id == contest_id and r.action in wanted),
            default=None,
        )

    def counts(self) -> dict[str, int]:
        return dict(Counter(r.action for r in self.t.audit))


class _Stats(_Repo):
    def store(self, snapshot: FeedSnapshot, sha256: str, received_at: datetime) -> bool:
        key = (snapshot.slate_id, snapshot.version)
        if key in self.t.snapshots:
            return False
        self.t.snapshots[key] = (snapshot, sha256, received_at)
        return True

    def latest(self, slate_id: str) -> FeedSnapshot | None:
        versions = [v for (s, v) in self.t.snapshots if s == slate_id]
        return self.t.snapshots[(slate_id, max(versions))][0] if versions else None

    def received_at(self, slate_id: str) -> datetime | None:
        versions = [v for (s, v) in self.t.snapshots if s == slate_id]
        return self.t.snapshots[(slate_id, max(versions))][2] if versions else None

    def record_rejection(
        self, slate_id: str, version: int, sha256: str, at: datetime, document: bytes
    ) -> bool:
        rejected = self.t.rejections.setdefault(slate_id, {})
        if (version, sha256) in rejected:
            return False
        rejected[version, sha256] = document
        return True

    def last_rejected_version(self, slate_id: str) -> int | None:
        return max((version for version, _ in self.t.rejections.get(slate_id, {})), default=None)

    def add_correction(self, slate_id: str, correction: StatCorrection) -> None:
        self.t.corrections.setdefault(slate_id, []).append(correction)

    def corrections(self, slate_id: str) -> list[StatCorrection]:
        return list(self.t.corrections.get(slate_id, []))

    def change_sequence(self, slate_id: str) -> int:
        versions = [v for (s, v) in self.t.snapshots if s == slate_id]
        return max(versions, default=0) + len(self.t.corrections.get(slate_id, []))

    def add_provider_change(self, slate_id: str, change: ProviderChange) -> None:
        self.t.provider_changes.setdefault(slate_id, []).append(change)

    def provider_changes(self, slate_id: str) -> list[ProviderChange]:
        return list(self.t.provider_changes.get(slate_id, []))


class _Settlements(_Repo):
    def store(self, contest_id: str, snapshot: bytes, sha256: str) -> None:
        if contest_id in self.t.settlements:
            raise DuplicateRecord(f"contest {contest_id} is settled already")
        self.t.settlements[contest_id] = (snapshot, sha256)

    def get(self, contest_id: str) -> tuple[bytes, str] | None:
        return self.t.settlements.get(contest_id)

    def digest(self, contest_id: str) -> str | None:
        stored = self.t.settlements.get(contest_id)
        return None if stored is None else stored[1]


class _Accounts(_Repo):
    def get(self, user_id: str) -> PayoutAccount | None:
        account = self.t.accounts.get(user_id)
        return None if account is None else _copy(account)

    def lock(self, user_id: str) -> PayoutAccount | None:
        return self.get(user_id)  # the store's lock already serialises units of work

    def by_account(self, account_id: str) -> PayoutAccount | None:
        for account in sorted(self.t.accounts.values(), key=lambda a: a.user_id):
            if account.account_id == account_id:
                return _copy(account)
        return None

    def save(self, account: PayoutAccount) -> None:
        self.t.accounts[account.user_id] = _copy(account)


class _Events(_Repo):
    def first_time(self, event_id: str) -> bool:
        if event_id in self.t.events:
            return False
        self.t.events.add(event_id)
        return True


class _Alerts(_Repo):
    def lock(self, key: str) -> StoredAlert | None:
        return self.get(key)

    def add(self, alert: StoredAlert) -> None:
        if alert.key in self.t.alerts:
            raise DuplicateRecord(f"alert {alert.key} exists")
        self.t.alerts[alert.key] = _copy(alert)

    def save(self, alert: StoredAlert) -> None:
        self.t.alerts[alert.key] = _copy(alert)

    def get(self, key: str) -> StoredAlert | None:
        found = self.t.alerts.get(key)
        return None if found is None else _copy(found)

    def listed(self, states: Iterable[AlertState] | None = None) -> list[StoredAlert]:
        wanted = None if states is None else set(states)
        found = [_copy(a) for a in self.t.alerts.values() if wanted is None or a.state in wanted]
        return sorted(found, key=lambda a: (a.first_at, a.key))

    def lock_unresolved(self, keys: Iterable[str]) -> list[StoredAlert]:
        found = (self.t.alerts.get(k) for k in sorted(set(keys)))
        return [_copy(a) for a in found if a is not None and a.unresolved]

    def unresolved_keys(self, prefix: str) -> list[str]:
        return sorted(k for k, a in self.t.alerts.items() if k.startswith(prefix) and a.unresolved)


class _Outbox(_Repo):
    def add(self, notice: AlertNotice) -> bool:
        if notice.notice_id in self.t.notices:
            return False
        self.t.notices[notice.notice_id] = _copy(notice)
        return True

    def lock(self, notice_id: str) -> AlertNotice | None:
        found = self.t.notices.get(notice_id)
        return None if found is None else _copy(found)

    def save(self, notice: AlertNotice) -> None:
        self.t.notices[notice.notice_id] = _copy(notice)

    def due(self, now: datetime, limit: int, channels: Sequence[str]) -> list[AlertNotice]:
        wanted = set(channels)
        found = [
            n
            for n in self.t.notices.values()
            if n.delivered_at is None and n.next_attempt_at <= now and n.channel in wanted
        ]
        found.sort(key=lambda n: (n.next_attempt_at, n.notice_id))
        return [_copy(n) for n in found[:limit]]

    def for_key(self, key: str) -> list[AlertNotice]:
        found = sorted(
            (n for n in self.t.notices.values() if n.key == key),
            key=lambda n: (n.created_at, n.notice_id),
        )
        return [_copy(n) for n in found]

    def failing_since(self) -> dict[str, datetime]:
        since: dict[str, datetime] = {}
        for n in self.t.notices.values():
            if n.delivered_at is None and n.first_failure_at is not None:
                known = since.get(n.channel)
                since[n.channel] = (
                    n.first_failure_at if known is None else min(known, n.first_failure_at)
                )
        return since

    def backlog(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for n in self.t.notices.values():
            if n.delivered_at is None:
                counts[n.channel] = counts.get(n.channel, 0) + 1
        return counts


class _WorkerPasses(_Repo):
    def completed(self, worker_id: str, at: datetime) -> None:
        self.t.worker_passes[worker_id] = at

    def forget(self, worker_id: str) -> None:
        self.t.worker_passes.pop(worker_id, None)

    def last_passes(self) -> dict[str, datetime]:
        return dict(sorted(self.t.worker_passes.items()))


class _Players(_Repo):
    def add(self, profile: PlayerProfile) -> None:
        if profile.user_id in self.t.players or profile.identity_key in self.t.identities:
            raise DuplicateRecord(f"player {profile.user_id} (or their identity) is registered")
        self.t.players[profile.user_id] = profile
        self.t.identities[profile.identity_key] = profile.user_id

    def get(self, user_id: str) -> PlayerProfile | None:
        return self.t.players.get(user_id)  # frozen: no copy needed

    def by_identity(self, identity_key: str) -> str | None:
        return self.t.identities.get(identity_key)

    def lock(self, user_id: str) -> PlayerProfile | None:
        return self.get(user_id)

    def lock_all(self, user_ids: Iterable[str]) -> dict[str, PlayerProfile]:
        found = ((u, self.t.players.get(u)) for u in sorted(set(user_ids)))
        return {u: profile for u, profile in found if profile is not None}

    def save(self, profile: PlayerProfile) -> None:
        if profile.user_id not in self.t.players:
            raise KeyError(f"no player {profile.user_id} to save")
        self.t.players[profile.user_id] = profile

    def highly_experienced(self, user_ids: Iterable[str]) -> set[str]:
        return {
            u
            for u in user_ids
            if u in self.t.players and self.t.players[u].highly_experienced_since is not None
        }

    def restricted(self, now: datetime) -> list[str]:
        return sorted(
            u
            for u, profile in self.t.players.items()
            if profile.restriction is not None and profile.restriction.active(now)
        )


class _Calendar(_Repo):
    def claim(self, opening: CalendarOpening) -> bool:
        if opening.key.text in self.t.calendar:
            return False
        if opening.contest_id not in self.t.contests:
            raise UnknownContest(f"no contest {opening.contest_id} to open {opening.key.text}")
        if any(o.contest_id == opening.contest_id for o in self.t.calendar.values()):
            raise DuplicateRecord(f"contest {opening.contest_id} has a calendar key already")
        self.t.calendar[opening.key.text] = opening
        return True

    def opened(self, slate_ids: Iterable[str]) -> list[CalendarOpening]:
        wanted = set(slate_ids)
        return sorted(
            (o for o in self.t.calendar.values() if o.key.slate_id in wanted),
            key=lambda o: o.key,
        )

    def paused_lines(self) -> set[str]:
        return set(self.t.paused_lines)

    def set_paused(self, line: str, paused: bool) -> bool:
        if (line in self.t.paused_lines) == paused:
            return False
        if paused:
            self.t.paused_lines.add(line)
        else:
            self.t.paused_lines.discard(line)
        return True


class _TaxDetails(_Repo):
    def get(self, user_id: str) -> TaxDetails | None:
        return self.t.tax_details.get(user_id)

    def save(self, details: TaxDetails) -> None:
        self.t.tax_details[details.user_id] = details
