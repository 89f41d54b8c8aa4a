"""matters: index (village, received at) so a list's newest-first page sorts index entries

Revision ID: 0270_matter_received_at
Revises: 0200_matters
Create Date: 2026-12-01 17:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0270_matter_received_at"
down_revision: str | Sequence[str] | None = "0200_matters"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("service_matter", schema=None) as batch_op:
        batch_op.create_index(
            "ix_service_matter_region_received_at", ["region_id", "received_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("service_matter", schema=None) as batch_op:
        batch_op.drop_index("ix_service_matter_region_received_at")
