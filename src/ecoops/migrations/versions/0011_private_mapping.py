"""private mapping: connections to partners' own ecoops instances and the exchanges run over them

Revision ID: 0011
Revises: 0007
Create Date: 2026-11-25 01:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "psi_connections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("peer_url", sa.String(length=500), nullable=False),
        sa.Column("invite_hash", sa.String(length=64), nullable=True),
        sa.Column("invite_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("inbound_token_hash", sa.String(length=64), nullable=True),
        sa.Column("outbound_token", sa.String(length=100), nullable=False),
        sa.Column("ref_key", sa.String(length=64), nullable=False),
        sa.Column("interval_hours", sa.Integer(), nullable=False),
        sa.Column("next_exchange_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_psi_connections_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_psi_connections")),
        sa.UniqueConstraint("inbound_token_hash", name=op.f("uq_psi_connections_inbound_token_hash")),
        sa.UniqueConstraint("invite_hash", name=op.f("uq_psi_connections_invite_hash")),
    )
    op.create_index(op.f("ix_psi_connections_partner_id"), "psi_connections", ["partner_id"], unique=False)
    op.create_table(
        "psi_exchanges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("our_items", sa.Integer(), nullable=False),
        sa.Column("matches", sa.Integer(), nullable=False),
        sa.Column("bytes_sent", sa.Integer(), nullable=False),
        sa.Column("bytes_received", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("upload_id", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["psi_connections.id"],
            name=op.f("fk_psi_exchanges_connection_id_psi_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["upload_id"],
            ["partner_uploads.id"],
            name=op.f("fk_psi_exchanges_upload_id_partner_uploads"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_psi_exchanges")),
        sa.UniqueConstraint("session_id", name=op.f("uq_psi_exchanges_session_id")),
    )
    op.create_index(op.f("ix_psi_exchanges_connection_id"), "psi_exchanges", ["connection_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_psi_exchanges_connection_id"), table_name="psi_exchanges")
    op.drop_table("psi_exchanges")
    op.drop_index(op.f("ix_psi_connections_partner_id"), table_name="psi_connections")
    op.drop_table("psi_connections")
