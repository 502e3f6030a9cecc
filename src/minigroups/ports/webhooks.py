"""Webhooks: the endpoints' table, the deliveries' queue and log, and the client that sends."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from minigroups.domain.webhooks import Attempt, Delivery, DeliveryStatus, Endpoint
from minigroups.ports.queues import LeasedQueue, Owner


class WebhookRepository(Protocol):
    async def add(self, endpoint: Endpoint) -> None: ...

    async def count(self, audience: str) -> int: ...

    async def find_all(self, audience: str | None) -> list[Endpoint]:
        """The endpoints of the audience (of every audience with None), oldest first."""
        ...

    async def get(self, endpoint_id: UUID, audience: str | None = None) -> Endpoint | None:
        """The endpoint, if it belongs to `audience` (any with None)."""
        ...

    async def lock(self, endpoint_id: UUID) -> Endpoint | None:
        """Like `get`, and holds the row until the unit of work ends."""
        ...

    async def save(self, endpoint: Endpoint) -> None:
        """Store every field but the id, audience and creation time."""
        ...

    async def delete(self, endpoint_id: UUID) -> bool:
        """Remove the endpoint with its deliveries and their attempts."""
        ...

    async def subscribers(self, audience: str) -> list[Endpoint]:
        """The enabled endpoints of the audience (event matching is the caller's)."""
        ...


@dataclass(frozen=True, slots=True)
class NewDelivery:
    """An event to deliver to one endpoint; `key` makes it queued once however often written."""

    key: str
    endpoint_id: UUID
    event_type: str
    body: str  # the JSON text signed and sent, the same on every attempt
    created_at: datetime
    due_at: datetime


@dataclass(frozen=True, slots=True)
class DeliveryItem:
    """A delivery claimed by one sender under `lease` while it is attempted."""

    id: UUID
    endpoint_id: UUID
    event_type: str
    body: str
    attempts: int  # this attempt included
    lease: UUID | None = None


@dataclass(frozen=True, slots=True)
class DeliveryPage:
    deliveries: list[Delivery]
    next_cursor: tuple[datetime, UUID] | None  # the last delivery's (created_at, id)


class DeliveryQueue(LeasedQueue, Protocol):
    async def add(self, delivery: NewDelivery) -> bool:
        """Queue it; False when a delivery with its key was queued before."""
        ...

    async def claim_due(
        self, now: datetime, owner: Owner, until: datetime, limit: int, per_endpoint: int
    ) -> list[DeliveryItem]:
        """Due deliveries of enabled endpoints, at most `per_endpoint` of one endpoint in
        flight (claimed by anyone) at once, leased to `owner` until `until`."""
        ...

    async def settle(
        self,
        item: DeliveryItem,
        status: DeliveryStatus,
        next_attempt_at: datetime | None,
        error: str | None,
        now: datetime,
    ) -> None:
        """Record the attempt's effect on the delivery: pending again (due at
        `next_attempt_at`), succeeded or failed. Raises LeaseLost when taken over meanwhile."""
        ...

    async def record_attempt(self, attempt: Attempt) -> None: ...

    async def fail_pending(self, endpoint_id: UUID, error: str, now: datetime) -> int:
        """A disabled endpoint: its pending deliveries not in flight fail; how many."""
        ...

    async def page(
        self, endpoint_id: UUID, after: tuple[datetime, UUID] | None, limit: int
    ) -> DeliveryPage:
        """The endpoint's deliveries, newest first, with their attempts; `after` a cursor."""
        ...

    async def get(self, delivery_id: UUID, endpoint_id: UUID | None) -> Delivery | None:
        """The delivery, if it is one of `endpoint_id`'s (any endpoint's with None)."""
        ...

    async def requeue(self, delivery_id: UUID, attempts: int, now: datetime) -> bool:
        """Due now, pending, with `attempts` made so far; False when it is gone."""
        ...


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    url: str
    message_id: str  # `webhook-id`
    timestamp: datetime  # `webhook-timestamp`, the time of this attempt
    body: str
    secrets: Sequence[str]  # each signs; two during a rotation's overlap


@dataclass(frozen=True, slots=True)
class WebhookResponse:
    """The status (None when no answer came: `error` says why) and the capped body's start."""

    status_code: int | None
    error: str | None = None
    body: str | None = None


class WebhookClient(Protocol):
    async def check_target(self, url: str) -> None:
        """Raise InvalidWebhookUrl or WebhookTargetRefused for a URL webhooks may not reach."""
        ...

    async def send(self, request: WebhookRequest) -> WebhookResponse:
        """Sign and POST once, within the timeout, following no redirect; never raises for
        the receiver's or the network's failures (they are the response's `error`)."""
        ...
