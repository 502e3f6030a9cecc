"""The lifecycle events the pipeline handles, as use-case inputs (parsed from the wire)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol
from uuid import UUID

from minigroups.domain.minigroup import Segments


@dataclass(frozen=True, slots=True)
class RoomClosed:
    """`room.close` from the conference (or event) service (upstream §6.1)."""

    room_id: UUID
    publisher: Literal["event", "conference"]
    timed_out: bool


@dataclass(frozen=True, slots=True)
class UploadedRtc:
    rtc_id: UUID
    created_by: str
    uri: str
    mjr_dumps_uris: list[str]


@dataclass(frozen=True, slots=True)
class RoomUploaded:
    """`room.upload`: the conference room's recorded rtcs (upstream §6.2)."""

    room_id: UUID
    ready: list[UploadedRtc]
    missing: list[UUID]


@dataclass(frozen=True, slots=True)
class StreamConverted:
    """tq `task.complete` of `convert-mjr-dumps-to-stream` (upstream §6.3)."""

    conference_room_id: UUID
    stream_id: UUID
    stream_uri: str
    segments: str


@dataclass(frozen=True, slots=True)
class MinigroupTranscoded:
    """tq `task.complete` of `transcode-minigroup-to-hls` (upstream §6.5)."""

    conference_room_id: UUID
    recording_duration: str


@dataclass(frozen=True, slots=True)
class TaskFailed:
    """tq `task.complete` with status failure: only logged (upstream §5.2)."""

    template: str | None
    error: object


@dataclass(frozen=True, slots=True)
class RoomAdjusted:
    """`room.adjust` success (upstream §6.4), or `edition.commit` (§6.7) when `edition` is set."""

    room_id: UUID  # the real-time room (adjust) or the original room (edition)
    original_room_id: UUID
    modified_room_id: UUID
    cut_original_segments: Segments
    edition: bool = False


@dataclass(frozen=True, slots=True)
class EventsDumped:
    """`room.dump_events` success (upstream §6.6)."""

    room_id: UUID
    s3_uri: str


PipelineEvent = (
    RoomClosed
    | RoomUploaded
    | StreamConverted
    | MinigroupTranscoded
    | TaskFailed
    | RoomAdjusted
    | EventsDumped
)


class LifecycleDecoder(Protocol):
    """Reads a recorded event's payload into the input of its use case (an adapter's job)."""

    @property
    def labels(self) -> frozenset[str]:
        """The event labels the pipeline handles; the others are not recorded."""
        ...

    def decode(self, label: str, topic: str, payload: str) -> PipelineEvent | None:
        """The use-case input, or None for an event of a handled label that asks nothing."""
        ...
