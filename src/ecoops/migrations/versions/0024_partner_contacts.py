"""partner contacts: a role at the partner and whether each may sign in; nurture steps aimed at one role

Revision ID: 0024
Revises: 0020
Create Date: 2026-12-06 06:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing partner users all sign in and have no role said; the defaults serve only the back-fill.
    with op.batch_alter_table("partner_users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("contact_role", sa.String(length=20), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("can_sign_in", sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table("partner_users", schema=None) as batch_op:
        batch_op.alter_column("contact_role", server_default=None)
        batch_op.alter_column("can_sign_in", server_default=None)
    with op.batch_alter_table("nurture_steps", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("contact_role", sa.String(length=20), nullable=False, server_default="")
        )
    with op.batch_alter_table("nurture_steps", schema=None) as batch_op:
        batch_op.alter_column("contact_role", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("nurture_steps", schema=None) as batch_op:
        batch_op.drop_column("contact_role")
    with op.batch_alter_table("partner_users", schema=None) as batch_op:
        batch_op.drop_column("can_sign_in")
        batch_op.drop_column("contact_role")
