"""Campaign: Stripe webhooks duplicated, reordered, hours late, forged and replayed, over HTTP.

Players join a contest with cards that need 3-D Secure; Stripe's verdicts arrive
as signed events at the API's webhook route (the real Litestar app, on SQLite):
succeeded, failed, failed-then-succeeded (a second try), confirmed before lock but
delivered hours after it, confirmed only after lock; refunds of withdrawn entries;
after payment, reversed transfers and a connected account losing its payouts.
Every valid event is delivered one to three times, in shuffled order, interleaved
with invalid deliveries: a wrong secret, a tampered body, no signature, a timestamp
an hour old or an hour ahead, a captured delivery replayed after the tolerance, a
signed body that is not an event.

Checked: each valid event is audited once and reported applied at most once
(duplicates answer 200, applied false); every invalid delivery is refused with a
4xx and leaves a warning in the log; nothing invalid is applied; every succeeded
charge ends an active entry or refunded in full (on the sandbox's books); reversed
payouts are REVERSED with one ledger reversal each; the ledger verifies.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from attrs import define, field, frozen
from litestar.testing import TestClient

from adapters.sqlalchemy import upgrade
from apps.api.app import create_app
from apps.bootstrap import services_for
from apps.settings import Settings
from fantasy_core.contest import Contest
from fantasy_core.entries import EntryStatus, join_fingerprint
from fantasy_core.lifecycle import ContestState
from fantasy_core.payments import ChargeStatus, PayoutStatus
from fantasy_core.usecases.joining import withdraw
from fantasy_core.usecases.reports import verify_ledger
from support.campaign import CampaignReport
from support.protection import register_on
from support.sql_world import SqlWorld
from support.world import LOCK

SECRET = "whsec_reliability_campaign"
THREE_D_SECURE = "pm_card_authenticationRequired"
IGNORED = frozenset({"evt_ignored"})
GROUPS = ("succeeded", "failed", "failed_then_succeeded", "late_confirmed", "after_lock")
INVALID = (
    "forged (wrong secret)",
    "tampered body",
    "no signature",
    "signed an hour ago",
    "signed an hour ahead",
    "replayed after the tolerance",
    "signed body that is not an event",
    "signed body that is not JSON",
)


@frozen
class WebhooksConfig:
    per_group: int = 3
    max_copies: int = 3
    invalid_per_phase: int = 8
    seed: int = 2025


@frozen
class Event:
    event_id: str
    payload: bytes
    target: str  # what it names (a charge, a transfer, an account)


@define
class Deliveries:
    """Everything sent to the route, and what came back."""

    applied: Counter[str] = field(factory=Counter)
    sent: Counter[str] = field(factory=Counter)
    refused: Counter[str] = field(factory=Counter)
    silent_refusals: list[str] = field(factory=list)


class _Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def captured_warnings() -> Iterator[_Captured]:
    handler = _Captured()
    logger = logging.getLogger("fantasy")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def sign(payload: bytes, secret: str = SECRET, at: float | None = None) -> str:
    stamp = int(time.time() if at is None else at)
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256)
    return f"t={stamp},v1={mac.hexdigest()}"


def stripe_event(event_id: str, kind: str, obj: dict[str, Any], hours_late: float = 0.0) -> Event:
    """A Stripe event as its webhook body; `hours_late`: created that long before delivery."""
    body = {
        "id": event_id,
        "object": "event",
        "api_version": "2026-09-30",
        "type": kind,
        "created": int(time.time() - hours_late * 3600),
        "data": {"object": obj},
        "livemode": False,
    }
    return Event(event_id, json.dumps(body).encode(), str(obj.get("id")))


class Campaign:
    def __init__(self, config: WebhooksConfig, workdir: Path, report: CampaignReport) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.report = report
        url = f"sqlite:///{workdir / 'webhooks.db'}"
        upgrade(url, "test")
        self.world = SqlWorld(url)
        settings = Settings(environment="test", database_url=url, stripe_webhook_secret=SECRET)
        services = services_for(settings, self.world.p)
        self.world.p = services.platform
        self.app = create_app(settings, services=services)
        self.deliveries = Deliveries()
        self.valid: dict[str, Event] = {}
        self.groups: dict[str, list[str]] = {}  # group -> entry ids

    # ---- delivering ---------------------------------------------------------------

    def deliver(self, client: TestClient[Any], events: list[Event], log: _Captured) -> None:
        """Each event one to `max_copies` times, all shuffled, invalid deliveries mixed in."""
        sends: list[tuple[str, bytes, str, str | None]] = []
        for event in events:
            self.valid[event.event_id] = event
            for _ in range(self.rng.randint(1, self.config.max_copies)):
                sends.append(("valid", event.payload, sign(event.payload), event.event_id))
        for n in range(self.config.invalid_per_phase):
            kind = INVALID[n % len(INVALID)]
            sends.append((kind, *self._invalid(kind, events), None))
        self.rng.shuffle(sends)
        for kind, payload, signature, event_id in sends:
            self._post(client, kind, payload, signature, event_id, log)

    def _invalid(self, kind: str, events: list[Event]) -> tuple[bytes, str]:
        victim = self.rng.choice(events).payload if events else b'{"object": "event"}'
        now = time.time()
        if kind == "forged (wrong secret)":
            return victim, sign(victim, secret="whsec_someone_else")
        if kind == "tampered body":
            return victim.replace(b'"livemode": false', b'"livemode": true'), sign(victim)
        if kind == "no signature":
            return victim, ""
        if kind == "signed an hour ago":
            return victim, sign(victim, at=now - 3600)
        if kind == "signed an hour ahead":
            return victim, sign(victim, at=now + 3600)
        if kind == "replayed after the tolerance":
            # A delivery captured earlier, sent again as it was: its stamp is now too old.
            return victim, sign(victim, at=now - 301)
        if kind == "signed body that is not an event":
            body = json.dumps({"id": "cus_1", "object": "customer"}).encode()
            return body, sign(body)
        body = b"\xff\xfe not json"
        return body, sign(body)

    def _post(
        self,
        client: TestClient[Any],
        kind: str,
        payload: bytes,
        signature: str,
        event_id: str | None,
        log: _Captured,
    ) -> None:
        headers = {"Content-Type": "application/json"}
        if signature:
            headers["Stripe-Signature"] = signature
        warnings_before = len(log.records)
        response = client.post("/webhooks/stripe", content=payload, headers=headers)
        if kind == "valid":
            assert event_id is not None
            self.deliveries.sent[event_id] += 1
            self.report.check(
                response.status_code == 200,
                f"valid {event_id}: {response.status_code} {response.text[:200]}",
            )
            if response.status_code == 200 and response.json()["applied"]:
                self.deliveries.applied[event_id] += 1
            return
        self.report.fault(f"invalid webhook: {kind}")
        self.deliveries.refused[kind] += 1
        self.report.check(
            400 <= response.status_code < 500,
            f"invalid ({kind}) answered {response.status_code}: {response.text[:200]}",
        )
        if len(log.records) == warnings_before:
            self.deliveries.silent_refusals.append(kind)

    # ---- the story ----------------------------------------------------------------

    def setup(self) -> Contest:
        world = self.world
        n = self.config.per_group
        contest = world.create(capacity=8 * n, min_entries=2)
        for group in GROUPS:
            self.groups[group] = []
            for i in range(n):
                user = f"{group}-{i}"
                register_on(world.p, user)
                world.give_account(user)
                result = world.join(contest, user, key=user, variant=i, card=THREE_D_SECURE)
                self.report.check(
                    result.status is EntryStatus.PENDING_ACTION, f"{user}: {result.status}"
                )
                self.groups[group].append(result.entry_id)
        for group in ("paid", "withdrawn"):
            self.groups[group] = []
            for i in range(n):
                user = f"{group}-{i}"
                register_on(world.p, user)
                world.give_account(user)
                result = world.join(contest, user, key=user, variant=i)
                self.groups[group].append(result.entry_id)
        return contest

    def charge_id(self, contest: Contest, user: str) -> str:
        charge = self.world.gateway.charges[join_fingerprint(contest.contest_id, user, user)]
        return charge.charge_id

    def complete(self, contest: Contest, user: str, succeeded: bool) -> None:
        """The player finishes 3-D Secure on the bank's page (the sandbox's state)."""
        key = join_fingerprint(contest.contest_id, user, user)
        self.world.gateway.complete_action(key, succeeded, f"ignored-{user}")

    def before_lock_events(self, contest: Contest) -> list[Event]:
        events: list[Event] = []
        n = self.config.per_group
        for i in range(n):
            ok = f"succeeded-{i}"
            self.complete(contest, ok, succeeded=True)
            events.append(self._intent(f"evt_ok_{i}", "succeeded", self.charge_id(contest, ok)))
            bad = f"failed-{i}"
            self.complete(contest, bad, succeeded=False)
            events.append(self._intent(f"evt_ko_{i}", "failed", self.charge_id(contest, bad)))
            both = f"failed_then_succeeded-{i}"
            self.complete(contest, both, succeeded=True)
            charge = self.charge_id(contest, both)
            events.append(self._intent(f"evt_retry_ko_{i}", "failed", charge))
            events.append(self._intent(f"evt_retry_ok_{i}", "succeeded", charge))
            # Confirmed now, but its event arrives only hours later (after lock).
            self.complete(contest, f"late_confirmed-{i}", succeeded=True)
            withdrawn = f"withdrawn-{i}"
            entry_id = self.groups["withdrawn"][i]
            withdraw(self.world.p, contest.contest_id, entry_id, withdrawn)
            events.append(
                stripe_event(
                    f"evt_refunded_{i}",
                    "charge.refunded",
                    {
                        "id": f"ch_{i}",
                        "object": "charge",
                        "payment_intent": self.charge_id(contest, withdrawn),
                        "amount_refunded": 1_000,
                    },
                )
            )
        return events

    def after_lock_events(self, contest: Contest) -> list[Event]:
        events: list[Event] = []
        for i in range(self.config.per_group):
            late = self.charge_id(contest, f"late_confirmed-{i}")
            events.append(self._intent(f"evt_late_{i}", "succeeded", late, hours_late=5))
            after = f"after_lock-{i}"
            self.complete(contest, after, succeeded=True)
            charge = self.charge_id(contest, after)
            events.append(self._intent(f"evt_after_{i}", "succeeded", charge, hours_late=2))
        return events

    def after_payment_events(self, contest: Contest) -> tuple[list[Event], set[str]]:
        with self.world.p.uow() as uow:
            payouts = uow.payouts.for_contest(contest.contest_id)
        reversed_ = self.rng.sample(payouts, min(len(payouts), self.config.per_group))
        events = [
            stripe_event(
                f"evt_reversed_{n}",
                "transfer.reversed",
                {
                    "id": payout.transfer_id,
                    "object": "transfer",
                    "amount": payout.transfer_minor,
                    "amount_reversed": payout.transfer_minor,
                },
                hours_late=1,
            )
            for n, payout in enumerate(reversed_)
        ]
        # What Stripe says of the account when the platform reads it on this event.
        self.world.gateway.disabled_accounts.add("acct_paid-0")
        events.append(
            stripe_event(
                "evt_account_disabled",
                "account.updated",
                {
                    "id": "acct_paid-0",
                    "object": "account",
                    "payouts_enabled": False,
                    "requirements": {"disabled_reason": "rejected.fraud"},
                },
            )
        )
        events.append(stripe_event("evt_ignored", "customer.created", {"id": "cus_9"}))
        return events, {p.fingerprint for p in reversed_}

    def _intent(self, event_id: str, outcome: str, charge: str, hours_late: float = 0) -> Event:
        kind = (
            "payment_intent.succeeded"
            if outcome == "succeeded"
            else ("payment_intent.payment_failed")
        )
        obj: dict[str, Any] = {"id": charge, "object": "payment_intent"}
        if outcome != "succeeded":
            obj["last_payment_error"] = {"message": "3-D Secure authentication failed"}
        return stripe_event(event_id, kind, obj, hours_late)


def run_campaign(config: WebhooksConfig, workdir: Path, mode: str = "short") -> CampaignReport:
    report = CampaignReport("webhooks", "Webhooks", mode=mode)
    report.checked = [
        "each valid event audited exactly once, reported applied at most once",
        "every invalid delivery answered 4xx and logged as a warning",
        "every succeeded charge ends an active entry or refunded in full (sandbox books)",
        "3-D Secure confirmed after lock (or its event hours late): refunded, not entered",
        "reversed transfers: payout REVERSED, one ledger reversal each, alerted; the books "
        "balance and show exactly the reversed prizes as owed",
    ]
    started = time.monotonic()
    campaign = Campaign(config, workdir, report)
    world = campaign.world
    try:
        with captured_warnings() as log, TestClient(campaign.app) as client:
            contest = campaign.setup()
            campaign.deliver(client, campaign.before_lock_events(contest), log)
            world.clock.set(LOCK)
            world.run()  # locks; resolves the reservations left waiting
            campaign.deliver(client, campaign.after_lock_events(contest), log)
            world.play_games()
            report.check(
                world.state(contest) == ContestState.PAID.value,
                f"the contest is {world.state(contest)}, not PAID",
            )
            events, reversed_ = campaign.after_payment_events(contest)
            # Stripe redelivers old events too: everything once more, shuffled.
            campaign.deliver(client, events + list(campaign.valid.values()), log)
            _check(campaign, contest, reversed_)
    finally:
        world.close()
    report.runs = 1
    report.seconds = round(time.monotonic() - started, 1)
    d = campaign.deliveries
    report.figures["valid events"] = len(campaign.valid)
    report.figures["valid deliveries"] = sum(d.sent.values())
    report.figures["events applied"] = sum(d.applied.values())
    report.figures["invalid deliveries refused"] = sum(d.refused.values())
    report.figures["invalid deliveries not logged"] = len(d.silent_refusals)
    report.summary = (
        f"{len(campaign.valid)} events in {sum(d.sent.values())} deliveries (duplicated, "
        f"shuffled, up to 5 h late): each audited once, {sum(d.applied.values())} applied, "
        f"0 applied twice; {sum(d.refused.values())} forged/stale/malformed deliveries "
        f"refused with 4xx and logged"
    )
    return report


def _check(campaign: Campaign, contest: Contest, reversed_: set[str]) -> None:
    report = campaign.report
    world = campaign.world
    d = campaign.deliveries
    cid = contest.contest_id
    for event_id in campaign.valid:
        report.check(d.applied[event_id] <= 1, f"{event_id} applied {d.applied[event_id]} times")
    for kind in d.silent_refusals:
        report.problems.append(f"an invalid delivery ({kind}) was refused without a log record")
    with world.p.uow() as uow:
        audited = Counter(
            r.detail.split(":")[0].removeprefix("event ")
            for r in uow.audit.for_actor("system")
            if r.action.startswith("payment_event.")
        )
        entries = {e.entry_id: e for e in uow.entries.for_contest(cid)}
        payouts = {p.fingerprint: p for p in uow.payouts.for_contest(cid)}
        ledger_keys = Counter(s.key for s in uow.ledger.for_contest(cid))
        refunds = {r.entry_id: r for r in uow.refunds.for_contest(cid)}
    for event_id in campaign.valid:
        n = audited[event_id]
        expected = 0 if event_id in IGNORED else 1  # a type we do not handle: acknowledged
        report.check(n == expected, f"{event_id} audited {n} times")
    _expect(report, entries, campaign.groups["succeeded"], {EntryStatus.ACTIVE})
    _expect(report, entries, campaign.groups["failed"], {EntryStatus.DECLINED})
    _expect(
        report,
        entries,
        campaign.groups["failed_then_succeeded"],
        {EntryStatus.ACTIVE, EntryStatus.REFUNDED},
    )
    _expect(report, entries, campaign.groups["late_confirmed"], {EntryStatus.REFUNDED})
    _expect(report, entries, campaign.groups["after_lock"], {EntryStatus.REFUNDED})
    _expect(report, entries, campaign.groups["withdrawn"], {EntryStatus.WITHDRAWN})
    # Every charge that succeeded is an active entry, or was refunded in full.
    for charge in world.gateway.charges.values():
        if charge.status is not ChargeStatus.SUCCEEDED:
            continue
        entry = next(e for e in entries.values() if e.fingerprint == charge.key)
        settled = entry.status is EntryStatus.ACTIVE or charge.refunded == charge.amount.minor
        report.check(
            settled,
            f"charge {charge.charge_id}: entry {entry.status}, refunded "
            f"{charge.refunded} of {charge.amount.minor}",
        )
        if entry.status is not EntryStatus.ACTIVE:
            report.check(entry.entry_id in refunds, f"{entry.entry_id}: no refund record")
    for fingerprint, payout in payouts.items():
        if fingerprint in reversed_:
            report.check(payout.status is PayoutStatus.REVERSED, f"{fingerprint}: {payout.status}")
            report.check(
                ledger_keys["reversed:" + fingerprint] == 1,
                f"{fingerprint}: {ledger_keys['reversed:' + fingerprint]} ledger reversals",
            )
        else:
            report.check(payout.status is PayoutStatus.CONFIRMED, f"{fingerprint}: {payout.status}")
    # A reversed transfer leaves its prize owed again: the contest's books show exactly
    # that much unpaid (and a critical alert asks a person to act); all else balances.
    ledger = verify_ledger(world.p)
    report.check(not ledger.unbalanced, f"unbalanced posting sets: {ledger.unbalanced}")
    owed = sum(payouts[f].transfer_minor for f in reversed_)  # what the transfers carried
    for books in ledger.closed_contests:
        report.check(
            books.owed == owed
            and books.collected + books.overlay
            == books.paid_out + books.withheld + owed + books.rake + books.refunded,
            f"{books.contest_id}: {books.describe()} (reversed {owed})",
        )
    alerts = {a.key for a in world.alerts.alerts}
    for fingerprint in reversed_:
        report.check(f"payout-reversed-{fingerprint}" in alerts, f"{fingerprint}: no alert")
    report.figures["entries refunded after a late confirmation"] = sum(
        1
        for group in ("late_confirmed", "after_lock")
        for e in campaign.groups[group]
        if entries[e].status is EntryStatus.REFUNDED
    )
    report.figures["payouts reversed by webhook"] = len(reversed_)


def _expect(
    report: CampaignReport,
    entries: dict[str, Any],
    ids: list[str],
    allowed: set[EntryStatus],
) -> None:
    for entry_id in ids:
        status = entries[entry_id].status
        report.check(status in allowed, f"{entry_id} is {status.value}, expected {allowed}")
