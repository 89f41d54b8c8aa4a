"""dashboard: a city's top lists read in order from indexes (a province's 10,000 villages)

The darkest-halls list is ordered by 完好率; the snapshot row now keeps it
(``cam_up_rate``, written by the roll-up) so that it can be indexed. Existing rows
get the same quotient the list computed until now.

Revision ID: 1700_perf
Revises: 1600_perf
Create Date: 2026-12-01 20:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "1700_perf"
down_revision: str | Sequence[str] | None = "1600_perf"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = "0470_perf_region_scores"


def upgrade() -> None:
    with op.batch_alter_table("dashboard_village_score", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cam_up_rate", sa.Double(), nullable=True))
    op.execute(
        """
        UPDATE dashboard_village_score
           SET cam_up_rate = CAST(cam_up_s AS FLOAT) / (cam_open_s - cam_unknown_s - cam_excused_s)
         WHERE cam_open_s - cam_unknown_s - cam_excused_s > 0
        """
    )
    with op.batch_alter_table("dashboard_village_score", schema=None) as batch_op:
        batch_op.create_index(
            "ix_dashboard_village_score_city_overdue",
            ["period", "city_id", "matters_overdue_open", "region_id"],
        )
        batch_op.create_index(
            "ix_dashboard_village_score_city_cam_rate", ["period", "city_id", "cam_up_rate"]
        )
    op.create_index(
        "ix_dashboard_missed_obligation_city_kind",
        "dashboard_missed_obligation",
        ["period", "city_id", "kind", "region_id", "missing"],
    )


def downgrade() -> None:
    op.drop_index(
        "ix_dashboard_missed_obligation_city_kind", table_name="dashboard_missed_obligation"
    )
    with op.batch_alter_table("dashboard_village_score", schema=None) as batch_op:
        batch_op.drop_index("ix_dashboard_village_score_city_cam_rate")
        batch_op.drop_index("ix_dashboard_village_score_city_overdue")
        batch_op.drop_column("cam_up_rate")
