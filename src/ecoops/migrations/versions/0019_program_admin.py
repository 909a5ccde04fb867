"""program administration: retired programs and tiers, and a partner's dated edit history

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 03:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("programs", "tiers"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("retired_on", sa.Date(), nullable=True))
    op.create_table(
        "partner_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=False),
        sa.Column("new_value", sa.Text(), nullable=False),
        sa.Column("changed_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_partner_changes_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_changes")),
    )
    with op.batch_alter_table("partner_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_partner_changes_partner_id"), ["partner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_partner_changes_changed_on"), ["changed_on"], unique=False)


def downgrade() -> None:
    op.drop_table("partner_changes")
    for table in ("tiers", "programs"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("retired_on")
