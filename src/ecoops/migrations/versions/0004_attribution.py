"""attribution: touch review columns and the metric settings with their history

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-24 23:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "metric_settings_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sourcing_grace_days", sa.Integer(), nullable=False),
        sa.Column("influence_look_back_days", sa.Integer(), nullable=False),
        sa.Column("time_decay_half_life_days", sa.Float(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("changed_by", sa.String(length=200), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_settings_changes")),
    )
    # Existing touches were never reviewed: empty reviewer and reason.
    with op.batch_alter_table("partner_touches", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reviewed_by", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("review_reason", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("partner_touches", schema=None) as batch_op:
        batch_op.alter_column("reviewed_by", server_default=None)
        batch_op.alter_column("review_reason", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("partner_touches", schema=None) as batch_op:
        batch_op.drop_column("review_reason")
        batch_op.drop_column("reviewed_at")
        batch_op.drop_column("reviewed_by")
    op.drop_table("metric_settings_changes")
