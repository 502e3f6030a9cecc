"""The storage schema (contract.md HTTP §6, made portable between PostgreSQL and SQLite).

The migrations in `migrations/versions` must build exactly this; a test compares them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    ColumnElement,
    DateTime,
    Dialect,
    ForeignKey,
    FromClause,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    TypeDecorator,
    Uuid,
    false,
    func,
    literal_column,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeEngine

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """A UTC instant: timestamptz on PostgreSQL, naive UTC text on SQLite; aware in Python."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the database stores UTC instants")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def json_type() -> TypeEngine[Any]:
    """JSON, JSONB on PostgreSQL; Python None is SQL NULL (not the JSON literal null)."""
    return JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


metadata = MetaData(naming_convention=NAMING_CONVENTION)

MINIGROUP = "minigroup"  # the `kind` of a minigroup's class row

class_ = Table(
    "class",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("kind", Text(), nullable=False, server_default=text("'minigroup'")),
    Column("audience", Text(), nullable=False),
    Column("scope", Text(), nullable=False),
    Column("time_start", UtcDateTime(), nullable=True),  # inclusive; NULL is unbounded
    Column("time_end", UtcDateTime(), nullable=True),  # exclusive; NULL is unbounded
    Column("tags", json_type(), nullable=True),
    Column("properties", json_type(), nullable=False, server_default=text("'{}'")),
    Column("conference_room_id", Uuid(), nullable=True),
    Column("event_room_id", Uuid(), nullable=True),
    Column("original_event_room_id", Uuid(), nullable=True),
    Column("modified_event_room_id", Uuid(), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False, server_default=func.now()),
    Column("preserve_history", Boolean(), nullable=False, server_default=true()),
    Column("reserve", Integer(), nullable=True),
    Column("room_events_uri", Text(), nullable=True),
    Column("host", Text(), nullable=True),  # agent id, text form
    Column("timed_out", Boolean(), nullable=False, server_default=false()),
    Column("established", Boolean(), nullable=False, server_default=true()),
    Column("original_class_id", Uuid(), nullable=True),
    Column("content_id", Text(), nullable=True),
    # Ours (D13): the create that holds a dummy, and since when.
    Column("claim", Uuid(), nullable=True),
    Column("claimed_at", UtcDateTime(), nullable=True),
    # Ours (listing): the first live recording's stage, or 'none' (domain/listing.py), kept by
    # every recording write in its own transaction, so that a status filter is an index range.
    Column("recording_stage", Text(), nullable=False, server_default=text("'none'")),
    CheckConstraint(
        "NOT established OR (conference_room_id IS NOT NULL AND event_room_id IS NOT NULL)",
        name="rooms_ids_presence",
    ),
    Index("uniq_audience_scope", "audience", "scope", unique=True),
    Index("class_conference_room_id", "conference_room_id"),
    Index("class_event_room_id", "event_room_id"),
    Index("class_original_event_room_id", "original_event_room_id"),
    Index("class_modified_event_room_id", "modified_event_room_id"),
    # The listing (adapters/db/listing.py): the schedule order, per audience and per stage; the
    # windows with an unbounded end (also per stage), and the inverted ones (closed before their
    # start).
    Index("class_audience_start", "audience", "time_start", "id"),
    Index("class_audience_stage_start", "audience", "recording_stage", "time_start", "id"),
    Index(
        "class_unbounded_end",
        "audience",
        "time_start",
        "id",
        postgresql_where=text("time_end IS NULL"),
        sqlite_where=text("time_end IS NULL"),
    ),
    Index(
        "class_unbounded_end_stage",
        "audience",
        "recording_stage",
        "time_start",
        "id",
        postgresql_where=text("time_end IS NULL"),
        sqlite_where=text("time_end IS NULL"),
    ),
    Index(
        "class_inverted",
        "audience",
        "time_start",
        "id",
        postgresql_where=text("time_end < time_start"),
        sqlite_where=text("time_end < time_start"),
    ),
)

POSTGRESQL_ONLY = {"only_on": "postgresql"}  # info of indexes the other database lacks


def running_window(table: FromClause = class_) -> ColumnElement[Any]:
    """A bounded window as a closed tstzrange (PostgreSQL), to find those running at an instant.

    Closed at both ends, so it contains every instant a strict or inclusive bound asks about
    (the listing checks the exact bounds too); indexed only where `time_start <= time_end`.
    """
    return func.tstzrange(table.c.time_start, table.c.time_end, literal_column("'[]'"))


def scope_bytes() -> ColumnElement[Any]:
    """The scope under the "C" collation (PostgreSQL): code point order, so prefixes are ranges."""
    return class_.c.scope.collate("C")


Index(
    "class_running",
    running_window(),
    postgresql_using="gist",
    postgresql_where=text("time_start <= time_end"),
    info=POSTGRESQL_ONLY,
).ddl_if(dialect="postgresql")
Index("class_audience_scope_c", class_.c.audience, scope_bytes(), info=POSTGRESQL_ONLY).ddl_if(
    dialect="postgresql"
)

recording = Table(
    "recording",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("class_id", Uuid(), ForeignKey("class.id", ondelete="CASCADE"), nullable=False),
    Column("rtc_id", Uuid(), nullable=False),
    Column("started_at", UtcDateTime(), nullable=True),
    Column("segments", json_type(), nullable=True),  # [[start_ms, end_ms], ...]
    Column("modified_segments", json_type(), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False, server_default=func.now()),
    Column("adjusted_at", UtcDateTime(), nullable=True),
    Column("transcoded_at", UtcDateTime(), nullable=True),
    Column("stream_uri", Text(), nullable=True),
    Column("created_by", Text(), nullable=False),  # agent id, text form
    Column("deleted_at", UtcDateTime(), nullable=True),
    Index(
        "uniq_recording_per_class",
        "class_id",
        "created_by",
        unique=True,
        postgresql_where=text("deleted_at IS NULL"),
        sqlite_where=text("deleted_at IS NULL"),
    ),
    Index("recording_rtc_id", "rtc_id"),
)

record_timestamp = Table(
    "record_timestamp",
    metadata,
    Column("class_id", Uuid(), ForeignKey("class.id"), nullable=False),
    Column("account_id", Text(), nullable=False),  # `<label>.<audience>`
    Column("position_secs", Integer(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False, server_default=func.now()),
    Column("updated_at", UtcDateTime(), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("class_id", "account_id"),
)

account = Table(
    "account",
    metadata,
    Column("id", Text(), primary_key=True),  # `<label>.<audience>`
    Column("properties", json_type(), nullable=False, server_default=text("'{}'")),
)


def _queue_columns() -> list[Column[Any]]:
    """What the inbox and the outbox share: a dedupe key, a status, attempts and a lease."""
    return [
        Column("id", Uuid(), primary_key=True),
        Column("key", Text(), nullable=False, unique=True),
        Column("status", Text(), nullable=False, server_default=text("'pending'")),
        Column("attempts", Integer(), nullable=False, server_default=text("0")),
        Column("next_attempt_at", UtcDateTime(), nullable=False),
        Column("lease", Uuid(), nullable=True),  # the claim: one per claiming statement
        Column("lease_until", UtcDateTime(), nullable=True),
        Column("last_error", Text(), nullable=True),
        # Who made the last claim: the instance (stable across its restarts) and the process.
        Column("owner", Text(), nullable=True),
        Column("incarnation", Uuid(), nullable=True),
    ]


inbox = Table(
    "inbox",
    metadata,
    *_queue_columns(),
    Column("source", Text(), nullable=False),
    Column("label", Text(), nullable=False),
    Column("payload", Text(), nullable=False),  # as received: a poison payload is kept intact
    Column("received_at", UtcDateTime(), nullable=False),
    Column("handled_at", UtcDateTime(), nullable=True),
    Index("inbox_due", "status", "next_attempt_at"),
)

outbox = Table(
    "outbox",
    metadata,
    *_queue_columns(),
    Column("kind", Text(), nullable=False),
    Column("payload", json_type(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("sent_at", UtcDateTime(), nullable=True),
    Index("outbox_due", "status", "next_attempt_at"),
)

# Idempotency keys (issue 9): a row per (account, route, key), running until its answer is stored.
idempotency_key = Table(
    "idempotency_key",
    metadata,
    Column("id", Text(), primary_key=True),  # SHA-256 hex of account, route and key
    Column("account_id", Text(), nullable=False),
    Column("route", Text(), nullable=False),  # `POST /api/v1/minigroups/{id}/events`
    Column("key", Text(), nullable=False),
    Column("fingerprint", Text(), nullable=False),  # SHA-256 hex of the request body
    Column("claim", Uuid(), nullable=True),  # the running request; NULL once answered
    Column("locked_until", UtcDateTime(), nullable=True),  # a running claim after this is stale
    Column("status", Integer(), nullable=True),  # the answer: NULL while running
    Column("headers", json_type(), nullable=True),  # [[name, value], ...]
    Column("body", LargeBinary(), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Index("idempotency_key_expires_at", "expires_at"),
)

# Webhooks (issue 10): a tenant's endpoints, one delivery per event and endpoint (itself a
# leased queue, sent by the webhook sender), and every attempt of a delivery (its log).
webhook_endpoint = Table(
    "webhook_endpoint",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("audience", Text(), nullable=False),
    Column("url", Text(), nullable=False),
    Column("description", Text(), nullable=False, server_default=text("''")),
    Column("events", json_type(), nullable=False),  # event types, or ["*"]
    Column("secret", Text(), nullable=False),  # `whsec_...`: HMAC needs the secret itself
    Column("previous_secret", Text(), nullable=True),  # signs too until previous_secret_until
    Column("previous_secret_until", UtcDateTime(), nullable=True),
    Column("enabled", Boolean(), nullable=False, server_default=true()),
    Column("disabled_at", UtcDateTime(), nullable=True),
    Column("disabled_reason", Text(), nullable=True),
    Column("failing_since", UtcDateTime(), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Index("webhook_endpoint_audience", "audience", "created_at"),
)

webhook_delivery = Table(
    "webhook_delivery",
    metadata,
    *_queue_columns(),
    Column(
        "endpoint_id",
        Uuid(),
        ForeignKey("webhook_endpoint.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("event_type", Text(), nullable=False),
    Column("body", Text(), nullable=False),  # the JSON text, signed and sent as it is
    Column("created_at", UtcDateTime(), nullable=False),
    Column("settled_at", UtcDateTime(), nullable=True),  # succeeded or failed
    Index("webhook_delivery_due", "status", "next_attempt_at"),
    Index("webhook_delivery_log", "endpoint_id", "created_at"),
)

webhook_attempt = Table(
    "webhook_attempt",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column(
        "delivery_id",
        Uuid(),
        ForeignKey("webhook_delivery.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("attempted_at", UtcDateTime(), nullable=False),
    Column("status_code", Integer(), nullable=True),  # None: no answer (see error)
    Column("error", Text(), nullable=True),
    Column("duration_ms", Integer(), nullable=False),
    Column("response", Text(), nullable=True),  # the start of the answer's body
    Column("next_attempt_at", UtcDateTime(), nullable=True),  # None: no attempt follows
    Index("webhook_attempt_delivery", "delivery_id", "attempted_at"),
)
