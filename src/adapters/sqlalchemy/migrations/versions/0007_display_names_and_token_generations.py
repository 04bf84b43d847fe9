"""Display names for leaderboards, and token generations so a password change ends sessions.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

`user_accounts.display_name` is what other players see instead of an email or an id;
accounts registered before stay NULL and the app derives a name from the user id.
`token_generation` counts the account's password changes (and "log out everywhere"):
a token carries the generation it was issued in and is refused once it moved on.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user_accounts") as table:
        table.add_column(sa.Column("display_name", sa.String(100), nullable=True))
        table.add_column(
            sa.Column("token_generation", sa.BigInteger(), nullable=False, server_default="0")
        )
        table.create_check_constraint("ck_user_accounts_token_generation", "token_generation >= 0")


def downgrade() -> None:
    with op.batch_alter_table("user_accounts") as table:
        table.drop_constraint("ck_user_accounts_token_generation", type_="check")
        table.drop_column("token_generation")
        table.drop_column("display_name")
