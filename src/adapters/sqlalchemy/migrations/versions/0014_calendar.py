"""The contest calendar: which calendar key opened which contest, and paused lines.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03

`calendar_contests` has one row per contest the calendar opened, keyed by its calendar key
(`<slate>/<line>/<sequence>`): the primary key is what makes four workers open each
calendar contest once. `calendar_pauses` has one row per calendar line an operator paused.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def _key() -> sa.types.TypeEngine[str]:
    return sa.String().with_variant(postgresql.VARCHAR(collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "calendar_contests",
        sa.Column("calendar_key", _key(), nullable=False),
        sa.Column("slate_id", _key(), nullable=False),
        sa.Column("line", _key(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("contest_id", _key(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("calendar_key", name="pk_calendar_contests"),
        sa.ForeignKeyConstraint(
            ["contest_id"],
            ["contests.contest_id"],
            name="fk_calendar_contests_contest_id_contests",
        ),
        sa.UniqueConstraint("contest_id", name="uq_calendar_contests_contest_id"),
        sa.CheckConstraint("sequence >= 1", name="ck_calendar_contests_sequence"),
    )
    op.create_index("ix_calendar_contests_slate_id", "calendar_contests", ["slate_id"])
    op.create_table(
        "calendar_pauses",
        sa.Column("line", _key(), nullable=False),
        sa.PrimaryKeyConstraint("line", name="pk_calendar_pauses"),
    )


def downgrade() -> None:
    op.drop_table("calendar_pauses")
    op.drop_index("ix_calendar_contests_slate_id", table_name="calendar_contests")
    op.drop_table("calendar_contests")
