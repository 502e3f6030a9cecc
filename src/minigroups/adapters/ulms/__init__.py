"""The platform upstream: the svc-agent protocol over MQTT (agent, requester, notifier)."""

from minigroups.adapters.ulms.agent import MqttAgent
from minigroups.adapters.ulms.envelope import Envelope
from minigroups.adapters.ulms.errors import (
    AgentError,
    BrokerUnavailable,
    MalformedEnvelope,
    MessageTooLarge,
    RequestTimedOut,
)
from minigroups.adapters.ulms.inbound import Handler, InboundMessage
from minigroups.adapters.ulms.notifier import MqttNotifier
from minigroups.adapters.ulms.options import AgentOptions
from minigroups.adapters.ulms.requester import MqttRequester

__all__ = [
    "AgentError",
    "AgentOptions",
    "BrokerUnavailable",
    "Envelope",
    "Handler",
    "InboundMessage",
    "MalformedEnvelope",
    "MessageTooLarge",
    "MqttAgent",
    "MqttNotifier",
    "MqttRequester",
    "RequestTimedOut",
]
