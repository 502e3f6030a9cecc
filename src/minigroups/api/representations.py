"""The JSON shapes that clients read (contract.md HTTP §2.11 A and C), as msgspec Structs.

The routes encode these Structs and declare them (api/routing.py), so the OpenAPI document is
generated from what is sent. Members come in the order of the fields; a member that is absent
when NULL is `UnsetType` (omitted when UNSET), one that is present as `null` is `X | None`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, cast
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType
from starlette.responses import Response

from minigroups.domain.minigroup import Minigroup, Status, Version
from minigroups.services.minigroups import MinigroupView

VersionName = Literal["original", "modified"]
WireTime = Annotated[
    list[int | None],
    msgspec.Meta(
        min_length=2,
        max_length=2,
        description="[start, end): Unix seconds, start inclusive, end exclusive; null: unbounded",
    ),
]


def json_response(body: Any, status: int = 200) -> Response:
    """Compact JSON, always with `Content-Type: application/json` (D1)."""
    return Response(msgspec.json.encode(body), status, media_type="application/json")


def empty_response(status: int) -> Response:
    return Response(b"", status)


def _unset_if_none(value: Any) -> Any:
    return UNSET if value is None else value


class MinigroupObject(msgspec.Struct, kw_only=True):
    """The stored minigroup (HTTP §2.11 A): what create, update by id and recreate answer."""

    id: UUID
    scope: str
    time: WireTime
    audience: str
    created_at: int
    tags: Any | UnsetType = UNSET
    properties: dict[str, Any]
    conference_room_id: UUID
    event_room_id: UUID
    original_event_room_id: UUID | UnsetType = UNSET
    modified_event_room_id: UUID | UnsetType = UNSET
    preserve_history: bool
    reserve: int | None
    room_events_uri: str | None
    host: str | None
    timed_out: bool
    original_class_id: UUID | UnsetType = UNSET
    content_id: str | UnsetType = UNSET


class RealTime(msgspec.Struct, kw_only=True):
    """The live rooms; `rtc_id` only while a recording is live."""

    conference_room_id: UUID
    event_room_id: UUID
    rtc_id: UUID | UnsetType = UNSET


class VersionObject(msgspec.Struct, kw_only=True):
    """An on-demand version of a recorded minigroup."""

    version: VersionName
    event_room_id: UUID
    stream_id: UUID
    tags: Any | UnsetType = UNSET
    room_events_uri: str | UnsetType = UNSET


class ReadObject(msgspec.Struct, kw_only=True):
    """A minigroup as readers see it (HTTP §2.11 C); `id` is the scope, `class_id` the uuid.

    Update by audience and scope answers it without status, versions, position and rtc id.
    """

    class_id: UUID
    id: str
    real_time: RealTime
    on_demand: list[VersionObject] | UnsetType = UNSET
    status: Status | UnsetType = UNSET
    timed_out: bool
    position: int | UnsetType = UNSET
    turn_host: str
    content_id: str
    properties: dict[str, Any]
    account_properties: dict[str, Any]


class DownloadLink(msgspec.Struct, kw_only=True):
    """Where the transcoded recording can be downloaded."""

    url: str


class EventAccepted(msgspec.Struct):
    """The event service took the event (an empty object)."""


class ReadinessReport(msgspec.Struct, kw_only=True):
    """Whether this instance can serve, and each dependency's state (no hosts named)."""

    status: Literal["ready", "unready"]
    database: Literal["up", "down"]
    broker: Literal["up", "down"] | UnsetType = UNSET


def db_object(minigroup: Minigroup) -> MinigroupObject:
    """A: the stored row, members in the reference's order; some omitted when NULL."""
    return MinigroupObject(
        id=minigroup.id,
        scope=minigroup.scope,
        time=minigroup.time.to_wire(),
        audience=minigroup.audience,
        created_at=int(minigroup.created_at.timestamp()),
        tags=_unset_if_none(minigroup.tags),
        properties=minigroup.properties,
        conference_room_id=minigroup.conference_room_id,
        event_room_id=minigroup.event_room_id,
        original_event_room_id=_unset_if_none(minigroup.original_event_room_id),
        modified_event_room_id=_unset_if_none(minigroup.modified_event_room_id),
        preserve_history=minigroup.preserve_history,
        reserve=minigroup.reserve,
        room_events_uri=minigroup.room_events_uri,
        host=minigroup.host,
        timed_out=minigroup.timed_out,
        original_class_id=_unset_if_none(minigroup.original_class_id),
        content_id=_unset_if_none(minigroup.content_id),
    )


def read_object(view: MinigroupView) -> ReadObject:
    """C: what R1/R3 answer in full, and R4 without status, versions, position and rtc id."""
    minigroup = view.minigroup
    class_id = minigroup.original_class_id or minigroup.id
    playback = view.playback
    real_time = RealTime(
        conference_room_id=minigroup.conference_room_id,
        event_room_id=minigroup.event_room_id,
    )
    body = ReadObject(
        class_id=class_id,
        id=minigroup.scope,
        real_time=real_time,
        timed_out=minigroup.timed_out,
        turn_host=view.turn_host,
        content_id=minigroup.content_id or str(class_id),
        properties=view.properties,
        account_properties=view.account_properties,
    )
    if playback is not None:
        real_time.rtc_id = _unset_if_none(playback.rtc_id)
        if playback.versions:
            body.on_demand = [_version(v, minigroup.tags) for v in playback.versions]
        body.status = playback.status
        if playback.shows_position and view.position is not None:
            body.position = view.position
    return body


def _version(version: Version, tags: Any) -> VersionObject:
    return VersionObject(
        version=cast(VersionName, version.version),
        event_room_id=version.event_room_id,
        stream_id=version.stream_id,
        tags=_unset_if_none(tags),
        room_events_uri=_unset_if_none(version.room_events_uri),
    )
