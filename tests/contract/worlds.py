"""Peer worlds for the contract suite: one factory per adapter, all behind `PeerWorld`.

A world gives the port implementations under test plus the few observation and set-up hooks the
ports do not offer (stored events, locked types, writer snapshots). Two worlds: `sandbox` (the
clients over the in-process requester) and `ulms` (the same clients over the MQTT agent, against
the sandbox's peers simulated on a real Mosquitto). Both observe the peers through a `Sandbox`.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from typing import Protocol
from uuid import UUID

import pytest

from minigroups.adapters.peers.conference import ConferenceClient
from minigroups.adapters.peers.event import EventClient
from minigroups.adapters.sandbox import InProcessRequester, Sandbox
from minigroups.adapters.ulms import AgentOptions, MqttAgent, MqttRequester
from minigroups.domain.json_value import JsonObject
from minigroups.ports import ConferenceService, EventService, WriterConfigSnapshot
from tests.support.mosquitto import Mosquitto
from tests.support.simulators import BrokerPeers, CountingMetrics

EVENT_ACCOUNT = "event.svc.example.org"
CONFERENCE_ACCOUNT = "conference.svc.example.org"
TIMEOUT = 2.0


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

    def add_edition(self, source_room_id: UUID, created_at: int) -> UUID:
        """Make the event service hold an edition of a room (an editor made it)."""
        ...


class SandboxPeersWorld:
    """The observation and set-up hooks, on the sandbox whose peers answer (real clock)."""

    events: EventService
    conference: ConferenceService

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

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

    def add_edition(self, source_room_id: UUID, created_at: int) -> UUID:
        edition = self.sandbox.event.add_edition(
            source_room_id, created_by="web.editor.dev.usr.example.com", created_at=created_at
        )
        return UUID(edition["id"])


class SandboxWorld(SandboxPeersWorld):
    """The ports over the in-process sandbox."""

    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__(sandbox)
        requester = InProcessRequester(
            sandbox, event_account_id=EVENT_ACCOUNT, conference_account_id=CONFERENCE_ACCOUNT
        )
        self.events = EventClient(requester, account_id=EVENT_ACCOUNT, timeout=TIMEOUT)
        self.conference = ConferenceClient(
            requester, account_id=CONFERENCE_ACCOUNT, timeout=TIMEOUT
        )


class UlmsWorld(SandboxPeersWorld):
    """The ports over the MQTT agent; the sandbox's peers answer on the broker."""

    def __init__(self, sandbox: Sandbox, agent: MqttAgent) -> None:
        super().__init__(sandbox)
        requester = MqttRequester(
            agent, services={EVENT_ACCOUNT: "event", CONFERENCE_ACCOUNT: "conference"}
        )
        self.events = EventClient(requester, account_id=EVENT_ACCOUNT, timeout=TIMEOUT)
        self.conference = ConferenceClient(
            requester, account_id=CONFERENCE_ACCOUNT, timeout=TIMEOUT
        )


@asynccontextmanager
async def sandbox_world(_: pytest.FixtureRequest) -> AsyncIterator[PeerWorld]:
    yield SandboxWorld(Sandbox())


@asynccontextmanager
async def ulms_world(request: pytest.FixtureRequest) -> AsyncIterator[PeerWorld]:
    broker: Mosquitto = request.getfixturevalue("shared_mosquitto")
    sandbox = Sandbox()
    peers = BrokerPeers(
        sandbox,
        host=broker.host,
        port=broker.port,
        event_account_id=EVENT_ACCOUNT,
        conference_account_id=CONFERENCE_ACCOUNT,
    )
    agent_id = f"contract-{secrets.token_hex(4)}.dispatcher.svc.example.org"
    options = AgentOptions(
        host=broker.host, port=broker.port, agent_id=agent_id, clean_session=True
    )
    agent = MqttAgent(options, CountingMetrics())
    await peers.start()
    await agent.start()
    try:
        assert agent.connected
        assert peers.connected
        yield UlmsWorld(sandbox, agent)
    finally:
        await agent.close()
        await peers.close()


WorldFactory = Callable[[pytest.FixtureRequest], AbstractAsyncContextManager[PeerWorld]]
WORLD_FACTORIES: dict[str, WorldFactory] = {"sandbox": sandbox_world, "ulms": ulms_world}
