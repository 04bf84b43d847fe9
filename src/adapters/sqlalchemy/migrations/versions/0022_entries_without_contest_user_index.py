"""Entries lose their (contest, user) index: each player's seats are counted in `player_seats`.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05

The index served one read, the count of a player's seats in a contest, which migration
0021's counters replaced (decision 0079); nothing else reads entries by contest and
player. Each entry written, and each version a record writes, no longer adds to it.
"""

from __future__ import annotations

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_entries_contest_id_user_id", table_name="entries")


def downgrade() -> None:
    op.create_index("ix_entries_contest_id_user_id", "entries", ["contest_id", "user_id"])
