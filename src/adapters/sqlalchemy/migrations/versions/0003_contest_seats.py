"""A seat counter on each contest row, so that a join does not count the contest's entries.

Revision ID: 0003
Revises: 0002
Create Date: 2025-11-25

`contests.seats_taken` is the number of the contest's entries holding a seat (reserved,
pending action or active). The adapter keeps it in the same transaction as every entry
it adds or changes, under the contest's row lock; existing contests are counted here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SEAT_HOLDING = ("reserved", "pending_action", "active")


def upgrade() -> None:
    op.add_column(
        "contests",
        sa.Column("seats_taken", sa.BigInteger(), nullable=False, server_default="0"),
    )
    listed = ", ".join(f"'{status}'" for status in SEAT_HOLDING)
    op.execute(
        "UPDATE contests SET seats_taken = (SELECT count(*) FROM entries "
        "WHERE entries.contest_id = contests.contest_id "
        f"AND entries.status IN ({listed}))"
    )


def downgrade() -> None:
    op.drop_column("contests", "seats_taken")
