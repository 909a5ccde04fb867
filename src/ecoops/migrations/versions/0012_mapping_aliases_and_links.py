"""mapping: the workspace's domain aliases and parent/subsidiary links between our accounts

Revision ID: 0012
Revises: 0007
Create Date: 2026-11-25 01:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mapping_domain_aliases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alias", sa.String(length=253), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mapping_domain_aliases")),
        sa.UniqueConstraint("alias", name=op.f("uq_mapping_domain_aliases_alias")),
    )
    op.create_index(
        op.f("ix_mapping_domain_aliases_domain"), "mapping_domain_aliases", ["domain"], unique=False
    )
    op.create_table(
        "mapping_parent_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("child_crm_id", sa.String(length=64), nullable=False),
        sa.Column("parent_crm_id", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mapping_parent_links")),
        sa.UniqueConstraint("child_crm_id", name=op.f("uq_mapping_parent_links_child_crm_id")),
    )
    op.create_index(
        op.f("ix_mapping_parent_links_parent_crm_id"), "mapping_parent_links", ["parent_crm_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_mapping_parent_links_parent_crm_id"), table_name="mapping_parent_links")
    op.drop_table("mapping_parent_links")
    op.drop_index(op.f("ix_mapping_domain_aliases_domain"), table_name="mapping_domain_aliases")
    op.drop_table("mapping_domain_aliases")
