"""The peer services (upstream §3-§5): the event and conference services, tq, notifications.

Arguments and answers are plain data in wire shape (times as `[start, end]` Unix-second pairs,
ids as UUIDs, JSON as dicts).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol
from uuid import UUID

from minigroups.domain.json_value import JsonObject, JsonValue
from minigroups.domain.timerange import WireTime


@dataclass(frozen=True, slots=True)
class Room:
    """A room as the event or conference service answers it (only what we read)."""

    id: UUID
    time: WireTime
    tags: JsonValue = None


@dataclass(frozen=True, slots=True)
class RoomEvent:
    """An element of `event.list` (host and pin events)."""

    id: UUID
    room_id: UUID
    kind: Literal["host", "pin"]
    set: str
    label: str | None
    agent_id: str | None
    occurred_at: int  # ns since the room opened
    created_by: str
    created_at: int  # unix ms


@dataclass(frozen=True, slots=True)
class Edition:
    """An element of `edition.list`: a set of changes to a copy of its source room."""

    id: UUID
    source_room_id: UUID
    created_by: str
    created_at: int  # unix s


@dataclass(frozen=True, slots=True)
class WriterConfigSnapshot:
    rtc_id: UUID
    send_video: bool | None
    send_audio: bool | None
    created_at: int  # unix ms


class EventService(Protocol):
    """The event service's room and event methods (contract.md upstream §3)."""

    async def create_room(
        self,
        *,
        audience: str,
        time: WireTime,
        preserve_history: bool,
        tags: JsonValue,
        classroom_id: UUID,
        kind: str,
    ) -> Room: ...

    async def update_room(self, *, room_id: UUID, time: WireTime) -> Room: ...

    async def lock_types(self, *, room_id: UUID, locked_types: Mapping[str, bool]) -> Room: ...

    async def read_room(self, *, room_id: UUID) -> Room: ...

    async def adjust_room(
        self, *, room_id: UUID, started_at: int, segments: Sequence[Sequence[int]], offset: int
    ) -> None: ...

    async def commit_edition(self, *, edition_id: UUID, offset: int) -> None: ...

    async def list_editions(
        self, *, room_id: UUID, last_created_at: int | None = None, limit: int = 25
    ) -> list[Edition]:
        """One page of a source room's editions, newest first, after `last_created_at`."""
        ...

    async def dump_events(self, *, room_id: UUID) -> None: ...

    async def list_events(
        self,
        *,
        room_id: UUID,
        kind: Literal["host", "pin"],
        last_occurred_at: int | None = None,
        limit: int = 100,
    ) -> list[RoomEvent]: ...

    async def create_event(self, *, event: JsonObject) -> JsonObject:
        """`event.create` with the event object as given (it carries `room_id`)."""
        ...


class ConferenceService(Protocol):
    """The conference service's methods (contract.md upstream §4)."""

    async def create_room(
        self,
        *,
        audience: str,
        time: WireTime,
        rtc_sharing_policy: str,
        reserve: int | None,
        tags: JsonValue,
        classroom_id: UUID,
    ) -> Room: ...

    async def update_room(
        self, *, room_id: UUID, time: WireTime | None, reserve: int | None, host: str | None
    ) -> None: ...

    async def read_writer_config_snapshots(
        self, *, room_id: UUID
    ) -> list[WriterConfigSnapshot]: ...


class TaskQueue(Protocol):
    """tq's task creation over HTTP (contract.md upstream §5.1)."""

    async def create_task(
        self, *, audience: str, task_id: str, classroom_id: UUID, task: JsonObject
    ) -> None:
        """POST the task body (audience, tags, priority, template, bindings); success is 200."""
        ...


class Notifier(Protocol):
    """Broadcasts the service's own events to the platform (contract.md upstream §1.4, §1.5)."""

    async def notify(self, *, audience: str, label: str, payload: JsonObject) -> None:
        """Publish a `type=event` message with `label` to the audience's events topic (QoS 1)."""
        ...
