"""The MQTT agent against a real Mosquitto: requests, late answers, outages, reconnects, events."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import aiomqtt
import pytest

from minigroups.adapters.ulms import (
    BrokerUnavailable,
    Envelope,
    InboundMessage,
    MqttAgent,
    RequestTimedOut,
)
from minigroups.adapters.ulms import envelope as codec
from tests.integration.ulms.support import metrics_of, new_agent, wait_until
from tests.support.mosquitto import Mosquitto
from tests.support.simulators.wire import requests_filter, response

PEER = "echo.svc.example.org"


class Echo:
    """A peer agent answering every request with its payload; `delay` and `copies` per test."""

    def __init__(self, broker: Mosquitto) -> None:
        self.agent = new_agent(broker, label="echo")
        self.delay = 0.0
        self.copies = 1
        self.seen: list[Envelope] = []

    async def start(self) -> None:
        await self.agent.subscribe(requests_filter(PEER), self._answer, qos=0)
        await self.agent.start()

    async def _answer(self, message: InboundMessage) -> None:
        request = message.envelope()
        self.seen.append(request)
        await asyncio.sleep(self.delay)
        reply = response(
            status=200,
            correlation_data=request.properties["correlation_data"],
            body=request.body(),
            timestamp=codec.unix_ms(),
        )
        for _ in range(self.copies):
            await self.agent.publish(request.properties["response_topic"], reply, qos=0)


@pytest.fixture
async def echo(mosquitto: Mosquitto) -> AsyncIterator[Echo]:
    peer = Echo(mosquitto)
    await peer.start()
    yield peer
    await peer.agent.close()


@pytest.fixture
async def agent(mosquitto: Mosquitto) -> AsyncIterator[MqttAgent]:
    service = new_agent(mosquitto)
    await service.start()
    assert service.connected
    yield service
    await service.close()


async def ask(agent: MqttAgent, payload: dict[str, object], within: float = 2.0) -> Envelope:
    return await agent.request(
        peer=PEER, api_version="v1", method="echo.say", payload=payload, timeout=within
    )


async def test_a_request_gets_its_response_by_correlation(agent: MqttAgent, echo: Echo) -> None:
    answers = await asyncio.gather(*(ask(agent, {"n": n}) for n in range(20)))
    assert [answer.body() for answer in answers] == [{"n": n} for n in range(20)]
    assert {answer.properties["status"] for answer in answers} == {"200"}
    assert agent.in_flight == 0


async def test_a_late_answer_is_dropped_and_counted_and_the_waiter_is_gone(
    agent: MqttAgent, echo: Echo
) -> None:
    echo.delay = 1.0  # the answer comes late; the waiter leaves at its timeout, long before
    started = time.monotonic()
    with pytest.raises(RequestTimedOut):
        await ask(agent, {"late": True}, within=0.1)
    assert time.monotonic() - started < 0.7
    assert agent.in_flight == 0  # the waiter left with the timeout
    await wait_until(lambda: metrics_of(agent).count("mqtt_responses_dropped_total") == 1)
    assert metrics_of(agent).count("mqtt_responses_dropped_total", reason="late") == 1


async def test_a_duplicate_answer_is_dropped_and_counted(agent: MqttAgent, echo: Echo) -> None:
    echo.copies = 2
    assert (await ask(agent, {"twice": True})).body() == {"twice": True}
    await wait_until(lambda: metrics_of(agent).count("mqtt_responses_dropped_total") == 1)
    assert metrics_of(agent).count("mqtt_responses_dropped_total", reason="duplicate") == 1


async def test_an_unknown_answer_is_dropped_and_counted(agent: MqttAgent, echo: Echo) -> None:
    stray = response(
        status=200, correlation_data="nobodyasked12345", body={}, timestamp=codec.unix_ms()
    )
    await echo.agent.publish(f"agents/{agent.agent_id}/api/v1/in/{PEER}", stray, qos=0)
    await wait_until(lambda: metrics_of(agent).count("mqtt_responses_dropped_total") == 1)
    assert metrics_of(agent).count("mqtt_responses_dropped_total", reason="unknown") == 1


async def test_unreadable_and_oversized_answers_are_dropped_and_the_connection_stays(
    mosquitto: Mosquitto, echo: Echo
) -> None:
    agent = new_agent(mosquitto, max_message_size=4096)
    await agent.start()
    try:
        topic = f"agents/{agent.agent_id}/api/v1/in/{PEER}"
        request = codec.request(
            method="m", body={}, correlation_data="c" * 16, response_topic=topic, timestamp="1"
        )
        async with aiomqtt.Client(mosquitto.host, mosquitto.port) as stranger:
            await stranger.publish(topic, b"not an envelope", qos=0)
            await stranger.publish(topic, b"x" * 5000, qos=0)
            await stranger.publish(topic, request.encode(), qos=0)
        metrics = metrics_of(agent)
        await wait_until(lambda: metrics.count("mqtt_responses_dropped_total") == 2)
        assert metrics.count("mqtt_responses_dropped_total", reason="malformed") == 1
        assert metrics.count("mqtt_responses_dropped_total", reason="not_a_response") == 1
        await wait_until(lambda: metrics.count("mqtt_messages_dropped_total") == 1)
        assert metrics.count("mqtt_messages_dropped_total", reason="too_large") == 1
        assert (await ask(agent, {"still": "connected"})).body() == {"still": "connected"}
        assert metrics.count("mqtt_connection_events_total", event="lost") == 0
    finally:
        await agent.close()


async def test_a_broker_down_at_start_fails_requests_at_once_until_it_is_back(
    mosquitto: Mosquitto, echo: Echo
) -> None:
    await echo.agent.close()
    mosquitto.stop()
    service = new_agent(mosquitto)
    started = time.monotonic()
    await service.start()  # returns after the first failed attempt
    try:
        assert not service.connected
        with pytest.raises(BrokerUnavailable):
            await ask(service, {}, within=5)
        assert time.monotonic() - started < 2
        mosquitto.start()
        peer = Echo(mosquitto)
        await peer.start()
        await wait_until(lambda: service.connected)
        assert (await ask(service, {"back": True})).body() == {"back": True}
        await peer.agent.close()
    finally:
        await service.close()


async def test_a_dropped_connection_fails_waiting_requests_at_once_and_reconnects(
    mosquitto: Mosquitto, agent: MqttAgent, echo: Echo
) -> None:
    echo.delay = 5
    waiting = asyncio.create_task(ask(agent, {}, within=5))
    await wait_until(lambda: len(echo.seen) == 1)
    started = time.monotonic()
    mosquitto.stop()
    with pytest.raises(BrokerUnavailable):
        await waiting
    assert time.monotonic() - started < 3  # not the answer's 5 s (stopping the broker is timed)
    assert agent.in_flight == 0
    mosquitto.start()
    await wait_until(lambda: agent.connected and echo.agent.connected)
    echo.delay = 0
    assert (await ask(agent, {"again": True})).body() == {"again": True}  # re-subscribed
    counts = metrics_of(agent)
    assert counts.count("mqtt_connection_events_total", event="lost") == 1
    assert counts.count("mqtt_connection_events_total", event="connected") == 2


async def test_an_event_is_published_at_qos_1_with_exactly_type_label_timestamp(
    mosquitto: Mosquitto, agent: MqttAgent
) -> None:
    topic = "apps/dispatcher.svc.example.org/api/v1/audiences/usr.example.org/events"
    async with aiomqtt.Client(mosquitto.host, mosquitto.port, identifier="listener") as listener:
        await listener.subscribe(topic, qos=1)
        before = int(time.time() * 1000)
        await agent.publish_event(topic, "minigroup.ready", {"id": "x"})
        async with asyncio.timeout(5):
            message = await anext(aiter(listener.messages))
    assert (message.topic.value, message.qos) == (topic, 1)
    received = codec.decode(bytes(message.payload))
    assert received.payload == '{"id":"x"}'
    assert set(received.properties) == {"type", "label", "timestamp"}
    assert received.properties["type"] == "event"
    assert received.properties["label"] == "minigroup.ready"
    assert before <= int(received.properties["timestamp"]) <= int(time.time() * 1000)


async def test_publishing_while_disconnected_fails_at_once(mosquitto: Mosquitto) -> None:
    mosquitto.stop()
    service = new_agent(mosquitto)
    await service.start()
    try:
        with pytest.raises(BrokerUnavailable):
            await service.publish_event("apps/a.b/api/v1/audiences/c/events", "x", {})
    finally:
        await service.close()
