"""`MqttNotifier`: the service's own events on `apps/<account>/api/v1/audiences/<aud>/events`."""

from __future__ import annotations

from typing import Protocol

from minigroups.adapters.ulms.errors import AgentError
from minigroups.adapters.ulms.topics import audience_events_topic
from minigroups.domain.errors import UpstreamFailed, UpstreamFailureKind
from minigroups.domain.json_value import JsonObject, JsonValue

SERVICE = "broker"


class PublishingAgent(Protocol):
    async def publish_event(self, topic: str, label: str, payload: JsonValue) -> None: ...


class MqttNotifier:
    """`ports.Notifier`: a `type=event` message with `label` at QoS 1, confirmed by PUBACK.

    A publish that cannot be confirmed raises `UpstreamFailed(UNAVAILABLE)`; the caller (an
    outbox) retries it, so an event may be published twice but is never silently lost.
    """

    def __init__(self, agent: PublishingAgent, *, account_id: str) -> None:
        self._agent = agent
        self._account_id = account_id

    async def notify(self, *, audience: str, label: str, payload: JsonObject) -> None:
        topic = audience_events_topic(self._account_id, audience)
        try:
            await self._agent.publish_event(topic, label, payload)
        except AgentError as exc:
            raise UpstreamFailed(UpstreamFailureKind.UNAVAILABLE, SERVICE, label, str(exc)) from exc
