"""import text lengths: CRM text fields hold 255 characters, as Salesforce's do

A Salesforce Account export's `Industry` (a picklist, up to 255 characters) was refused at 120.
SQLite does not enforce the lengths, PostgreSQL does; the batch operations rebuild the SQLite
tables so the declared types match the models everywhere.

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-05 13:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXT = 255
# table → {column: its length before}
WIDENED = {
    "accounts": {"country": 80, "industry": 120, "account_type": 80, "owner": 200},
    "opportunities": {
        "stage": 120,
        "owner": 200,
        "opportunity_type": 80,
        "lead_source": 120,
        "partner_source": 200,
    },
    "opportunity_stage_changes": {"stage": 120},
    "contacts": {"first_name": 120, "last_name": 120, "title": 200},
    "import_rejections": {"field": 120},
}


def upgrade() -> None:
    for table, columns in WIDENED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, before in columns.items():
                batch_op.alter_column(column, existing_type=sa.String(before), type_=sa.String(TEXT))


def downgrade() -> None:
    for table, columns in WIDENED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, before in columns.items():
                batch_op.alter_column(column, existing_type=sa.String(TEXT), type_=sa.String(before))
