"""Players' W-9s, the taxpayer id sealed.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03

Issue 16: a player whose net winnings reach the year's reporting threshold gives a W-9
(legal name, address, taxpayer id). The id is stored only encrypted with the key of the
settings (FANTASY_TAX_ID_KEY), beside its last four digits, the only part ever shown.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def _key() -> sa.types.TypeEngine[str]:
    return sa.String().with_variant(postgresql.VARCHAR(collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "tax_details",
        sa.Column("user_id", _key(), nullable=False),
        sa.Column("legal_name", sa.String(200), nullable=False),
        sa.Column("address", sa.String(200), nullable=False),
        sa.Column("taxpayer_id_sealed", sa.Text(), nullable=False),
        sa.Column("taxpayer_id_last4", sa.String(4), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_tax_details"),
    )


def downgrade() -> None:
    op.drop_table("tax_details")
