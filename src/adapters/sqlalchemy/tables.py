"""The schema as SQLAlchemy Core tables: what the migrations build and the repositories query.

Conventions, the same on SQLite and PostgreSQL:
  - money is a BigInteger of minor units (with a 3-letter currency where a row has one);
  - states are strings, each column CHECKed against its enum's values;
  - instants are stored in UTC and always come back time-zone aware (`UtcDateTime`);
  - identifiers (`Key`) compare byte-wise (COLLATE "C" on PostgreSQL, SQLite's default
    BINARY), so "by ascending id" means the same order in SQL as in Python;
  - every idempotency key is a PRIMARY KEY or UNIQUE constraint, never a check in code.

Keep this file and migrations/versions/* in agreement: a contract test compares them.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import TypeEngine

from adapters.sqlalchemy.records import aware
from fantasy_core.alerting import AlertChange, AlertState
from fantasy_core.audit import Outcome, Severity
from fantasy_core.entries import EntryStatus
from fantasy_core.ledger import Movement
from fantasy_core.lifecycle import ContestState
from fantasy_core.payments import PayoutStatus, RefundStatus
from fantasy_core.payout_accounts import PayoutAccountState

ENVIRONMENTS = ("test", "production")

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTime(TypeDecorator[datetime]):
    """A time-zone-aware instant, stored in UTC; naive datetimes are refused on the way in.

    SQLite has no time zones (SQLAlchemy would silently drop the offset), so the value
    is converted to naive UTC for it and marked UTC again when read back.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        utc = aware(value).astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    @property
    def python_type(self) -> type[datetime]:
        return datetime


def key_type() -> TypeEngine[str]:
    """An identifier column: text compared byte-wise on every dialect."""
    return String().with_variant(postgresql.VARCHAR(collation="C"), "postgresql")


def serial_type() -> TypeEngine[int]:
    """A 64-bit auto-incrementing key (SQLite only auto-increments INTEGER PRIMARY KEY)."""
    return BigInteger().with_variant(Integer(), "sqlite")


def one_of(column: str, values: type[enum.Enum] | tuple[str, ...], name: str) -> CheckConstraint:
    """CHECK that `column` holds one of an enum's values (or of the strings given)."""
    allowed = values if isinstance(values, tuple) else tuple(m.value for m in values)
    listed = ", ".join(f"'{v}'" for v in allowed)
    return CheckConstraint(f"{column} IN ({listed})", name=name)


def _key(name: str, *args: Any, **kwargs: Any) -> Column[str]:
    return Column(name, key_type(), *args, **kwargs)


platform_meta = Table(
    "platform_meta",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("environment", String(16), nullable=False),
    Column("labelled_at", UtcDateTime(), nullable=False),
    CheckConstraint("id = 1", name="one_row"),
    one_of("environment", ENVIRONMENTS, "environment"),
)

contests = Table(
    "contests",
    metadata,
    _key("contest_id", primary_key=True),
    Column("state", String(16), nullable=False),
    Column("terms", Text, nullable=False),  # ContestTerms.canonical() as JSON
    # Since 0020: the SHA-256 (hex) of `terms`, read in its place (decision 0066).
    Column("terms_digest", String(64), nullable=False),
    _key("slate_id", nullable=False),  # since 0019: the terms' slate, to find a slate's contests
    Column("completed_at", UtcDateTime(), nullable=True),
    Column("cancel_reason", Text, nullable=True),
    Column("version", BigInteger, nullable=False),
    # Entries holding a seat (reserved, pending action, active): kept by the adapter in
    # the transaction that adds or changes an entry, under the contest's row lock.
    Column("seats_taken", BigInteger, nullable=False, server_default="0"),
    one_of("state", ContestState, "state"),
    CheckConstraint("version >= 0", name="version"),
    # Since 0018 (state, completed_at), was (state): by state, and the latest finished
    # first for the listings that show only those (the lobby).
    Index(None, "state", "completed_at"),
    Index(None, "slate_id"),
)

entries = Table(
    "entries",
    metadata,
    _key("entry_id", primary_key=True),
    _key("contest_id", ForeignKey("contests.contest_id"), nullable=False),
    _key("user_id", nullable=False),
    _key("fingerprint", nullable=False),
    Column("lineup", Text, nullable=False),  # the picks: records.lineup_to_text
    Column("payment_method", Text, nullable=False),
    Column("fee_minor", BigInteger, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("status", String(16), nullable=False),
    _key("charge_id", nullable=True),
    Column("reason", Text, nullable=True),
    # The lineup the entry was joined with, once edited (NULL while never edited): a
    # replay of the join is compared with it. records.lineup_to_text.
    Column("joined_lineup", Text, nullable=True),
    UniqueConstraint("fingerprint"),
    UniqueConstraint("charge_id"),
    one_of("status", EntryStatus, "status"),
    Index(None, "contest_id", "entry_id"),
    Index(None, "contest_id", "status"),
    # (contest_id, user_id) until 0022: player_seats counts a player's seats in a contest.
    Index(None, "status"),
    Index(None, "user_id", "created_at"),  # since 0012: what counts against a player's limits
)

# Since 0021: the seats each player holds in each contest (its entries reserved, pending
# action or active), so that a join reads one row for a player's limit instead of counting
# the player's entries. Kept with `contests.seats_taken`, in the same statements, under the
# contest's row lock (decision 0079).
player_seats = Table(
    "player_seats",
    metadata,
    _key("contest_id", ForeignKey("contests.contest_id"), nullable=False),
    _key("user_id", nullable=False),
    Column("seats", BigInteger, nullable=False),
    PrimaryKeyConstraint("contest_id", "user_id"),
    CheckConstraint("seats >= 0", name="seats"),
)

# No foreign keys: settlement bulk-writes a contest's payouts from the entries it read in
# the same transaction, under the contest's lock; a check per row would add a third to
# the time of writing a big contest's payouts.
payouts = Table(
    "payouts",
    metadata,
    _key("fingerprint", primary_key=True),
    _key("contest_id", nullable=False),
    _key("entry_id", nullable=False),
    _key("user_id", nullable=False),
    _key("payout_id", nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(16), nullable=False),
    _key("transfer_id", nullable=True),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("retry_at", UtcDateTime(), nullable=True),
    Column("reversals", Integer, nullable=False, server_default="0"),
    # Since 0017: the backup withholding decided before the first send; NULL: not yet.
    Column("withheld_minor", BigInteger, nullable=True),
    UniqueConstraint("transfer_id"),
    one_of("status", PayoutStatus, "status"),
    Index(None, "contest_id", "entry_id"),
    Index(None, "user_id"),  # since 0013: a player's big prizes (the fair-play tier)
    # Only payouts reversed at least once (few): the worker reads them on every pass.
    Index(
        "ix_payouts_reopened",
        "fingerprint",
        postgresql_where=text("reversals > 0"),
        sqlite_where=text("reversals > 0"),
    ),
)

refunds = Table(
    "refunds",
    metadata,
    _key("key", primary_key=True),
    _key("contest_id", ForeignKey("contests.contest_id"), nullable=False),
    _key("entry_id", ForeignKey("entries.entry_id"), nullable=False),
    _key("charge_id", nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("status", String(16), nullable=False),
    _key("refund_id", nullable=True),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text, nullable=True),
    one_of("status", RefundStatus, "status"),
    Index(None, "status", "created_at"),
    Index(None, "contest_id", "entry_id"),
)

posting_sets = Table(
    "posting_sets",
    metadata,
    Column("id", serial_type(), primary_key=True, autoincrement=True),
    _key("key", nullable=False),
    _key("contest_id", nullable=False),
    Column("movement", String(32), nullable=False),
    UniqueConstraint("key"),
    one_of("movement", Movement, "movement"),
    Index(None, "contest_id"),
)

postings = Table(
    "postings",
    metadata,
    Column("set_id", serial_type(), ForeignKey("posting_sets.id"), nullable=False),
    Column("position", Integer, nullable=False),
    _key("account", nullable=False),
    Column("amount_minor", BigInteger, nullable=False),  # debit positive, credit negative
    Column("currency", String(3), nullable=False),
    PrimaryKeyConstraint("set_id", "position"),
    CheckConstraint("amount_minor <> 0", name="moves_money"),
)

audit = Table(
    "audit",
    metadata,
    Column("id", serial_type(), primary_key=True, autoincrement=True),
    Column("at", UtcDateTime(), nullable=False),
    _key("actor", nullable=False),
    _key("action", nullable=False),
    _key("contest_id", nullable=True),
    Column("subject", Text, nullable=True),
    Column("outcome", String(16), nullable=False),
    Column("detail", Text, nullable=False),
    one_of("outcome", Outcome, "outcome"),
    Index(None, "contest_id"),
    Index(None, "actor"),
)

stat_snapshots = Table(
    "stat_snapshots",
    metadata,
    _key("slate_id", nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("document", Text, nullable=False),  # FeedSnapshot.canonical_bytes(), ASCII JSON
    Column("sha256", String(80), nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("slate_id", "version"),
)

stat_rejections = Table(
    "stat_rejections",
    metadata,
    _key("slate_id", nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("sha256", String(80), nullable=False),
    Column("rejected_at", UtcDateTime(), nullable=False),
    # The refused data's canonical form (null for rejections recorded before 0004).
    Column("document", Text, nullable=True),
    PrimaryKeyConstraint("slate_id", "version", "sha256"),
)

stat_corrections = Table(
    "stat_corrections",
    metadata,
    Column("id", serial_type(), primary_key=True, autoincrement=True),
    _key("slate_id", nullable=False),
    _key("player_id", nullable=False),
    _key("stat", nullable=False),
    Column("value_text", Text, nullable=False),
    Column("reason", Text, nullable=False),
    _key("actor", nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Index(None, "slate_id"),
)

# The provider's corrections of final games' stats, as ingestion found them (since 0005).
stat_provider_changes = Table(
    "stat_provider_changes",
    metadata,
    Column("id", serial_type(), primary_key=True, autoincrement=True),
    _key("slate_id", nullable=False),
    _key("player_id", nullable=False),
    _key("game_id", nullable=False),
    _key("stat", nullable=False),
    Column("old_text", Text, nullable=False),  # exact decimals: format_points
    Column("new_text", Text, nullable=False),
    Column("from_version", BigInteger, nullable=False),
    Column("to_version", BigInteger, nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Index(None, "slate_id"),
)

settlements = Table(
    "settlements",
    metadata,
    _key("contest_id", ForeignKey("contests.contest_id"), primary_key=True),
    Column("document", LargeBinary, nullable=False),
    Column("sha256", String(80), nullable=False),
)

payout_accounts = Table(
    "payout_accounts",
    metadata,
    _key("user_id", primary_key=True),
    _key("account_id", nullable=True),
    Column("payouts_enabled", Boolean, nullable=False),
    Column("state", String(16), nullable=False, server_default="enabled"),
    # The gateway's requirements, sorted, one per line ("" for none).
    Column("requirements", Text, nullable=False, server_default=""),
    Column("disabled_reason", Text, nullable=True),
    one_of("state", PayoutAccountState, "state"),
    Index(None, "account_id"),
)

processed_events = Table(
    "processed_events",
    metadata,
    _key("event_id", primary_key=True),
)

# Who may log in to the apps (players and operators); the core knows users by id only.
user_accounts = Table(
    "user_accounts",
    metadata,
    _key("user_id", primary_key=True),
    Column("email", String(254), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("role", String(16), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    # Since 0007: what other players see (NULL: registered before, a name is derived),
    # and the generation of the account's valid tokens (a password change moves it on).
    Column("display_name", String(100), nullable=True),
    Column("token_generation", BigInteger, nullable=False, server_default="0"),
    UniqueConstraint("email"),
    one_of("role", ("player", "operator"), "role"),
    CheckConstraint("token_generation >= 0", name="token_generation"),
)

# Tokens logged out before they expired (since 0008): refused until `expires_at`, then
# forgotten (a token past its expiry is refused anyway).
revoked_tokens = Table(
    "revoked_tokens",
    metadata,
    _key("token_id", primary_key=True),
    _key("user_id", nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Index(None, "expires_at"),
)

# The current incident of every alert key (since 0006); earlier ones are in the audit trail.
alerts = Table(
    "alerts",
    metadata,
    _key("key", primary_key=True),
    Column("incident", Integer, nullable=False),
    Column("severity", String(16), nullable=False),
    Column("message", Text, nullable=False),
    _key("contest_id", nullable=True),
    Column("sightings", BigInteger, nullable=False),
    Column("first_at", UtcDateTime(), nullable=False),
    Column("last_at", UtcDateTime(), nullable=False),
    Column("state", String(16), nullable=False),
    _key("acknowledged_by", nullable=True),
    Column("acknowledged_at", UtcDateTime(), nullable=True),
    _key("resolved_by", nullable=True),
    Column("resolved_at", UtcDateTime(), nullable=True),
    one_of("severity", Severity, "severity"),
    one_of("state", AlertState, "state"),
    CheckConstraint("incident >= 1", name="incident"),
    CheckConstraint("sightings >= 1", name="sightings"),
    Index(None, "state"),
)

# The alert outbox: each change of an alert, to announce once per channel (since 0009).
alert_notices = Table(
    "alert_notices",
    metadata,
    _key("notice_id", primary_key=True),  # key#incident/change/channel
    _key("channel", nullable=False),
    _key("key", nullable=False),
    Column("incident", Integer, nullable=False),
    Column("change", String(16), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("summary", Text, nullable=False),
    _key("contest_id", nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("next_attempt_at", UtcDateTime(), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("first_failure_at", UtcDateTime(), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("delivered_at", UtcDateTime(), nullable=True),
    one_of("change", AlertChange, "change"),
    one_of("severity", Severity, "severity"),
    CheckConstraint("attempts >= 0", name="attempts"),
    Index(None, "delivered_at", "next_attempt_at"),
    Index(None, "key"),
)

# Each running worker's last completed pass, its heartbeat (since 0010).
worker_passes = Table(
    "worker_passes",
    metadata,
    _key("worker_id", primary_key=True),
    Column("completed_at", UtcDateTime(), nullable=False),
)

# Each player's protection record (since 0012): fantasy_core.protection.players.
player_profiles = Table(
    "player_profiles",
    metadata,
    _key("user_id", primary_key=True),
    Column("date_of_birth", Date, nullable=False),
    Column("jurisdiction", String(2), nullable=False),
    _key("identity_key", nullable=False),
    Column("registered_at", UtcDateTime(), nullable=False),
    Column("limits", Text, nullable=False),  # records.limits_to_text
    Column("restriction_kind", String(16), nullable=True),
    Column("restriction_since", UtcDateTime(), nullable=True),
    Column("restriction_until", UtcDateTime(), nullable=True),  # NULL with a kind: permanent
    Column("highly_experienced_since", UtcDateTime(), nullable=True),
    UniqueConstraint("identity_key"),
    one_of("restriction_kind", ("cool_off", "self_exclusion"), "restriction_kind"),
)

# Which calendar key opened which contest (since 0014): the key (slate/line/sequence) is
# the primary key, so each calendar contest opens once however many workers try.
calendar_contests = Table(
    "calendar_contests",
    metadata,
    _key("calendar_key", primary_key=True),
    _key("slate_id", nullable=False),
    _key("line", nullable=False),
    Column("sequence", Integer, nullable=False),
    _key("contest_id", ForeignKey("contests.contest_id"), nullable=False),
    Column("opened_at", UtcDateTime(), nullable=False),
    UniqueConstraint("contest_id"),
    CheckConstraint("sequence >= 1", name="sequence"),
    Index(None, "slate_id"),
)

# The calendar lines an operator paused (since 0014): one row per paused line.
calendar_pauses = Table(
    "calendar_pauses",
    metadata,
    _key("line", primary_key=True),
)

# Players' W-9s (since 0015): the taxpayer id only sealed (adapters.crypto), never in clear.
tax_details = Table(
    "tax_details",
    metadata,
    _key("user_id", primary_key=True),
    Column("legal_name", String(200), nullable=False),
    Column("address", String(200), nullable=False),
    Column("taxpayer_id_sealed", Text, nullable=False),
    Column("taxpayer_id_last4", String(4), nullable=False),
    Column("submitted_at", UtcDateTime(), nullable=False),
)

# Rows a reset for tests may empty; platform_meta (the label) and alembic_version stay.
DATA_TABLES = (
    tax_details,
    player_profiles,
    calendar_pauses,
    calendar_contests,
    worker_passes,
    alert_notices,
    revoked_tokens,
    alerts,
    user_accounts,
    processed_events,
    payout_accounts,
    settlements,
    stat_provider_changes,
    stat_corrections,
    stat_rejections,
    stat_snapshots,
    audit,
    postings,
    posting_sets,
    refunds,
    payouts,
    player_seats,
    entries,
    contests,
)
