"""maturity: integrations (status history, accounts using them), questionnaire answers, dated
assessments, and roadmap tasks

Revision ID: 0029
Revises: 0031
Create Date: 2026-12-06 23:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "integrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("status_since", sa.Date(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("listing_url", sa.String(length=500), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_integrations_owner_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_integrations_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integrations")),
        sa.UniqueConstraint("partner_id", "name", name=op.f("uq_integrations_partner_id_name")),
    )
    with op.batch_alter_table("integrations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_integrations_partner_id"), ["partner_id"], unique=False)
    op.create_table(
        "integration_status_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("integration_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=12), nullable=False),
        sa.Column("to_status", sa.String(length=12), nullable=False),
        sa.Column("changed_on", sa.Date(), nullable=False),
        sa.Column("changed_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_integration_status_changes_integration_id_integrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integration_status_changes")),
    )
    with op.batch_alter_table("integration_status_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_integration_status_changes_integration_id"), ["integration_id"], unique=False
        )
    op.create_table(
        "integration_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("integration_id", sa.Integer(), nullable=False),
        sa.Column("account_crm_id", sa.String(length=64), nullable=False),
        sa.Column("added_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_integration_accounts_integration_id_integrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integration_accounts")),
        sa.UniqueConstraint(
            "integration_id",
            "account_crm_id",
            name=op.f("uq_integration_accounts_integration_id_account_crm_id"),
        ),
    )
    with op.batch_alter_table("integration_accounts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_integration_accounts_account_crm_id"), ["account_crm_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_integration_accounts_integration_id"), ["integration_id"], unique=False
        )
    op.create_table(
        "maturity_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question", sa.String(length=40), nullable=False),
        sa.Column("answer", sa.Boolean(), nullable=False),
        sa.Column("answered_by", sa.String(length=200), nullable=False),
        sa.Column("answered_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maturity_answers")),
        sa.UniqueConstraint("question", name=op.f("uq_maturity_answers_question")),
    )
    op.create_table(
        "maturity_assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("stage", sa.String(length=10), nullable=False),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("run_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maturity_assessments")),
    )
    with op.batch_alter_table("maturity_assessments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_maturity_assessments_assessed_on"), ["assessed_on"], unique=False
        )
    op.create_table(
        "roadmap_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("stage", sa.String(length=10), nullable=False),
        sa.Column("element", sa.String(length=30), nullable=False),
        sa.Column("ops_group", sa.String(length=20), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("kpi", sa.String(length=40), nullable=False),
        sa.Column("target", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("template_key", sa.String(length=40), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_roadmap_tasks_owner_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roadmap_tasks")),
        sa.UniqueConstraint("stage", "template_key", name=op.f("uq_roadmap_tasks_stage_template_key")),
    )
    with op.batch_alter_table("roadmap_tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_roadmap_tasks_due_on"), ["due_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_roadmap_tasks_stage"), ["stage"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("roadmap_tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_roadmap_tasks_stage"))
        batch_op.drop_index(batch_op.f("ix_roadmap_tasks_due_on"))
    op.drop_table("roadmap_tasks")
    with op.batch_alter_table("maturity_assessments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_maturity_assessments_assessed_on"))
    op.drop_table("maturity_assessments")
    op.drop_table("maturity_answers")
    with op.batch_alter_table("integration_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_integration_accounts_integration_id"))
        batch_op.drop_index(batch_op.f("ix_integration_accounts_account_crm_id"))
    op.drop_table("integration_accounts")
    with op.batch_alter_table("integration_status_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_integration_status_changes_integration_id"))
    op.drop_table("integration_status_changes")
    with op.batch_alter_table("integrations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_integrations_partner_id"))
    op.drop_table("integrations")
