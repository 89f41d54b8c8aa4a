"""public pages: one flood-limit table for every page open without an account

The applicant's page of a matter kept the sender's raw address (``matter_public_hit``),
the 周报公示 a keyed hash (``secondment_public_hit``); both now count in ``public_hit``
by page and keyed hash (:mod:`tracker.public_pages`). The rows are a rolling 10-minute
count, kept a day: nothing is carried over.

Revision ID: 1800_public_hits
Revises: 1700_perf, 1400_second
Create Date: 2026-12-01 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.models.base

revision: str = "1800_public_hits"
down_revision: str | Sequence[str] | None = ("1700_perf", "1400_second")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "public_hit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("page", sa.String(length=32), nullable=False),
        sa.Column("sender_hash", sa.String(length=64), nullable=False),
        sa.Column("at", tracker.models.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_public_hit")),
    )
    op.create_index(
        "ix_public_hit_page_sender_at", "public_hit", ["page", "sender_hash", "at"], unique=False
    )
    op.drop_index("ix_matter_public_hit_ip_at", table_name="matter_public_hit")
    op.drop_table("matter_public_hit")
    op.drop_index("ix_secondment_public_hit_source_at", table_name="secondment_public_hit")
    op.drop_table("secondment_public_hit")


def downgrade() -> None:
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
    op.create_table(
        "matter_public_hit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=False),
        sa.Column("at", tracker.models.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_matter_public_hit")),
    )
    op.create_index("ix_matter_public_hit_ip_at", "matter_public_hit", ["ip", "at"], unique=False)
    op.drop_index("ix_public_hit_page_sender_at", table_name="public_hit")
    op.drop_table("public_hit")
