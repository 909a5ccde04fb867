"""Join the automation, private-mapping and mapping-alias migrations, written side by side from 0007.

Revision ID: 0013
Revises: 0008, 0009, 0010, 0011, 0012
Create Date: 2026-11-25 02:20:00.000000
"""

from collections.abc import Sequence

revision: str = "0013"
down_revision: str | Sequence[str] | None = ("0008", "0009", "0010", "0011", "0012")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
