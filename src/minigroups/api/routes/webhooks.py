"""A tenant's webhook endpoints, per audience; authorized on the object `["webhooks"]`."""

from __future__ import annotations

from uuid import UUID

from starlette.responses import Response

from minigroups.api.call import Call, parse_uuid
from minigroups.api.representations import empty_response, json_response
from minigroups.api.routing import RouteTable
from minigroups.api.webhooks import (
    DeliveriesQuery,
    WebhookCreateBody,
    WebhookList,
    WebhookUpdateBody,
    delivery_list,
    delivery_object,
    webhook_object,
    webhook_with_secret,
)
from minigroups.services import webhooks

WEBHOOKS = "/api/v1/audiences/{audience}/webhooks"
WEBHOOK = WEBHOOKS + "/{id}"
DELIVERIES = WEBHOOK + "/deliveries"


def _webhook_id(call: Call) -> UUID:
    return parse_uuid("id", call.params["id"])


def register(table: RouteTable) -> None:
    @table.route("POST", WEBHOOKS, action="create")
    async def create(call: Call) -> Response:
        body = await call.json(WebhookCreateBody)
        audience = call.params["audience"]
        created = await webhooks.create_webhook(call.ctx, call.account, audience, body.spec())
        return json_response(webhook_with_secret(created, call.ctx.clock.now()), status=201)

    @table.route("GET", WEBHOOKS, action="read")
    async def list_all(call: Call) -> Response:
        found = await webhooks.list_webhooks(call.ctx, call.account, call.params["audience"])
        now = call.ctx.clock.now()
        return json_response(WebhookList([webhook_object(endpoint, now) for endpoint in found]))

    @table.route("GET", WEBHOOK, action="read")
    async def read(call: Call) -> Response:
        endpoint = await webhooks.get_webhook(
            call.ctx, call.account, call.params["audience"], _webhook_id(call)
        )
        return json_response(webhook_object(endpoint, call.ctx.clock.now()))

    @table.route("PUT", WEBHOOK, action="update")
    async def update(call: Call) -> Response:
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

    @table.route("DELETE", WEBHOOK, action="delete")
    async def remove(call: Call) -> Response:
        await webhooks.delete_webhook(
            call.ctx, call.account, call.params["audience"], _webhook_id(call)
        )
        return empty_response(204)

    @table.route("POST", WEBHOOK + "/rotate-secret", action="update")
    async def rotate(call: Call) -> Response:
        endpoint = await webhooks.rotate_secret(
            call.ctx, call.account, call.params["audience"], _webhook_id(call)
        )
        return json_response(webhook_with_secret(endpoint, call.ctx.clock.now()))

    @table.route("GET", DELIVERIES, action="read")
    async def deliveries(call: Call) -> Response:
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

    @table.route("POST", DELIVERIES + "/{delivery_id}/retry", action="update")
    async def retry(call: Call) -> Response:
        delivery = await webhooks.retry_delivery(
            call.ctx,
            call.account,
            call.params["audience"],
            _webhook_id(call),
            parse_uuid("delivery_id", call.params["delivery_id"]),
        )
        return json_response(delivery_object(delivery), status=202)
