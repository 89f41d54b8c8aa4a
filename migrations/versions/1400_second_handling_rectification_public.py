"""secondment: rectification note, the public 公示 page's flood limit, the dashboard's 挂职管理 columns

Revision ID: 1400_second
Revises: 0800_second, 0470_perf_region_scores
Create Date: 2026-12-01 13:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.models.base

revision: str = "1400_second"
down_revision: str | Sequence[str] | None = ("0800_second", "0470_perf_region_scores")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("secondment_inspection") as batch_op:
        batch_op.add_column(
            sa.Column("rectified_note", sa.Text(), nullable=False, server_default="")
        )
    with op.batch_alter_table("secondment_inspection") as batch_op:
        batch_op.alter_column("rectified_note", server_default=None)
    op.create_table(
        "secondment_public_hit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_hash", sa.String(length=64), nullable=False),
        sa.Column("at", tracker.models.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_secondment_public_hit")),
    )
    op.create_index(
        "ix_secondment_public_hit_source_at",
        "secondment_public_hit",
        ["source_hash", "at"],
        unique=False,
    )
    with op.batch_alter_table("dashboard_village_score") as batch_op:
        batch_op.add_column(
            sa.Column("seconded_due", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("seconded_met", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("dashboard_village_score") as batch_op:
        batch_op.alter_column("seconded_due", server_default=None)
        batch_op.alter_column("seconded_met", server_default=None)
    with op.batch_alter_table("dashboard_region_score") as batch_op:
        batch_op.add_column(
            sa.Column("seconded_due", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("seconded_met", sa.BigInteger(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("dashboard_region_score") as batch_op:
        batch_op.alter_column("seconded_due", server_default=None)
        batch_op.alter_column("seconded_met", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("dashboard_region_score") as batch_op:
        batch_op.drop_column("seconded_met")
        batch_op.drop_column("seconded_due")
    with op.batch_alter_table("dashboard_village_score") as batch_op:
        batch_op.drop_column("seconded_met")
        batch_op.drop_column("seconded_due")
    op.drop_index("ix_secondment_public_hit_source_at", table_name="secondment_public_hit")
    op.drop_table("secondment_public_hit")
    with op.batch_alter_table("secondment_inspection") as batch_op:
        batch_op.drop_column("rectified_note")
