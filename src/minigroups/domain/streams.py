"""The streams of a transcoding task: offsets, pins and mutes per recording (upstream §6.8)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from minigroups.domain.errors import NoHostRecording, RecordingsNotReady
from minigroups.domain.json_value import JsonObject
from minigroups.domain.minigroup import Recording, Segments
from minigroups.domain.timerange import to_unix_ms

_NS_PER_MS = 1_000_000


class AgentEvent(Protocol):
    """A `host` or `pin` event of an event room (what `ports.RoomEvent` carries)."""

    @property
    def agent_id(self) -> str | None: ...

    @property
    def occurred_at(self) -> int:
        """Nanoseconds since the room opened."""
        ...


class ConfigSnapshot(Protocol):
    """A writer config snapshot of a conference room (as `ports.WriterConfigSnapshot` has it)."""

    @property
    def rtc_id(self) -> UUID: ...

    @property
    def send_video(self) -> bool | None: ...

    @property
    def send_audio(self) -> bool | None: ...

    @property
    def created_at(self) -> int:
        """Unix milliseconds."""
        ...


@dataclass(frozen=True, slots=True)
class Stream:
    """One recording as the `transcode-minigroup-to-hls` template takes it; all times in ms."""

    id: UUID
    uri: str
    offset: int
    segments: Segments
    modified_segments: Segments
    pin_segments: Segments
    video_mute_segments: Segments
    audio_mute_segments: Segments


@dataclass(frozen=True, slots=True)
class _Ready:
    """A ready recording with its optional fields resolved and its start in unix ms."""

    rtc_id: UUID
    created_by: str
    stream_uri: str
    started_at: int
    segments: Segments
    modified_segments: Segments


def host_agent(host_events: Sequence[AgentEvent]) -> str | None:
    """The agent of the first `host` event, or None without one (D19: `class.host` is unused)."""
    return host_events[0].agent_id if host_events else None


def require_ready(recordings: Sequence[Recording]) -> None:
    """Raise `RecordingsNotReady` unless every recording has its stream, segments and start."""
    for recording in recordings:
        _ready(recording)


def host_recording(recordings: Sequence[Recording], host: str) -> Recording:
    """The recording made by the host agent (exact agent id equality), else `NoHostRecording`."""
    for recording in recordings:
        if recording.created_by == host:
            return recording
    raise NoHostRecording("No host stream id in room")


def build_streams(
    recordings: Sequence[Recording],
    host: Recording,
    *,
    preroll_offset: int,
    pins: Sequence[AgentEvent],
    snapshots: Sequence[ConfigSnapshot],
) -> list[Stream]:
    """One stream per recording, in the given (D4) order (contract.md upstream §6.8, HTTP §7.4)."""
    ready = [_ready(recording) for recording in recordings]
    if not ready:
        return []
    ready_host = _ready(host)
    earliest = min(recording.started_at for recording in ready)
    # The event room opened `preroll_offset` ms before the host's recording started.
    room_opened_at = ready_host.started_at - preroll_offset
    return [_stream(recording, earliest, room_opened_at, pins, snapshots) for recording in ready]


def pin_segments(
    pins: Sequence[AgentEvent], author: str, *, room_offset: int, recording_end: int
) -> Segments:
    """Where `author` is pinned, in ms of their recording, starting `room_offset` into the room.

    A pin by the author opens (repeats are ignored); any other pin event closes.
    """
    segments: Segments = []
    pinned_since: int | None = None
    for pin in pins:
        position = _ns_to_ms(pin.occurred_at) - room_offset
        if pin.agent_id == author:
            if pinned_since is None:
                pinned_since = position
        elif pinned_since is not None:
            _keep_pin(segments, (pinned_since, position), recording_end)
            pinned_since = None
    if pinned_since is not None:
        _keep_pin(segments, (pinned_since, recording_end), recording_end)
    return segments


def mute_segments(
    snapshots: Sequence[ConfigSnapshot], rtc_id: UUID, *, started_at: int, recording_end: int
) -> tuple[Segments, Segments]:
    """(video, audio) mutes of one rtc in ms of its recording, started at unix ms `started_at`.

    `false` opens a mute, `true` closes it, `null` does neither; still open → closed at the end.
    """
    relevant = [
        (snapshot, snapshot.created_at - started_at)
        for snapshot in snapshots
        if snapshot.rtc_id == rtc_id and 0 < snapshot.created_at - started_at < recording_end
    ]
    video = _mutes([(sent.send_video, at) for sent, at in relevant], recording_end)
    audio = _mutes([(sent.send_audio, at) for sent, at in relevant], recording_end)
    return video, audio


def stream_binding(stream: Stream) -> JsonObject:
    """The stream as one element of the task's `streams` binding (contract.md upstream §5.1)."""
    return {
        "id": str(stream.id),
        "uri": stream.uri,
        "offset": stream.offset,
        "segments": _pairs(stream.segments),
        "modified_segments": _pairs(stream.modified_segments),
        "pin_segments": _pairs(stream.pin_segments),
        "video_mute_segments": _pairs(stream.video_mute_segments),
        "audio_mute_segments": _pairs(stream.audio_mute_segments),
    }


def _stream(
    recording: _Ready,
    earliest: int,
    room_opened_at: int,
    pins: Sequence[AgentEvent],
    snapshots: Sequence[ConfigSnapshot],
) -> Stream:
    recording_end = recording.segments[-1][1]
    video, audio = mute_segments(
        snapshots, recording.rtc_id, started_at=recording.started_at, recording_end=recording_end
    )
    return Stream(
        id=recording.rtc_id,
        uri=recording.stream_uri,
        offset=recording.started_at - earliest,
        segments=list(recording.segments),
        modified_segments=list(recording.modified_segments),
        pin_segments=pin_segments(
            pins,
            recording.created_by,
            room_offset=recording.started_at - room_opened_at,
            recording_end=recording_end,
        ),
        video_mute_segments=video,
        audio_mute_segments=audio,
    )


def _ready(recording: Recording) -> _Ready:
    stream_uri, segments, started_at = (
        recording.stream_uri,
        recording.segments,
        recording.started_at,
    )
    if stream_uri is None or segments is None or started_at is None:
        raise RecordingsNotReady("Not all recordings are ready")
    if not segments:
        raise RecordingsNotReady(f"The recording of rtc {recording.rtc_id} has no segments")
    modified = recording.modified_segments
    return _Ready(
        rtc_id=recording.rtc_id,
        created_by=recording.created_by,
        stream_uri=stream_uri,
        started_at=to_unix_ms(started_at),
        segments=segments,
        modified_segments=segments if modified is None else modified,
    )


def _keep_pin(segments: Segments, candidate: tuple[int, int], recording_end: int) -> None:
    """Keep a pin only if it is non-empty and inside the recording; never clip it.

    Upstream §6.8 says `start <= end`, but the reference's test (upstream §10 item 7) shows that a
    pin and unpin within one millisecond give nothing, so the end must be strictly after the start.
    """
    start, end = candidate
    if 0 <= start < end <= recording_end:
        segments.append(candidate)


def _mutes(states: Sequence[tuple[bool | None, int]], recording_end: int) -> Segments:
    segments: Segments = []
    muted_since: int | None = None
    for sending, at in states:
        if sending is False and muted_since is None:
            muted_since = at
        elif sending is True and muted_since is not None:
            segments.append((muted_since, at))
            muted_since = None
    if muted_since is not None:
        segments.append((muted_since, recording_end))
    return segments


def _ns_to_ms(nanoseconds: int) -> int:
    """Integer division truncating toward zero, as the reference's `i64 / 1_000_000`."""
    quotient = abs(nanoseconds) // _NS_PER_MS
    return quotient if nanoseconds >= 0 else -quotient


def _pairs(segments: Segments) -> list[list[int]]:
    return [[start, end] for start, end in segments]
