"""matters: an index that counts the overdue matters without reading the table

Revision ID: 1600_perf
Revises: 1500_ux17b, 0270_matter_received_at
Create Date: 2026-12-01 16:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "1600_perf"
down_revision: str | Sequence[str] | None = ("1500_ux17b", "0270_matter_received_at")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_service_matter_open",
        "service_matter",
        ["completed_on", "due_on", "received_on", "region_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_service_matter_open", table_name="service_matter")
