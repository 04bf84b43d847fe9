"""The alert outbox: each change of an alert, to be announced once on each channel.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03

`alert_notices` has one row per (alert incident, change, channel), written in the
transaction that changes the alert; the worker delivers it, retrying with backoff,
and records when it was delivered. Its id is the primary key: a change can never be
queued twice for one channel.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _key() -> sa.types.TypeEngine[str]:
    return sa.String().with_variant(postgresql.VARCHAR(collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "alert_notices",
        sa.Column("notice_id", _key(), nullable=False),
        sa.Column("channel", _key(), nullable=False),
        sa.Column("key", _key(), nullable=False),
        sa.Column("incident", sa.Integer(), nullable=False),
        sa.Column("change", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("contest_id", _key(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("first_failure_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "change IN ('opened', 'acknowledged', 'resolved')", name="ck_alert_notices_change"
        ),
        sa.CheckConstraint("severity IN ('warning', 'critical')", name="ck_alert_notices_severity"),
        sa.CheckConstraint("attempts >= 0", name="ck_alert_notices_attempts"),
        sa.PrimaryKeyConstraint("notice_id", name="pk_alert_notices"),
    )
    op.create_index(
        "ix_alert_notices_delivered_at_next_attempt_at",
        "alert_notices",
        ["delivered_at", "next_attempt_at"],
    )
    op.create_index("ix_alert_notices_key", "alert_notices", ["key"])


def downgrade() -> None:
    op.drop_index("ix_alert_notices_key", table_name="alert_notices")
    op.drop_index("ix_alert_notices_delivered_at_next_attempt_at", table_name="alert_notices")
    op.drop_table("alert_notices")
