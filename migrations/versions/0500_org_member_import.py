"""org: member import log (SHA-256 of each committed roster workbook)

Revision ID: 0500_org_member_import
Revises: 0001_foundation
Create Date: 2026-11-26 21:26:49.282221
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.models.base

revision: str = "0500_org_member_import"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "member_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", tracker.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["user_account.id"], name=op.f("fk_member_import_actor_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_member_import_branch_id_branch")
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["region.id"], name=op.f("fk_member_import_region_id_region")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_import")),
    )
    with op.batch_alter_table("member_import", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_member_import_branch_id"), ["branch_id"], unique=False)
        batch_op.create_index("ix_member_import_branch_sha", ["branch_id", "sha256"], unique=True)
        batch_op.create_index(batch_op.f("ix_member_import_region_id"), ["region_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("member_import", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_import_region_id"))
        batch_op.drop_index("ix_member_import_branch_sha")
        batch_op.drop_index(batch_op.f("ix_member_import_branch_id"))
    op.drop_table("member_import")
