"""dashboard: training figures on the village score snapshots

Revision ID: 0401_dashboard_trainings
Revises: 0400_dashboard
Create Date: 2026-11-26 22:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0401_dashboard_trainings"
down_revision: str | Sequence[str] | None = "0400_dashboard"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dashboard_village_score", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("trainings_due", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("trainings_met", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("dashboard_village_score", schema=None) as batch_op:
        batch_op.alter_column("trainings_due", server_default=None)
        batch_op.alter_column("trainings_met", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("dashboard_village_score", schema=None) as batch_op:
        batch_op.drop_column("trainings_met")
        batch_op.drop_column("trainings_due")
