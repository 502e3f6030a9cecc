"""An in-process conference service: rooms and writer config snapshots (contract.md upstream §4).

Marked [peer] facts come from foxford/conference: room.create answers 200 (its code keeps a TODO
to move to 201), room.update refuses time changes of closed rooms and unbounded ends of rooms
with a future end, snapshots are served only for rooms with the `owned` sharing policy.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID, uuid4

from minigroups.adapters.peers.transport import Answer
from minigroups.adapters.sandbox import problems as p
from minigroups.adapters.sandbox.peer import Handler, SandboxPeer
from minigroups.domain.ids import AgentId
from minigroups.domain.json_value import JsonObject, JsonValue
from minigroups.domain.timerange import from_unix, to_unix, to_unix_ms

SHARING_POLICIES = ("owned", "shared", "none")


class SandboxConferencePeer(SandboxPeer):
    """The conference methods the product calls, in memory.

    `agent_id` is the requester's agent as the broker would stamp it (`closed_by`).
    """

    def __init__(self, clock: Callable[[], datetime], *, agent_id: str) -> None:
        self.clock = clock
        self.agent_id = agent_id
        self.rooms: dict[UUID, JsonObject] = {}
        self.snapshots: dict[UUID, list[JsonObject]] = {}
        self._handlers: dict[str, Handler] = {
            "room.create": self._create_room,
            "room.read": self._read_room,
            "room.update": self._update_room,
            "writer_config_snapshot.read": self._read_snapshots,
        }

    def add_snapshot(
        self,
        room_id: UUID,
        *,
        rtc_id: UUID,
        send_video: bool | None = None,
        send_audio: bool | None = None,
        created_at: int | None = None,
    ) -> JsonObject:
        """Store a writer config snapshot (unix ms `created_at`, default now) for a room."""
        self.room(room_id)
        snapshot: JsonObject = {
            "id": str(uuid4()),
            "rtc_id": str(rtc_id),
            "send_video": send_video,
            "send_audio": send_audio,
            "created_at": to_unix_ms(self.clock()) if created_at is None else created_at,
        }
        self.snapshots.setdefault(room_id, []).append(snapshot)
        return snapshot

    def add_room(
        self,
        *,
        audience: str,
        time: list[int | None],
        classroom_id: UUID,
        policy: str = "owned",
        reserve: int | None = None,
        tags: JsonValue = None,
        room_id: UUID | None = None,
    ) -> JsonObject:
        """Store a room as room.create does (a restarted sandbox restores one under `room_id`)."""
        room: JsonObject = {
            "id": str(room_id or uuid4()),
            "time": list(time),
            "audience": audience,
            "created_at": to_unix(self.clock()),
            "backend": "janus" if policy == "shared" else "none",
        }
        if reserve is not None:
            room["reserve"] = reserve
        room.update(
            tags={} if tags is None else tags,
            rtc_sharing_policy=policy,
            classroom_id=str(classroom_id),
            host=None,
            timed_out=False,
            closed_by=None,
        )
        self.rooms[UUID(room["id"])] = room
        return room

    # --- handlers -----------------------------------------------------------------------------

    def _create_room(self, payload: JsonObject) -> Answer:
        audience = p.require_str(payload, "audience")
        wire_time = p.parse_wire_time(p.require(payload, "time"))
        policy = p.optional_str(payload, "rtc_sharing_policy")
        if policy is None:  # the deprecated `backend` key, else "none" [peer]
            policy = "shared" if payload.get("backend") == "janus" else "none"
        if policy not in SHARING_POLICIES:
            detail = f"`rtc_sharing_policy` must be one of {SHARING_POLICIES}"
            raise p.PeerProblem(p.INVALID_PAYLOAD, detail)
        reserve = p.optional_int(payload, "reserve")
        classroom_id = p.require_uuid(payload, "classroom_id")
        start, end = p.room_time(list(wire_time))
        room = self.add_room(
            audience=audience,
            time=[start, end],
            classroom_id=classroom_id,
            policy=policy,
            reserve=reserve,
            tags=payload.get("tags"),
        )
        return Answer(200, room)

    def _read_room(self, payload: JsonObject) -> Answer:
        return Answer(200, self.room(p.require_uuid(payload, "id")))

    def _update_room(self, payload: JsonObject) -> Answer:
        room_id = p.require_uuid(payload, "id")
        new_time = payload.get("time")
        if new_time is not None:
            p.parse_wire_time(new_time)
        reserve = p.optional_int(payload, "reserve")
        host = _optional_agent_id(payload, "host")
        room = self.room(room_id)
        now = self.clock()
        was_open = not _is_closed(room, now)
        if new_time is not None:
            if p.has_closed(room["time"], now):
                raise p.PeerProblem(p.ROOM_CLOSED, "Room closed")
            room["time"] = _moved_time(room["time"], new_time, now)
        if "reserve" in payload:  # present and null clears it [peer]
            room.pop("reserve", None)
            if reserve is not None:
                room["reserve"] = reserve
        for key in ("tags", "classroom_id"):
            if payload.get(key) is not None:
                room[key] = payload[key]
        if host is not None:
            room["host"] = host
        if was_open and _is_closed(room, now):
            room["closed_by"] = self.agent_id
        return Answer(200, room)

    def _read_snapshots(self, payload: JsonObject) -> Answer:
        room_id = p.require_uuid(payload, "room_id")
        room = self.room(room_id)
        if room["rtc_sharing_policy"] != "owned":
            raise p.PeerProblem(
                p.INVALID_PAYLOAD,
                "Agent writer config is available only for rooms with owned RTC sharing policy",
            )
        snapshots = sorted(self.snapshots.get(room_id, []), key=lambda s: s["created_at"])
        return Answer(200, snapshots)


def _optional_agent_id(payload: JsonObject, key: str) -> str | None:
    value = p.optional_str(payload, key)
    if value is not None:
        try:
            AgentId.parse(value)
        except ValueError as exc:
            raise p.PeerProblem(p.INVALID_PAYLOAD, f"`{key}`: {exc}") from exc
    return value


def _is_closed(room: JsonObject, now: datetime) -> bool:
    end = room["time"][1]
    return end is not None and from_unix(end) <= now


def _moved_time(current: list[int | None], new_time: JsonValue, now: datetime) -> list[int | None]:
    """The conference service's room.update time rules [peer]."""
    start, end = p.room_time(new_time)
    old_start, old_end = current
    if old_end is None:
        return [start, end]
    if from_unix(old_end) > now:
        if end is None:
            raise p.PeerProblem(
                p.TIME_CHANGE_FORBIDDEN,
                "Setting unbounded closing time is not allowed in this room anymore",
            )
        return [old_start, max(end, to_unix(now))]
    raise p.PeerProblem(p.TIME_CHANGE_FORBIDDEN, "Room has been already closed")
