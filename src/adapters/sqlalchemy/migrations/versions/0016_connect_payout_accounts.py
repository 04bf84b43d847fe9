"""Payout accounts with a state from the gateway; prizes owed, reversed and sent again.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03

Issue 15 (decision 0035): a player's connected account is created by the platform and its
state (none, onboarding, enabled, disabled) and the gateway's requirements come from the
gateway. Accounts stored before this revision were attached by hand: an enabled one is
ENABLED, a disabled one DISABLED. A payout may now be `owed` (its winner has no enabled
account) and is sent again after a reversal under the next transfer key (`reversals`
counts them); a partial index holds only payouts reversed at least once, which the
worker reads on every pass.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

OLD_PAYOUT_STATUSES = ("pending", "sending", "confirmed", "failed", "reversed")
PAYOUT_STATUSES = (*OLD_PAYOUT_STATUSES, "owed")
ACCOUNT_STATES = ("none", "onboarding", "enabled", "disabled")


def _listed(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def upgrade() -> None:
    with op.batch_alter_table("payouts") as batch:
        batch.add_column(sa.Column("reversals", sa.Integer(), nullable=False, server_default="0"))
        batch.drop_constraint("ck_payouts_status", type_="check")
        batch.create_check_constraint(
            "ck_payouts_status", f"status IN ({_listed(PAYOUT_STATUSES)})"
        )
    op.create_index(
        "ix_payouts_reopened",
        "payouts",
        ["fingerprint"],
        postgresql_where=sa.text("reversals > 0"),
        sqlite_where=sa.text("reversals > 0"),
    )
    with op.batch_alter_table("payout_accounts") as batch:
        batch.add_column(
            sa.Column("state", sa.String(16), nullable=False, server_default="enabled")
        )
        batch.add_column(sa.Column("requirements", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("disabled_reason", sa.Text(), nullable=True))
        batch.create_check_constraint(
            "ck_payout_accounts_state", f"state IN ({_listed(ACCOUNT_STATES)})"
        )
    op.execute("UPDATE payout_accounts SET state = 'disabled' WHERE NOT payouts_enabled")


def downgrade() -> None:
    with op.batch_alter_table("payout_accounts") as batch:
        batch.drop_constraint("ck_payout_accounts_state", type_="check")
        batch.drop_column("disabled_reason")
        batch.drop_column("requirements")
        batch.drop_column("state")
    op.drop_index("ix_payouts_reopened", "payouts")
    op.execute("UPDATE payouts SET status = 'pending' WHERE status = 'owed'")
    with op.batch_alter_table("payouts") as batch:
        batch.drop_constraint("ck_payouts_status", type_="check")
        batch.create_check_constraint(
            "ck_payouts_status", f"status IN ({_listed(OLD_PAYOUT_STATUSES)})"
        )
        batch.drop_column("reversals")
