"""The JSON shapes of a minigroup that clients read (contract.md HTTP §2.11 A and C)."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.responses import Response

from minigroups.domain.minigroup import Minigroup, Version
from minigroups.services.minigroups import MinigroupView


def json_response(body: Any, status: int = 200) -> Response:
    """Compact JSON, always with `Content-Type: application/json` (D1)."""
    return Response(msgspec.json.encode(body), status, media_type="application/json")


def empty_response(status: int) -> Response:
    return Response(b"", status)


def db_object(minigroup: Minigroup) -> dict[str, Any]:
    """A: the stored row, members in the reference's order; some omitted when NULL."""
    body: dict[str, Any] = {
        "id": minigroup.id,
        "scope": minigroup.scope,
        "time": minigroup.time.to_wire(),
        "audience": minigroup.audience,
        "created_at": int(minigroup.created_at.timestamp()),
    }
    if minigroup.tags is not None:
        body["tags"] = minigroup.tags
    body["properties"] = minigroup.properties
    body["conference_room_id"] = minigroup.conference_room_id
    body["event_room_id"] = minigroup.event_room_id
    if minigroup.original_event_room_id is not None:
        body["original_event_room_id"] = minigroup.original_event_room_id
    if minigroup.modified_event_room_id is not None:
        body["modified_event_room_id"] = minigroup.modified_event_room_id
    body["preserve_history"] = minigroup.preserve_history
    body["reserve"] = minigroup.reserve
    body["room_events_uri"] = minigroup.room_events_uri
    body["host"] = minigroup.host
    body["timed_out"] = minigroup.timed_out
    if minigroup.original_class_id is not None:
        body["original_class_id"] = minigroup.original_class_id
    if minigroup.content_id is not None:
        body["content_id"] = minigroup.content_id
    return body


def read_object(view: MinigroupView) -> dict[str, Any]:
    """C: what R1/R3 answer in full, and R4 without status, versions, position and rtc id."""
    minigroup = view.minigroup
    class_id = minigroup.original_class_id or minigroup.id
    real_time: dict[str, Any] = {
        "conference_room_id": minigroup.conference_room_id,
        "event_room_id": minigroup.event_room_id,
    }
    body: dict[str, Any] = {"class_id": class_id, "id": minigroup.scope, "real_time": real_time}
    playback = view.playback
    if playback is not None:
        if playback.rtc_id is not None:
            real_time["rtc_id"] = playback.rtc_id
        if playback.versions:
            body["on_demand"] = [_version(v, minigroup.tags) for v in playback.versions]
        body["status"] = playback.status.value
    body["timed_out"] = minigroup.timed_out
    if playback is not None and playback.shows_position and view.position is not None:
        body["position"] = view.position
    body["turn_host"] = view.turn_host
    body["content_id"] = minigroup.content_id or str(class_id)
    body["properties"] = view.properties
    body["account_properties"] = view.account_properties
    return body


def _version(version: Version, tags: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "version": version.version,
        "event_room_id": version.event_room_id,
        "stream_id": version.stream_id,
    }
    if tags is not None:
        body["tags"] = tags
    if version.room_events_uri is not None:
        body["room_events_uri"] = version.room_events_uri
    return body
