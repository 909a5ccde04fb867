"""Join the sessions, import text length and jobs migrations, written side by side from 0013.

Revision ID: 0017
Revises: 0014, 0015, 0016
Create Date: 2026-12-05 13:30:00.000000
"""

from collections.abc import Sequence

revision: str = "0017"
down_revision: str | Sequence[str] | None = ("0014", "0015", "0016")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
