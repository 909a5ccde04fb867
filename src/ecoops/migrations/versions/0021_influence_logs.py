"""influence logs (what a partner did on a deal, the evidence of a proposed touch), touches' external ids,
and the CRM-partner-field rule

Revision ID: 0021
Revises: 0024
Create Date: 2026-12-06 06:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("metric_settings_changes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("crm_partner_field", sa.String(length=10), server_default="review", nullable=False)
        )
    with op.batch_alter_table("partner_touches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("external_id", sa.String(length=120), nullable=True))
        batch_op.create_index(batch_op.f("ix_partner_touches_external_id"), ["external_id"], unique=True)
    op.create_table(
        "influence_logs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("touch_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("opportunity_crm_id", sa.String(length=64), nullable=False),
        sa.Column("account_crm_id", sa.String(length=64), nullable=False),
        sa.Column("activity", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=2000), nullable=False),
        sa.Column("file_token", sa.String(length=32), nullable=False),
        sa.Column("file_name", sa.String(length=300), nullable=False),
        sa.Column("file_size", sa.Integer(), nullable=False),
        sa.Column("logged_by", sa.String(length=200), nullable=False),
        sa.Column("logged_by_partner", sa.Boolean(), nullable=False),
        sa.Column("logged_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_influence_logs_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["touch_id"],
            ["partner_touches.id"],
            name=op.f("fk_influence_logs_touch_id_partner_touches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_influence_logs")),
        sa.UniqueConstraint("touch_id", name=op.f("uq_influence_logs_touch_id")),
    )
    with op.batch_alter_table("influence_logs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_influence_logs_partner_id"), ["partner_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_influence_logs_opportunity_crm_id"), ["opportunity_crm_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_influence_logs_account_crm_id"), ["account_crm_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("metric_settings_changes", schema=None) as batch_op:
        batch_op.drop_column("crm_partner_field")
    op.drop_table("influence_logs")
    with op.batch_alter_table("partner_touches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partner_touches_external_id"))
        batch_op.drop_column("external_id")
