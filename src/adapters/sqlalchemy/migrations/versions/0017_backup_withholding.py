"""Backup withholding: what is kept from a prize, decided before its first send.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03

Issue 16 (decision 0042): a winner with no W-9 whose net winnings of the year reach the
reporting threshold has 24% of the prize withheld. `payouts.withheld_minor` holds the
amount, decided once before the first transfer attempt (NULL: not decided yet, the prize
was never sent); the ledger gains the movement `prize_withheld`. A payout sent before this
revision was sent whole: it withheld nothing (0), so nothing about it changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

OLD_MOVEMENTS = (
    "fee_collected",
    "fee_refunded",
    "rake_taken",
    "overlay_added",
    "prize_awarded",
    "prize_paid",
    "prize_reversed",
)
MOVEMENTS = (*OLD_MOVEMENTS, "prize_withheld")


def _listed(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def upgrade() -> None:
    with op.batch_alter_table("payouts") as batch:
        batch.add_column(sa.Column("withheld_minor", sa.BigInteger(), nullable=True))
    op.execute(
        "UPDATE payouts SET withheld_minor = 0 "
        "WHERE attempts > 0 OR status NOT IN ('pending', 'owed')"
    )
    with op.batch_alter_table("posting_sets") as batch:
        batch.drop_constraint("ck_posting_sets_movement", type_="check")
        batch.create_check_constraint(
            "ck_posting_sets_movement", f"movement IN ({_listed(MOVEMENTS)})"
        )


def downgrade() -> None:
    # Withheld amounts cannot be expressed before this revision: refuse rather than lose them.
    connection = op.get_bind()
    kept = connection.execute(
        sa.text("SELECT count(*) FROM posting_sets WHERE movement = 'prize_withheld'")
    ).scalar_one()
    if kept:
        raise RuntimeError(f"{kept} prizes have backup withholding on the ledger: no downgrade")
    with op.batch_alter_table("posting_sets") as batch:
        batch.drop_constraint("ck_posting_sets_movement", type_="check")
        batch.create_check_constraint(
            "ck_posting_sets_movement", f"movement IN ({_listed(OLD_MOVEMENTS)})"
        )
    with op.batch_alter_table("payouts") as batch:
        batch.drop_column("withheld_minor")
