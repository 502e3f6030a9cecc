"""An in-process event service: rooms and events answered as the real one does (upstream §3).

Marked [peer] facts come from foxford/event: statuses, room and event objects, the time rules of
room.update (a future room moves freely, an open room keeps its start, a closed room is refused),
forward/backward paging of event.list capped at 100 per page, editions of a source room
(`adapters/sandbox/editions.py`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

from minigroups.adapters.peers.transport import Answer
from minigroups.adapters.sandbox import problems as p
from minigroups.adapters.sandbox.editions import EditionStore
from minigroups.adapters.sandbox.event_store import EventStore
from minigroups.adapters.sandbox.peer import Handler, SandboxPeer
from minigroups.domain.json_value import JsonObject, JsonValue
from minigroups.domain.timerange import from_unix, to_unix

ROOM_KINDS = ("Minigroup", "Webinar", "P2P")


@dataclass(frozen=True, slots=True)
class PendingResult:
    """An accepted room.adjust / edition.commit / room.dump_events whose event is still due."""

    method: str
    payload: JsonObject
    requested_at: datetime


class SandboxEventPeer(SandboxPeer):
    """The event service's room and event methods, in memory.

    `agent_id` is the requester's agent as the broker would stamp it (`created_by` of events).
    """

    def __init__(self, clock: Callable[[], datetime], *, agent_id: str) -> None:
        self.clock = clock
        self.agent_id = agent_id
        self.rooms: dict[UUID, JsonObject] = {}
        self.store = EventStore(clock)
        self.editions = EditionStore(clock)
        self.pending_results: list[PendingResult] = []
        self._handlers: dict[str, Handler] = {
            "room.create": self._create_room,
            "room.read": self._read_room,
            "room.update": self._update_room,
            "room.locked_types": self._lock_types,
            "room.adjust": self._adjust_room,
            "room.dump_events": self._dump_events,
            "edition.create": self._create_edition,
            "edition.list": self._list_editions,
            "edition.commit": self._commit_edition,
            "event.create": self._create_event,
            "event.list": self._list_events,
        }

    # --- helpers for tests and for the lifecycle issue ----------------------------------------

    def _room_not_found(self, room_id: UUID) -> str:
        return f"the room = '{room_id}' is not found"

    def add_room(
        self,
        *,
        audience: str,
        time: list[int | None],
        classroom_id: UUID,
        kind: str = "Minigroup",
        tags: JsonValue = None,
        source_room_id: UUID | None = None,
        room_id: UUID | None = None,
    ) -> JsonObject:
        """Store a room without a request (e.g. the rooms that adjust/commit create, or one a
        restarted sandbox restores under its old `room_id`)."""
        room: JsonObject = {"id": str(room_id or uuid4()), "audience": audience}
        if source_room_id is not None:
            room["source_room_id"] = str(source_room_id)
        room["time"] = list(time)
        if tags is not None:
            room["tags"] = tags
        room.update(
            created_at=to_unix(self.clock()),
            preserve_history=True,
            classroom_id=str(classroom_id),
            locked_types={},
            validate_whiteboard_access=False,
            whiteboard_access={},
            kind=kind,
        )
        self.rooms[UUID(room["id"])] = room
        return room

    def add_event(
        self,
        room_id: UUID,
        *,
        type_: str,
        data: JsonValue,
        created_by: str,
        set_: str | None = None,
        label: str | None = None,
        occurred_at: int | None = None,
    ) -> JsonObject:
        """Store an event as another agent would create it (host and pin events of tests)."""
        room = self.room(room_id)
        return self.store.add(
            room,
            type_=type_,
            data=data,
            created_by=created_by,
            set_=set_,
            label=label,
            occurred_at=occurred_at,
        )

    def add_edition(
        self, source_room_id: UUID, *, created_by: str, created_at: int | None = None
    ) -> JsonObject:
        """Store an edition of a room as an editing agent would create it (`created_at`: s)."""
        self.room(source_room_id)
        return self.editions.add(source_room_id, created_by=created_by, created_at=created_at)

    # --- handlers -----------------------------------------------------------------------------

    def _create_room(self, payload: JsonObject) -> Answer:
        audience = p.require_str(payload, "audience")
        wire_time = p.parse_wire_time(p.require(payload, "time"))
        classroom_id = p.require_uuid(payload, "classroom_id")
        kind = p.require_str(payload, "kind")
        if kind not in ROOM_KINDS:
            raise p.PeerProblem(p.INVALID_PAYLOAD, f"`kind` must be one of {ROOM_KINDS}")
        preserve_history = p.optional_bool(payload, "preserve_history", default=True)
        start, end = p.room_time(list(wire_time))
        room = self.add_room(
            audience=audience,
            time=[start, end],
            classroom_id=classroom_id,
            kind=kind,
            tags=payload.get("tags"),
        )
        room["preserve_history"] = preserve_history
        return Answer(201, room)

    def _read_room(self, payload: JsonObject) -> Answer:
        return Answer(200, self.room(p.require_uuid(payload, "id")))

    def _update_room(self, payload: JsonObject) -> Answer:
        room_id = p.require_uuid(payload, "id")
        new_time = payload.get("time")
        if new_time is not None:
            p.parse_wire_time(new_time)
        room = self.room(room_id)
        now = self.clock()
        if new_time is not None:
            if p.has_closed(room["time"], now):
                raise p.PeerProblem(p.ROOM_CLOSED, "Room closed")
            room["time"] = _moved_time(room["time"], new_time, now)
        if payload.get("tags") is not None:
            room["tags"] = payload["tags"]
        if payload.get("classroom_id") is not None:
            room["classroom_id"] = str(p.require_uuid(payload, "classroom_id"))
        return Answer(200, room)

    def _lock_types(self, payload: JsonObject) -> Answer:
        room_id = p.require_uuid(payload, "id")
        locked = p.require(payload, "locked_types")
        if not isinstance(locked, dict) or not all(isinstance(v, bool) for v in locked.values()):
            raise p.PeerProblem(p.INVALID_PAYLOAD, "`locked_types` must map types to booleans")
        room = self.room(room_id)
        room["locked_types"].update(locked)
        return Answer(200, room)

    def _adjust_room(self, payload: JsonObject) -> Answer:
        self.room(p.require_uuid(payload, "id"))
        p.require_int(payload, "started_at")
        _require_segments(payload, "segments")
        p.optional_int(payload, "offset")
        return self._pend("room.adjust", payload)

    def _dump_events(self, payload: JsonObject) -> Answer:
        self.room(p.require_uuid(payload, "id"))
        return self._pend("room.dump_events", payload)

    def _create_edition(self, payload: JsonObject) -> Answer:
        room_id = p.require_uuid(payload, "room_id")
        return Answer(201, self.add_edition(room_id, created_by=self.agent_id))

    def _list_editions(self, payload: JsonObject) -> Answer:
        self.room(p.require_uuid(payload, "room_id"))
        return Answer(200, self.editions.list(payload))

    def _commit_edition(self, payload: JsonObject) -> Answer:
        # The result comes later, as the `edition.commit` event; an unknown edition is a 404.
        edition = self.editions.find(p.require_uuid(payload, "id"))
        p.optional_int(payload, "offset")
        self.room(UUID(edition["source_room_id"]))
        return self._pend("edition.commit", payload)

    def _pend(self, method: str, payload: JsonObject) -> Answer:
        self.pending_results.append(PendingResult(method, copy.deepcopy(payload), self.clock()))
        return Answer(202, {})

    def _create_event(self, payload: JsonObject) -> Answer:
        room_id = p.require_uuid(payload, "room_id")
        type_ = p.require_str(payload, "type")
        data = p.require(payload, "data")
        set_, label = p.optional_str(payload, "set"), p.optional_str(payload, "label")
        attribute = p.optional_str(payload, "attribute")
        p.optional_bool(payload, "is_claim", default=False)
        persistent = p.optional_bool(payload, "is_persistent", default=True)
        room = self.room(room_id)
        _require_open(room, self.clock())
        event = self.store.build(
            room,
            type_=type_,
            data=data,
            created_by=self.agent_id,
            set_=set_,
            label=label,
            attribute=attribute,
        )
        if persistent:
            self.store.keep(event)
        return Answer(201, event)

    def _list_events(self, payload: JsonObject) -> Answer:
        room_id = p.require_uuid(payload, "room_id")
        query = self.store.parse_query(payload)
        self.room(room_id)
        return Answer(200, self.store.list(room_id, query))


def _require_open(room: JsonObject, now: datetime) -> None:
    start = room["time"][0]
    # A room opened this very instant counts as open: the sandbox clock may be frozen.
    if start is None or from_unix(start) > now:
        raise p.PeerProblem(p.ROOM_CLOSED, "Room not opened")
    if p.has_closed(room["time"], now):
        raise p.PeerProblem(p.ROOM_CLOSED, "Room closed")


def _moved_time(current: list[int | None], new_time: JsonValue, now: datetime) -> list[int | None]:
    """The event service's RoomTime::update: the rules a time change follows [peer]."""
    start, end = p.room_time(new_time)
    old_start = current[0]
    if old_start is None or from_unix(old_start) > now:
        return [start, end]  # not opened yet: anything goes
    if end is None or from_unix(end) > now:
        return [old_start, end]  # open: the start never moves
    return [old_start, to_unix(now)]  # an end in the past closes the room now


def _require_segments(payload: JsonObject, key: str) -> None:
    segments = p.require(payload, key)
    valid = isinstance(segments, list) and all(
        isinstance(s, list) and len(s) == 2 and all(p.is_int(b) for b in s) for s in segments
    )
    if not valid:
        raise p.PeerProblem(p.INVALID_PAYLOAD, f"`{key}` must be a list of [start, end] pairs")
