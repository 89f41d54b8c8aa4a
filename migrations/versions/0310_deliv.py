"""halls: item uuids unique per station

A station draws its item uuids itself; two stations may draw the same one, and
the second must not be answered "duplicate". Checks, state changes, heartbeats
and snapshots are unique on (station_id, uuid) instead of uuid alone. (A
downgrade fails if two stations have since used one uuid — as it should.)

Revision ID: 0310_deliv
Revises: 0300_halls
Create Date: 2026-12-01 10:07:39.212106
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0310_deliv"
down_revision: str | Sequence[str] | None = "0300_halls"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("camera_check", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_camera_check_uuid"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_camera_check_station_id_uuid"), ["station_id", "uuid"]
        )

    with op.batch_alter_table("camera_snapshot", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_camera_snapshot_uuid"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_camera_snapshot_station_id_uuid"), ["station_id", "uuid"]
        )

    with op.batch_alter_table("camera_state_change", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_camera_state_change_uuid"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_camera_state_change_station_id_uuid"), ["station_id", "uuid"]
        )

    with op.batch_alter_table("station_heartbeat", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_station_heartbeat_uuid"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_station_heartbeat_station_id_uuid"), ["station_id", "uuid"]
        )


def downgrade() -> None:
    with op.batch_alter_table("station_heartbeat", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_station_heartbeat_station_id_uuid"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_station_heartbeat_uuid"), ["uuid"])

    with op.batch_alter_table("camera_state_change", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_camera_state_change_station_id_uuid"), type_="unique"
        )
        batch_op.create_unique_constraint(batch_op.f("uq_camera_state_change_uuid"), ["uuid"])

    with op.batch_alter_table("camera_snapshot", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_camera_snapshot_station_id_uuid"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_camera_snapshot_uuid"), ["uuid"])

    with op.batch_alter_table("camera_check", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_camera_check_station_id_uuid"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_camera_check_uuid"), ["uuid"])
