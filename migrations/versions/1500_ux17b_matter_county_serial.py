"""matters: a matter's county, so its 登记编号 is unique across the county in the database

Revision ID: 1500_ux17b
Revises: 0260_notify_receipt
Create Date: 2026-12-01 13:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "1500_ux17b"
down_revision: str | Sequence[str] | None = "0260_notify_receipt"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("service_matter", schema=None) as batch_op:
        batch_op.add_column(sa.Column("county_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_service_matter_county_id_region"), "region", ["county_id"], ["id"]
        )
    # The county above each matter's village (the village itself when it has none).
    op.execute(
        """
        UPDATE service_matter SET county_id = COALESCE(
            (SELECT c.id FROM region c, region v
              WHERE v.id = service_matter.region_id AND c.level = 'county'
                AND substr(v.path, 1, length(c.path)) = c.path),
            service_matter.region_id)
        """
    )
    with op.batch_alter_table("service_matter", schema=None) as batch_op:
        batch_op.create_index(
            "ix_service_matter_county_serial", ["county_id", "serial_no"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("service_matter", schema=None) as batch_op:
        batch_op.drop_index("ix_service_matter_county_serial")
        batch_op.drop_constraint(
            batch_op.f("fk_service_matter_county_id_region"), type_="foreignkey"
        )
        batch_op.drop_column("county_id")
