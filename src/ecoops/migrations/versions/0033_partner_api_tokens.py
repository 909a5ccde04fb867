"""api_tokens held by partner users: user_id or partner_user_id, exactly one

Revision ID: 0033
Revises: 0025
Create Date: 2026-12-06 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0033"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("partner_user_id", sa.Integer(), nullable=True))
        batch_op.alter_column("user_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(batch_op.f("ix_api_tokens_partner_user_id"), ["partner_user_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_api_tokens_partner_user_id_partner_users"),
            "partner_users",
            ["partner_user_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_api_tokens_one_holder"), "(user_id IS NULL) <> (partner_user_id IS NULL)"
        )


def downgrade() -> None:
    op.execute("DELETE FROM api_tokens WHERE user_id IS NULL")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_api_tokens_one_holder"), type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_api_tokens_partner_user_id_partner_users"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_api_tokens_partner_user_id"))
        batch_op.alter_column("user_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("partner_user_id")
