"""Keep the provider's corrections of final games' stats, not only an audit line about them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

`stat_provider_changes` has one row per stat of a game already final that a newer
snapshot changed: player, game, stat, old and new values (exact decimal text), the two
versions and when it was found, so that a score's explanation can say where a value
came from. Changes ingested before this revision are only in the audit trail.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _key() -> sa.types.TypeEngine[str]:
    return sa.String().with_variant(postgresql.VARCHAR(collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "stat_provider_changes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("slate_id", _key(), nullable=False),
        sa.Column("player_id", _key(), nullable=False),
        sa.Column("game_id", _key(), nullable=False),
        sa.Column("stat", _key(), nullable=False),
        sa.Column("old_text", sa.Text(), nullable=False),
        sa.Column("new_text", sa.Text(), nullable=False),
        sa.Column("from_version", sa.BigInteger(), nullable=False),
        sa.Column("to_version", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_stat_provider_changes"),
    )
    op.create_index("ix_stat_provider_changes_slate_id", "stat_provider_changes", ["slate_id"])


def downgrade() -> None:
    op.drop_index("ix_stat_provider_changes_slate_id", table_name="stat_provider_changes")
    op.drop_table("stat_provider_changes")
