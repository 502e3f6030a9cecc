"""A tenant's webhook endpoints, per audience; authorized on the object `["webhooks"]`."""

from __future__ import annotations

from uuid import UUID

from starlette.responses import Response

from minigroups.api.call import Call
from minigroups.api.representations import empty_response, json_response
from minigroups.api.routing import RouteTable
from minigroups.api.webhooks import (
    WEBHOOK_EVENTS,
    DeliveriesQuery,
    DeliveryList,
    DeliveryObject,
    WebhookCreateBody,
    WebhookList,
    WebhookObject,
    WebhookUpdateBody,
    WebhookWithSecret,
    delivery_list,
    delivery_object,
    webhook_object,
    webhook_with_secret,
)
from minigroups.domain import errors as e
from minigroups.services import webhooks

WEBHOOKS = "/api/v1/audiences/{audience}/webhooks"
WEBHOOK = WEBHOOKS + "/{id}"
DELIVERIES = WEBHOOK + "/deliveries"


def _webhook_id(call: Call) -> UUID:
    return call.id_param("id")


def register(table: RouteTable) -> None:
    for name, payload in WEBHOOK_EVENTS:
        table.describe_webhook(
            name,
            payload,
            summary=f"`{name}`, signed as Standard Webhooks specify",
            description="Headers `webhook-id` (the same on every retry), `webhook-timestamp` and "
            "`webhook-signature`; answer 2xx within 10 s, or the delivery is retried. Events "
            "may arrive out of order: each carries its `timestamp`.",
        )

    @table.route(
        "POST",
        WEBHOOKS,
        action="create",
        summary="Subscribe an endpoint to minigroup events (the answer shows its secret once)",
        body=WebhookCreateBody,
        responses={201: WebhookWithSecret},
        problems=(e.InvalidWebhookUrl, e.WebhookTargetRefused, e.TooManyWebhooks),
    )
    async def create_webhook(call: Call) -> Response:
        body = await call.json(WebhookCreateBody)
        audience = call.params["audience"]
        created = await webhooks.create_webhook(call.ctx, call.account, audience, body.spec())
        return json_response(webhook_with_secret(created, call.ctx.clock.now()), status=201)

    @table.route(
        "GET",
        WEBHOOKS,
        action="read",
        summary="List an audience's webhook endpoints",
        responses={200: WebhookList},
    )
    async def list_webhooks(call: Call) -> Response:
        found = await webhooks.list_webhooks(call.ctx, call.account, call.params["audience"])
        now = call.ctx.clock.now()
        return json_response(WebhookList([webhook_object(endpoint, now) for endpoint in found]))

    @table.route(
        "GET",
        WEBHOOK,
        action="read",
        summary="Read a webhook endpoint and its state",
        responses={200: WebhookObject},
        problems=(e.WebhookNotFound,),
    )
    async def read_webhook(call: Call) -> Response:
        endpoint = await webhooks.get_webhook(
            call.ctx, call.account, call.params["audience"], _webhook_id(call)
        )
        return json_response(webhook_object(endpoint, call.ctx.clock.now()))

    @table.route(
        "PUT",
        WEBHOOK,
        action="update",
        summary="Change a webhook endpoint's URL, events, description or enabled state",
        body=WebhookUpdateBody,
        responses={200: WebhookObject},
        problems=(e.WebhookNotFound, e.InvalidWebhookUrl, e.WebhookTargetRefused),
    )
    async def update_webhook(call: Call) -> Response:
        body = await call.json(WebhookUpdateBody)
        endpoint = await webhooks.update_webhook(
            call.ctx,
            call.account,
            call.params["audience"],
            _webhook_id(call),
            body.spec(),
            enabled=body.enabled,
        )
        return json_response(webhook_object(endpoint, call.ctx.clock.now()))

    @table.route(
        "DELETE",
        WEBHOOK,
        action="delete",
        summary="Delete a webhook endpoint and its delivery log",
        responses={204: None},
        problems=(e.WebhookNotFound,),
    )
    async def delete_webhook(call: Call) -> Response:
        await webhooks.delete_webhook(
            call.ctx, call.account, call.params["audience"], _webhook_id(call)
        )
        return empty_response(204)

    @table.route(
        "POST",
        WEBHOOK + "/rotate-secret",
        action="update",
        summary="Rotate the signing secret (the old one keeps signing alongside for 24 h)",
        responses={200: WebhookWithSecret},
        problems=(e.WebhookNotFound,),
    )
    async def rotate_webhook_secret(call: Call) -> Response:
        endpoint = await webhooks.rotate_secret(
            call.ctx, call.account, call.params["audience"], _webhook_id(call)
        )
        return json_response(webhook_with_secret(endpoint, call.ctx.clock.now()))

    @table.route(
        "GET",
        DELIVERIES,
        action="read",
        summary="A webhook endpoint's deliveries, newest first, with every attempt",
        query=DeliveriesQuery,
        responses={200: DeliveryList},
        problems=(e.WebhookNotFound, e.InvalidCursor),
    )
    async def list_webhook_deliveries(call: Call) -> Response:
        query = DeliveriesQuery.parse(call.query.first("cursor"), call.query.first("limit"))
        page = await webhooks.list_deliveries(
            call.ctx,
            call.account,
            call.params["audience"],
            _webhook_id(call),
            cursor=query.cursor,
            limit=query.limit,
        )
        return json_response(delivery_list(page))

    @table.route(
        "POST",
        DELIVERIES + "/{delivery_id}/retry",
        action="update",
        summary="Send a delivery again now",
        responses={202: DeliveryObject},
        problems=(e.WebhookNotFound, e.DeliveryNotFound, e.WebhookDisabled),
    )
    async def retry_webhook_delivery(call: Call) -> Response:
        delivery = await webhooks.retry_delivery(
            call.ctx,
            call.account,
            call.params["audience"],
            _webhook_id(call),
            call.id_param("delivery_id"),
        )
        return json_response(delivery_object(delivery), status=202)
