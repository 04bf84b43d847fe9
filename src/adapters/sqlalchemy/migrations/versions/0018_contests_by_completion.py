"""Contests by state and completion: the latest finished read without every contest.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03

The web lobby lists the contests finished most recently; before this it read every
contest the platform ever ran, once a second. The index on (state) becomes one on
(state, completed_at): it still serves every read by state, and the latest finished of a
state are its last entries.
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_contests_state_completed_at", "contests", ["state", "completed_at"])
    op.drop_index("ix_contests_state", table_name="contests")


def downgrade() -> None:
    op.create_index("ix_contests_state", "contests", ["state"])
    op.drop_index("ix_contests_state_completed_at", table_name="contests")
