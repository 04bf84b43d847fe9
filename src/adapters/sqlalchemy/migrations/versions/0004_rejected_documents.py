"""Keep the data a feed sent that was refused, not only its hash.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

`stat_rejections.document` holds the refused snapshot's canonical form, so that what
was refused can be read, and its SHA-256 checked, after the fact. Rejections recorded
before this revision keep a null document.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("stat_rejections", sa.Column("document", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("stat_rejections", "document")
