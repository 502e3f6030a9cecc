"""One aiomqtt connection as the agent needs it: built per attempt, manual acknowledgement on.

aiomqtt clients are not reliably reusable after a dropped connection, so every connection attempt
gets a new client (as aiomqtt's maintainers advise). paho is reached through `client._client` for
what aiomqtt 2.5.1 does not offer: manual acknowledgement, acks, a QoS 0 publish that does not
wait for the socket write, and messages taken in paho's read callback rather than through a task
per message. Both libraries are pinned for that reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import aiomqtt
from aiomqtt.client import ProtocolVersion
from paho.mqtt.client import Client as PahoClient
from paho.mqtt.client import MQTTMessage
from paho.mqtt.reasoncodes import ReasonCode

from minigroups.adapters.ulms.options import AgentOptions


def new_client(options: AgentOptions) -> aiomqtt.Client:
    """An unconnected MQTT 3.1.1 client: client id = agent id, QoS 1 acknowledged by hand."""
    client = aiomqtt.Client(
        options.host,
        options.port,
        username=options.username,
        password=options.password,
        identifier=options.agent_id,
        protocol=ProtocolVersion.V311,
        clean_session=options.clean_session,
        keepalive=options.keep_alive,
        timeout=options.connect_timeout,
        max_queued_incoming_messages=options.incoming_queue_size,
        max_inflight_messages=options.max_inflight,
    )
    client.pending_calls_threshold = 10_000  # concurrent QoS 1 publishes are normal here
    # Before CONNECT: a persistent session's backlog arrives right after CONNACK and would
    # otherwise be acknowledged on arrival (stack-notes.md, MQTT).
    client._client.manual_ack_set(True)
    return client


async def subscribe_all(
    client: aiomqtt.Client,
    wanted: list[tuple[str, int]],
    timeout: float,  # noqa: ASYNC109 - aiomqtt's own SUBACK timeout
) -> list[str]:
    """Subscribe every (filter, qos) in one SUBSCRIBE; return the filters the broker refused."""
    granted = await client.subscribe(wanted, timeout=timeout)
    return [
        topic_filter
        for (topic_filter, _), code in zip(wanted, granted, strict=False)
        if _refused(code)
    ]


class Delivered(Protocol):
    """What acknowledging needs of a received message, aiomqtt's or paho's."""

    @property
    def mid(self) -> int: ...

    @property
    def qos(self) -> int: ...


def read_directly(client: aiomqtt.Client, handle: Callable[[MQTTMessage], None]) -> None:
    """Hand every message (but those of `$` topics) to `handle` from paho's own read callback
    (paho's `message_callback_add`), on the event loop's thread as aiomqtt reads them, rather
    than through aiomqtt's queue and message iterator, which cost a task and a wait per message.
    `handle` must not raise (paho would end the connection) and acknowledges what it takes."""

    def on_message(_paho: PahoClient, _userdata: object, message: MQTTMessage) -> None:
        handle(message)

    client._client.message_callback_add("#", on_message)


def publish_at_most_once(client: aiomqtt.Client, topic: str, data: bytes) -> bool:
    """Hand a QoS 0 packet to paho without waiting for the write; False when not connected."""
    return client._client.publish(topic, data, qos=0).rc == 0


def acknowledge(client: aiomqtt.Client, message: Delivered) -> None:
    """PUBACK a QoS 1 message (nothing to do for QoS 0)."""
    if message.qos > 0:
        client._client.ack(message.mid, message.qos)


def discard(client: aiomqtt.Client) -> None:
    """Close the socket of a client whose CONNECT timed out (aiomqtt leaves it open)."""
    client._client._sock_close()


def _refused(code: object) -> bool:
    """A SUBACK return code of failure (0x80); paho gives ints or ReasonCodes."""
    if isinstance(code, ReasonCode):
        return code.is_failure
    return isinstance(code, int) and code >= 0x80
