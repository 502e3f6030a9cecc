"""Row mappers shared by the repositories: a row of `class` or `recording` as a domain object."""

from __future__ import annotations

from typing import Any

from minigroups.domain.minigroup import Minigroup, Recording, Segments
from minigroups.domain.timerange import TimeRange


def minigroup_from_row(row: Any) -> Minigroup:
    return Minigroup(
        id=row.id,
        scope=row.scope,
        audience=row.audience,
        time=TimeRange(row.time_start, row.time_end),
        created_at=row.created_at,
        event_room_id=row.event_room_id,
        conference_room_id=row.conference_room_id,
        tags=row.tags,
        properties=row.properties,
        original_event_room_id=row.original_event_room_id,
        modified_event_room_id=row.modified_event_room_id,
        preserve_history=row.preserve_history,
        reserve=row.reserve,
        room_events_uri=row.room_events_uri,
        host=row.host,
        timed_out=row.timed_out,
        original_class_id=row.original_class_id,
        content_id=row.content_id,
        kind=row.kind,
    )


def _segments_from_json(value: Any) -> Segments | None:
    return None if value is None else [(int(start), int(end)) for start, end in value]


def recording_from_row(row: Any) -> Recording:
    """A `Recording` from a row (or anything with its columns as attributes)."""
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
