"""page cache: data_version, one counter per table that every committed write bumps

A cached page or API list keeps the versions of the tables it read and is served
again only while they are unchanged (:mod:`tracker.pagecache`).

Revision ID: 1910_pagecache
Revises: 1900_rollinc
Create Date: 2026-12-01 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "1910_pagecache"
down_revision: str | Sequence[str] | None = "1900_rollinc"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "data_version",
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("table_name", name=op.f("pk_data_version")),
    )


def downgrade() -> None:
    op.drop_table("data_version")
