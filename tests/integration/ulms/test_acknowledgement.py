"""QoS 1 event subscriptions are acknowledged only after their handler returns (at least once).

This guards the reach into paho (aiomqtt 2.5.1 acknowledges on arrival): manual acknowledgement
must be on before CONNECT, or a persistent session's backlog is acknowledged as it arrives.
"""

from __future__ import annotations

import asyncio

import aiomqtt

from minigroups.adapters.ulms import InboundMessage, MqttAgent
from minigroups.adapters.ulms.topics import audience_events_topic, shared
from tests.integration.ulms.support import new_agent, wait_until
from tests.support.mosquitto import Mosquitto

TOPIC = audience_events_topic("event.svc.example.org", "usr.example.org")
SHARED = shared("loadbalancer.dispatcher.svc.example.org", TOPIC)
QUIET = 0.5  # how long a message that must not come back is given to come back


class Consumer:
    """A handler that fails (or hangs) on chosen attempts and records every delivery."""

    def __init__(self, *, fail: int = 0, hang: int = 0) -> None:
        self.deliveries: list[str] = []
        self.handled = 0  # returned: the agent acknowledges it as the handler returns
        self._fail, self._hang = fail, hang

    async def handle(self, message: InboundMessage) -> None:
        self.deliveries.append(message.envelope().properties["label"])
        attempt = len(self.deliveries)
        if attempt <= self._hang:
            await asyncio.Event().wait()  # never returns: a handler stuck when the link drops
        if attempt <= self._fail:
            raise RuntimeError("crashed before the event was stored")
        self.handled += 1


async def publish(broker: Mosquitto, label: str) -> None:
    async with aiomqtt.Client(broker.host, broker.port, identifier="publisher") as client:
        payload = (
            b'{"payload":"{}","properties":{"type":"event","label":"' + label.encode() + b'"}}'
        )
        await client.publish(TOPIC, payload, qos=1)


async def consume(broker: Mosquitto, consumer: Consumer) -> MqttAgent:
    agent = new_agent(broker, label="consumer", clean_session=False)
    await agent.subscribe_events(SHARED, consumer.handle)
    await agent.start()
    assert agent.connected
    return agent


async def test_a_backlog_event_whose_handler_failed_comes_back_after_a_reconnect(
    mosquitto: Mosquitto,
) -> None:
    await (await consume(mosquitto, Consumer())).close()  # the persistent session subscribes
    await publish(mosquitto, "room.close")  # arrives while the consumer is away
    consumer = Consumer(fail=1)
    agent = await consume(mosquitto, consumer)
    await wait_until(lambda: len(consumer.deliveries) == 1)
    await agent.close()
    agent = await consume(mosquitto, consumer)
    await wait_until(lambda: len(consumer.deliveries) == 2)  # redelivered; handled this time
    await agent.close()
    agent = await consume(mosquitto, consumer)
    await asyncio.sleep(QUIET)
    await agent.close()
    assert consumer.deliveries == ["room.close", "room.close"]  # acknowledged: never again


async def test_an_event_in_handling_when_the_broker_restarts_comes_back_to_the_same_agent(
    mosquitto: Mosquitto,
) -> None:
    consumer = Consumer(hang=1)
    agent = await consume(mosquitto, consumer)
    try:
        await publish(mosquitto, "room.upload")
        await wait_until(lambda: len(consumer.deliveries) == 1)
        mosquitto.stop()  # persists the session with the unacknowledged message
        mosquitto.start()
        await wait_until(lambda: len(consumer.deliveries) == 2)  # after the automatic reconnect
        await wait_until(lambda: consumer.handled == 1)
        # The broker takes a connection's packets in order: once it has answered a publish sent
        # after the acknowledgement, it has the acknowledgement too. Stopped before, it would
        # rightly deliver the event a third time (a race this test lost on a loaded machine).
        await agent.publish_event("probe/after-the-acknowledgement", "probe", {})
        mosquitto.stop()
        mosquitto.start()
        await wait_until(lambda: agent.connected)
        await asyncio.sleep(QUIET)
        assert consumer.deliveries == ["room.upload", "room.upload"]
    finally:
        await agent.close()


async def test_without_manual_acknowledgement_aiomqtt_loses_an_unhandled_event(
    mosquitto: Mosquitto,
) -> None:
    """The pitfall itself: the library default acknowledges on arrival."""
    identifier = "plain.dispatcher.svc.example.org"
    async with aiomqtt.Client(
        mosquitto.host, mosquitto.port, identifier=identifier, clean_session=False
    ) as client:
        await client.subscribe(SHARED, qos=1)
        await publish(mosquitto, "room.close")
        async with asyncio.timeout(5):
            await anext(aiter(client.messages))  # received, then "crashed" before handling
    async with aiomqtt.Client(
        mosquitto.host, mosquitto.port, identifier=identifier, clean_session=False
    ) as client:
        await asyncio.sleep(QUIET)
        assert len(client.messages) == 0
