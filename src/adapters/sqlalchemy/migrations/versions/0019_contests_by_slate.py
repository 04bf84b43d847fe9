"""A contest's slate in its own column: a slate's contests found by an index.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03

A stat correction is recorded on every contest of its slate. Before this revision the
slate was only inside the stored terms (JSON), so finding a slate's contests read and
parsed every contest the platform ever ran, inside the correction's transaction.
`contests.slate_id` is filled from each stored contest's terms, then required.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def _key() -> sa.types.TypeEngine[str]:
    return sa.String().with_variant(postgresql.VARCHAR(collation="C"), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("contests") as batch:
        batch.add_column(sa.Column("slate_id", _key(), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT contest_id, terms FROM contests")).all()
    for contest_id, terms in rows:
        slate_id = json.loads(terms)["pool"]["slate_id"]
        if not isinstance(slate_id, str) or not slate_id:
            raise RuntimeError(f"contest {contest_id}: its stored terms name no slate")
        connection.execute(
            sa.text("UPDATE contests SET slate_id = :slate_id WHERE contest_id = :contest_id"),
            {"slate_id": slate_id, "contest_id": contest_id},
        )
    with op.batch_alter_table("contests") as batch:
        batch.alter_column("slate_id", existing_type=_key(), nullable=False)
        batch.create_index("ix_contests_slate_id", ["slate_id"])


def downgrade() -> None:
    with op.batch_alter_table("contests") as batch:
        batch.drop_index("ix_contests_slate_id")
        batch.drop_column("slate_id")
