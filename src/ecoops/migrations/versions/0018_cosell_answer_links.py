"""Co-sell answer links: a referral link may answer one outbound request (referral_links.referral_id).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 03:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("referral_links", schema=None) as batch_op:
        batch_op.add_column(sa.Column("referral_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_referral_links_referral_id_referrals"),
            "referrals",
            ["referral_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_index(batch_op.f("ix_referral_links_referral_id"), ["referral_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("referral_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referral_links_referral_id"))
        batch_op.drop_constraint(batch_op.f("fk_referral_links_referral_id_referrals"), type_="foreignkey")
        batch_op.drop_column("referral_id")
