"""The `recording` table: one live recording per participant of a class (contract.md HTTP §6.3)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import bindparam, delete, select, text, update

from minigroups.adapters.db.connection import Prepared, TranslatingConnection
from minigroups.adapters.db.rows import recording_from_row
from minigroups.adapters.db.tables import class_, recording
from minigroups.adapters.db.upsert import insert_into
from minigroups.domain.listing import recording_stage
from minigroups.domain.minigroup import Recording, Segments

_r = recording.c
_LIVE = _r.deleted_at.is_(None)
# The pipeline's statements: `Prepared` (run by asyncpg directly on PostgreSQL).
_LIVE_RECORDINGS = Prepared(
    select(recording)
    .where(_r.class_id == bindparam("p_class_id"), _LIVE)
    .order_by(_r.created_at, _r.id)  # D4
)
_LIVE_RECORDINGS_OF = (
    select(recording)
    .where(_r.class_id.in_(bindparam("p_class_ids", expanding=True)), _LIVE)
    .order_by(_r.class_id, _r.created_at, _r.id)
)
# SQLite renders no FOR UPDATE: its writer holds the database (BEGIN IMMEDIATE) anyway.
_LOCK_CLASS = Prepared(
    select(class_.c.id).where(class_.c.id == bindparam("p_class_id")).with_for_update()
)
_SET_STAGE = Prepared(
    update(class_)
    .where(class_.c.id == bindparam("p_class_id"))
    .values(recording_stage=bindparam("p_stage"))
)

_SET_CONVERTED = Prepared(
    update(recording)
    .where(_r.class_id == bindparam("p_class_id"), _r.rtc_id == bindparam("p_rtc_id"), _LIVE)
    .values(
        stream_uri=bindparam("p_stream_uri"),
        segments=bindparam("p_segments"),
        started_at=bindparam("p_started_at"),
    )
)
_SET_MODIFIED_SEGMENTS = Prepared(
    update(recording)
    .where(_r.id == bindparam("p_id"))
    .values(modified_segments=bindparam("p_segments"), adjusted_at=bindparam("p_adjusted_at"))
    .returning(_r.class_id)
)
_MARK_TRANSCODED = Prepared(
    update(recording)
    .where(_r.class_id == bindparam("p_class_id"), _LIVE)
    .values(transcoded_at=bindparam("p_now"))
)


# A new rtc's recording starts again: no conversion, adjustment or transcoding yet.
_CLEARED_FOR_A_NEW_RTC = (
    "stream_uri",
    "segments",
    "modified_segments",
    "started_at",
    "adjusted_at",
    "transcoded_at",
)


@functools.cache
def _upsert_uploaded(dialect_name: str) -> Prepared:
    """A participant's recording: new, or reset for a new rtc. The same rtc again is a
    redelivery, which keeps its conversion and adjustment."""
    statement = insert_into(dialect_name, recording).values(
        id=bindparam("p_id"),
        class_id=bindparam("p_class_id"),
        rtc_id=bindparam("p_rtc_id"),
        created_by=bindparam("p_created_by"),
        created_at=bindparam("p_now"),
    )
    reset: dict[str, Any] = {
        "rtc_id": statement.excluded.rtc_id,
        "created_at": statement.excluded.created_at,
        **dict.fromkeys(_CLEARED_FOR_A_NEW_RTC, None),
    }
    return Prepared(
        statement.on_conflict_do_update(
            index_elements=[_r.class_id, _r.created_by],
            index_where=text("deleted_at IS NULL"),
            set_=reset,
            where=_r.rtc_id != statement.excluded.rtc_id,
        )
    )


def _segments_to_json(segments: Segments | None) -> list[list[int]] | None:
    return None if segments is None else [[start, end] for start, end in segments]


class SqlRecordingRepository:
    """Recordings; the classes whose recordings it wrote get their stage in `sync_stages`."""

    def __init__(self, connection: TranslatingConnection, locked: set[UUID] | None = None) -> None:
        self._connection = connection
        self._touched: set[UUID] = set()
        # The class rows this unit of work locked already (its minigroups' `lock`, `find_by_room`).
        self._locked = set() if locked is None else locked

    async def list_live(self, class_id: UUID) -> list[Recording]:
        rows = await self._connection.rows(_LIVE_RECORDINGS, {"p_class_id": class_id})
        return [recording_from_row(row) for row in rows]

    async def list_live_of(self, class_ids: Sequence[UUID]) -> dict[UUID, list[Recording]]:
        found: dict[UUID, list[Recording]] = {}
        if not class_ids:
            return found
        rows = await self._connection.all(_LIVE_RECORDINGS_OF, {"p_class_ids": list(class_ids)})
        for row in rows:
            found.setdefault(row.class_id, []).append(recording_from_row(row))
        return found

    async def sync_stages(self) -> None:
        """Store `recording_stage` of every class whose recordings this unit of work wrote.

        Called by the unit of work right before it commits. The class row is locked first, and
        the recordings are read by a later statement, which on PostgreSQL (read committed) sees
        every transaction that held the lock before: the last writer to commit stores the stage
        of what is committed. The pipeline's writers lock the class row before they write, so
        for them the lock is held already and not taken again (one statement fewer).
        """
        touched, self._touched = sorted(self._touched), set()
        for class_id in touched:
            if class_id not in self._locked:
                await self._connection.rows(_LOCK_CLASS, {"p_class_id": class_id})
                self._locked.add(class_id)
            stage = recording_stage(await self.list_live(class_id))
            await self._connection.run(_SET_STAGE, {"p_class_id": class_id, "p_stage": stage})

    async def soft_delete_all(self, class_id: UUID, now: datetime) -> None:
        self._touched.add(class_id)
        await self._connection.execute(
            update(recording)
            .where(_r.class_id == class_id, _r.deleted_at.is_(None))
            .values(deleted_at=now)
        )

    async def add(self, new: Recording) -> None:
        """Store a recording (the pipeline's write; also a test helper)."""
        self._touched.add(new.class_id)
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
        self._touched.add(class_id)
        params = {
            "p_id": uuid4(),
            "p_class_id": class_id,
            "p_rtc_id": rtc_id,
            "p_created_by": created_by,
            "p_now": now,
        }
        await self._connection.run(_upsert_uploaded(self._connection.dialect_name), params)

    async def set_converted(
        self,
        class_id: UUID,
        rtc_id: UUID,
        stream_uri: str,
        segments: Segments,
        started_at: datetime,
    ) -> bool:
        params = {
            "p_class_id": class_id,
            "p_rtc_id": rtc_id,
            "p_stream_uri": stream_uri,
            "p_segments": _segments_to_json(segments),
            "p_started_at": started_at,
        }
        return bool(await self._connection.run(_SET_CONVERTED, params))

    async def remove(self, class_id: UUID, rtc_id: UUID) -> None:
        self._touched.add(class_id)
        await self._connection.execute(
            delete(recording).where(_r.class_id == class_id, _r.rtc_id == rtc_id, _LIVE)
        )

    async def set_modified_segments(
        self, recording_id: UUID, segments: Segments, adjusted_at: datetime
    ) -> None:
        params = {
            "p_id": recording_id,
            "p_segments": _segments_to_json(segments),
            "p_adjusted_at": adjusted_at,
        }
        rows = await self._connection.rows(_SET_MODIFIED_SEGMENTS, params)
        for row in rows:
            self._touched.add(row.class_id)

    async def mark_transcoded(self, class_id: UUID, now: datetime) -> int:
        self._touched.add(class_id)
        return await self._connection.run(_MARK_TRANSCODED, {"p_class_id": class_id, "p_now": now})
