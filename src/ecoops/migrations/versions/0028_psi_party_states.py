"""psi_party_states: the responder's Party between message 1 and message 3, in the database so that any web process can take message 3

Revision ID: 0028
Revises: 0022
Create Date: 2026-12-06 20:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "psi_party_states",
        sa.Column("exchange_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.Column("population_keys", sa.JSON(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["exchange_id"],
            ["psi_exchanges.id"],
            name=op.f("fk_psi_party_states_exchange_id_psi_exchanges"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("exchange_id", name=op.f("pk_psi_party_states")),
    )
    with op.batch_alter_table("psi_party_states", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_psi_party_states_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("psi_party_states", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_psi_party_states_expires_at"))
    op.drop_table("psi_party_states")
