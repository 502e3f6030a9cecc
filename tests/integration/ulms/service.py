"""A service built by `bootstrap` with upstream = "ulms", driven through its HTTP API, with the
event/conference simulators on the test broker and the HTTP tq stand-in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import msgspec

from minigroups.adapters.sandbox import Sandbox
from minigroups.bootstrap import Container, build_container, create_app
from minigroups.config import IdTokenSettings, MqttSettings, PeerClientSettings, Settings
from tests.api.conftest import Api, build_settings
from tests.integration.ulms.support import wait_until
from tests.support.authz_backend import AuthzBackend
from tests.support.faults import Faults
from tests.support.mosquitto import Mosquitto
from tests.support.simulators import BrokerPeers, BrokerRequest, TqServer

EVENT_ACCOUNT = "event.svc.example.org"
CONFERENCE_ACCOUNT = "conference.svc.example.org"
PEER_TIMEOUT = 0.5  # for the tests about timeouts (their own `service` fixture)
# Everywhere else a peer that answers is given time to: a whole suite on two cores can hold a
# round trip up for more than half a second now and then.
RELAXED_PEER_TIMEOUT = 5.0


@dataclass
class UlmsApi:
    """The API of a ULMS service plus what the peers saw."""

    api: Api
    container: Container
    peers: BrokerPeers
    tq: TqServer
    broker: Mosquitto

    @property
    def agent_id(self) -> str:
        return f"{self.container.settings.agent_label}.{self.container.settings.id}"

    def requests(self, service: str, method: str | None = None) -> list[BrokerRequest]:
        return self.peers.requests_to(service, method)


def ulms_settings(
    base: Settings,
    broker: Mosquitto,
    tq_base_url: str,
    key_path: Path,
    *,
    agent_label: str = "test",
    timeout: float = PEER_TIMEOUT,
) -> Settings:
    """`base` switched to upstream = "ulms" on `broker`, the id token signed with `key_path`."""
    return msgspec.structs.replace(
        base,
        agent_label=agent_label,
        upstream="ulms",
        mqtt=MqttSettings(uri=broker.uri, reconnect_interval=0.1),
        id_token=IdTokenSettings(algorithm="ES256", key=str(key_path)),
        event_client=PeerClientSettings(account_id=EVENT_ACCOUNT, timeout=timeout),
        conference_client=PeerClientSettings(account_id=CONFERENCE_ACCOUNT, timeout=timeout),
        tq_client=msgspec.structs.replace(base.tq_client, base_url=tq_base_url, timeout=timeout),
    )


@asynccontextmanager
async def running_peers(broker: Mosquitto, sandbox: Sandbox) -> AsyncIterator[BrokerPeers]:
    peers = BrokerPeers(
        sandbox,
        host=broker.host,
        port=broker.port,
        event_account_id=EVENT_ACCOUNT,
        conference_account_id=CONFERENCE_ACCOUNT,
    )
    await peers.start()
    try:
        await wait_until(lambda: peers.connected)
        yield peers
    finally:
        await peers.close()


@asynccontextmanager
async def ulms_api(
    database_url: str,
    tmp_path: Path,
    broker: Mosquitto,
    *,
    agent_label: str = "test",
    peer_timeout: float = RELAXED_PEER_TIMEOUT,
) -> AsyncIterator[UlmsApi]:
    """Simulators, tq server, authz backend and the service, started; all closed at the end."""
    faults = Faults()
    sandbox = Sandbox(faults=faults)
    backend, tq = AuthzBackend(), TqServer(sandbox)
    await backend.start()
    await tq.start()
    base = build_settings(database_url, tmp_path, backend.uri)
    settings = ulms_settings(
        base,
        broker,
        tq.base_url,
        tmp_path / "svc.private.pem",
        agent_label=agent_label,
        timeout=peer_timeout,
    )
    try:
        async with running_peers(broker, sandbox) as peers:
            container = build_container(settings)
            app = create_app(container)
            assert app.on_startup is not None
            assert app.on_shutdown is not None
            await app.on_startup()  # what the ASGI lifespan runs; ASGITransport does not
            transport = httpx.ASGITransport(app=app)
            try:
                async with httpx.AsyncClient(
                    transport=transport, base_url="http://minigroups.test"
                ) as client:
                    api = Api(
                        client, container, sandbox, faults, backend, tmp_path / "hs256.secret"
                    )
                    yield UlmsApi(api, container, peers, tq, broker)
            finally:
                await app.on_shutdown()
    finally:
        await tq.close()
        await backend.stop()
