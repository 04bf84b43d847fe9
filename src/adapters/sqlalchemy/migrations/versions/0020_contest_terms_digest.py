"""A contest's terms digest beside its terms: reads take the digest, not the text.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04

Every read of a contest carried its terms, tens of kilobytes of JSON (the player pool),
although a process parses each text once and keeps it: a join batch's two contest locks
read them again every time, eight times over in a lobby (decision 0066).
`contests.terms_digest` is the SHA-256 (hex) of the stored text, filled from each stored
contest's terms here, then required.
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contests") as batch:
        batch.add_column(sa.Column("terms_digest", sa.String(64), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT contest_id, terms FROM contests")).all()
    for contest_id, terms in rows:
        connection.execute(
            sa.text("UPDATE contests SET terms_digest = :digest WHERE contest_id = :contest_id"),
            {"digest": hashlib.sha256(terms.encode()).hexdigest(), "contest_id": contest_id},
        )
    with op.batch_alter_table("contests") as batch:
        batch.alter_column("terms_digest", existing_type=sa.String(64), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("contests") as batch:
        batch.drop_column("terms_digest")
