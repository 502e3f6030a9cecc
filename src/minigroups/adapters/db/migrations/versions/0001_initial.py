"""The initial schema: class, recording, record_timestamp, account (contract.md HTTP §6).

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True), "postgresql"
    )


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    _create_class()
    _create_recording()
    op.create_table(
        "record_timestamp",
        sa.Column("class_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("position_secs", sa.Integer(), nullable=False),
        sa.Column("created_at", _timestamp(), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", _timestamp(), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["class_id"], ["class.id"], name=op.f("fk_record_timestamp_class_id_class")
        ),
        sa.PrimaryKeyConstraint("class_id", "account_id", name=op.f("pk_record_timestamp")),
    )
    op.create_table(
        "account",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("properties", _json(), server_default=sa.text("'{}'"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account")),
    )


def _create_class() -> None:
    op.create_table(
        "class",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.Text(), server_default=sa.text("'minigroup'"), nullable=False),
        sa.Column("audience", sa.Text(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("time_start", _timestamp(), nullable=True),
        sa.Column("time_end", _timestamp(), nullable=True),
        sa.Column("tags", _json(), nullable=True),
        sa.Column("properties", _json(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("conference_room_id", sa.Uuid(), nullable=True),
        sa.Column("event_room_id", sa.Uuid(), nullable=True),
        sa.Column("original_event_room_id", sa.Uuid(), nullable=True),
        sa.Column("modified_event_room_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", _timestamp(), server_default=sa.func.now(), nullable=False),
        sa.Column("preserve_history", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("reserve", sa.Integer(), nullable=True),
        sa.Column("room_events_uri", sa.Text(), nullable=True),
        sa.Column("host", sa.Text(), nullable=True),
        sa.Column("timed_out", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("established", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("original_class_id", sa.Uuid(), nullable=True),
        sa.Column("content_id", sa.Text(), nullable=True),
        sa.Column("claim", sa.Uuid(), nullable=True),
        sa.Column("claimed_at", _timestamp(), nullable=True),
        sa.CheckConstraint(
            "NOT established OR (conference_room_id IS NOT NULL AND event_room_id IS NOT NULL)",
            name=op.f("ck_class_rooms_ids_presence"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_class")),
    )
    op.create_index("uniq_audience_scope", "class", ["audience", "scope"], unique=True)
    for column in (
        "conference_room_id",
        "event_room_id",
        "original_event_room_id",
        "modified_event_room_id",
    ):
        op.create_index(f"class_{column}", "class", [column])


def _create_recording() -> None:
    op.create_table(
        "recording",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("class_id", sa.Uuid(), nullable=False),
        sa.Column("rtc_id", sa.Uuid(), nullable=False),
        sa.Column("started_at", _timestamp(), nullable=True),
        sa.Column("segments", _json(), nullable=True),
        sa.Column("modified_segments", _json(), nullable=True),
        sa.Column("created_at", _timestamp(), server_default=sa.func.now(), nullable=False),
        sa.Column("adjusted_at", _timestamp(), nullable=True),
        sa.Column("transcoded_at", _timestamp(), nullable=True),
        sa.Column("stream_uri", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("deleted_at", _timestamp(), nullable=True),
        sa.ForeignKeyConstraint(
            ["class_id"], ["class.id"], name=op.f("fk_recording_class_id_class"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recording")),
    )
    op.create_index(
        "uniq_recording_per_class",
        "recording",
        ["class_id", "created_by"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
        sqlite_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index("recording_rtc_id", "recording", ["rtc_id"])


def downgrade() -> None:
    op.drop_table("account")
    op.drop_table("record_timestamp")
    op.drop_table("recording")
    op.drop_table("class")
