"""R1-R4, R8, R9: read, update, create and recreate minigroups."""

from __future__ import annotations

from starlette.responses import Response

from minigroups.api.call import Call
from minigroups.api.representations import db_object, json_response, read_object
from minigroups.api.routing import RouteTable
from minigroups.api.schemas import CreateBody, RecreateBody, UpdateBody
from minigroups.services import minigroups
from minigroups.services.access import ById, ByScope, Locator

BY_ID = "/api/v1/minigroups/{id}"
BY_SCOPE = "/api/v1/audiences/{audience}/minigroups/{scope}"


def _by_scope(call: Call) -> ByScope:
    return ByScope(call.params["audience"], call.params["scope"])


async def _read(call: Call, locator: Locator) -> Response:
    view = await minigroups.read_minigroup(
        call.ctx,
        call.guard,
        locator,
        class_keys=call.query.keys("class_keys"),
        account_keys=call.query.keys("account_keys"),
    )
    return json_response(read_object(view))


def register(table: RouteTable) -> None:
    @table.route("GET", BY_ID, action="read")
    async def read_by_id(call: Call) -> Response:
        return await _read(call, ById(call.minigroup_id))

    @table.route("PUT", BY_ID, action="update")
    async def update_by_id(call: Call) -> Response:
        body = await call.json(UpdateBody)
        updated = await minigroups.update_minigroup(
            call.ctx, call.guard, ById(call.minigroup_id), body.to_changes()
        )
        return json_response(db_object(updated))

    @table.route("GET", BY_SCOPE, action="read")
    async def read_by_scope(call: Call) -> Response:
        return await _read(call, _by_scope(call))

    @table.route("PUT", BY_SCOPE, action="update")
    async def update_by_scope(call: Call) -> Response:
        body = await call.json(UpdateBody)
        updated = await minigroups.update_minigroup(
            call.ctx, call.guard, _by_scope(call), body.to_changes()
        )
        return json_response(read_object(minigroups.updated_view(call.ctx, updated)))

    @table.route("POST", "/api/v1/minigroups", action="create")
    async def create(call: Call) -> Response:
        body = await call.json(CreateBody)
        created = await minigroups.create_minigroup(call.ctx, call.account, body.to_request())
        return json_response(db_object(created), status=201)

    @table.route("POST", BY_ID + "/recreate", action="update")
    async def recreate(call: Call) -> Response:
        body = await call.json(RecreateBody)
        updated = await minigroups.recreate_minigroup(
            call.ctx, call.guard, ById(call.minigroup_id), body.time_range(), body.locks()
        )
        return json_response(db_object(updated))
