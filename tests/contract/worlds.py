"""Peer worlds for the contract suite: one factory per adapter, all behind `PeerWorld`.

A world gives the port implementations under test plus the few observation and set-up hooks the
ports do not offer (stored events, locked types, writer snapshots). Today only the sandbox world
exists; the MQTT adapter adds its factory to `WORLD_FACTORIES`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from typing import Protocol
from uuid import UUID

from minigroups.adapters.sandbox import Sandbox, build_sandbox_services
from minigroups.domain.minigroup import JsonObject
from minigroups.ports import ConferenceService, EventService, WriterConfigSnapshot


class PeerWorld(Protocol):
    events: EventService
    conference: ConferenceService

    def now(self) -> datetime:
        """The peers' clock (UTC)."""
        ...

    def locked_types(self, event_room_id: UUID) -> Mapping[str, bool]:
        """The locked types the event service holds for a room."""
        ...

    def stored_events(self, event_room_id: UUID) -> list[JsonObject]:
        """Every event the event service stored for a room, in creation order."""
        ...

    def add_snapshot(self, conference_room_id: UUID, snapshot: WriterConfigSnapshot) -> None:
        """Make the conference service hold a writer config snapshot for a room."""
        ...


class SandboxWorld:
    """The ports over the in-process sandbox, with the real clock."""

    def __init__(self, sandbox: Sandbox) -> None:
        services = build_sandbox_services(sandbox, event_timeout=2, conference_timeout=2)
        self.sandbox = sandbox
        self.events: EventService = services.event
        self.conference: ConferenceService = services.conference

    def now(self) -> datetime:
        return self.sandbox.clock()

    def locked_types(self, event_room_id: UUID) -> Mapping[str, bool]:
        return dict(self.sandbox.event.room(event_room_id)["locked_types"])

    def stored_events(self, event_room_id: UUID) -> list[JsonObject]:
        return list(self.sandbox.event.store.of_room(event_room_id))

    def add_snapshot(self, conference_room_id: UUID, snapshot: WriterConfigSnapshot) -> None:
        self.sandbox.conference.add_snapshot(
            conference_room_id,
            rtc_id=snapshot.rtc_id,
            send_video=snapshot.send_video,
            send_audio=snapshot.send_audio,
            created_at=snapshot.created_at,
        )


@asynccontextmanager
async def sandbox_world() -> AsyncIterator[PeerWorld]:
    yield SandboxWorld(Sandbox())


WORLD_FACTORIES: dict[str, Callable[[], AbstractAsyncContextManager[PeerWorld]]] = {
    "sandbox": sandbox_world,
}
