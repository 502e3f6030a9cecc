"""Recordings, account properties and viewing positions (http-api.md §6.3-§6.5)."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from minigroups.adapters.db.errors import translated
from minigroups.adapters.db.tables import account, record_timestamp, recording
from minigroups.domain.ids import AccountId
from minigroups.domain.minigroup import JsonObject, Recording, Segments
from minigroups.ports import Viewer

_r = recording.c
_LIVE_RECORDINGS = (
    select(recording)
    .where(_r.class_id == bindparam("p_class_id"), _r.deleted_at.is_(None))
    .order_by(_r.created_at, _r.id)  # D4
)
_ACCOUNT_PROPERTIES = select(account.c.properties).where(account.c.id == bindparam("p_id"))
_LOCK_ACCOUNT = _ACCOUNT_PROPERTIES.with_for_update()
_POSITION = select(record_timestamp.c.position_secs).where(
    record_timestamp.c.class_id == bindparam("p_class_id"),
    record_timestamp.c.account_id == bindparam("p_account_id"),
)

_VIEWER = select(
    _ACCOUNT_PROPERTIES.scalar_subquery().label("properties"),
    _POSITION.scalar_subquery().label("position"),
)


@functools.cache
def _insert(dialect_name: str, table_name: str) -> postgresql.Insert | sqlite.Insert:
    """The dialect's INSERT, which knows ON CONFLICT."""
    insert = postgresql.insert if dialect_name == "postgresql" else sqlite.insert
    table = {"account": account, "record_timestamp": record_timestamp}[table_name]
    return insert(table)


def _segments(value: Any) -> Segments | None:
    return None if value is None else [(int(start), int(end)) for start, end in value]


def _to_recording(row: Row[Any]) -> Recording:
    return Recording(
        id=row.id,
        class_id=row.class_id,
        rtc_id=row.rtc_id,
        created_by=row.created_by,
        created_at=row.created_at,
        started_at=row.started_at,
        segments=_segments(row.segments),
        modified_segments=_segments(row.modified_segments),
        stream_uri=row.stream_uri,
        adjusted_at=row.adjusted_at,
        transcoded_at=row.transcoded_at,
    )


def _segments_json(segments: Segments | None) -> list[list[int]] | None:
    return None if segments is None else [[start, end] for start, end in segments]


class SqlRecordingRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    @translated
    async def list_live(self, class_id: UUID) -> list[Recording]:
        result = await self._connection.execute(_LIVE_RECORDINGS, {"p_class_id": class_id})
        return [_to_recording(row) for row in result]

    @translated
    async def soft_delete_all(self, class_id: UUID, now: datetime) -> None:
        await self._connection.execute(
            update(recording)
            .where(_r.class_id == class_id, _r.deleted_at.is_(None))
            .values(deleted_at=now)
        )

    @translated
    async def add(self, new: Recording) -> None:
        """Store a recording (the pipeline's write; also a test helper)."""
        await self._connection.execute(
            recording.insert().values(
                id=new.id,
                class_id=new.class_id,
                rtc_id=new.rtc_id,
                created_by=new.created_by,
                created_at=new.created_at,
                started_at=new.started_at,
                segments=_segments_json(new.segments),
                modified_segments=_segments_json(new.modified_segments),
                stream_uri=new.stream_uri,
                adjusted_at=new.adjusted_at,
                transcoded_at=new.transcoded_at,
            )
        )


class SqlAccountRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    @translated
    async def get_properties(self, account_id: AccountId) -> JsonObject | None:
        result = await self._connection.execute(_ACCOUNT_PROPERTIES, {"p_id": str(account_id)})
        properties: JsonObject | None = result.scalar_one_or_none()
        return properties

    @translated
    async def get_viewer(self, account_id: AccountId, class_id: UUID) -> Viewer:
        result = await self._connection.execute(
            _VIEWER,
            {"p_id": str(account_id), "p_account_id": str(account_id), "p_class_id": class_id},
        )
        row = result.one()
        return Viewer(properties=row.properties, position=row.position)

    @translated
    async def lock_properties(self, account_id: AccountId) -> JsonObject:
        insert = _insert(self._connection.dialect.name, "account")
        await self._connection.execute(
            insert.values(id=str(account_id), properties={}).on_conflict_do_nothing(
                index_elements=[account.c.id]
            )
        )
        result = await self._connection.execute(_LOCK_ACCOUNT, {"p_id": str(account_id)})
        properties: JsonObject = result.scalar_one()
        return properties

    @translated
    async def set_properties(self, account_id: AccountId, properties: JsonObject) -> None:
        insert = _insert(self._connection.dialect.name, "account")
        statement = insert.values(id=str(account_id), properties=properties)
        await self._connection.execute(
            statement.on_conflict_do_update(
                index_elements=[account.c.id],
                set_={"properties": statement.excluded.properties},
            )
        )


class SqlPositionRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    @translated
    async def get(self, class_id: UUID, account_id: AccountId) -> int | None:
        result = await self._connection.execute(
            _POSITION, {"p_class_id": class_id, "p_account_id": str(account_id)}
        )
        position: int | None = result.scalar_one_or_none()
        return position

    @translated
    async def save(self, class_id: UUID, account_id: AccountId, position_secs: int) -> None:
        now = datetime.now(UTC)
        insert = _insert(self._connection.dialect.name, "record_timestamp")
        statement = insert.values(
            class_id=class_id,
            account_id=str(account_id),
            position_secs=position_secs,
            created_at=now,
            updated_at=now,
        )
        await self._connection.execute(
            statement.on_conflict_do_update(
                index_elements=[record_timestamp.c.class_id, record_timestamp.c.account_id],
                set_={
                    "position_secs": statement.excluded.position_secs,
                    "updated_at": statement.excluded.updated_at,
                },
            )
        )
