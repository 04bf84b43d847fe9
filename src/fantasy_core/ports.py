"""The ports: what the core needs from the outside world, as Protocols with their contracts.

Adapters implement these without inheriting from them; the contract suites in
tests/contract/ check every adapter against the same expectations.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

import attrs

from fantasy_core.accounts import Account
from fantasy_core.alerting import AlertState, StoredAlert
from fantasy_core.audit import Alert, AuditRecord
from fantasy_core.calendar import CalendarOpening, SlateSchedule
from fantasy_core.contest import Contest, ContestMark, ContestTerms
from fantasy_core.entries import Entry, EntryStatus, SettlementRow
from fantasy_core.ledger import PostingSet
from fantasy_core.lifecycle import ContestState
from fantasy_core.lineups import PlayerPool
from fantasy_core.money import Money
from fantasy_core.outbox import AlertNotice
from fantasy_core.payments import (
    ChargeOutcome,
    PaymentEvent,
    Payout,
    PayoutStatus,
    Refund,
    RefundOutcome,
    TransferOutcome,
)
from fantasy_core.payout_accounts import AccountStatus, OnboardingLink, PayoutAccount
from fantasy_core.protection.eligibility import Location
from fantasy_core.protection.limits import Spend
from fantasy_core.protection.players import PlayerProfile
from fantasy_core.protection.tax import TaxDetails
from fantasy_core.stats import FeedSnapshot, ProviderChange, StatCorrection

__all__ = [
    "AccountStore",
    "AlertChannel",
    "AlertOutbox",
    "AlertRepository",
    "AlertSink",
    "AuditLog",
    "CalendarRepository",
    "Clock",
    "ContestCatalogue",
    "ContestRepository",
    "EntryRepository",
    "IdSource",
    "LedgerRepository",
    "Locator",
    "PaymentGateway",
    "PayoutAccountRepository",
    "PayoutRepository",
    "PlayerRepository",
    "ProcessedEvents",
    "RefundRepository",
    "SettlementRepository",
    "StatsFeed",
    "StatsRepository",
    "TaxDetailsRepository",
    "TaxIdCipher",
    "UnitOfWork",
    "WebhookVerifier",
    "WorkerPasses",
]


class ContestRepository(Protocol):
    def add(self, contest: Contest) -> None:
        """Store a new contest; raises DuplicateRecord if its id exists."""

    def get(self, contest_id: str) -> Contest:
        """The contest, read without a lock; raises UnknownContest."""

    def mark(self, contest_id: str) -> ContestMark:
        """The contest's version and seats taken, read without a lock and without its
        terms (one small row: whether a copy kept by a reader is still current); raises
        UnknownContest."""

    def lock(self, contest_id: str) -> Contest:
        """The contest, locked until the unit of work ends (SELECT ... FOR UPDATE).

        Any other unit of work locking the same contest waits until this one
        commits or rolls back, and then sees its changes. Use cases lock the
        contest before counting seats or changing its state; that serialises
        joins against each other and against lifecycle steps.
        """

    def lock_all(self, contest_ids: Iterable[str]) -> dict[str, Contest]:
        """`lock` each contest found, in ascending id order (as every locker of several
        must, so that two of them cannot deadlock), in one statement; the contests by id
        (an id with no contest is left out)."""

    def save(self, contest: Contest) -> None:
        """Write back a contest's state. It must have been locked in this unit of work.

        Raises ConcurrentUpdate when the stored version is not `contest.version - k`
        for the k transitions made since it was loaded (compare-and-set).
        """

    def save_terms(self, contest: Contest) -> None:
        """`save`, writing the terms too: after `Contest.move_lock_earlier`, the one change
        terms allow. Locked in this unit of work; ConcurrentUpdate as `save`."""

    def ids_in_states(
        self, states: Iterable[ContestState], after: str | None = None, limit: int | None = None
    ) -> list[str]:
        """Ids of contests in any of `states`, ascending; with `after`, only the ids after
        it (a page's last id), and at most `limit` of them when given (keyset paging)."""

    def ids_of_slate(self, slate_id: str) -> list[str]:
        """Ids of the contests played on `slate_id`, in every state, ascending."""

    def completed_between(
        self, states: Iterable[ContestState], start: datetime, end: datetime
    ) -> list[str]:
        """Ids of the contests in any of `states` that completed in [start, end), ascending."""

    def latest_completed(self, states: Iterable[ContestState], limit: int) -> list[str]:
        """Ids of at most `limit` contests in any of `states` that have completed, the most
        recently completed first (equal times: descending id). A listing of finished
        contests reads these, not every contest the platform ever ran."""


class EntryRepository(Protocol):
    def add(self, entry: Entry) -> None:
        """Store a new entry; raises DuplicateRecord if its id or fingerprint exists."""

    def save(self, entry: Entry) -> None: ...

    def get(self, entry_id: str) -> Entry:
        """Raises UnknownEntry."""

    def by_fingerprint(self, fingerprint: str) -> Entry | None: ...

    def by_charge(self, charge_id: str) -> Entry | None: ...

    def for_contest(
        self, contest_id: str, statuses: Iterable[EntryStatus] | None = None
    ) -> list[Entry]:
        """The contest's entries (only those in `statuses` when given), by ascending entry id."""

    def for_settlement(self, contest_id: str) -> list[SettlementRow]:
        """The contest's ACTIVE entries as settlement reads them, by ascending entry id."""

    def count(self, contest_id: str, statuses: Iterable[EntryStatus]) -> int:
        """How many of the contest's entries are in one of `statuses`."""

    def for_user(self, user_id: str) -> list[Entry]:
        """A user's entries in every contest, by ascending entry id."""

    def with_status(self, statuses: Iterable[EntryStatus]) -> list[Entry]:
        """Entries of any contest in one of `statuses`, by ascending entry id."""

    def seats_taken(self, contest_id: str) -> int:
        """How many of the contest's entries hold a seat (reserved, pending action or active)."""

    def seats_of_user(self, contest_id: str, user_id: str) -> int: ...

    # The batch forms, for joins that arrive together (usecases/joining_batch.py): each
    # is one statement or two whatever the count, where the forms above are one each.

    def add_all(self, entries: Sequence[Entry]) -> None:
        """Store new entries; raises DuplicateRecord if an id or fingerprint exists: here,
        or, once the unit of work holds every one of their contests locked, at the latest
        at its next read or its commit (a database may send the rows with that).

        After DuplicateRecord the unit of work can only be abandoned (a database refuses
        the rest of its transaction); nothing of it is stored.
        """

    def save_all(self, entries: Sequence[Entry]) -> None:
        """`save` each entry (ids distinct), as one change."""

    def lock_all(self, entry_ids: Sequence[str]) -> list[Entry]:
        """The entries (ids distinct) in the order asked, each row locked until the unit of
        work ends (a `save_all` of them then needs no read of what they were); raises
        UnknownEntry if any is missing."""

    def by_fingerprints(self, fingerprints: Iterable[str]) -> dict[str, Entry]:
        """The entries found, by fingerprint (a fingerprint with no entry is left out)."""

    def seats_of_users(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """`seats_of_user` for each (contest id, user id) asked (0 for none held)."""

    def contests_entered(self, user_id: str) -> int:
        """How many contests the user has an active (paid, kept) entry in."""

    def entrants_over(self, contest_id: str, contests: int) -> list[str]:
        """The players with an active entry in `contest_id` who have active entries in more
        than `contests` contests and are not flagged highly experienced yet, by id; one
        statement (the fair-play review of a contest's entrants, decision 0044)."""

    def spend_since(self, user_ids: Iterable[str], since: datetime) -> dict[str, list[Spend]]:
        """By user asked (an empty list for none): every entry of theirs in any contest made
        at or after `since` that holds a seat (reserved, pending action, active), as what
        counts against their limits (its creation time and fee), oldest first. One
        statement whatever the count."""


class TaxDetailsRepository(Protocol):
    """Players' W-9s (fantasy_core.protection.tax): the taxpayer id only sealed."""

    def get(self, user_id: str) -> TaxDetails | None: ...

    def save(self, details: TaxDetails) -> None:
        """Store the player's W-9, replacing an earlier one."""


class PlayerRepository(Protocol):
    """Players' protection records (fantasy_core.protection.players), one per user."""

    def add(self, profile: PlayerProfile) -> None:
        """Store a new record; DuplicateRecord if its user id or identity key exists."""

    def get(self, user_id: str) -> PlayerProfile | None: ...

    def by_identity(self, identity_key: str) -> str | None:
        """The user id of the record with this identity key, if any."""

    def lock(self, user_id: str) -> PlayerProfile | None:
        """The record, locked until the unit of work ends (SELECT ... FOR UPDATE): every
        paid join of the player takes this lock after its contest's, so that two joins of
        one player are checked against their limits one after the other."""

    def lock_all(self, user_ids: Iterable[str]) -> dict[str, PlayerProfile]:
        """`lock` each record found, in ascending user id order, in one statement."""

    def save(self, profile: PlayerProfile) -> None:
        """Write back a record (locked in this unit of work)."""

    def restricted(self, now: datetime) -> list[str]:
        """Ids of players with a cool-off or self-exclusion in force at `now`, ascending."""

    def highly_experienced(self, user_ids: Iterable[str]) -> set[str]:
        """Which of `user_ids` the platform has found highly experienced."""


class PayoutRepository(Protocol):
    def add_all(self, payouts: Sequence[Payout]) -> None:
        """Store new payouts; raises DuplicateRecord if any fingerprint exists."""

    def save(self, payout: Payout) -> None: ...

    def for_contest(self, contest_id: str) -> list[Payout]:
        """By ascending entry id."""

    def any_unconfirmed(self, contest_id: str) -> bool:
        """Whether any of the contest's payouts is not CONFIRMED (False when it has none).

        A check that reads no payout: a settled contest of a million entries has
        200,000 of them, and every lifecycle tick asks until they are all paid.
        """

    def get(self, fingerprint: str) -> Payout:
        """Raises UnknownPayout."""

    def lock(self, fingerprint: str) -> Payout:
        """The payout, locked until the unit of work ends (SELECT ... FOR UPDATE).

        Workers lock a payout before changing its status, so that two of them can
        never overwrite each other (a CONFIRMED payout set back to SENDING).
        Raises UnknownPayout.
        """

    def by_transfer(self, transfer_id: str) -> Payout | None: ...

    def big_prizes(self, user_id: str, at_least_minor: int) -> int:
        """How many prizes of at least `at_least_minor` the user has been awarded."""

    def count_by_status(self) -> dict[PayoutStatus, int]:
        """How many payouts of every contest are in each status (statuses with none left out)."""

    def for_user(self, user_id: str) -> list[Payout]:
        """A winner's payouts in every contest, by ascending contest id, then entry id."""

    def reopened(self) -> list[Payout]:
        """Payouts whose transfer was reversed at least once and that are not confirmed
        since (owed again, whatever their contest's state), by ascending fingerprint.

        A check the worker makes every pass: it reads only such payouts (few, and an
        index holds only them), never a paid contest's others.
        """


class RefundRepository(Protocol):
    def add(self, refund: Refund) -> bool:
        """Store a refund unless one with its key exists; True when it was new."""

    def save(self, refund: Refund) -> None: ...

    def get(self, key: str) -> Refund | None: ...

    def pending(self) -> list[Refund]:
        """Refunds not yet confirmed, oldest first."""

    def for_contest(self, contest_id: str) -> list[Refund]: ...


class LedgerRepository(Protocol):
    def record(self, posting_set: PostingSet) -> bool:
        """Record a balanced posting set unless its key exists; True when it was new.

        Recording twice under one key is how retries stay harmless; the key is
        backed by a unique constraint in a database.
        """

    def record_all(self, posting_sets: Sequence[PostingSet]) -> None:
        """`record` each set, in order, as one change. A database may write them as late as
        the unit of work's commit (nothing waits for them in between, so they travel with
        the COMMIT), and says nothing of which were new: `record` does."""

    def for_contest(self, contest_id: str) -> list[PostingSet]: ...

    def all(self) -> list[PostingSet]:
        """Every posting set; raises UnbalancedPostings if a stored one no longer balances."""

    def unbalanced(self) -> list[str]:
        """Keys of stored posting sets whose postings do not sum to zero in some currency.

        Recorded sets always balance; a key listed here means the stored rows were
        changed behind the ledger's back.
        """


class AuditLog(Protocol):
    """Append-only: there is no update and no delete."""

    def append(self, record: AuditRecord) -> None: ...

    def for_contest(self, contest_id: str) -> list[AuditRecord]: ...

    def for_actor(self, actor: str) -> list[AuditRecord]: ...

    def last_at(self, contest_id: str, actions: Iterable[str]) -> datetime | None:
        """When the contest's newest record of one of `actions` was made; None if none.

        One indexed read whatever the trail's length (watchdogs ask it every pass).
        """

    def counts(self) -> dict[str, int]:
        """How many records of each action there are (metrics count joins, charges,
        refunds and payouts by their audit records, which are never taken back)."""


class StatsRepository(Protocol):
    def store(self, snapshot: FeedSnapshot, sha256: str, received_at: datetime) -> bool:
        """Store a validated snapshot unless one with the same slate and version exists."""

    def latest(self, slate_id: str) -> FeedSnapshot | None:
        """The stored snapshot with the highest version for the slate."""

    def received_at(self, slate_id: str) -> datetime | None:
        """When the slate's highest stored version was received; None if none is stored."""

    def record_rejection(
        self, slate_id: str, version: int, sha256: str, at: datetime, document: bytes
    ) -> bool:
        """Keep the invalid data the feed sent for the slate at `version`, with its hash.

        `document` is the data's canonical form, kept so that anyone can see what was
        refused. True when this payload (version and hash) was not rejected before;
        the same payload again is ignored.
        """

    def last_rejected_version(self, slate_id: str) -> int | None:
        """The highest version of the slate that was rejected, if any."""

    def add_correction(self, slate_id: str, correction: StatCorrection) -> None:
        """Record an operator's correction of a stat on the slate (see StatCorrection)."""

    def corrections(self, slate_id: str) -> list[StatCorrection]:
        """Every correction of the slate, oldest first: value text, reason, actor and time
        exactly as recorded."""

    def change_sequence(self, slate_id: str) -> int:
        """A number that grows with every change of what scoring reads for `slate_id` and
        never decreases: the latest stored snapshot's version plus the number of
        corrections (each store raises the first, each correction the second); 0 while
        nothing is stored. Cheap, whatever the slate's size: live leaderboards in other
        processes poll it to learn that the worker ingested something."""

    def add_provider_change(self, slate_id: str, change: ProviderChange) -> None:
        """Record a provider's correction of a final game's stat (see ProviderChange)."""

    def provider_changes(self, slate_id: str) -> list[ProviderChange]:
        """Every provider change of the slate, oldest first; values and versions exact."""


class SettlementRepository(Protocol):
    def store(self, contest_id: str, snapshot: bytes, sha256: str) -> None:
        """Store a contest's settlement snapshot; raises DuplicateRecord if it has one."""

    def get(self, contest_id: str) -> tuple[bytes, str] | None: ...

    def digest(self, contest_id: str) -> str | None:
        """The SHA-256 of the contest's snapshot, without reading the snapshot; None if none."""


class PayoutAccountRepository(Protocol):
    def get(self, user_id: str) -> PayoutAccount | None: ...

    def lock(self, user_id: str) -> PayoutAccount | None:
        """The user's account, locked until the unit of work ends (None: none yet)."""

    def by_account(self, account_id: str) -> PayoutAccount | None: ...

    def save(self, account: PayoutAccount) -> None:
        """Store the account (state, requirements and all), replacing the user's previous one."""


class ProcessedEvents(Protocol):
    def first_time(self, event_id: str) -> bool:
        """Mark a payment event as applied; True only the first time (a unique key)."""


class AlertRepository(Protocol):
    """The current incident of every alert key, shared by every process of the platform."""

    def lock(self, key: str) -> StoredAlert | None:
        """The key's alert, locked until the unit of work ends; None if it was never raised.

        Every change to an alert is made under this lock, so that two processes raising,
        acknowledging or resolving it at once apply their changes one after the other.
        """

    def add(self, alert: StoredAlert) -> None:
        """Store the first incident of a key; raises DuplicateRecord if the key exists
        (another process raised it first: lock it and apply the change again)."""

    def save(self, alert: StoredAlert) -> None:
        """Write back an alert locked in this unit of work (a new incident replaces the old)."""

    def get(self, key: str) -> StoredAlert | None:
        """The key's alert, read without a lock."""

    def listed(self, states: Iterable[AlertState] | None = None) -> list[StoredAlert]:
        """Every alert (only those in `states` when given), by first sighting, then key."""

    def lock_unresolved(self, keys: Iterable[str]) -> list[StoredAlert]:
        """The unresolved alerts among `keys`, locked as by `lock`, by ascending key.

        One statement whatever the count: every confirmed payout asks it for its
        own failure alerts, and almost always finds none.
        """

    def unresolved_keys(self, prefix: str) -> list[str]:
        """Keys starting with `prefix` whose alert is not resolved, ascending."""


class AlertOutbox(Protocol):
    """Notices of alert changes waiting to be announced, one per channel (see outbox.py)."""

    def add(self, notice: AlertNotice) -> bool:
        """Queue a notice unless its id exists (that change is queued for that channel
        already); True when it was new."""

    def lock(self, notice_id: str) -> AlertNotice | None:
        """The notice, locked until the unit of work ends; None if there is none."""

    def save(self, notice: AlertNotice) -> None:
        """Write back a notice locked in this unit of work."""

    def due(self, now: datetime, limit: int, channels: Sequence[str]) -> list[AlertNotice]:
        """Undelivered notices of `channels` whose next attempt is at or before `now`,
        soonest first (then by id), at most `limit`."""

    def for_key(self, key: str) -> list[AlertNotice]:
        """Every notice of an alert key, oldest first (then by id)."""

    def failing_since(self) -> dict[str, datetime]:
        """By channel: the earliest first failure among its undelivered notices
        (a channel whose undelivered notices never failed is left out)."""

    def backlog(self) -> dict[str, int]:
        """By channel: how many notices are undelivered (channels with none left out)."""


class WorkerPasses(Protocol):
    """Each running worker's heartbeat: when it last completed a pass."""

    def completed(self, worker_id: str, at: datetime) -> None:
        """Record that the worker completed a pass at `at` (its previous record replaced)."""

    def forget(self, worker_id: str) -> None:
        """The worker stopped cleanly: it is no longer expected to pass."""

    def last_passes(self) -> dict[str, datetime]:
        """By worker id: when each known worker last completed a pass."""


class CalendarRepository(Protocol):
    """Which calendar keys opened which contests, and which calendar lines are paused."""

    def claim(self, opening: CalendarOpening) -> bool:
        """Record that `opening.key` opened `opening.contest_id` (a contest added in this
        unit of work), unless the key is taken; True when it was new.

        The key is unique in storage: of two units of work claiming one key at once, the
        second waits for the first to commit or roll back, and then claims it only if the
        first rolled back. A unit of work whose claim is refused must not commit.
        """

    def opened(self, slate_ids: Iterable[str]) -> list[CalendarOpening]:
        """Every opening on these slates, by key."""

    def paused_lines(self) -> set[str]:
        """The keys of the calendar lines an operator paused."""

    def set_paused(self, line: str, paused: bool) -> bool:
        """Pause (or resume) a line; True when that changed something."""


@attrs.frozen
class JoinReads:
    """What a join batch reads before it reserves, the contests and players locked
    (`UnitOfWork.read_for_joins`)."""

    found: dict[str, Entry]  # the entries of the fingerprints that have one
    contests: dict[str, Contest]  # locked
    held: dict[tuple[str, str], int]  # the seats each (contest id, user id) holds
    profiles: dict[str, PlayerProfile]  # locked


class UnitOfWork(Protocol):
    """One transaction around one use case.

    Leaving the `with` block without `commit()` rolls back: nothing written in the
    block is visible to anyone, ever. `commit()` makes all of it visible at once.
    Rows locked with `contests.lock` stay locked until commit or rollback.

    Errors entering the block, any repository call and `commit()` may raise:
      StoreUnavailable   the store cannot be reached (server down, connection lost,
                         a lock held past the store's timeout): nothing was committed,
                         retry the use case later. The only error of a store's own
                         trouble that crosses this port: an adapter translates its
                         library's connection errors into it, and lets every other
                         library error through as the bug it is.
      ConcurrentUpdate   another transaction won a race the store detected; retry.
      DuplicateRecord    a unique key was already taken (see each repository).
    """

    # Read-only properties, so that an adapter may offer them as attributes or properties.
    @property
    def contests(self) -> ContestRepository: ...
    @property
    def entries(self) -> EntryRepository: ...
    @property
    def payouts(self) -> PayoutRepository: ...
    @property
    def refunds(self) -> RefundRepository: ...
    @property
    def ledger(self) -> LedgerRepository: ...
    @property
    def audit(self) -> AuditLog: ...
    @property
    def stats(self) -> StatsRepository: ...
    @property
    def settlements(self) -> SettlementRepository: ...
    @property
    def accounts(self) -> PayoutAccountRepository: ...
    @property
    def events(self) -> ProcessedEvents: ...
    @property
    def alerts(self) -> AlertRepository: ...
    @property
    def outbox(self) -> AlertOutbox: ...
    @property
    def workers(self) -> WorkerPasses: ...
    @property
    def players(self) -> PlayerRepository: ...
    @property
    def calendar(self) -> CalendarRepository: ...
    @property
    def tax_details(self) -> TaxDetailsRepository: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def read_for_joins(
        self,
        fingerprints: Iterable[str],
        contest_ids: Iterable[str],
        pairs: Iterable[tuple[str, str]],
        user_ids: Iterable[str],
    ) -> JoinReads:
        """A join batch's reads, in this order, each as its own call means it:
        `entries.by_fingerprints(fingerprints)`, `contests.lock_all(contest_ids)`,
        `entries.seats_of_users(pairs)` (after the contests' locks, so current under them)
        and `players.lock_all(user_ids)` (after the contests': one lock order for every
        joiner). One call, so that a store which can sends them in one round trip
        (decision 0074); none of them waits for another's answer."""
        ...

    def lock_for_record(
        self, contest_ids: Iterable[str], entry_ids: Sequence[str]
    ) -> tuple[dict[str, Contest], list[Entry]]:
        """`contests.lock_all(contest_ids)`, then `entries.lock_all(entry_ids)`: a join
        batch's record locks its contests before it reads its entries, so that what it
        reads is current. One call, as `read_for_joins`."""
        ...

    def commit(self) -> None: ...


class PaymentGateway(Protocol):
    """Moves money: charges entry fees, refunds them, transfers prizes to winners.

    Every mutating call takes an idempotency `key`: the same key again returns the
    first call's result and moves no money a second time.

    Errors every call may raise:
      GatewayUnavailable   the request certainly did not take effect (it was never
                           sent, or was refused before processing); safe to retry.
      PaymentOutcomeUnknown the request may or may not have taken effect (a timeout
                           or lost reply after sending). Never assume either: retry
                           with the same key, or look the outcome up (`find_*`).
      GatewayAuthError     the platform's own account is invalid or disabled; no
                           call can succeed until it is fixed.
    """

    def charge(
        self, key: str, amount: Money, payment_method: str, metadata: Mapping[str, str]
    ) -> ChargeOutcome:
        """Collect `amount` with the user's `payment_method`.

        A declined card is an outcome (DECLINED, with the decline code), not an error.
        REQUIRES_ACTION: the user must confirm; a later payment event says how it ended.
        """

    def find_charge(self, key: str) -> ChargeOutcome | None:
        """What a charge made with `key` became, or None if there was none."""

    def refund(self, key: str, charge_id: str, amount: Money) -> RefundOutcome:
        """Give back `amount` of charge `charge_id`."""

    def transfer(
        self,
        key: str,
        destination: str,
        amount: Money,
        group: str,
        metadata: Mapping[str, str],
    ) -> TransferOutcome:
        """Send `amount` to the connected account `destination`.

        Raises PayoutRejected (with the reason) when the destination cannot receive it.
        """

    def find_transfer(self, key: str, group: str) -> TransferOutcome | None:
        """The transfer made with `key` in `group`, found by its metadata, or None.

        Works after the gateway has forgotten the idempotency key (Stripe: 24 hours).
        """

    def reverse_transfer(self, key: str, transfer_id: str) -> str:
        """Take the whole of transfer `transfer_id` back from its connected account; the
        reversal's id. The same key again returns the first reversal. Raises PayoutRejected
        (with the reason) when the gateway refuses (e.g. the account's balance is short).
        """

    # Connected accounts (Stripe Connect Express): the platform creates them, the player
    # fills in the gateway's forms; the account id never comes from the player.

    def open_account(self, key: str, email: str, country: str, metadata: Mapping[str, str]) -> str:
        """Create a connected account able to receive transfers; its id.

        Express, with the `transfers` capability requested, for the player's `email` and
        two-letter `country`. The same key again returns the same account.
        """

    def account_status(self, account_id: str) -> AccountStatus:
        """What the gateway says of the account now. Raises UnknownConnectedAccount."""

    def onboarding_link(self, account_id: str, refresh_url: str, return_url: str) -> OnboardingLink:
        """A fresh single-use link to the gateway's onboarding forms for the account
        (`account_onboarding`); the gateway sends the player to `refresh_url` when the link
        has expired and to `return_url` when they leave the forms."""

    def login_link(self, account_id: str) -> OnboardingLink:
        """A single-use link to the player's own dashboard (Express), where they fix their
        bank details. Raises PayoutRejected when the account has not finished onboarding."""

    def check(self) -> None:
        """Reach the gateway with one request that moves no money (readiness probes).

        Returns when it answered; raises GatewayUnavailable or PaymentOutcomeUnknown when
        it cannot be reached, GatewayAuthError when it refuses the platform's key. Tried
        once, never retried: a probe says how things are now.
        """


class AccountStore(Protocol):
    """The accounts people log in with, by user id and by (normalised) email.

    Its own store, not part of a unit of work: each call is one transaction. Raises
    StoreUnavailable as a unit of work does when the store cannot be reached.
    """

    def add(self, account: Account) -> None:
        """Store a new account; DuplicateRecord if its email (or id) is registered."""

    def by_email(self, email: str) -> Account | None: ...

    def get(self, user_id: str) -> Account | None: ...

    def get_many(self, user_ids: Iterable[str]) -> dict[str, Account]:
        """The accounts found, by user id (an id with no account is left out)."""

    def replace_password(
        self, user_id: str, password_hash: str, *, if_generation: int | None = None
    ) -> Account | None:
        """Store a new password hash and move the token generation on by one, at once, so
        that every token issued before is refused after. The account changed, or None if
        there is none. Two changes racing each move the generation on: neither is lost.
        With `if_generation`, only while the generation is still that one (None else): of
        two changes racing from one generation, one wins (a reset link works once)."""

    def next_token_generation(self, user_id: str) -> Account | None:
        """Move the token generation on by one (log out everywhere); None: no such account."""

    def revoke_token(
        self, token_id: str, user_id: str, expires_at: datetime, now: datetime
    ) -> None:
        """Refuse the token `token_id` (which expires at `expires_at`) from now on; again:
        nothing changes. Revocations of tokens expired by `now` may be forgotten."""

    def revoked(self, token_ids: Iterable[str]) -> set[str]:
        """Which of `token_ids` were revoked (and have not expired since)."""

    def token_checks(
        self, user_ids: Iterable[str], token_ids: Iterable[str]
    ) -> tuple[dict[str, Account], set[str]]:
        """`get_many(user_ids)` and `revoked(token_ids)` in one read (what every request
        with a token asks: one connection, not two)."""


class WebhookVerifier(Protocol):
    """Reads what the payment provider posts to the platform's webhook endpoint, trusting
    only what it signed. Exactly-once is not decided here: `apply_payment_event` applies
    each event id once however often it arrives."""

    def verify(self, payload: bytes, signature: str) -> PaymentEvent | None:
        """The PaymentEvent a signed delivery carries, or None for one that needs no action.

        Raises InvalidWebhook, naming the reason, when the signature does not match
        (forged, tampered, missing, another secret), when it is stale (a replay), or when
        the signed body is not an event.
        """


class StatsFeed(Protocol):
    """The port to a sports-data provider; adapters implement it without inheriting from it.

    Contract (tests/contract/test_stats_feed_contract.py runs it against every adapter):
    - slates() lists the slate ids the feed can describe, sorted.
    - snapshot(slate_id) is the provider's current view of a slate. For an unchanged
      provider state it is the same snapshot, byte for byte (canonical_bytes), so ingesting
      it twice changes nothing. Its version never decreases as time passes, a game once
      FINAL stays FINAL (until a stat correction, which keeps it FINAL with new lines and a
      higher version), and a well-behaved provider's snapshots pass validate_snapshot. The
      caller still validates: a provider is untrusted.
    - player_pool(slate_id) is the slate's players with positions, teams, games and salaries;
      every player's team plays on the slate.
    - Every method raises FeedUnavailable when the provider cannot be reached or read (the
      caller retries later), and snapshot/player_pool raise UnknownSlate for a slate id the
      feed does not have. No other domain error escapes an adapter, and no library error
      at all (adapters translate them).
    """

    def snapshot(self, slate_id: str) -> FeedSnapshot: ...

    def player_pool(self, slate_id: str) -> PlayerPool: ...

    def slates(self) -> tuple[str, ...]: ...

    def schedules(self) -> tuple[SlateSchedule, ...]:
        """Every slate of slates() with its sport and its games' scheduled kick-offs, the
        same games and kick-offs snapshot() shows (a game moved is moved in both)."""
        ...


class ContestCatalogue(Protocol):
    """The named templates contests are created from (product configuration)."""

    def knows(self, template: str) -> bool:
        """Whether a template has this name."""

    def terms(
        self,
        template: str,
        pool: PlayerPool,
        lock_at: datetime,
        name: str | None = None,
        *,
        kickoffs: Mapping[str, datetime],
    ) -> ContestTerms:
        """The terms of a new contest of `template` on `pool`'s slate, locking at `lock_at`,
        with each game's scheduled `kickoffs` by game id (named `name` when given). Raises a
        DomainError for an unknown template."""


class Locator(Protocol):
    """Where a player is at the time of a join: a geolocation provider, or (adapters.location)
    the location the join's request declares, checked."""

    def locate(self, user_id: str, declared: str | None) -> Location | None:
        """The player's jurisdiction now and who said so; None when this locator has no
        answer (the platform then takes the player's registered jurisdiction). Raises
        UnknownLocation when the answer it has cannot be trusted (a declared code that is
        no US jurisdiction, a provider's verdict of spoofing)."""


class TaxIdCipher(Protocol):
    """Seals taxpayer ids for storage with a key from the settings (adapters.crypto)."""

    def seal(self, taxpayer_id: str) -> str:
        """The id encrypted and authenticated, as text; a new token each call."""

    def open(self, sealed: str) -> str:
        """The id a `seal` made with this key; InvalidConfiguration with another key or a
        token that was altered."""


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, time-zone aware (UTC)."""


class AlertSink(Protocol):
    def raise_alert(self, alert: Alert) -> None:
        """Deliver an alert nobody may miss; repeats of one `key` may be folded together."""


class AlertChannel(Protocol):
    """A way to reach a person (a webhook, PagerDuty, e-mail); `name` is its stable name."""

    @property
    def name(self) -> str: ...

    def deliver(self, notice: AlertNotice) -> None:
        """Announce one notice; returns once the receiver accepted it.

        Raises AlertDeliveryFailed (saying why) otherwise. Never retries: the outbox does.
        """


class IdSource(Protocol):
    def new_id(self, kind: str) -> str:
        """A new unique id for a `kind` of record; ids of one kind sort in creation order."""
