"""Store alerts, so that every process of the platform shares them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03

`alerts` holds the current incident of every alert key: how often it was seen, first
and last, who acknowledged or resolved it and when. Alerts raised before this
revision were kept in one process's memory and are not carried over.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _key() -> sa.types.TypeEngine[str]:
    return sa.String().with_variant(postgresql.VARCHAR(collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("key", _key(), nullable=False),
        sa.Column("incident", sa.Integer(), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("contest_id", _key(), nullable=True),
        sa.Column("sightings", sa.BigInteger(), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("acknowledged_by", _key(), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", _key(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("severity IN ('warning', 'critical')", name="ck_alerts_severity"),
        sa.CheckConstraint("state IN ('open', 'acknowledged', 'resolved')", name="ck_alerts_state"),
        sa.CheckConstraint("incident >= 1", name="ck_alerts_incident"),
        sa.CheckConstraint("sightings >= 1", name="ck_alerts_sightings"),
        sa.PrimaryKeyConstraint("key", name="pk_alerts"),
    )
    op.create_index("ix_alerts_state", "alerts", ["state"])


def downgrade() -> None:
    op.drop_index("ix_alerts_state", table_name="alerts")
    op.drop_table("alerts")
