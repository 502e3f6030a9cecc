"""Two `minigroups serve` processes on one broker (issue 3, item 5).

Different agent labels, one account: both serve creates at the same time, every response reaches
the agent that asked (a spy on the broker checks each correlation) and every minigroup holds the
event room that was created for it.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import UUID

import aiomqtt
import httpx
import pytest

from minigroups.adapters.sandbox import Sandbox
from tests.api.conftest import _private_key_pem, bearer_token
from tests.integration.ulms.processes import AUDIENCE, serve, stop, wait_ready, write_config
from tests.integration.ulms.service import running_peers
from tests.integration.ulms.support import wait_until
from tests.support.mosquitto import Mosquitto
from tests.support.simulators import BrokerPeers

CREATES = 15  # per process


class Spy:
    """Sees every request and response on the broker; checks each response went to its asker."""

    def __init__(self) -> None:
        self.askers: dict[str, str] = {}  # correlation_data -> agent that sent the request
        self.crossed: list[str] = []
        self.responses = 0

    def see(self, topic: str, payload: bytes) -> None:
        levels = topic.split("/")
        properties = json.loads(payload)["properties"]
        correlation = properties["correlation_data"]
        if levels[4] == "out":
            self.askers[correlation] = levels[1]
        else:
            self.responses += 1
            if self.askers.get(correlation) != levels[1]:
                self.crossed.append(f"{correlation}: asked by {self.askers.get(correlation)}")


@pytest.fixture
async def spy(mosquitto: Mosquitto) -> AsyncIterator[Spy]:
    seen = Spy()

    async def listen() -> None:
        async with aiomqtt.Client(mosquitto.host, mosquitto.port, identifier="spy") as client:
            await client.subscribe([("agents/+/api/v1/out/+", 0), ("agents/+/api/v1/in/+", 0)])
            ready.set()
            async for message in client.messages:
                seen.see(message.topic.value, bytes(message.payload))

    ready = asyncio.Event()
    task = asyncio.create_task(listen())
    await ready.wait()
    yield seen
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


@pytest.fixture
async def peers(mosquitto: Mosquitto) -> AsyncIterator[BrokerPeers]:
    async with running_peers(mosquitto, Sandbox()) as running:
        yield running


@pytest.mark.slow
async def test_two_processes_share_the_broker_and_their_responses_never_cross(
    mosquitto: Mosquitto, peers: BrokerPeers, spy: Spy, tmp_path: Path
) -> None:
    secret = tmp_path / "hs256.secret"
    secret.write_text(secrets.token_urlsafe(32))
    key = _private_key_pem(tmp_path / "svc.private.pem")
    served = [
        serve(write_config(tmp_path, label, mosquitto, secret, key), label)
        for label in ("alpha", "beta")
    ]
    try:
        await asyncio.gather(*(wait_ready(s) for s in served))
        headers = {"authorization": f"Bearer {bearer_token(secret, 'admin', AUDIENCE)}"}
        async with httpx.AsyncClient(headers=headers, timeout=10) as client:
            responses = await asyncio.gather(
                *(
                    client.post(
                        f"{s.base}/api/v1/minigroups",
                        json={"audience": AUDIENCE, "scope": f"{s.label}-{n}"},
                    )
                    for n in range(CREATES)
                    for s in served
                )
            )
            assert [r.status_code for r in responses] == [201] * (2 * CREATES)
            for response in responses:
                created = response.json()
                room = peers.sandbox.event.room(UUID(created["event_room_id"]))
                assert room["classroom_id"] == created["id"]  # its own answer, not the other's
            askers = {r.topic.split("/")[1] for r in peers.requests}
            assert askers == {f"{s.label}.dispatcher.svc.example.org" for s in served}
            for s in served:
                metrics = (await client.get(s.metrics)).text
                dropped = [
                    line
                    for line in metrics.splitlines()
                    if line.startswith("minigroups_mqtt_responses_dropped_total{")
                ]
                assert dropped, "every reason is exported, at zero until a drop"
                assert all(line.endswith(" 0.0") for line in dropped), dropped
        # room.create x2 and locked_types per create; the spy may see the last ones a bit later
        await wait_until(lambda: spy.responses == 3 * 2 * CREATES)
        assert spy.crossed == []
    finally:
        await asyncio.gather(*(stop(s) for s in served))
