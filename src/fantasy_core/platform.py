"""The dependencies every use case receives: one small context object, wired by `bootstrap()`."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import timedelta

from attrs import field, frozen

from fantasy_core.audit import Alert, AuditRecord, Outcome, Severity
from fantasy_core.calendar import Calendar
from fantasy_core.outbox import DeliveryPolicy
from fantasy_core.ports import (
    AlertChannel,
    AlertSink,
    Clock,
    ContestCatalogue,
    IdSource,
    Locator,
    PaymentGateway,
    StatsFeed,
    TaxIdCipher,
    UnitOfWork,
)
from fantasy_core.protection.rules import JurisdictionRules
from fantasy_core.snapshot import ScoringMemo
from fantasy_core.usecases.alerts import raise_alert


@frozen
class RetryPolicy:
    """How failed payouts and refunds are retried: exponential backoff, capped."""

    first_delay: timedelta = timedelta(minutes=1)
    max_delay: timedelta = timedelta(hours=1)
    alert_after_attempts: int = 3

    def delay(self, attempts: int) -> timedelta:
        exponent = max(0, min(attempts - 1, 20))
        return min(self.first_delay * (1 << exponent), self.max_delay)


@frozen
class Protection:
    """Player protection as configured: the rules' values and where players are."""

    rules: JurisdictionRules
    locator: Locator
    # Seals W-9 taxpayer ids (None: the platform takes no tax details).
    tax_ids: TaxIdCipher | None = None


@frozen
class Platform:
    """The ports a use case may use. Nothing in the core reads globals or the environment."""

    uow: Callable[[], UnitOfWork]
    gateway: PaymentGateway
    feed: StatsFeed
    clock: Clock
    alerts: AlertSink
    ids: IdSource
    retry: RetryPolicy = RetryPolicy()
    # Payouts execute_payouts sends side by side (the gateway paces its requests).
    payout_senders: int = 1
    # Charges of one join batch join_many sends side by side (the gateway paces them).
    charge_senders: int = 1
    # How a step that builds a great many objects at once runs (settling a million entries):
    # bootstrap pauses Python's cyclic garbage collector for it; by default it runs as is.
    bulk: Callable[[], AbstractContextManager[None]] = nullcontext
    # Where alerts are announced: each change of an alert is queued once for each.
    channels: tuple[AlertChannel, ...] = ()
    delivery: DeliveryPolicy = field(factory=DeliveryPolicy)
    # The contests the worker opens by itself (usecases/calendar.py), from the templates of
    # `catalogue`; no lines (the default): it opens none.
    calendar: Calendar = field(factory=Calendar)
    catalogue: ContestCatalogue | None = None
    # What settled contests scored with, by snapshot digest (explanations read it).
    settled_scoring: ScoringMemo = field(factory=ScoringMemo, eq=False, repr=False)
    # Units of work that only read (None: `uow`'s): a store may serve them more cheaply
    # (SQLite: without taking the database's one write lock). See `reading`.
    reads: Callable[[], UnitOfWork] | None = None
    # Player protection (age, jurisdiction, limits, breaks from play) on every paid join.
    # The apps always set it (bootstrap); None is a platform embedded without players'
    # records (the core's own tests of other rules), where joins check none of it.
    protection: Protection | None = None

    def reading(self) -> UnitOfWork:
        """A unit of work for reading alone: it never commits. On SQLite it takes no write
        lock, so readers neither queue behind each other nor behind a writer's lock."""
        return (self.reads or self.uow)()

    def audit(
        self,
        uow: UnitOfWork,
        action: str,
        *,
        contest_id: str | None = None,
        subject: str | None = None,
        actor: str = "system",
        ok: bool = True,
        detail: str = "",
    ) -> None:
        uow.audit.append(
            AuditRecord(
                at=self.clock.now(),
                actor=actor,
                action=action,
                contest_id=contest_id,
                subject=subject,
                outcome=Outcome.SUCCESS if ok else Outcome.FAILURE,
                detail=detail,
            )
        )

    def alert(
        self, key: str, message: str, *, contest_id: str | None = None, critical: bool = False
    ) -> None:
        """Raise an alert: stored (shared by every process, counted, announced once per
        change of state) in a unit of work of its own, and passed to the `alerts` sink."""
        alert = Alert(
            key=key,
            severity=Severity.CRITICAL if critical else Severity.WARNING,
            at=self.clock.now(),
            contest_id=contest_id,
            message=message,
        )
        # The sink first: a log line says it even when the store cannot be reached.
        self.alerts.raise_alert(alert)
        raise_alert(self, alert)
