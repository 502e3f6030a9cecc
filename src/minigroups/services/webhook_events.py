"""Webhook events, queued in the unit of work of the state change they report.

One delivery row per subscribed endpoint, written with the change (so a crash loses none and a
rollback sends none) and sent after commit by the webhook sender (consumer/webhooks.py).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from minigroups.domain.json_value import JsonObject
from minigroups.domain.minigroup import Minigroup
from minigroups.domain.webhooks import Endpoint, subscribes
from minigroups.ports import NewDelivery, UnitOfWork
from minigroups.services.context import Context

WEBHOOK_KIND = "minigroup"  # the class kind webhooks report (their types are `minigroup.*`)


def rfc3339(moment: datetime) -> str:
    """`2027-02-02T10:00:00.123456Z`: UTC with a `Z`, always to the microsecond (a fixed
    width, so that the texts sort as the times)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def event_data(minigroup: Minigroup, notification: JsonObject | None = None) -> JsonObject:
    """`id`, `audience`, `scope`, `tags` (null when none), and every field of the MQTT
    notification of the same event (`minigroup.stop`, `minigroup.ready`) with its value."""
    data: JsonObject = {
        "id": str(minigroup.id),
        "audience": minigroup.audience,
        "scope": minigroup.scope,
        "tags": minigroup.tags,
    }
    if notification is not None:
        data.update(notification)
    return data


def event_body(event_type: str, at: datetime, data: JsonObject) -> str:
    """The JSON text sent (and signed) on every attempt."""
    body = {"type": event_type, "timestamp": rfc3339(at), "data": data}
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


async def queue_event(
    ctx: Context,
    uow: UnitOfWork,
    *,
    key: str,
    event_type: str,
    minigroup: Minigroup,
    notification: JsonObject | None = None,
) -> int:
    """Queue the event for every enabled endpoint of the audience subscribed to it; how many.

    `key` names the event: written again (a redelivered lifecycle event, a replay), it queues
    nothing more.
    """
    if minigroup.kind != WEBHOOK_KIND:
        return 0
    endpoints = await _subscribed(uow, minigroup.audience, event_type)
    if not endpoints:
        return 0
    now = ctx.clock.now()
    body = event_body(event_type, now, event_data(minigroup, notification))
    due = now + ctx.options.webhooks.first_delay
    for endpoint in endpoints:
        delivery = NewDelivery(
            key=f"{key}:{endpoint.id}",
            endpoint_id=endpoint.id,
            event_type=event_type,
            body=body,
            created_at=now,
            due_at=due,
        )
        await uow.deliveries.add(delivery)
    return len(endpoints)


async def _subscribed(uow: UnitOfWork, audience: str, event_type: str) -> list[Endpoint]:
    return [
        endpoint
        for endpoint in await uow.webhooks.subscribers(audience)
        if subscribes(endpoint.events, event_type)
    ]
