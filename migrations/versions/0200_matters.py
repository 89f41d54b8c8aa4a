"""matters: catalog (事项清单), service matters and their timeline; notifications inbox

Revision ID: 0200_matters
Revises: 0001_foundation
Create Date: 2026-11-26 21:27:22.681163
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.models.base

revision: str = "0200_matters"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "matter_type",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("category", sa.String(length=50), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("immediate", "promised", name="matterkind", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("promised_days", sa.Integer(), nullable=False),
        sa.Column("statutory_days", sa.Integer(), nullable=True),
        sa.Column("materials", tracker.models.base.JSONText(), nullable=False),
        sa.Column(
            "handling_level",
            sa.Enum(
                "village", "township", "county", name="handlinglevel", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", tracker.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_id"], ["region.id"], name=op.f("fk_matter_type_region_id_region")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_matter_type")),
    )
    with op.batch_alter_table("matter_type", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_matter_type_region_id"), ["region_id"], unique=False)
        batch_op.create_index("ix_matter_type_region_name", ["region_id", "name"], unique=True)

    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=True),
        sa.Column("created_at", tracker.models.base.UTCDateTime(), nullable=False),
        sa.Column("read_at", tracker.models.base.UTCDateTime(), nullable=True),
        sa.Column(
            "delivery",
            sa.Enum(
                "none", "pending", "sent", "failed", name="delivery", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("delivery_error", sa.String(length=500), nullable=True),
        sa.Column("delivered_at", tracker.models.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["region_id"], ["region.id"], name=op.f("fk_notification_region_id_region")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_notification_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notification_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index("ix_notification_delivery", ["delivery"], unique=False)
        batch_op.create_index(batch_op.f("ix_notification_region_id"), ["region_id"], unique=False)
        batch_op.create_index("ix_notification_user_dedupe", ["user_id", "dedupe_key"], unique=True)
        batch_op.create_index(batch_op.f("ix_notification_user_id"), ["user_id"], unique=False)
        batch_op.create_index("ix_notification_user_unread", ["user_id", "read_at"], unique=False)

    op.create_table(
        "service_matter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("serial_no", sa.String(length=20), nullable=False),
        sa.Column("matter_type_id", sa.Integer(), nullable=False),
        sa.Column("applicant_name", sa.String(length=32), nullable=False),
        sa.Column("applicant_phone", sa.String(length=20), nullable=False),
        sa.Column("applicant_id_number", sa.String(length=18), nullable=True),
        sa.Column(
            "channel",
            sa.Enum("in_person", "phone", "online", name="channel", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("received_at", tracker.models.base.UTCDateTime(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("first_responder_id", sa.Integer(), nullable=False),
        sa.Column("handler_id", sa.Integer(), nullable=True),
        sa.Column("handler_unit", sa.String(length=100), nullable=True),
        sa.Column("materials_received", tracker.models.base.JSONText(), nullable=False),
        sa.Column("materials_missing", tracker.models.base.JSONText(), nullable=False),
        sa.Column("one_time_notice", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column(
            "kind",
            sa.Enum("immediate", "promised", name="matterkind", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("promised_days", sa.Integer(), nullable=False),
        sa.Column("extension_days", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "accepted",
                "paused",
                "completed",
                "archived",
                name="matterstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("calendar_official", sa.Boolean(), nullable=False),
        sa.Column("referred", sa.Boolean(), nullable=False),
        sa.Column("completed_at", tracker.models.base.UTCDateTime(), nullable=True),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("on_time", sa.Boolean(), nullable=True),
        sa.Column("working_days_used", sa.Integer(), nullable=True),
        sa.Column(
            "rating",
            sa.Enum(
                "very_satisfied",
                "satisfied",
                "basically_satisfied",
                "dissatisfied",
                "very_dissatisfied",
                name="rating",
                native_enum=False,
                length=24,
            ),
            nullable=True,
        ),
        sa.Column("rated_on", sa.Date(), nullable=True),
        sa.Column("rating_void", sa.Boolean(), nullable=False),
        sa.Column("callback_due_on", sa.Date(), nullable=True),
        sa.Column("called_back_on", sa.Date(), nullable=True),
        sa.Column("callback_on_time", sa.Boolean(), nullable=True),
        sa.Column("archived_at", tracker.models.base.UTCDateTime(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", tracker.models.base.UTCDateTime(), nullable=False),
        sa.Column("client_token", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_service_matter_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["first_responder_id"],
            ["user_account.id"],
            name=op.f("fk_service_matter_first_responder_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["handler_id"],
            ["user_account.id"],
            name=op.f("fk_service_matter_handler_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["matter_type_id"],
            ["matter_type.id"],
            name=op.f("fk_service_matter_matter_type_id_matter_type"),
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["region.id"], name=op.f("fk_service_matter_region_id_region")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_matter")),
        sa.UniqueConstraint("client_token", name=op.f("uq_service_matter_client_token")),
    )
    with op.batch_alter_table("service_matter", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_service_matter_due_on"), ["due_on"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_service_matter_first_responder_id"), ["first_responder_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_service_matter_handler_id"), ["handler_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_service_matter_matter_type_id"), ["matter_type_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_service_matter_received_on"), ["received_on"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_service_matter_region_id"), ["region_id"], unique=False
        )
        batch_op.create_index(
            "ix_service_matter_region_received", ["region_id", "received_on"], unique=False
        )
        batch_op.create_index(
            "ix_service_matter_region_serial", ["region_id", "serial_no"], unique=True
        )
        batch_op.create_index(batch_op.f("ix_service_matter_status"), ["status"], unique=False)

    op.create_table(
        "matter_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("matter_id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "accepted",
                "materials_missing",
                "materials_supplied",
                "referred",
                "extended",
                "completed",
                "rated",
                "called_back",
                "appealed",
                "appeal_decided",
                "archived",
                name="eventkind",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("at", tracker.models.base.UTCDateTime(), nullable=False),
        sa.Column("recorded_at", tracker.models.base.UTCDateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("to_user_id", sa.Integer(), nullable=True),
        sa.Column("to_unit", sa.String(length=100), nullable=True),
        sa.Column("approver", sa.String(length=64), nullable=True),
        sa.Column("days", sa.Integer(), nullable=True),
        sa.Column(
            "rating",
            sa.Enum(
                "very_satisfied",
                "satisfied",
                "basically_satisfied",
                "dissatisfied",
                "very_dissatisfied",
                name="rating",
                native_enum=False,
                length=24,
            ),
            nullable=True,
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("data", tracker.models.base.JSONText(), nullable=True),
        sa.Column("client_token", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["user_account.id"], name=op.f("fk_matter_event_actor_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["matter_id"],
            ["service_matter.id"],
            name=op.f("fk_matter_event_matter_id_service_matter"),
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["region.id"], name=op.f("fk_matter_event_region_id_region")
        ),
        sa.ForeignKeyConstraint(
            ["to_user_id"],
            ["user_account.id"],
            name=op.f("fk_matter_event_to_user_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_matter_event")),
        sa.UniqueConstraint("client_token", name=op.f("uq_matter_event_client_token")),
    )
    with op.batch_alter_table("matter_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_matter_event_matter_id"), ["matter_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_matter_event_region_id"), ["region_id"], unique=False)


def downgrade() -> None:
    op.drop_table("matter_event")
    op.drop_table("service_matter")
    op.drop_table("notification")
    op.drop_table("matter_type")
