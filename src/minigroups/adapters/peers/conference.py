"""The conference service client (contract.md upstream §4) over any `Requester`."""

from __future__ import annotations

from uuid import UUID

from minigroups.adapters.peers.answers import (
    ANY_SUCCESS,
    decode_room,
    decode_snapshots,
)
from minigroups.adapters.peers.client import PeerClient
from minigroups.domain.json_value import JsonObject, JsonValue
from minigroups.domain.timerange import WireTime
from minigroups.ports import Room, WriterConfigSnapshot

SERVICE = "conference"


class ConferenceClient(PeerClient):
    """`ports.ConferenceService`: builds each request payload, checks the status, decodes."""

    service = SERVICE

    async def create_room(
        self,
        *,
        audience: str,
        time: WireTime,
        rtc_sharing_policy: str,
        reserve: int | None,
        tags: JsonValue,
        classroom_id: UUID,
    ) -> Room:
        payload: JsonObject = {
            "audience": audience,
            "time": list(time),
            "rtc_sharing_policy": rtc_sharing_policy,
        }
        if reserve is not None:
            payload["reserve"] = reserve
        if tags is not None:
            payload["tags"] = tags
        payload["classroom_id"] = str(classroom_id)
        # The conference service answers 200 (its code carries a TODO to move to 201): any 2xx.
        answer = await self._call("room.create", payload, ANY_SUCCESS)
        return decode_room(answer, SERVICE, "room.create")

    async def update_room(
        self, *, room_id: UUID, time: WireTime | None, reserve: int | None, host: str | None
    ) -> None:
        # `time` and `reserve` are always sent, null included (contract.md upstream §4.3, D15).
        payload: JsonObject = {
            "id": str(room_id),
            "time": None if time is None else list(time),
            "reserve": reserve,
        }
        if host is not None:
            payload["host"] = host
        await self._call("room.update", payload, (200,))

    async def read_writer_config_snapshots(self, *, room_id: UUID) -> list[WriterConfigSnapshot]:
        method = "writer_config_snapshot.read"
        answer = await self._call(method, {"room_id": str(room_id)}, (200,))
        return decode_snapshots(answer, SERVICE, method)
