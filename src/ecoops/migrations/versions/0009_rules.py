"""rules: automation rules, tasks, the scanner's marks, and users' Slack ids

Revision ID: 0009
Revises: 0007
Create Date: 2026-11-25 01:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "automation_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("trigger", sa.String(length=40), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("enabled_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("subject_template", sa.Text(), nullable=False),
        sa.Column("body_template", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_automation_rules")),
    )
    op.create_index(op.f("ix_automation_rules_trigger"), "automation_rules", ["trigger"], unique=False)
    op.create_table(
        "automation_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_automation_tasks_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_automation_tasks_event_id_events"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_automation_tasks")),
        sa.UniqueConstraint("uid", name=op.f("uq_automation_tasks_uid")),
    )
    op.create_index(op.f("ix_automation_tasks_user_id"), "automation_tasks", ["user_id"], unique=False)
    op.create_index(op.f("ix_automation_tasks_rule_id"), "automation_tasks", ["rule_id"], unique=False)
    op.create_table(
        "automation_scan_marks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_automation_scan_marks_event_id_events"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_automation_scan_marks")),
        sa.UniqueConstraint("key", name=op.f("uq_automation_scan_marks_key")),
    )
    op.add_column(
        "users", sa.Column("slack_user_id", sa.String(length=40), nullable=False, server_default="")
    )
    op.create_index(op.f("ix_users_slack_user_id"), "users", ["slack_user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_users_slack_user_id"), table_name="users")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("slack_user_id")
    op.drop_table("automation_scan_marks")
    op.drop_index(op.f("ix_automation_tasks_rule_id"), table_name="automation_tasks")
    op.drop_index(op.f("ix_automation_tasks_user_id"), table_name="automation_tasks")
    op.drop_table("automation_tasks")
    op.drop_index(op.f("ix_automation_rules_trigger"), table_name="automation_rules")
    op.drop_table("automation_rules")
