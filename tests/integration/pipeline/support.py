"""The platform around real `minigroups serve` processes, for the pipeline tests on a real broker.

`Platform`: the event and conference simulators (`BrokerPeers`), tq over HTTP (`TqServer`), and
the sandbox autopilot publishing the peers' lifecycle events ON THE BROKER as a peer would
(`apps/<peer account>/api/v1/audiences/<audience>/events`, envelope `type=event`, `label`,
`timestamp`), plus a listener of what the service broadcasts. `ServiceApi` drives a process over
HTTP; `Database` looks into its PostgreSQL; `BrokerLog` reads Mosquitto's packet log.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import aiomqtt
import asyncpg
import httpx

from minigroups.adapters.sandbox import Sandbox
from minigroups.adapters.sandbox.autopilot import Accounts, SandboxAutopilot
from minigroups.adapters.ulms import AgentOptions, Envelope, MqttAgent
from minigroups.adapters.ulms.errors import BrokerUnavailable
from minigroups.domain.minigroup import Minigroup
from minigroups.domain.tasks import CONVERT_TEMPLATE as CONVERT
from minigroups.domain.tasks import TRANSCODE_TEMPLATE as TRANSCODE
from minigroups.domain.timerange import TimeRange, from_unix
from tests.api.conftest import ADMIN, bearer_token
from tests.integration.ulms.processes import ACCOUNT, AUDIENCE, TQ_ACCOUNT, Served
from tests.integration.ulms.service import CONFERENCE_ACCOUNT, EVENT_ACCOUNT, running_peers
from tests.support.mosquitto import Mosquitto
from tests.support.simulators import BrokerPeers, CountingMetrics, TqServer

NOTIFICATIONS = f"apps/{ACCOUNT}/api/v1/audiences/+/events"
RECORDING_MS = 1_800_000  # the autopilot's recordings last 1800 s
PUBLISH_RETRY_SECONDS = 30.0
EVENTS_PER_MINIGROUP = 7  # close, upload, 2 conversions, adjust, dump, transcoding


async def eventually(check: Callable[[], object], within: float = 20.0) -> None:
    """Poll a condition (a plain or an async function) until it is true; fail after `within` s."""
    deadline = time.monotonic() + within
    while not await _holds(check):
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(0.05)


async def _holds(check: Callable[[], object]) -> bool:
    result = check()
    if inspect.isawaitable(result):
        result = await result
    return bool(result)


@dataclass(frozen=True)
class Notice:
    """One event the service broadcast, as a subscriber on the broker received it."""

    topic: str
    properties: dict[str, str]
    payload: dict[str, Any]


@dataclass
class Platform:
    broker: Mosquitto
    sandbox: Sandbox
    peers: BrokerPeers
    tq: TqServer
    publisher: MqttAgent
    autopilot: SandboxAutopilot = field(init=False)
    published: list[tuple[str, dict[str, str], str]] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)

    def __post_init__(self) -> None:
        accounts = Accounts(event=EVENT_ACCOUNT, conference=CONFERENCE_ACCOUNT, tq=TQ_ACCOUNT)
        self.autopilot = SandboxAutopilot(self.sandbox, accounts, self.emit, upload_delay=0)

    async def emit(self, topic: str, properties: dict[str, str], payload: str) -> None:
        """What the autopilot's peers publish: QoS 1, returns once the broker has it. While the
        broker is away (a restart) the peer tries again, as a real one would; a publication
        that was received but not acknowledged then arrives twice, as a redelivery."""
        deadline = time.monotonic() + PUBLISH_RETRY_SECONDS
        while True:
            try:
                await self.publisher.publish(topic, Envelope(payload, properties), qos=1)
            except BrokerUnavailable:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)
            else:
                break
        self.published.append((topic, properties, payload))

    async def finish(self, created: dict[str, Any], participants: int = 2) -> None:
        """The lesson ends: the conference closes the room (the upload follows on `step`)."""
        await self.autopilot.finish(minigroup_of(created), participants)

    def notified(self, label: str) -> list[Notice]:
        return [notice for notice in self.notices if notice.properties.get("label") == label]

    @asynccontextmanager
    async def autopiloting(self, pace: float = 0.05) -> AsyncIterator[None]:
        """The platform answers whatever the service asks, in the background."""
        task = asyncio.create_task(self.autopilot.run(pace))
        try:
            yield
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def effects(self, created: list[dict[str, Any]]) -> dict[str, Counter[str]]:
        """Every side effect the service had on the platform, per minigroup id."""
        ids = {item["id"] for item in created}
        by_event_room = {item["event_room_id"]: item["id"] for item in created}
        effects: dict[str, Counter[str]] = {minigroup: Counter() for minigroup in ids}
        for task in self.sandbox.tq.tasks:
            effects[str(task.classroom_id)][task.body["template"]] += 1
        for request in self.peers.requests_to("event", "room.adjust"):
            effects[by_event_room[request.payload["id"]]]["room.adjust"] += 1
        for request in self.peers.requests_to("event", "room.dump_events"):
            room = self.sandbox.event.room(UUID(request.payload["id"]))
            effects[room["classroom_id"]]["room.dump_events"] += 1
        for notice in self.notices:
            effects[notice.payload["id"]][notice.properties["label"]] += 1
        return effects


def once(participants: int) -> Counter[str]:
    """The side effects of one finished minigroup, each exactly once (a convert per recording)."""
    effects = ["room.adjust", "room.dump_events", TRANSCODE, "minigroup.stop", "minigroup.ready"]
    return Counter({CONVERT: participants, **dict.fromkeys(effects, 1)})


def minigroup_of(created: dict[str, Any]) -> Minigroup:
    """The domain object of a create's answer (what the autopilot needs: rooms, audience)."""
    return Minigroup(
        id=UUID(created["id"]),
        scope=created["scope"],
        audience=created["audience"],
        time=TimeRange.parse(created["time"]),
        created_at=from_unix(created["created_at"]),
        event_room_id=UUID(created["event_room_id"]),
        conference_room_id=UUID(created["conference_room_id"]),
    )


@asynccontextmanager
async def running_platform(broker: Mosquitto) -> AsyncIterator[Platform]:
    """Simulators, tq, a publisher and the notification listener, started; closed at the end."""
    sandbox = Sandbox()
    tq = TqServer(sandbox)
    await tq.start()
    publisher = MqttAgent(
        AgentOptions(
            host=broker.host,
            port=broker.port,
            agent_id="autopilot.platform.svc.example.org",
            username=None,
            clean_session=True,
            reconnect_interval=0.1,
        ),
        CountingMetrics(),
    )
    try:
        async with running_peers(broker, sandbox) as peers:
            await publisher.start()
            platform = Platform(broker, sandbox, peers, tq, publisher)
            async with _listening(broker, platform.notices):
                yield platform
    finally:
        await publisher.close()
        await tq.close()


@asynccontextmanager
async def _listening(broker: Mosquitto, notices: list[Notice]) -> AsyncIterator[None]:
    """A plain MQTT subscriber of the service's broadcasts (minigroup.stop, minigroup.ready)."""
    ready = asyncio.Event()

    async def listen() -> None:
        # A persistent session, reconnected: what is broadcast while the broker restarts waits.
        while True:
            try:
                async with aiomqtt.Client(
                    broker.host, broker.port, identifier="listener", clean_session=False
                ) as client:
                    await client.subscribe(NOTIFICATIONS, qos=1)
                    ready.set()
                    async for message in client.messages:
                        wire = json.loads(bytes(message.payload))
                        notice = Notice(
                            message.topic.value, wire["properties"], json.loads(wire["payload"])
                        )
                        notices.append(notice)
            except aiomqtt.MqttError:
                await asyncio.sleep(0.1)

    task = asyncio.create_task(listen())
    await asyncio.wait_for(ready.wait(), 5)
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


class ServiceApi:
    """The HTTP API of one served process (authorization `none` for the test audience)."""

    def __init__(self, served: Served, secret: Path) -> None:
        self.served = served
        self.secret = secret
        self.client = httpx.AsyncClient(base_url=served.base, timeout=10)

    def auth(self, label: str = "user1") -> dict[str, str]:
        return {"authorization": f"Bearer {bearer_token(self.secret, label, AUDIENCE)}"}

    async def aclose(self) -> None:
        await self.client.aclose()

    async def __aenter__(self) -> ServiceApi:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def create(self, scope: str, **body: Any) -> dict[str, Any]:
        response = await self.client.post(
            "/api/v1/minigroups",
            json={"audience": AUDIENCE, "scope": scope, **body},
            headers=self.auth(ADMIN),
        )
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def read(self, minigroup_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/api/v1/minigroups/{minigroup_id}", headers=self.auth())
        assert response.status_code == 200, response.text
        read: dict[str, Any] = response.json()
        return read

    async def statuses(self, created: list[dict[str, Any]]) -> Counter[str]:
        reads = await asyncio.gather(*(self.read(item["id"]) for item in created))
        return Counter(read.get("status", "") for read in reads)


class Database:
    """Reads (and, for the kill test, locks) the service's tables in its PostgreSQL."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def fetch(self, query: str, *args: object) -> list[asyncpg.Record]:
        connection = await asyncpg.connect(self.url)
        try:
            return list(await connection.fetch(query, *args))
        finally:
            await connection.close()

    async def inbox(self) -> Counter[str]:
        """Recorded events by state: done, dead, claimed (in handling) or waiting."""
        connection = await asyncpg.connect(self.url)
        try:
            return await inbox_states(connection)
        finally:
            await connection.close()

    async def settled(self) -> bool:
        """Nothing left to handle or to send."""
        rows = await self.fetch(
            "SELECT (SELECT count(*) FROM inbox WHERE status = 'pending')"
            " + (SELECT count(*) FROM outbox WHERE status = 'pending') AS left"
        )
        return bool(rows[0]["left"] == 0)

    @asynccontextmanager
    async def inbox_locked(self) -> AsyncIterator[asyncpg.Connection]:
        """The inbox table locked against writes (reads still work) until the block ends:
        the service can neither record nor settle an event meanwhile, like a stalled database."""
        connection = await asyncpg.connect(self.url)
        try:
            transaction = connection.transaction()
            await transaction.start()
            await connection.execute("LOCK TABLE inbox IN EXCLUSIVE MODE")
            try:
                yield connection
            finally:
                await transaction.rollback()
        finally:
            await connection.close()

    async def claims(self, instance: str) -> set[UUID]:
        """The inbox and outbox items an instance holds now (pending, leased to it)."""
        rows = await self.fetch(
            "SELECT id FROM inbox WHERE status = 'pending' AND lease IS NOT NULL AND owner = $1"
            " UNION ALL SELECT id FROM outbox"
            " WHERE status = 'pending' AND lease IS NOT NULL AND owner = $1",
            instance,
        )
        return {row["id"] for row in rows}

    async def owners(self, ids: set[UUID]) -> dict[UUID, tuple[str, str | None]]:
        """Status and last claimer of inbox and outbox items."""
        rows = await self.fetch(
            "SELECT id, status, owner FROM inbox UNION ALL SELECT id, status, owner FROM outbox"
        )
        return {row["id"]: (row["status"], row["owner"]) for row in rows if row["id"] in ids}

    @asynccontextmanager
    async def class_locked(self, minigroup_id: str) -> AsyncIterator[None]:
        """The minigroup's row locked (`FOR UPDATE`) until the block ends: a handler that needs
        it waits there, with its inbox item claimed."""
        connection = await asyncpg.connect(self.url)
        try:
            transaction = connection.transaction()
            await transaction.start()
            await connection.execute(
                "SELECT 1 FROM class WHERE id = $1 FOR UPDATE", UUID(minigroup_id)
            )
            try:
                yield
            finally:
                await transaction.rollback()
        finally:
            await connection.close()


async def lessons_done(
    platform: Platform,
    database: Database,
    api: ServiceApi,
    created: list[dict[str, Any]],
    *,
    within: float = 20.0,
) -> None:
    """Wait, inside `platform.autopiloting()`, until every minigroup is transcoded and every
    event of its lesson is published by the platform and recorded by the service.

    Transcoded is not the end: the autopilot publishes a transcoding's completion before the
    answers of the same step, so a dump result may follow its class's `transcoded`, and leaving
    `autopiloting` then stops the autopilot before it publishes it (CI runs counted 125 of 126
    and 689 of 700 events).
    """

    async def transcoded() -> bool:
        return await api.statuses(created) == {"transcoded": len(created)}

    async def recorded() -> bool:
        return (await database.inbox()).total() >= expected

    expected = EVENTS_PER_MINIGROUP * len(created)
    await eventually(transcoded, within=within)
    await eventually(lambda: len(platform.published) >= expected, within=within)
    await eventually(recorded, within=within)


async def inbox_states(connection: asyncpg.Connection) -> Counter[str]:
    """Recorded events by state: done, dead, claimed (in handling) or waiting."""
    rows = await connection.fetch(_INBOX_STATES)
    return Counter({row["state"]: row["count"] for row in rows})


_INBOX_STATES = """
SELECT CASE WHEN status <> 'pending' THEN status
            WHEN lease IS NOT NULL THEN 'claimed' ELSE 'waiting' END AS state,
       count(*) AS count
FROM inbox GROUP BY 1
"""


class BrokerLog:
    """Mosquitto's packet log (`log_type debug`): QoS 1 lifecycle deliveries to one client."""

    def __init__(self, broker: Mosquitto) -> None:
        self.broker = broker

    def deliveries(self, client: str, *, dup: bool = False) -> int:
        """PUBLISH packets sent to `client` on `apps/...` at QoS 1 (first sends or resends)."""
        flag = "d1" if dup else "d0"
        head = f"Sending PUBLISH to {client} ({flag}, q1, "
        return sum(1 for line in self._lines() if head in line and ", 'apps/" in line)

    def acknowledgements(self, client: str) -> int:
        return sum(1 for line in self._lines() if f"Received PUBACK from {client} " in line)

    def _lines(self) -> list[str]:
        return self.broker.log.splitlines()


class LoggingMosquitto(Mosquitto):
    """The throwaway broker, logging every packet so that tests can count deliveries."""

    def _config(self) -> str:
        return super()._config() + "log_type debug\n"
