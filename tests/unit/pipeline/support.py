"""Builders for the pipeline tests: minigroups, recordings, the peers' pins and snapshots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from minigroups.domain.minigroup import Minigroup, Recording, Segments
from minigroups.domain.timerange import TimeRange
from minigroups.ports import RoomEvent, WriterConfigSnapshot

# Sub-millisecond part on purpose: starts are compared in whole (floored) milliseconds.
NOW = datetime(2026, 3, 1, 12, 0, 0, 123_456, tzinfo=UTC)
CLASS_ID = UUID("6f6b1c2e-4c1a-4d55-9f43-0d5ad1f0a001")
CONFERENCE_ROOM_ID = UUID("6f6b1c2e-4c1a-4d55-9f43-0d5ad1f0a002")
EVENT_ROOM_ID = UUID("6f6b1c2e-4c1a-4d55-9f43-0d5ad1f0a003")
MODIFIED_ROOM_ID = UUID("6f6b1c2e-4c1a-4d55-9f43-0d5ad1f0a004")
RTC1 = UUID("00000000-0000-4000-8000-000000000001")
RTC2 = UUID("00000000-0000-4000-8000-000000000002")
USER1 = "web.user1.dev.usr.example.com"
USER2 = "web.user2.dev.usr.example.com"
AUDIENCE = "dev.usr.example.com"
SCOPE = "minigroup-abc"


def minigroup(tags: object = None) -> Minigroup:
    return Minigroup(
        id=CLASS_ID,
        scope=SCOPE,
        audience=AUDIENCE,
        time=TimeRange(NOW - timedelta(hours=1), NOW - timedelta(minutes=10)),
        created_at=NOW - timedelta(hours=2),
        event_room_id=EVENT_ROOM_ID,
        conference_room_id=CONFERENCE_ROOM_ID,
        tags=tags,
        modified_event_room_id=MODIFIED_ROOM_ID,
    )


def recording(
    rtc_id: UUID,
    created_by: str,
    *,
    started_at: datetime | None,
    segments: Segments | None,
    modified_segments: Segments | None = None,
    created: int = 0,
) -> Recording:
    return Recording(
        id=uuid4(),
        class_id=CLASS_ID,
        rtc_id=rtc_id,
        created_by=created_by,
        created_at=NOW - timedelta(hours=1) + timedelta(seconds=created),
        started_at=started_at,
        segments=segments,
        modified_segments=modified_segments,
        stream_uri=stream_uri_of(rtc_id),
    )


def stream_uri_of(rtc_id: UUID) -> str:
    return f"s3://origin.webinar.dev.usr.example.com/{rtc_id}.webm"


def pin(agent_id: str | None, occurred_at_ns: int) -> RoomEvent:
    return event("pin", agent_id, occurred_at_ns)


def host(agent_id: str, occurred_at_ns: int = 0) -> RoomEvent:
    return event("host", agent_id, occurred_at_ns)


def event(kind: str, agent_id: str | None, occurred_at_ns: int) -> RoomEvent:
    assert kind in ("host", "pin")
    return RoomEvent(
        id=uuid4(),
        room_id=MODIFIED_ROOM_ID,
        kind="host" if kind == "host" else "pin",
        set=kind,
        label=None,
        agent_id=agent_id,
        occurred_at=occurred_at_ns,
        created_by=USER1,
        created_at=0,
    )


def snapshot(
    rtc_id: UUID, created_at: int, *, video: bool | None = None, audio: bool | None = None
) -> WriterConfigSnapshot:
    return WriterConfigSnapshot(
        rtc_id=rtc_id, send_video=video, send_audio=audio, created_at=created_at
    )
