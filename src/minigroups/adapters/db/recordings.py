"""The `recording` table: one live recording per participant of a class (contract.md HTTP §6.3)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import Row, bindparam, delete, select, text, update

from minigroups.adapters.db.connection import TranslatingConnection
from minigroups.adapters.db.tables import recording
from minigroups.adapters.db.upsert import insert_into
from minigroups.domain.minigroup import Recording, Segments

_r = recording.c
_LIVE = _r.deleted_at.is_(None)
_LIVE_RECORDINGS = (
    select(recording)
    .where(_r.class_id == bindparam("p_class_id"), _LIVE)
    .order_by(_r.created_at, _r.id)  # D4
)


def _segments_from_json(value: Any) -> Segments | None:
    return None if value is None else [(int(start), int(end)) for start, end in value]


def _recording_from_row(row: Row[Any]) -> Recording:
    return Recording(
        id=row.id,
        class_id=row.class_id,
        rtc_id=row.rtc_id,
        created_by=row.created_by,
        created_at=row.created_at,
        started_at=row.started_at,
        segments=_segments_from_json(row.segments),
        modified_segments=_segments_from_json(row.modified_segments),
        stream_uri=row.stream_uri,
        adjusted_at=row.adjusted_at,
        transcoded_at=row.transcoded_at,
    )


def _segments_to_json(segments: Segments | None) -> list[list[int]] | None:
    return None if segments is None else [[start, end] for start, end in segments]


class SqlRecordingRepository:
    def __init__(self, connection: TranslatingConnection) -> None:
        self._connection = connection

    async def list_live(self, class_id: UUID) -> list[Recording]:
        rows = await self._connection.all(_LIVE_RECORDINGS, {"p_class_id": class_id})
        return [_recording_from_row(row) for row in rows]

    async def soft_delete_all(self, class_id: UUID, now: datetime) -> None:
        await self._connection.execute(
            update(recording)
            .where(_r.class_id == class_id, _r.deleted_at.is_(None))
            .values(deleted_at=now)
        )

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
                segments=_segments_to_json(new.segments),
                modified_segments=_segments_to_json(new.modified_segments),
                stream_uri=new.stream_uri,
                adjusted_at=new.adjusted_at,
                transcoded_at=new.transcoded_at,
            )
        )

    async def upsert_uploaded(
        self, class_id: UUID, rtc_id: UUID, created_by: str, now: datetime
    ) -> None:
        statement = insert_into(self._connection.dialect_name, recording).values(
            id=uuid4(), class_id=class_id, rtc_id=rtc_id, created_by=created_by, created_at=now
        )
        reset: dict[str, Any] = {
            "rtc_id": statement.excluded.rtc_id,
            "created_at": statement.excluded.created_at,
        }
        for column in ("stream_uri", "segments", "modified_segments", "started_at"):
            reset[column] = None
        reset["adjusted_at"] = None
        reset["transcoded_at"] = None
        await self._connection.execute(
            statement.on_conflict_do_update(
                index_elements=[_r.class_id, _r.created_by],
                index_where=text("deleted_at IS NULL"),
                set_=reset,
                # The same rtc again is a redelivery: keep its conversion and adjustment.
                where=_r.rtc_id != statement.excluded.rtc_id,
            )
        )

    async def set_converted(
        self,
        class_id: UUID,
        rtc_id: UUID,
        stream_uri: str,
        segments: Segments,
        started_at: datetime,
    ) -> bool:
        matched = await self._connection.execute(
            update(recording)
            .where(_r.class_id == class_id, _r.rtc_id == rtc_id, _LIVE)
            .values(
                stream_uri=stream_uri, segments=_segments_to_json(segments), started_at=started_at
            )
        )
        return bool(matched)

    async def remove(self, class_id: UUID, rtc_id: UUID) -> None:
        await self._connection.execute(
            delete(recording).where(_r.class_id == class_id, _r.rtc_id == rtc_id, _LIVE)
        )

    async def set_modified_segments(
        self, recording_id: UUID, segments: Segments, adjusted_at: datetime
    ) -> None:
        await self._connection.execute(
            update(recording)
            .where(_r.id == recording_id)
            .values(modified_segments=_segments_to_json(segments), adjusted_at=adjusted_at)
        )

    async def mark_transcoded(self, class_id: UUID, now: datetime) -> int:
        return await self._connection.execute(
            update(recording).where(_r.class_id == class_id, _LIVE).values(transcoded_at=now)
        )
