"""The event service client (upstream §3) over any `Requester`, and the reference paging."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal
from uuid import UUID

from minigroups.adapters.peers.answers import (
    decode_editions,
    decode_events,
    decode_object,
    decode_room,
)
from minigroups.adapters.peers.client import PeerClient
from minigroups.domain.json_value import JsonObject, JsonValue
from minigroups.domain.timerange import WireTime
from minigroups.ports import Edition, Room, RoomEvent

SERVICE = "event"
PAGE_LIMIT = 100
EDITION_PAGE_LIMIT = 25  # the event service's default page of `edition.list`

EventKind = Literal["host", "pin"]


class EventClient(PeerClient):
    """`ports.EventService`: builds each request payload, checks the status, decodes the answer."""

    service = SERVICE

    async def _room_call(self, method: str, payload: JsonObject, expected: int) -> Room:
        answer = await self._call(method, payload, (expected,))
        return decode_room(answer, SERVICE, method)

    async def _accepted_call(self, method: str, payload: JsonObject) -> None:
        # The real result arrives later as an event; the answer is `{}` with 202.
        answer = await self._call(method, payload, (202,))
        decode_object(answer, SERVICE, method)

    async def create_room(
        self,
        *,
        audience: str,
        time: WireTime,
        preserve_history: bool,
        tags: JsonValue,
        classroom_id: UUID,
        kind: str,
    ) -> Room:
        payload: JsonObject = {
            "audience": audience,
            "time": list(time),
            "preserve_history": preserve_history,
        }
        if tags is not None:
            payload["tags"] = tags
        payload["classroom_id"] = str(classroom_id)
        payload["kind"] = kind  # sent as given; the product passes "Minigroup" (D24)
        return await self._room_call("room.create", payload, 201)

    async def update_room(self, *, room_id: UUID, time: WireTime) -> Room:
        payload: JsonObject = {"id": str(room_id), "time": list(time)}
        return await self._room_call("room.update", payload, 200)

    async def lock_types(self, *, room_id: UUID, locked_types: Mapping[str, bool]) -> Room:
        payload: JsonObject = {"id": str(room_id), "locked_types": dict(locked_types)}
        return await self._room_call("room.locked_types", payload, 200)

    async def read_room(self, *, room_id: UUID) -> Room:
        return await self._room_call("room.read", {"id": str(room_id)}, 200)

    async def adjust_room(
        self, *, room_id: UUID, started_at: int, segments: Sequence[Sequence[int]], offset: int
    ) -> None:
        payload: JsonObject = {
            "id": str(room_id),
            "started_at": started_at,
            "segments": [list(segment) for segment in segments],
            "offset": offset,
        }
        await self._accepted_call("room.adjust", payload)

    async def commit_edition(self, *, edition_id: UUID, offset: int) -> None:
        await self._accepted_call("edition.commit", {"id": str(edition_id), "offset": offset})

    async def list_editions(
        self, *, room_id: UUID, last_created_at: int | None = None, limit: int = EDITION_PAGE_LIMIT
    ) -> list[Edition]:
        payload: JsonObject = {"room_id": str(room_id), "limit": limit}
        if last_created_at is not None:
            payload["last_created_at"] = last_created_at
        answer = await self._call("edition.list", payload, (200,))
        return decode_editions(answer, SERVICE, "edition.list")

    async def dump_events(self, *, room_id: UUID) -> None:
        await self._accepted_call("room.dump_events", {"id": str(room_id)})

    async def list_events(
        self,
        *,
        room_id: UUID,
        kind: EventKind,
        last_occurred_at: int | None = None,
        limit: int = PAGE_LIMIT,
    ) -> list[RoomEvent]:
        """One page, forward from `last_occurred_at` (exclusive)."""
        payload: JsonObject = {"room_id": str(room_id), "type": kind, "limit": limit}
        if last_occurred_at is not None:
            payload["last_occurred_at"] = last_occurred_at
        answer = await self._call("event.list", payload, (200,))
        return decode_events(answer, SERVICE, "event.list")

    async def create_event(self, *, event: JsonObject) -> JsonObject:
        answer = await self._call("event.create", dict(event), (201,))
        return decode_object(answer, SERVICE, "event.create")
