"""The seats each player holds in each contest, kept as a counter beside the contest's.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05

A join checks the player's entry limit: it counted the player's entries in the contest
that hold a seat (reserved, pending action or active), a read that grows with those
entries and, on PostgreSQL, with the dead versions each entry's record leaves behind
(decision 0079). `player_seats` keeps that count as one row a (contest, player), moved
with `contests.seats_taken` in the same statements; the pairs of existing entries are
counted here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

SEAT_HOLDING = ("reserved", "pending_action", "active")


def _key() -> sa.types.TypeEngine[str]:
    return sa.String().with_variant(postgresql.VARCHAR(collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "player_seats",
        sa.Column("contest_id", _key(), nullable=False),
        sa.Column("user_id", _key(), nullable=False),
        sa.Column("seats", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("seats >= 0", name="ck_player_seats_seats"),
        sa.ForeignKeyConstraint(
            ["contest_id"],
            ["contests.contest_id"],
            name="fk_player_seats_contest_id_contests",
        ),
        sa.PrimaryKeyConstraint("contest_id", "user_id", name="pk_player_seats"),
    )
    listed = ", ".join(f"'{status}'" for status in SEAT_HOLDING)
    op.execute(
        "INSERT INTO player_seats (contest_id, user_id, seats)"
        " SELECT contest_id, user_id, count(*) FROM entries"
        f" WHERE status IN ({listed}) GROUP BY contest_id, user_id"
    )


def downgrade() -> None:
    op.drop_table("player_seats")
