"""A minigroup, its recordings, and the rules that derive what readers see (HTTP §3, D4)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from uuid import UUID

from minigroups.domain.json_value import JsonObject, JsonValue
from minigroups.domain.timerange import TimeRange

Segments = list[tuple[int, int]]

MAX_POSITION_SECS = 86_400


@dataclass(frozen=True, slots=True)
class Minigroup:
    """An established minigroup (a `class` row of kind minigroup with both rooms)."""

    id: UUID
    scope: str
    audience: str
    time: TimeRange
    created_at: datetime
    event_room_id: UUID
    conference_room_id: UUID
    tags: JsonValue = None
    properties: JsonObject = field(default_factory=dict)
    original_event_room_id: UUID | None = None
    modified_event_room_id: UUID | None = None
    preserve_history: bool = True
    reserve: int | None = None
    room_events_uri: str | None = None
    host: str | None = None
    timed_out: bool = False
    original_class_id: UUID | None = None
    content_id: str | None = None
    kind: str = "minigroup"


@dataclass(frozen=True, slots=True)
class Recording:
    """One participant's recorded stream of a minigroup."""

    id: UUID
    class_id: UUID
    rtc_id: UUID
    created_by: str
    created_at: datetime
    started_at: datetime | None = None
    segments: Segments | None = None
    modified_segments: Segments | None = None
    stream_uri: str | None = None
    adjusted_at: datetime | None = None
    transcoded_at: datetime | None = None

    @property
    def is_ready(self) -> bool:
        """Converted: the stream, its segments and its start are known."""
        return (
            self.stream_uri is not None
            and self.segments is not None
            and self.started_at is not None
        )


class Status(Enum):
    """What a reader is told about the minigroup's progress."""

    REAL_TIME = "real-time"
    CLOSED = "closed"
    FINISHED = "finished"
    ADJUSTED = "adjusted"
    TRANSCODED = "transcoded"


@dataclass(frozen=True, slots=True)
class Version:
    """One on-demand version (`original` or `modified`) of a recorded minigroup."""

    version: str
    event_room_id: UUID
    stream_id: UUID
    room_events_uri: str | None = None


@dataclass(frozen=True, slots=True)
class Playback:
    """Status, versions and live rtc id derived from a minigroup and its live recordings."""

    status: Status
    versions: list[Version]
    rtc_id: UUID | None

    @property
    def shows_position(self) -> bool:
        return self.status is Status.TRANSCODED


def sort_recordings(recordings: Iterable[Recording]) -> list[Recording]:
    """The one recording order used everywhere (D4)."""
    return sorted(recordings, key=lambda r: (r.created_at, r.id))


def recorded_status(recordings: Sequence[Recording]) -> Status | None:
    """FINISHED, ADJUSTED or TRANSCODED from the first live recording (D4); None without one.

    The listing filters on this, kept on the class row as `recording_stage` (docs/decisions.md,
    "Listing"); the time window decides between REAL_TIME and CLOSED when it is None.
    """
    if not recordings:
        return None
    first = sort_recordings(recordings)[0]
    if first.transcoded_at is not None:
        return Status.TRANSCODED
    if first.adjusted_at is not None:
        return Status.ADJUSTED
    return Status.FINISHED


def describe_playback(
    minigroup: Minigroup, recordings: Sequence[Recording], now: datetime
) -> Playback:
    """Status and on-demand versions (HTTP §3 step 6), from the first recording by D4."""
    status = recorded_status(recordings)
    if status is None:
        status = Status.CLOSED if minigroup.time.has_ended(now) else Status.REAL_TIME
        return Playback(status, [], None)
    first = sort_recordings(recordings)[0]
    versions: list[Version] = []
    if minigroup.original_event_room_id is not None:
        versions.append(Version("original", minigroup.original_event_room_id, first.rtc_id))
    if status is Status.TRANSCODED and minigroup.modified_event_room_id is not None:
        versions.append(
            Version(
                "modified",
                minigroup.modified_event_room_id,
                first.rtc_id,
                minigroup.room_events_uri,
            )
        )
    return Playback(status, versions, first.rtc_id)


def filter_properties(
    properties: Mapping[str, JsonValue], keys: Sequence[str] | None
) -> JsonObject:
    """Only the listed keys that exist; no key list means nothing (contract.md HTTP §3 step 4)."""
    if keys is None:
        return {}
    return {key: properties[key] for key in keys if key in properties}


def clamp_position(position: int) -> int:
    """A viewing position in seconds, clamped to 0..86400 (D10)."""
    return max(0, min(position, MAX_POSITION_SECS))
