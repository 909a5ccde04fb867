"""nurture sequences, steps, enrolments and sends; the weekly digest's sent weeks

Revision ID: 0010
Revises: 0007
Create Date: 2026-11-25 01:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "nurture_sequences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("is_enabled", sa.Boolean(), nullable=False),
        sa.Column("enabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nurture_sequences")),
        sa.UniqueConstraint("name", name=op.f("uq_nurture_sequences_name")),
    )
    op.create_index(op.f("ix_nurture_sequences_stage"), "nurture_sequences", ["stage"], unique=False)
    op.create_table(
        "nurture_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sequence_id", sa.Integer(), nullable=False),
        sa.Column("delay_days", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("slack_channel", sa.String(length=100), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("content_url", sa.String(length=500), nullable=False),
        sa.Column("content_title", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["sequence_id"],
            ["nurture_sequences.id"],
            name=op.f("fk_nurture_steps_sequence_id_nurture_sequences"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nurture_steps")),
    )
    op.create_index(op.f("ix_nurture_steps_sequence_id"), "nurture_steps", ["sequence_id"], unique=False)
    op.create_table(
        "nurture_enrolments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sequence_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("entered_on", sa.Date(), nullable=False),
        sa.Column("sends_from", sa.Date(), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("next_due_on", sa.Date(), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["sequence_id"],
            ["nurture_sequences.id"],
            name=op.f("fk_nurture_enrolments_sequence_id_nurture_sequences"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_nurture_enrolments_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nurture_enrolments")),
        sa.UniqueConstraint(
            "sequence_id",
            "partner_id",
            "entered_on",
            name=op.f("uq_nurture_enrolments_sequence_id_partner_id_entered_on"),
        ),
    )
    op.create_index(
        op.f("ix_nurture_enrolments_sequence_id"), "nurture_enrolments", ["sequence_id"], unique=False
    )
    op.create_index(
        op.f("ix_nurture_enrolments_partner_id"), "nurture_enrolments", ["partner_id"], unique=False
    )
    op.create_index(op.f("ix_nurture_enrolments_status"), "nurture_enrolments", ["status"], unique=False)
    op.create_index(
        op.f("ix_nurture_enrolments_next_due_on"), "nurture_enrolments", ["next_due_on"], unique=False
    )
    op.create_table(
        "nurture_sends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("step_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["nurture_enrolments.id"],
            name=op.f("fk_nurture_sends_enrolment_id_nurture_enrolments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["step_id"],
            ["nurture_steps.id"],
            name=op.f("fk_nurture_sends_step_id_nurture_steps"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nurture_sends")),
        sa.UniqueConstraint("enrolment_id", "step_id", name=op.f("uq_nurture_sends_enrolment_id_step_id")),
    )
    op.create_index(op.f("ix_nurture_sends_step_id"), "nurture_sends", ["step_id"], unique=False)
    op.create_table(
        "digest_weeks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("week", sa.String(length=10), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_weeks")),
        sa.UniqueConstraint("week", name=op.f("uq_digest_weeks_week")),
    )


def downgrade() -> None:
    op.drop_table("digest_weeks")
    op.drop_index(op.f("ix_nurture_sends_step_id"), table_name="nurture_sends")
    op.drop_table("nurture_sends")
    op.drop_index(op.f("ix_nurture_enrolments_next_due_on"), table_name="nurture_enrolments")
    op.drop_index(op.f("ix_nurture_enrolments_status"), table_name="nurture_enrolments")
    op.drop_index(op.f("ix_nurture_enrolments_partner_id"), table_name="nurture_enrolments")
    op.drop_index(op.f("ix_nurture_enrolments_sequence_id"), table_name="nurture_enrolments")
    op.drop_table("nurture_enrolments")
    op.drop_index(op.f("ix_nurture_steps_sequence_id"), table_name="nurture_steps")
    op.drop_table("nurture_steps")
    op.drop_index(op.f("ix_nurture_sequences_stage"), table_name="nurture_sequences")
    op.drop_table("nurture_sequences")
