"""Keep the lineup an entry was joined with once its lineup is edited.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03

A player may edit an entry's lineup until the contest locks (issue 17); a replay of
the original join request must still return the first outcome, so the lineup it was
joined with is kept in `entries.joined_lineup` (the compact text of
records.lineup_to_text). NULL means the lineup was never edited: every entry stored
before this revision.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("entries", sa.Column("joined_lineup", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("entries") as batch:
        batch.drop_column("joined_lineup")
