"""What the MQTT agent raises; the requester and the notifier translate it into `UpstreamFailed`."""

from __future__ import annotations


class AgentError(Exception):
    """Base of the agent's errors."""


class BrokerUnavailable(AgentError):
    """Not connected to the broker (down, unreachable, or the connection dropped mid-request)."""


class RequestTimedOut(AgentError):
    """No response with the request's `correlation_data` arrived within the timeout."""


class MessageTooLarge(AgentError):
    """The encoded message exceeds `[mqtt] max_message_size`; it was not published."""


class MalformedEnvelope(AgentError):
    """A message is not a svc-agent envelope, or its `payload` string is not JSON."""
