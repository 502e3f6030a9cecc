"""The sandbox's event and conference peers on a real broker: simulators for the ULMS adapters.

Each peer connects as its own agent (client id `sim.<account id>`), subscribes to
`agents/+/api/+/out/<account id>` and answers every request on its `response_topic` with
`type=response`, `status` and `correlation_data`, using the SAME peer logic and failure injection
as the in-process sandbox (the `Faults` a test passes in: `fail` / `silence`; an `outage` is
silence here, as a peer that is gone cannot make the broker refuse). `slow()` delays one
method's answers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from minigroups.adapters.peers.transport import Answer
from minigroups.adapters.sandbox.sandbox import CONFERENCE, EVENT, Sandbox, SandboxCall
from minigroups.adapters.ulms import envelope
from minigroups.adapters.ulms.agent import MqttAgent
from minigroups.adapters.ulms.errors import AgentError, MalformedEnvelope
from minigroups.adapters.ulms.inbound import Handler, InboundMessage
from minigroups.adapters.ulms.options import AgentOptions
from minigroups.adapters.ulms.topics import sender_agent
from minigroups.domain.json_value import JsonObject
from tests.support.simulators.metrics import CountingMetrics
from tests.support.simulators.wire import requests_filter, response

log = logging.getLogger(__name__)

Handle = Callable[[str, JsonObject], Answer]


@dataclass(frozen=True, slots=True)
class BrokerRequest:
    """A request as it reached a simulated peer: topic, envelope properties and payload."""

    service: str
    topic: str
    properties: dict[str, str]
    payload: JsonObject

    @property
    def method(self) -> str:
        return self.properties.get("method", "")


class BrokerPeers:
    """The event and conference simulators of one `Sandbox` on the broker at `host:port`."""

    def __init__(
        self,
        sandbox: Sandbox,
        *,
        host: str,
        port: int,
        event_account_id: str,
        conference_account_id: str,
        reconnect_interval: float = 0.2,
    ) -> None:
        self.sandbox = sandbox
        self.requests: list[BrokerRequest] = []
        self.metrics = CountingMetrics()
        self._delays: dict[tuple[str, str, str | None], float] = {}
        self._peers: list[tuple[str, str, Handle]] = [
            (EVENT, event_account_id, sandbox.event.handle),
            (CONFERENCE, conference_account_id, sandbox.conference.handle),
        ]
        self.agents = {
            service: MqttAgent(
                AgentOptions(
                    host=host,
                    port=port,
                    agent_id=f"sim.{account_id}",
                    username=None,
                    clean_session=True,
                    reconnect_interval=reconnect_interval,
                    max_reconnect_interval=1.0,
                ),
                self.metrics,
            )
            for service, account_id, _ in self._peers
        }

    @property
    def connected(self) -> bool:
        return all(agent.connected for agent in self.agents.values())

    def slow(self, service: str, method: str, seconds: float, *, sender: str | None = None) -> None:
        """Answer `method` of `service` only after `seconds` (0 removes the delay); with `sender`,
        only the requests of that agent id."""
        if seconds:
            self._delays[service, method, sender] = seconds
        else:
            self._delays.pop((service, method, sender), None)

    def requests_to(self, service: str, method: str | None = None) -> list[BrokerRequest]:
        return [
            request
            for request in self.requests
            if request.service == service and (method is None or request.method == method)
        ]

    async def start(self) -> None:
        for service, account_id, handle in self._peers:
            agent = self.agents[service]
            await agent.subscribe(
                requests_filter(account_id), self._answerer(service, handle, agent), qos=0
            )
            await agent.start()

    async def close(self) -> None:
        for agent in self.agents.values():
            await agent.close()

    def _answerer(self, service: str, handle: Handle, agent: MqttAgent) -> Handler:
        async def answer(message: InboundMessage) -> None:
            await self._answer(service, handle, agent, message)

        return answer

    async def _answer(
        self, service: str, handle: Handle, agent: MqttAgent, message: InboundMessage
    ) -> None:
        try:
            request = message.envelope()
            payload = request.body()
        except MalformedEnvelope:
            log.warning("simulated %s dropped a message that is not an envelope", service)
            return
        properties = request.properties
        response_topic = properties.get("response_topic")
        if request.type != "request" or not response_topic or not isinstance(payload, dict):
            return
        method = properties.get("method", "")
        self.requests.append(BrokerRequest(service, message.topic, dict(properties), payload))
        sender = sender_agent(message.topic)
        delay = self._delays.get((service, method, sender)) or self._delays.get(
            (service, method, None)
        )
        if delay:
            await asyncio.sleep(delay)
        answer = self._decide(SandboxCall(service, method, payload), payload, handle, message.topic)
        if answer is None:
            return
        reply = response(
            status=answer.status,
            correlation_data=properties.get("correlation_data", ""),
            body=answer.payload,
            timestamp=envelope.unix_ms(),
        )
        try:
            await agent.publish(response_topic, reply, qos=0)
        except AgentError:
            log.warning("simulated %s could not answer %s", service, method)

    def _decide(
        self, call: SandboxCall, payload: JsonObject, handle: Handle, topic: str
    ) -> Answer | None:
        """The answer, or None to stay silent (injected silence or outage)."""
        if self.sandbox.is_down(call.service):
            return None
        failure = self.sandbox.intercept(call)
        if failure is not None:
            return None if failure.silent else failure.answer()
        requester = sender_agent(topic)
        if requester is not None:  # what mqtt-gateway would stamp as `agent_id`
            self.sandbox.event.agent_id = self.sandbox.conference.agent_id = requester
        return handle(call.method, payload)
