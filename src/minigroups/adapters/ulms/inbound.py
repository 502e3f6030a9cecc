"""Incoming messages of subscriptions: what handlers receive and how topics find their handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from minigroups.adapters.ulms import envelope
from minigroups.adapters.ulms.envelope import Envelope
from minigroups.adapters.ulms.topics import matches


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One message of a subscription, as delivered (`qos` is the granted one)."""

    topic: str
    payload: bytes
    qos: int

    def envelope(self) -> Envelope:
        """The decoded envelope; raise MalformedEnvelope."""
        return envelope.decode(self.payload)


Handler = Callable[[InboundMessage], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Subscription:
    topic_filter: str
    qos: int
    handler: Handler


class Routes:
    """The subscriptions of an agent, in registration order; the first matching filter wins."""

    def __init__(self) -> None:
        self._subscriptions: list[Subscription] = []

    def add(self, subscription: Subscription) -> None:
        self._subscriptions.append(subscription)

    def all(self) -> list[Subscription]:
        return list(self._subscriptions)

    def find(self, topic: str) -> Subscription | None:
        for subscription in self._subscriptions:
            if matches(subscription.topic_filter, topic):
                return subscription
        return None
