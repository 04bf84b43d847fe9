"""Payouts read by player: the fair-play tier counts a player's prizes of $1,000 or more.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_payouts_user_id", "payouts", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_payouts_user_id", table_name="payouts")
