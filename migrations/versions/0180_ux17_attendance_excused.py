"""meetings: 请假 apart from 缺席 on an attendance row

An absent member either asked for leave beforehand (请假, with a reason) or
simply did not come (缺席). Existing absences stay 缺席 (excused = false).

Revision ID: 0180_ux17
Revises: 0100_meetings
Create Date: 2026-12-01 11:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0180_ux17"
down_revision: str | Sequence[str] | None = "0100_meetings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("meeting_attendance", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("excused", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("meeting_attendance", schema=None) as batch_op:
        batch_op.drop_column("excused")
