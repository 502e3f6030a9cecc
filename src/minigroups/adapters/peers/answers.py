"""Status checks and decoding of peer answers into port objects (contract.md upstream §1.6, §3, §4).

Wire structs live here and nowhere else: a peer answer becomes a `ports` object or an
`UpstreamFailed` (REJECTED for an unexpected status, MALFORMED for an unreadable payload).
"""

from __future__ import annotations

from collections.abc import Container
from typing import Annotated, Any, TypeVar
from uuid import UUID

import msgspec

from minigroups.adapters.peers.transport import Answer
from minigroups.domain.errors import UpstreamFailed, UpstreamFailureKind
from minigroups.domain.ids import AgentId
from minigroups.domain.json_value import JsonObject, JsonValue
from minigroups.ports import Edition, Room, RoomEvent, WriterConfigSnapshot

T = TypeVar("T")

ANY_SUCCESS = range(200, 300)
_NonNegative = Annotated[int, msgspec.Meta(ge=0)]


class _RoomWire(msgspec.Struct):
    id: UUID
    time: tuple[int | None, int | None]
    tags: Any = None


class _EventWire(msgspec.Struct):
    id: UUID
    room_id: UUID
    type: str
    set: str
    data: dict[str, Any]
    occurred_at: _NonNegative
    created_by: str
    created_at: int
    label: str | None = None
    attribute: str | None = None
    # Unused by us; validated when present, not required (contract.md upstream §3.8 lists it).
    original_occurred_at: _NonNegative | None = None


class _EditionWire(msgspec.Struct):
    id: UUID
    source_room_id: UUID
    created_by: str
    created_at: int


class _SnapshotWire(msgspec.Struct):
    rtc_id: UUID
    created_at: int
    send_video: bool | None = None
    send_audio: bool | None = None


def problem_detail(answer: Answer) -> str:
    """The peer's error object as one line: `title: detail` (either may be missing)."""
    payload = answer.payload
    if isinstance(payload, dict):
        parts = [str(payload[key]) for key in ("title", "detail") if payload.get(key)]
        if parts:
            return ": ".join(parts)
    return f"status {answer.status}"


def check_status(answer: Answer, expected: Container[int], service: str, method: str) -> None:
    """Raise REJECTED unless the answer's status is one the method succeeds with (D8)."""
    if answer.status not in expected:
        raise UpstreamFailed(
            UpstreamFailureKind.REJECTED,
            service,
            method,
            problem_detail(answer),
            peer_status=answer.status,
            peer_type=_problem_type(answer),
        )


def _problem_type(answer: Answer) -> str | None:
    payload = answer.payload
    kind = payload.get("type") if isinstance(payload, dict) else None
    return kind if isinstance(kind, str) else None


def malformed(service: str, method: str, reason: str) -> UpstreamFailed:
    return UpstreamFailed(
        UpstreamFailureKind.MALFORMED, service, method, f"unreadable {method} answer: {reason}"
    )


def _convert(payload: JsonValue, kind: type[T], service: str, method: str) -> T:
    try:
        return msgspec.convert(payload, kind)
    except msgspec.ValidationError as exc:
        raise malformed(service, method, str(exc)) from exc


def decode_object(payload: JsonValue, service: str, method: str) -> JsonObject:
    """The payload when it is a JSON object."""
    if not isinstance(payload, dict):
        raise malformed(service, method, f"expected an object, got {type(payload).__name__}")
    return payload


def decode_room(payload: JsonValue, service: str, method: str) -> Room:
    """`{id, time, tags?}` of an event or conference room."""
    wire = _convert(payload, _RoomWire, service, method)
    return Room(id=wire.id, time=list(wire.time), tags=wire.tags)


def decode_events(payload: JsonValue, service: str, method: str) -> list[RoomEvent]:
    """An `event.list` page of host/pin events (contract.md upstream §3.8)."""
    wires = _convert(payload, list[_EventWire], service, method)
    return [_to_event(wire, index, service, method) for index, wire in enumerate(wires)]


def _to_event(wire: _EventWire, index: int, service: str, method: str) -> RoomEvent:
    where = f"`$[{index}]`"
    if wire.type not in ("host", "pin"):
        raise malformed(service, method, f"{where}: unexpected event type {wire.type!r}")
    agent_id = wire.data.get("agent_id")
    if wire.type == "host" and agent_id is None:
        raise malformed(service, method, f"{where}: host event without `data.agent_id`")
    for name, value in (("data.agent_id", agent_id), ("created_by", wire.created_by)):
        if value is None:
            continue
        if not isinstance(value, str):
            raise malformed(service, method, f"{where}: `{name}` is not a string")
        try:
            AgentId.parse(value)
        except ValueError as exc:
            raise malformed(service, method, f"{where}: `{name}`: {exc}") from exc
    return RoomEvent(
        id=wire.id,
        room_id=wire.room_id,
        kind="host" if wire.type == "host" else "pin",
        set=wire.set,
        label=wire.label,
        agent_id=agent_id,
        occurred_at=wire.occurred_at,
        created_by=wire.created_by,
        created_at=wire.created_at,
    )


def decode_editions(payload: JsonValue, service: str, method: str) -> list[Edition]:
    """An `edition.list` page: `[{id, source_room_id, created_by, created_at}]`."""
    wires = _convert(payload, list[_EditionWire], service, method)
    return [Edition(w.id, w.source_room_id, w.created_by, w.created_at) for w in wires]


def decode_snapshots(payload: JsonValue, service: str, method: str) -> list[WriterConfigSnapshot]:
    """A `writer_config_snapshot.read` answer (contract.md upstream §4.4)."""
    wires = _convert(payload, list[_SnapshotWire], service, method)
    return [
        WriterConfigSnapshot(
            rtc_id=wire.rtc_id,
            send_video=wire.send_video,
            send_audio=wire.send_audio,
            created_at=wire.created_at,
        )
        for wire in wires
    ]
