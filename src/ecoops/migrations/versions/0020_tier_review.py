"""tier criteria and benefits, certified people on partners, and tier change proposals

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 06:17:05.455868
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tier_criteria",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tier_id", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(length=40), nullable=False),
        sa.Column("threshold", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("window_days", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tier_id"], ["tiers.id"], name=op.f("fk_tier_criteria_tier_id_tiers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tier_criteria")),
        sa.UniqueConstraint("tier_id", "metric", name=op.f("uq_tier_criteria_tier_id_metric")),
    )
    with op.batch_alter_table("tier_criteria", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tier_criteria_tier_id"), ["tier_id"], unique=False)

    op.create_table(
        "tier_proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("from_tier_id", sa.Integer(), nullable=True),
        sa.Column("to_tier_id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["from_tier_id"],
            ["tiers.id"],
            name=op.f("fk_tier_proposals_from_tier_id_tiers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_tier_proposals_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_tier_proposals_program_id_programs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["to_tier_id"], ["tiers.id"], name=op.f("fk_tier_proposals_to_tier_id_tiers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tier_proposals")),
    )
    with op.batch_alter_table("tier_proposals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tier_proposals_partner_id"), ["partner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_tier_proposals_status"), ["status"], unique=False)
        batch_op.create_index(
            "uq_tier_proposals_open",
            ["partner_id", "program_id"],
            unique=True,
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        )

    with op.batch_alter_table("partners", schema=None) as batch_op:
        batch_op.add_column(sa.Column("certified_people", sa.Integer(), nullable=False, server_default="0"))
        batch_op.alter_column("certified_people", server_default=None)

    with op.batch_alter_table("tiers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("registration_days", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("commission_class", sa.String(length=60), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("mdf_eligible", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("portal_content", sa.Text(), nullable=False, server_default=""))
    # Existing rows have their values; new ones get the models' defaults.
    with op.batch_alter_table("tiers", schema=None) as batch_op:
        for column in ("commission_class", "mdf_eligible", "portal_content"):
            batch_op.alter_column(column, server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("tiers", schema=None) as batch_op:
        batch_op.drop_column("portal_content")
        batch_op.drop_column("mdf_eligible")
        batch_op.drop_column("commission_class")
        batch_op.drop_column("registration_days")

    with op.batch_alter_table("partners", schema=None) as batch_op:
        batch_op.drop_column("certified_people")

    with op.batch_alter_table("tier_proposals", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_tier_proposals_open",
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        )
        batch_op.drop_index(batch_op.f("ix_tier_proposals_status"))
        batch_op.drop_index(batch_op.f("ix_tier_proposals_partner_id"))

    op.drop_table("tier_proposals")
    with op.batch_alter_table("tier_criteria", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tier_criteria_tier_id"))

    op.drop_table("tier_criteria")
