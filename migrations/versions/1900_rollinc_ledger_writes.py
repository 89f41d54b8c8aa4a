"""dashboard: the ledgers' write times per region, and the snapshots' past camera part

``dashboard_ledger_write`` keeps, per region, when a row feeding the score was last
inserted, changed or deleted (:mod:`tracker.dashboard.writes`), so the roll-up
recomputes only the villages written since their snapshot — deletions included.
The ``cam_past_*`` columns of ``dashboard_village_score`` keep the camera seconds of
a running period's days before the snapshot's day, so a run later that day adds
only today's live part.

Existing rows: no write times are known before this revision, so one row for region
0 ("every village") stamped now makes the next roll-up recompute every snapshot
(which also fills the ``cam_past_*`` columns, 0 until then).

Revision ID: 1900_rollinc
Revises: 1800_public_hits
Create Date: 2026-12-01 23:40:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import tracker.models.base

revision: str = "1900_rollinc"
down_revision: str | Sequence[str] | None = "1800_public_hits"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PAST = ("open_s", "up_s", "live_s", "unknown_s", "excused_s")


def upgrade() -> None:
    table = op.create_table(
        "dashboard_ledger_write",
        sa.Column("region_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("written_at", tracker.models.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("region_id", name=op.f("pk_dashboard_ledger_write")),
    )
    with op.batch_alter_table("dashboard_village_score") as batch:
        for part in _PAST:
            batch.add_column(
                sa.Column(f"cam_past_{part}", sa.Integer(), server_default="0", nullable=False)
            )
    op.bulk_insert(table, [{"region_id": 0, "written_at": datetime.now(UTC)}])


def downgrade() -> None:
    with op.batch_alter_table("dashboard_village_score") as batch:
        for part in _PAST:
            batch.drop_column(f"cam_past_{part}")
    op.drop_table("dashboard_ledger_write")
