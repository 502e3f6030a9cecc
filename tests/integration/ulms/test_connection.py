"""How a ULMS service meets the broker: its identity, and the notifier's messages (issue 3, 2)."""

from __future__ import annotations

import asyncio
import json
import time

import aiomqtt

from minigroups.adapters.auth.tokens import read_token
from tests.api.conftest import AUDIENCE
from tests.integration.ulms.service import UlmsApi

OWN_ACCOUNT = "dispatcher.svc.example.org"


async def test_the_agent_connects_as_agent_id_with_the_id_token_and_a_persistent_session(
    service: UlmsApi,
) -> None:
    agent = service.container.agent
    assert agent is not None
    assert agent.agent_id == "test.dispatcher.svc.example.org"
    # Mosquitto logs: protocol 2 (= MQTT 3.1.1), clean session 0, keep alive, the username.
    assert f"as {agent.agent_id} (p2, c0, k60, u'v2::service')" in service.broker.log
    assert agent.options.password is not None
    token = read_token(agent.options.password)
    assert token.alg == "ES256"
    assert (token.claims.iss, token.claims.aud, token.claims.sub) == (
        "svc.example.org",
        "svc.example.org",
        "dispatcher",
    )
    assert token.claims.exp is None


async def test_minigroup_stop_is_published_on_the_audience_events_topic(service: UlmsApi) -> None:
    topic = f"apps/{OWN_ACCOUNT}/api/v1/audiences/{AUDIENCE}/events"
    class_id = "0b9b6f4e-8d3c-4a56-9a3e-2f7c2b1d9e10"
    async with aiomqtt.Client(
        service.broker.host, service.broker.port, identifier="audience-listener"
    ) as listener:
        await listener.subscribe(f"apps/{OWN_ACCOUNT}/api/v1/audiences/+/events", qos=1)
        before = int(time.time() * 1000)
        await service.container.ctx.notifier.notify(
            audience=AUDIENCE,
            label="minigroup.stop",
            payload={"tags": {"foo": "bar"}, "scope": "minigroup-abc", "id": class_id},
        )
        after = int(time.time() * 1000)
        async with asyncio.timeout(5):
            message = await anext(aiter(listener.messages))
    assert message.topic.value == topic
    assert message.qos == 1
    received = json.loads(bytes(message.payload))
    assert set(received) == {"payload", "properties"}
    assert received["payload"] == (
        '{"tags":{"foo":"bar"},"scope":"minigroup-abc","id":"' + class_id + '"}'
    )
    properties = received["properties"]
    assert set(properties) == {"type", "label", "timestamp"}
    assert (properties["type"], properties["label"]) == ("event", "minigroup.stop")
    assert before <= int(properties["timestamp"]) <= after
