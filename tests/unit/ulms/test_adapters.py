"""MqttRequester and MqttNotifier translate the agent's answers and errors (D6, D8)."""

from __future__ import annotations

import pytest

from minigroups.adapters.peers.transport import Answer
from minigroups.adapters.ulms import (
    AgentError,
    AgentOptions,
    BrokerUnavailable,
    Envelope,
    MessageTooLarge,
    MqttAgent,
    MqttNotifier,
    MqttRequester,
    RequestTimedOut,
)
from minigroups.domain.errors import UpstreamFailed, UpstreamFailureKind
from minigroups.domain.json_value import JsonValue
from tests.support.simulators import CountingMetrics
from tests.support.simulators.wire import response

EVENT = "event.svc.example.org"


class FakeAgent:
    """Answers with a fixed envelope or raises a fixed error; records what it was asked."""

    def __init__(self, outcome: Envelope | AgentError) -> None:
        self.outcome = outcome
        self.asked: list[dict[str, object]] = []

    async def request(
        self,
        *,
        peer: str,
        api_version: str,
        method: str,
        payload: JsonValue,
        timeout: float,  # noqa: ASYNC109
    ) -> Envelope:
        self.asked.append(
            {"peer": peer, "api_version": api_version, "method": method, "timeout": timeout}
        )
        if isinstance(self.outcome, AgentError):
            raise self.outcome
        return self.outcome

    async def publish_event(self, topic: str, label: str, payload: JsonValue) -> None:
        self.asked.append({"topic": topic, "label": label, "payload": payload})
        if isinstance(self.outcome, AgentError):
            raise self.outcome


async def ask(agent: FakeAgent, peer: str = EVENT) -> Answer:
    requester = MqttRequester(agent, services={EVENT: "event"})
    return await requester.request(
        peer=peer, api_version="v1", method="room.read", payload={"id": "x"}, timeout=0.5
    )


async def test_an_answer_carries_the_status_and_the_decoded_payload() -> None:
    agent = FakeAgent(response(status=404, correlation_data="c", body={"t": 1}, timestamp=""))
    assert await ask(agent) == Answer(404, {"t": 1})
    assert agent.asked == [
        {"peer": EVENT, "api_version": "v1", "method": "room.read", "timeout": 0.5}
    ]


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (RequestTimedOut("late"), UpstreamFailureKind.TIMEOUT),
        (BrokerUnavailable("down"), UpstreamFailureKind.UNAVAILABLE),
        (MessageTooLarge("big"), UpstreamFailureKind.REJECTED),
    ],
)
async def test_agent_errors_become_upstream_failures(
    error: AgentError, kind: UpstreamFailureKind
) -> None:
    with pytest.raises(UpstreamFailed) as failure:
        await ask(FakeAgent(error))
    assert (failure.value.kind, failure.value.service, failure.value.method) == (
        kind,
        "event",
        "room.read",
    )


@pytest.mark.parametrize(
    "response",
    [
        Envelope("{}", {"type": "response"}),  # no status
        Envelope("{broken", {"type": "response", "status": "200"}),
    ],
)
async def test_an_unreadable_answer_is_malformed(response: Envelope) -> None:
    with pytest.raises(UpstreamFailed) as failure:
        await ask(FakeAgent(response), peer="other.svc.example.org")
    assert failure.value.kind is UpstreamFailureKind.MALFORMED
    assert failure.value.service == "other.svc.example.org"  # an unnamed peer: its account


async def test_the_notifier_publishes_on_the_audience_events_topic() -> None:
    agent = FakeAgent(Envelope("{}", {}))
    notifier = MqttNotifier(agent, account_id="dispatcher.svc.example.org")
    await notifier.notify(audience="usr.example.org", label="minigroup.stop", payload={"id": "1"})
    assert agent.asked == [
        {
            "topic": "apps/dispatcher.svc.example.org/api/v1/audiences/usr.example.org/events",
            "label": "minigroup.stop",
            "payload": {"id": "1"},
        }
    ]
    agent.outcome = BrokerUnavailable("down")
    with pytest.raises(UpstreamFailed) as failure:
        await notifier.notify(audience="a", label="minigroup.ready", payload={})
    assert failure.value.kind is UpstreamFailureKind.UNAVAILABLE


async def test_an_agent_that_is_not_connected_fails_at_once() -> None:
    agent = MqttAgent(AgentOptions(host="127.0.0.1", port=9, agent_id="a.b.c"), CountingMetrics())
    with pytest.raises(BrokerUnavailable):
        await agent.request(peer=EVENT, api_version="v1", method="m", payload={}, timeout=30)
    with pytest.raises(BrokerUnavailable):
        await agent.publish_event("apps/b.c/api/v1/audiences/d/events", "x", {})
    assert agent.in_flight == 0


async def test_a_message_over_max_message_size_is_refused_before_publishing() -> None:
    options = AgentOptions(host="127.0.0.1", port=9, agent_id="a.b.c", max_message_size=100)
    agent = MqttAgent(options, CountingMetrics())
    with pytest.raises(MessageTooLarge):
        await agent.request(
            peer=EVENT, api_version="v1", method="m", payload={"x": "y" * 100}, timeout=1
        )
