"""Keep every payload a feed sent that was refused, not only the first hash of a version.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

`stat_rejections.document` holds the refused snapshot's canonical form, so that what
was refused can be read, and its SHA-256 checked, after the fact; rejections recorded
before this revision keep a null document. The key becomes (slate, version, sha256):
two different payloads refused under one version are both kept.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Batch mode: SQLite changes a primary key by copying the table; PostgreSQL alters it.
    with op.batch_alter_table("stat_rejections") as table:
        table.add_column(sa.Column("document", sa.Text(), nullable=True))
        table.drop_constraint("pk_stat_rejections", type_="primary")
        table.create_primary_key("pk_stat_rejections", ["slate_id", "version", "sha256"])


def downgrade() -> None:
    # Keep one rejection per version (the first recorded) so the old key holds again.
    op.execute(
        "DELETE FROM stat_rejections WHERE EXISTS (SELECT 1 FROM stat_rejections AS earlier "
        "WHERE earlier.slate_id = stat_rejections.slate_id "
        "AND earlier.version = stat_rejections.version "
        "AND (earlier.rejected_at, earlier.sha256) < "
        "(stat_rejections.rejected_at, stat_rejections.sha256))"
    )
    with op.batch_alter_table("stat_rejections") as table:
        table.drop_constraint("pk_stat_rejections", type_="primary")
        table.create_primary_key("pk_stat_rejections", ["slate_id", "version"])
        table.drop_column("document")
