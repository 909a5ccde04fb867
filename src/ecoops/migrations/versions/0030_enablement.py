"""enablement: content library, uses, playbooks, joint account plans

Revision ID: 0030
Revises: 0032
Create Date: 2026-12-06 23:22:32.614883
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "content_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("link", sa.String(length=2000), nullable=False),
        sa.Column("file_token", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=300), nullable=False),
        sa.Column("file_size", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("product", sa.String(length=120), nullable=False),
        sa.Column("motion", sa.String(length=20), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_content_items_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_items")),
    )
    with op.batch_alter_table("content_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_content_items_partner_id"), ["partner_id"], unique=False)

    op.create_table(
        "joint_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("objective", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_joint_plans_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_joint_plans")),
    )
    with op.batch_alter_table("joint_plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_joint_plans_partner_id"), ["partner_id"], unique=False)

    op.create_table(
        "playbooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("motion", sa.String(length=20), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partners.id"], name=op.f("fk_playbooks_partner_id_partners"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_playbooks")),
    )
    op.create_table(
        "content_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("content_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=20), nullable=False),
        sa.Column("subject_key", sa.String(length=64), nullable=False),
        sa.Column("attached_by", sa.String(length=200), nullable=False),
        sa.Column("attached_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["content_id"],
            ["content_items.id"],
            name=op.f("fk_content_attachments_content_id_content_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_attachments")),
        sa.UniqueConstraint(
            "content_id",
            "subject",
            "subject_key",
            name=op.f("uq_content_attachments_content_id_subject_subject_key"),
        ),
    )
    with op.batch_alter_table("content_attachments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_content_attachments_subject_key"), ["subject_key"], unique=False)

    op.create_table(
        "joint_plan_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("our_crm_id", sa.String(length=64), nullable=False),
        sa.Column("their_id", sa.String(length=120), nullable=False),
        sa.Column("their_name", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["joint_plans.id"],
            name=op.f("fk_joint_plan_accounts_plan_id_joint_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_joint_plan_accounts")),
        sa.UniqueConstraint("plan_id", "our_crm_id", name=op.f("uq_joint_plan_accounts_plan_id_our_crm_id")),
    )
    with op.batch_alter_table("joint_plan_accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_joint_plan_accounts_our_crm_id"), ["our_crm_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_joint_plan_accounts_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "joint_plan_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("side", sa.String(length=10), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("our_crm_id", sa.String(length=64), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["joint_plans.id"],
            name=op.f("fk_joint_plan_actions_plan_id_joint_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_joint_plan_actions")),
    )
    with op.batch_alter_table("joint_plan_actions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_joint_plan_actions_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "playbook_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("playbook_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("who", sa.String(length=20), nullable=False),
        sa.Column("content_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["content_id"],
            ["content_items.id"],
            name=op.f("fk_playbook_steps_content_id_content_items"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["playbook_id"],
            ["playbooks.id"],
            name=op.f("fk_playbook_steps_playbook_id_playbooks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_playbook_steps")),
    )
    with op.batch_alter_table("playbook_steps", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_playbook_steps_playbook_id"), ["playbook_id"], unique=False)

    op.create_table(
        "content_uses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("content_id", sa.Integer(), nullable=False),
        sa.Column("person", sa.String(length=40), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["content_id"],
            ["content_items.id"],
            name=op.f("fk_content_uses_content_id_content_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_content_uses_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referrals.id"],
            name=op.f("fk_content_uses_referral_id_referrals"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_uses")),
        sa.UniqueConstraint(
            "content_id", "person", "action", "day", name=op.f("uq_content_uses_content_id_person_action_day")
        ),
    )
    with op.batch_alter_table("content_uses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_content_uses_day"), ["day"], unique=False)
        batch_op.create_index(batch_op.f("ix_content_uses_referral_id"), ["referral_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("content_uses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_content_uses_referral_id"))
        batch_op.drop_index(batch_op.f("ix_content_uses_day"))

    op.drop_table("content_uses")
    with op.batch_alter_table("playbook_steps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_playbook_steps_playbook_id"))

    op.drop_table("playbook_steps")
    with op.batch_alter_table("joint_plan_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_joint_plan_actions_plan_id"))

    op.drop_table("joint_plan_actions")
    with op.batch_alter_table("joint_plan_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_joint_plan_accounts_plan_id"))
        batch_op.drop_index(batch_op.f("ix_joint_plan_accounts_our_crm_id"))

    op.drop_table("joint_plan_accounts")
    with op.batch_alter_table("content_attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_content_attachments_subject_key"))

    op.drop_table("content_attachments")
    op.drop_table("playbooks")
    with op.batch_alter_table("joint_plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_joint_plans_partner_id"))

    op.drop_table("joint_plans")
    with op.batch_alter_table("content_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_content_items_partner_id"))

    op.drop_table("content_items")
