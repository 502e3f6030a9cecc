"""The peers' lifecycle events on the wire (contract.md upstream §5.2, §6.1-§6.7), decoded into the
pipeline's use-case inputs."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec

from minigroups.domain.errors import LifecycleFailed
from minigroups.domain.tasks import CONVERT_TEMPLATE, TRANSCODE_TEMPLATE
from minigroups.services.pipeline.events import (
    EventsDumped,
    MinigroupTranscoded,
    PipelineEvent,
    RoomAdjusted,
    RoomClosed,
    RoomUploaded,
    StreamConverted,
    TaskFailed,
    UploadedRtc,
)


class MalformedEvent(ValueError):
    """The payload does not have the shape its label promises (a poison message)."""


class _RoomClose(msgspec.Struct):
    id: UUID
    audience: str
    time: tuple[int | None, int | None]
    timed_out: bool | None = None


class _ReadyRtc(msgspec.Struct, tag_field="status", tag="ready"):
    id: UUID
    created_by: str
    uri: str
    mjr_dumps_uris: list[str]


class _MissingRtc(msgspec.Struct, tag_field="status", tag="missing"):
    id: UUID


class _RoomUpload(msgspec.Struct):
    id: UUID
    rtcs: list[_ReadyRtc | _MissingRtc]


class _Tags(msgspec.Struct):
    conference_room_id: UUID


class _TaskComplete(msgspec.Struct):
    status: str
    tags: Any = None
    template: str | None = None
    stream_id: UUID | None = None
    stream_uri: str | None = None
    segments: str | None = None
    recording_duration: str | None = None
    error: Any = None


class _RoomAdjust(msgspec.Struct):
    room_id: UUID
    status: str
    original_room_id: UUID | None = None
    modified_room_id: UUID | None = None
    cut_original_segments: list[tuple[int, int]] | None = None
    error: Any = None


class _EditionCommit(msgspec.Struct):
    status: str
    source_room_id: UUID | None = None
    committed_room_id: UUID | None = None
    error: Any = None


class _DumpResult(msgspec.Struct):
    room_id: UUID | None = None
    s3_uri: str | None = None
    error: Any = None


class _RoomDump(msgspec.Struct):
    status: str
    result: _DumpResult


def _decode(payload: str, kind: type[Any]) -> Any:
    try:
        return msgspec.json.decode(payload, type=kind)
    except msgspec.DecodeError as exc:  # ValidationError is a DecodeError
        raise MalformedEvent(str(exc)) from exc


def publisher(topic: str) -> str:
    """The publishing account of `apps/<account>/api/...` (the second topic level)."""
    levels = topic.split("/")
    return levels[1] if len(levels) > 1 else ""


def _room_close(topic: str, payload: str) -> PipelineEvent | None:
    account = publisher(topic)
    if not account.startswith(("event.", "conference.")):
        return None
    close = _decode(payload, _RoomClose)
    if account.startswith("event."):
        return RoomClosed(close.id, "event", bool(close.timed_out))
    return RoomClosed(close.id, "conference", bool(close.timed_out))


def _room_upload(_topic: str, payload: str) -> PipelineEvent:
    upload = _decode(payload, _RoomUpload)
    ready = [
        UploadedRtc(rtc.id, rtc.created_by, rtc.uri, rtc.mjr_dumps_uris)
        for rtc in upload.rtcs
        if isinstance(rtc, _ReadyRtc)
    ]
    missing = [rtc.id for rtc in upload.rtcs if isinstance(rtc, _MissingRtc)]
    return RoomUploaded(upload.id, ready, missing)


def _task_complete(_topic: str, payload: str) -> PipelineEvent:
    task = _decode(payload, _TaskComplete)
    if task.status != "success":
        return TaskFailed(task.template, task.error)
    try:
        room = msgspec.convert(task.tags, _Tags)
    except msgspec.ValidationError as exc:
        raise MalformedEvent(f"task.complete tags: {exc}") from exc
    if task.template == CONVERT_TEMPLATE:
        if task.stream_id is None or task.stream_uri is None or task.segments is None:
            raise MalformedEvent("conversion result without stream_id, stream_uri or segments")
        return StreamConverted(
            room.conference_room_id, task.stream_id, task.stream_uri, task.segments
        )
    if task.template == TRANSCODE_TEMPLATE:
        if task.recording_duration is None:
            raise MalformedEvent("transcoding result without recording_duration")
        return MinigroupTranscoded(room.conference_room_id, task.recording_duration)
    raise LifecycleFailed(f"task.complete of template {task.template!r} is not for minigroups")


def _room_adjust(_topic: str, payload: str) -> PipelineEvent:
    adjust = _decode(payload, _RoomAdjust)
    if adjust.status != "success" or adjust.error is not None:
        raise LifecycleFailed(f"Adjust failed: {adjust.error!r}")
    if adjust.original_room_id is None or adjust.modified_room_id is None:
        raise MalformedEvent("room.adjust success without original_room_id or modified_room_id")
    cut = adjust.cut_original_segments or []
    return RoomAdjusted(adjust.room_id, adjust.original_room_id, adjust.modified_room_id, cut)


def _edition_commit(_topic: str, payload: str) -> PipelineEvent:
    commit = _decode(payload, _EditionCommit)
    if commit.status != "success" or commit.error is not None:
        raise LifecycleFailed(f"Commit result unsuccessful: {commit.error!r}")
    if commit.source_room_id is None or commit.committed_room_id is None:
        raise MalformedEvent("edition.commit success without source_room_id or committed_room_id")
    # D20: the host's modified segments become [] (the reference's behaviour, kept).
    return RoomAdjusted(
        commit.source_room_id, commit.source_room_id, commit.committed_room_id, [], edition=True
    )


def _room_dump(_topic: str, payload: str) -> PipelineEvent:
    dump = _decode(payload, _RoomDump)
    result = dump.result
    if dump.status != "success" or result.room_id is None or result.s3_uri is None:
        raise LifecycleFailed(f"room.dump_events failed: {result.error!r}")
    return EventsDumped(result.room_id, result.s3_uri)


_PARSERS = {
    "room.close": _room_close,
    "room.upload": _room_upload,
    "task.complete": _task_complete,
    "room.adjust": _room_adjust,
    "edition.commit": _edition_commit,
    "room.dump_events": _room_dump,
}


class LifecycleWire:
    """`LifecycleDecoder` for the payloads the platform's peers publish."""

    labels = frozenset(_PARSERS)  # every other label is not for the pipeline

    def decode(self, label: str, topic: str, payload: str) -> PipelineEvent | None:
        """The use-case input for a handled label; None for events the pipeline ignores.

        Raise MalformedEvent when the payload does not have the shape its label promises.
        """
        parser = _PARSERS.get(label)
        return None if parser is None else parser(topic, payload)
