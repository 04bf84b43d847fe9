"""Players' protection records, and entries read by player and time.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03

Issue 16: each player's date of birth, jurisdiction, identity key (one account per
person: unique), limits, any break from play and fair-play tier, in
`player_profiles`. Accounts registered before this revision have no row: they are
refused paid play until they give a date of birth and jurisdiction. Every paid join
reads the player's entries since the start of the month, by (user_id, created_at).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _key() -> sa.types.TypeEngine[str]:
    return sa.String().with_variant(postgresql.VARCHAR(collation="C"), "postgresql")


def _instant() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "player_profiles",
        sa.Column("user_id", _key(), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("jurisdiction", sa.String(2), nullable=False),
        sa.Column("identity_key", _key(), nullable=False),
        sa.Column("registered_at", _instant(), nullable=False),
        sa.Column("limits", sa.Text(), nullable=False),
        sa.Column("restriction_kind", sa.String(16), nullable=True),
        sa.Column("restriction_since", _instant(), nullable=True),
        sa.Column("restriction_until", _instant(), nullable=True),
        sa.Column("highly_experienced_since", _instant(), nullable=True),
        sa.UniqueConstraint("identity_key", name="uq_player_profiles_identity_key"),
        sa.CheckConstraint(
            "restriction_kind IN ('cool_off', 'self_exclusion')",
            name="ck_player_profiles_restriction_kind",
        ),
        sa.PrimaryKeyConstraint("user_id", name="pk_player_profiles"),
    )
    op.create_index("ix_entries_user_id_created_at", "entries", ["user_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_entries_user_id_created_at", table_name="entries")
    op.drop_table("player_profiles")
