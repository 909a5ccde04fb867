"""crm field mappings, and a sync run's warnings

Revision ID: 0037
Revises: 0034
Create Date: 2026-12-07 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0037"
down_revision: str | None = "0034"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crm_field_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("object_name", sa.String(length=80), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("crm_field", sa.String(length=255), nullable=False),
        sa.Column("crm_type", sa.String(length=40), nullable=False),
        sa.Column("edited_by", sa.String(length=200), nullable=False),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["crm_connections.id"],
            name=op.f("fk_crm_field_mappings_connection_id_crm_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_field_mappings")),
        sa.UniqueConstraint(
            "connection_id",
            "object_name",
            "field",
            name=op.f("uq_crm_field_mappings_connection_id_object_name_field"),
        ),
    )
    with op.batch_alter_table("crm_sync_runs") as batch:
        batch.add_column(sa.Column("warnings", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))


def downgrade() -> None:
    with op.batch_alter_table("crm_sync_runs") as batch:
        batch.drop_column("warnings")
    op.drop_table("crm_field_mappings")
