"""The svc-agent of this process: one MQTT 3.1.1 connection for requests, events and subscriptions.

Requests (contract.md upstream §1.5, §1.6) are published at QoS 0 and matched to their responses by
`correlation_data` only. While the agent is not connected every request and publish fails at once
(`BrokerUnavailable`); a background task reconnects with backoff (exponential, capped, jittered)
and subscribes again. An outage logs one line per attempt and one line when the connection is back.

Subscriptions at QoS 1 are acknowledged only after their handler returns (manual acknowledgement,
on before CONNECT: see `connection.py`), so a message whose handler failed or never ran comes back
after the next reconnect of a persistent session (`clean_session = false`).
"""

from __future__ import annotations

import asyncio
import functools
import logging

import aiomqtt
from paho.mqtt.client import MQTTMessage

from minigroups.adapters.ulms import envelope
from minigroups.adapters.ulms.connection import (
    Delivered,
    acknowledge,
    discard,
    new_client,
    publish_at_most_once,
    read_directly,
    subscribe_all,
)
from minigroups.adapters.ulms.correlation import DROPPED, Correlations
from minigroups.adapters.ulms.envelope import Envelope
from minigroups.adapters.ulms.errors import (
    BrokerUnavailable,
    MalformedEnvelope,
    MessageTooLarge,
    RequestTimedOut,
)
from minigroups.adapters.ulms.inbound import Handler, InboundMessage, Routes, Subscription
from minigroups.adapters.ulms.options import AgentOptions
from minigroups.adapters.ulms.topics import request_topic, response_topic, responses_filter
from minigroups.adapters.ulms.tracking import Tracking
from minigroups.domain.json_value import JsonValue
from minigroups.ports import Metrics
from minigroups.services.outage import Backoff, Outage

log = logging.getLogger(__name__)

CONNECTION_EVENTS = "mqtt_connection_events_total"
MESSAGES_DROPPED = "mqtt_messages_dropped_total"
HANDLER_FAILURES = "mqtt_handler_failures_total"


@functools.lru_cache(maxsize=256)
def _topics(agent_id: str, api_version: str, peer: str) -> tuple[str, str]:
    """A request's topic and its `response_topic`, built (percent-encoded) once per peer."""
    return request_topic(agent_id, api_version, peer), response_topic(agent_id, api_version, peer)


class MqttAgent:
    """One connection per process; `start()` connects in the background, `close()` ends it."""

    def __init__(self, options: AgentOptions, metrics: Metrics) -> None:
        self.options = options
        self._metrics = metrics
        self._correlations = Correlations(metrics)
        self._tracking = Tracking()
        self._routes = Routes()
        self._responses_prefix = responses_filter(options.agent_id).removesuffix("+")
        self._client: aiomqtt.Client | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._first_attempt: asyncio.Future[None] | None = None
        self._handling: set[asyncio.Task[None]] = set()
        # Messages read before the session is up (a persistent session's backlog): taken at `_up`
        self._backlog: list[tuple[aiomqtt.Client, MQTTMessage]] = []
        self._connecting = False
        self._closing = False
        initial = options.reconnect_interval
        self._outage = Outage(
            f"mqtt {options.agent_id}: the broker connection",
            Backoff(initial=initial, cap=max(options.max_reconnect_interval, initial)),
            log,
            expected=(aiomqtt.MqttError, OSError, BrokerUnavailable),
        )

    @property
    def agent_id(self) -> str:
        return self.options.agent_id

    @property
    def connected(self) -> bool:
        return self._client is not None

    @property
    def in_flight(self) -> int:
        """Requests waiting for their response."""
        return len(self._correlations)

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect in the background; wait for the first attempt only (a broker that is down
        does not stop the service from starting)."""
        if self._supervisor is not None:
            return
        self._closing = False
        self._first_attempt = asyncio.get_running_loop().create_future()
        self._supervisor = asyncio.create_task(self._supervise(), name=f"mqtt {self.agent_id}")
        await asyncio.wait({self._first_attempt}, timeout=self.options.connect_timeout)

    async def close(self) -> None:
        """Stop handlers (their messages stay unacknowledged), disconnect, stop reconnecting."""
        self._closing = True
        handling = list(self._handling)
        for task in handling:
            task.cancel()
        await asyncio.gather(*handling, return_exceptions=True)
        supervisor, self._supervisor = self._supervisor, None
        if supervisor is not None:
            if self._connecting:  # let the connect thread finish rather than orphan its socket
                await asyncio.wait({supervisor}, timeout=self.options.connect_timeout * 2)
            supervisor.cancel()
            await asyncio.gather(supervisor, return_exceptions=True)
        self._correlations.fail_all(BrokerUnavailable("the agent is closed"))

    # --- requests and publishing --------------------------------------------------------------

    async def request(
        self,
        *,
        peer: str,
        api_version: str,
        method: str,
        payload: JsonValue,
        timeout: float,  # noqa: ASYNC109 - svc-agent's per-peer request timeout is part of it
    ) -> Envelope:
        """Publish a request to `peer` and wait for its response envelope (any status)."""
        correlation, waiter = self._correlations.open()
        try:
            to_peer, from_peer = _topics(self.agent_id, api_version, peer)
            message = envelope.request(
                method=method,
                body=payload,
                correlation_data=correlation,
                response_topic=from_peer,
                timestamp=envelope.unix_ms(),
                tracking=self._tracking.properties(),
            )
            async with asyncio.timeout(timeout):
                self._publish_at_most_once(to_peer, message)
                return await waiter
        except TimeoutError as exc:
            raise RequestTimedOut(f"no response within {timeout}s") from exc
        finally:
            self._correlations.close(correlation)

    async def publish_event(self, topic: str, label: str, payload: JsonValue) -> None:
        """Publish a `type=event` message at QoS 1 and wait for the broker's PUBACK."""
        message = envelope.event(label=label, body=payload, timestamp=envelope.unix_ms())
        await self.publish(topic, message, qos=1)

    async def publish(self, topic: str, message: Envelope, *, qos: int) -> None:
        """Publish an envelope; QoS 1 waits up to `publish_timeout` for the PUBACK."""
        if qos == 0:
            self._publish_at_most_once(topic, message)
            return
        data, client = self._encode(message), self._live_client()
        try:
            await client.publish(topic, data, qos=qos, timeout=self.options.publish_timeout)
        except aiomqtt.MqttError as exc:
            raise BrokerUnavailable(f"publish to {topic} failed: {exc}") from exc

    def _publish_at_most_once(self, topic: str, message: Envelope) -> None:
        # QoS 0 has nothing to confirm: no wait for the socket write, so that a dropped
        # connection fails the waiting request at once (through `_down`) instead of the publish.
        data, client = self._encode(message), self._live_client()
        if not publish_at_most_once(client, topic, data):
            raise BrokerUnavailable(f"publish to {topic} failed: not connected")

    def _live_client(self) -> aiomqtt.Client:
        client = self._client
        if client is None:
            raise BrokerUnavailable(
                f"not connected to the broker {self.options.host}:{self.options.port}"
            )
        return client

    def _encode(self, message: Envelope) -> bytes:
        data = message.encode()
        limit = self.options.max_message_size
        if limit is not None and len(data) > limit:
            raise MessageTooLarge(f"{len(data)} bytes exceed max_message_size {limit}")
        return data

    # --- subscriptions ------------------------------------------------------------------------

    async def subscribe(self, topic_filter: str, handler: Handler, *, qos: int) -> None:
        """Route messages matching `topic_filter` to `handler`, now and after every reconnect.

        Each message is handled in its own task; a QoS 1 message is acknowledged when its
        handler returns, never when it raises. Subscribe before `start()` so that the backlog of a
        persistent session finds its handler (an unrouted message is acknowledged and dropped).
        """
        self._routes.add(Subscription(topic_filter, qos, handler))
        client = self._client
        if client is not None:
            try:
                await client.subscribe(topic_filter, qos=qos, timeout=self.options.connect_timeout)
            except aiomqtt.MqttError:
                log.warning("subscribing %s failed; retried on reconnect", topic_filter)

    async def subscribe_events(self, topic_filter: str, handler: Handler) -> None:
        """A QoS 1 subscription (usually shared: `$share/<group>/apps/...`), acknowledged after
        `handler` returns: at least once delivery for the lifecycle consumer."""
        await self.subscribe(topic_filter, handler, qos=1)

    # --- the connection -----------------------------------------------------------------------

    async def _supervise(self) -> None:
        while not self._closing:
            ended = await self._session()
            self._attempted()
            if self._closing:
                return
            await asyncio.sleep(self._outage.failed(ended))

    async def _session(self) -> BaseException:
        """Connect, subscribe, read until the connection drops; what ended it (or failed it)."""
        connected = False
        client = new_client(self.options)
        self._backlog = []
        read_directly(client, functools.partial(self._on_message, client))
        try:
            self._connecting = True
            async with client:
                self._connecting, connected = False, True
                if self._closing:
                    return BrokerUnavailable("the agent is closed")
                await self._subscribe_all(client)
                self._up(client)
                try:
                    async for message in client.messages:  # only `$` topics come this way
                        self._dispatch(client, message.topic.value, message.payload, message)
                finally:
                    self._down()
            return BrokerUnavailable("the broker ended the connection")
        except aiomqtt.MqttError as exc:
            self._metrics.increment(CONNECTION_EVENTS, event="lost" if connected else "failed")
            if not connected:
                discard(client)
            return exc
        except Exception as exc:  # noqa: BLE001 - logged (with its traceback once) by the outage
            self._metrics.increment(CONNECTION_EVENTS, event="lost" if connected else "failed")
            return exc
        finally:
            self._connecting = False

    async def _subscribe_all(self, client: aiomqtt.Client) -> None:
        wanted = [(responses_filter(self.agent_id), 0)]
        wanted += [(sub.topic_filter, sub.qos) for sub in self._routes.all()]
        for refused in await subscribe_all(client, wanted, self.options.connect_timeout):
            log.error("the broker refused the subscription %s", refused)
            self._metrics.increment(CONNECTION_EVENTS, event="subscription_refused")

    def _up(self, client: aiomqtt.Client) -> None:
        self._client = client
        backlog, self._backlog = self._backlog, []
        for early_client, message in backlog:
            self._on_message(early_client, message)
        self._metrics.increment(CONNECTION_EVENTS, event="connected")
        log.info("mqtt %s connected to %s:%s", self.agent_id, self.options.host, self.options.port)
        self._outage.recovered()
        self._attempted()

    def _down(self) -> None:
        self._client = None
        self._correlations.fail_all(BrokerUnavailable("the connection to the broker dropped"))

    def _attempted(self) -> None:
        if self._first_attempt is not None and not self._first_attempt.done():
            self._first_attempt.set_result(None)

    # --- incoming messages --------------------------------------------------------------------

    def _on_message(self, client: aiomqtt.Client, message: MQTTMessage) -> None:
        """A message as paho reads it (`read_directly`); nothing may raise out of here. Until
        the session is up (`_up`) it waits, as it did in aiomqtt's queue: its handler acknowledges
        it only on the connection it came by, once that connection is the agent's."""
        try:
            if client is self._client:
                self._dispatch(client, message.topic, bytes(message.payload), message)
            elif self._client is None:
                self._backlog.append((client, message))
        except Exception:
            log.exception("mqtt %s: a message of %s could not be taken", self.agent_id, message.mid)

    def _dispatch(
        self, client: aiomqtt.Client, topic: str, payload: bytes, message: Delivered
    ) -> None:
        limit = self.options.max_message_size
        if limit is not None and len(payload) > limit:
            self._metrics.increment(MESSAGES_DROPPED, reason="too_large")
            acknowledge(client, message)
        elif topic.startswith(self._responses_prefix):
            self._on_response(payload)
            acknowledge(client, message)
        elif (subscription := self._routes.find(topic)) is None:
            self._metrics.increment(MESSAGES_DROPPED, reason="unrouted")
            acknowledge(client, message)
        else:
            inbound = InboundMessage(topic, payload, message.qos)
            task = asyncio.create_task(self._handle(client, subscription, inbound, message))
            self._handling.add(task)
            task.add_done_callback(self._handling.discard)

    def _on_response(self, payload: bytes) -> None:
        try:
            response = envelope.decode(payload)
        except MalformedEnvelope:
            self._metrics.increment(DROPPED, reason="malformed")
            return
        if response.type != "response":  # requests to our own agent are ignored (upstream §1.4)
            self._metrics.increment(DROPPED, reason="not_a_response")
            return
        self._correlations.resolve(response)

    async def _handle(
        self,
        client: aiomqtt.Client,
        subscription: Subscription,
        inbound: InboundMessage,
        message: Delivered,
    ) -> None:
        try:
            await subscription.handler(inbound)
        except Exception:
            log.exception("handler of %s failed; the message stays unacknowledged", inbound.topic)
            self._metrics.increment(HANDLER_FAILURES)
            return
        if client is self._client:  # after a reconnect the broker redelivers it anyway
            acknowledge(client, message)
