"""Each worker's last completed pass, so that a silent worker is seen by the others and the API.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

`worker_passes` has one row per running worker (its id, the time its last pass
completed); a worker stopping cleanly removes its row.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "worker_passes",
        sa.Column(
            "worker_id",
            sa.String().with_variant(postgresql.VARCHAR(collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("worker_id", name="pk_worker_passes"),
    )


def downgrade() -> None:
    op.drop_table("worker_passes")
