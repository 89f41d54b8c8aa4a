"""halls: opening-hours changes with an effective date

Revision ID: 0350_truth_hall_hours
Revises: 0310_deliv
Create Date: 2026-12-01 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.models.base

revision: str = "0350_truth_hall_hours"
down_revision: str | Sequence[str] | None = "0310_deliv"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "hall_hours_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("previous", tracker.models.base.JSONText(), nullable=False),
        sa.Column("weekly_hours", tracker.models.base.JSONText(), nullable=False),
        sa.Column("created_at", tracker.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["hall_id"],
            ["service_hall.id"],
            name=op.f("fk_hall_hours_change_hall_id_service_hall"),
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["region.id"], name=op.f("fk_hall_hours_change_region_id_region")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hall_hours_change")),
        sa.UniqueConstraint(
            "hall_id", "effective_from", name=op.f("uq_hall_hours_change_hall_id_effective_from")
        ),
    )
    with op.batch_alter_table("hall_hours_change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hall_hours_change_hall_id"), ["hall_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_hall_hours_change_region_id"), ["region_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("hall_hours_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hall_hours_change_region_id"))
        batch_op.drop_index(batch_op.f("ix_hall_hours_change_hall_id"))
    op.drop_table("hall_hours_change")
