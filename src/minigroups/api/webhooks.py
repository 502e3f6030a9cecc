"""The webhook routes' bodies, answers and query, and the events a receiver gets (issue 10).

Every shape is a msgspec Struct, so the OpenAPI document can describe them; `WEBHOOK_EVENTS`
pairs each event type with the Struct of its request body, for the document's `webhooks`.
Times are RFC 3339 strings (UTC).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec

from minigroups.domain import webhooks as events
from minigroups.domain.errors import InvalidQueryString
from minigroups.domain.webhooks import Attempt, Delivery, Endpoint
from minigroups.ports import DeliveryPage
from minigroups.services.webhooks import WebhookSpec, encode_cursor

MAX_PAGE = 100


class WebhookCreateBody(msgspec.Struct):
    """`POST /api/v1/audiences/{audience}/webhooks`."""

    url: str  # https:// (http:// only with [webhooks] allow_http)
    events: list[str]  # event types, or ["*"] for all
    description: str = ""

    def spec(self) -> WebhookSpec:
        return WebhookSpec(self.url, tuple(self.events), self.description)


class WebhookUpdateBody(WebhookCreateBody):
    """`PUT .../webhooks/{id}`: replaces url, events and description; `enabled` true enables a
    disabled endpoint again, false disables it, absent or null keeps it."""

    enabled: bool | None = None


class WebhookObject(msgspec.Struct):
    """An endpoint as the API shows it: never its secret."""

    id: UUID
    audience: str
    url: str
    events: list[str]
    description: str
    enabled: bool
    disabled_at: datetime | None
    disabled_reason: str | None
    failing_since: datetime | None  # the first failure since the last success
    previous_secret_expires_at: datetime | None  # while the rotated-out secret still signs
    created_at: datetime
    updated_at: datetime


class WebhookWithSecret(WebhookObject):
    """The answer of a create and of a secret rotation: the only ones that show the secret."""

    secret: str  # `whsec_` + base64: give it to `standardwebhooks.Webhook(secret)`


class WebhookList(msgspec.Struct):
    webhooks: list[WebhookObject]


class AttemptObject(msgspec.Struct):
    attempted_at: datetime
    status_code: int | None  # null: no answer, see `error`
    error: str | None
    duration_ms: int
    response: str | None  # the start of the receiver's answer (capped)
    next_attempt_at: datetime | None  # null: no attempt follows this one


class DeliveryObject(msgspec.Struct):
    id: UUID
    message_id: str  # the `webhook-id` header, the same on every attempt
    event_type: str
    status: Literal["pending", "succeeded", "failed"]
    created_at: datetime
    next_attempt_at: datetime | None  # while pending
    last_error: str | None
    attempts: list[AttemptObject]


class DeliveryList(msgspec.Struct):
    deliveries: list[DeliveryObject]  # newest first
    next_cursor: str | None  # pass as `?cursor=` for the next page; null on the last one


class DeliveriesQuery(msgspec.Struct):
    """`GET .../webhooks/{id}/deliveries?cursor=&limit=`."""

    cursor: str | None = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=MAX_PAGE)] | None = None

    @classmethod
    def parse(cls, cursor: str | None, limit: str | None) -> DeliveriesQuery:
        if limit is None:
            return cls(cursor)
        if not limit.isdigit() or not 1 <= int(limit) <= MAX_PAGE:
            raise InvalidQueryString(f"`limit` must be a whole number from 1 to {MAX_PAGE}")
        return cls(cursor, int(limit))


def webhook_object(endpoint: Endpoint, now: datetime) -> WebhookObject:
    return WebhookObject(**_webhook_fields(endpoint, now))


def webhook_with_secret(endpoint: Endpoint, now: datetime) -> WebhookWithSecret:
    return WebhookWithSecret(**_webhook_fields(endpoint, now), secret=endpoint.secret)


def _webhook_fields(endpoint: Endpoint, now: datetime) -> dict[str, Any]:
    until = endpoint.previous_secret_until
    return {
        "id": endpoint.id,
        "audience": endpoint.audience,
        "url": endpoint.url,
        "events": list(endpoint.events),
        "description": endpoint.description,
        "enabled": endpoint.enabled,
        "disabled_at": endpoint.disabled_at,
        "disabled_reason": endpoint.disabled_reason,
        "failing_since": endpoint.failing_since,
        "previous_secret_expires_at": until if until is not None and until > now else None,
        "created_at": endpoint.created_at,
        "updated_at": endpoint.updated_at,
    }


def delivery_object(delivery: Delivery) -> DeliveryObject:
    return DeliveryObject(
        id=delivery.id,
        message_id=delivery.message_id,
        event_type=delivery.event_type,
        status=delivery.status,
        created_at=delivery.created_at,
        next_attempt_at=delivery.next_attempt_at,
        last_error=delivery.last_error,
        attempts=[_attempt_object(attempt) for attempt in delivery.log],
    )


def _attempt_object(attempt: Attempt) -> AttemptObject:
    outcome = attempt.outcome
    return AttemptObject(
        attempted_at=attempt.attempted_at,
        status_code=outcome.status_code,
        error=outcome.error,
        duration_ms=outcome.duration_ms,
        response=outcome.response,
        next_attempt_at=attempt.next_attempt_at,
    )


def delivery_list(page: DeliveryPage) -> DeliveryList:
    cursor = None if page.next_cursor is None else encode_cursor(page.next_cursor)
    return DeliveryList([delivery_object(d) for d in page.deliveries], cursor)


# --- what a receiver gets: `{"type", "timestamp", "data"}`, signed (Standard Webhooks) ---------


class MinigroupData(msgspec.Struct, forbid_unknown_fields=True):
    """`data` of every event: which minigroup."""

    id: UUID
    audience: str
    scope: str
    tags: Any  # the minigroup's tags as created, null when it has none


class StopData(MinigroupData, forbid_unknown_fields=True):
    """`minigroup.stop`: the fields of the MQTT notification (`tags`, `scope`, `id`)."""


class ReadyData(MinigroupData, forbid_unknown_fields=True):
    """`minigroup.ready`: the fields of the MQTT notification, `status` and `stream_duration`
    (whole seconds) besides `tags`, `scope` and `id`."""

    status: Literal["success"]
    stream_duration: int


class WebhookEvent(msgspec.Struct, tag_field="type", forbid_unknown_fields=True):
    """The body of every webhook; `type` names the event. `timestamp` is when it happened:
    receivers may see events out of order (retries), so order them by it."""

    timestamp: datetime


class MinigroupCreated(WebhookEvent, tag=events.CREATED):
    data: MinigroupData


class MinigroupUpdated(WebhookEvent, tag=events.UPDATED):
    data: MinigroupData


class MinigroupRecreated(WebhookEvent, tag=events.RECREATED):
    data: MinigroupData


class MinigroupStop(WebhookEvent, tag=events.STOP):
    data: StopData


class MinigroupFinished(WebhookEvent, tag=events.FINISHED):
    data: MinigroupData


class MinigroupAdjusted(WebhookEvent, tag=events.ADJUSTED):
    data: MinigroupData


class MinigroupReady(WebhookEvent, tag=events.READY):
    data: ReadyData


WEBHOOK_EVENTS: tuple[tuple[str, type[WebhookEvent]], ...] = (
    (events.CREATED, MinigroupCreated),
    (events.UPDATED, MinigroupUpdated),
    (events.RECREATED, MinigroupRecreated),
    (events.STOP, MinigroupStop),
    (events.FINISHED, MinigroupFinished),
    (events.ADJUSTED, MinigroupAdjusted),
    (events.READY, MinigroupReady),
)

AnyWebhookEvent = (
    MinigroupCreated
    | MinigroupUpdated
    | MinigroupRecreated
    | MinigroupStop
    | MinigroupFinished
    | MinigroupAdjusted
    | MinigroupReady
)
