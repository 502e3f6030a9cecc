"""R1-R4, R8, R9: read, update, create and recreate minigroups."""

from __future__ import annotations

from starlette.responses import Response

from minigroups.api.call import Call
from minigroups.api.representations import (
    MinigroupObject,
    ReadObject,
    db_object,
    json_response,
    read_object,
)
from minigroups.api.routing import RouteTable
from minigroups.api.schemas import CreateBody, ReadQuery, RecreateBody, UpdateBody
from minigroups.domain import errors as e
from minigroups.services import minigroups
from minigroups.services.access import ById, ByScope, Locator

BY_ID = "/api/v1/minigroups/{id}"
BY_SCOPE = "/api/v1/audiences/{audience}/minigroups/{scope}"
PROPERTY_LIMITS = (
    e.PropertyValueTooLarge,
    e.PropertiesTooLarge,
    e.TooManyProperties,
    e.PropertyKeyTooLong,
    e.InvalidPropertyKey,
)
# An update reaches both rooms; the rooms refusing the values is the caller's 400 (D15).
UPDATE_PROBLEMS = (e.ClassNotFound, e.ServicesRequestFailed)


def _by_scope(call: Call) -> ByScope:
    return ByScope(call.params["audience"], call.params["scope"])


async def _read(call: Call, locator: Locator) -> Response:
    query = call.query_params(ReadQuery)
    view = await minigroups.read_minigroup(
        call.ctx,
        call.guard,
        locator,
        class_keys=query.class_keys or None,  # absent: none shown, and no account read
        account_keys=query.account_keys or None,
    )
    return json_response(read_object(view))


def register(table: RouteTable) -> None:
    @table.route(
        "GET",
        BY_ID,
        action="read",
        summary="R1: read a minigroup by id",
        query=ReadQuery,
        responses={200: ReadObject},
        problems=(e.ClassNotFound,),
    )
    async def read_by_id(call: Call) -> Response:
        return await _read(call, ById(call.minigroup_id))

    @table.route(
        "PUT",
        BY_ID,
        action="update",
        summary="R2: update a minigroup's time, reserve or host by id",
        body=UpdateBody,
        responses={200: MinigroupObject},
        problems=UPDATE_PROBLEMS,
    )
    async def update_by_id(call: Call) -> Response:
        body = await call.json(UpdateBody)
        updated = await minigroups.update_minigroup(
            call.ctx, call.guard, ById(call.minigroup_id), body.to_changes()
        )
        return json_response(db_object(updated))

    @table.route(
        "GET",
        BY_SCOPE,
        action="read",
        summary="R3: read a minigroup by audience and scope",
        query=ReadQuery,
        responses={200: ReadObject},
        problems=(e.ClassNotFound,),
    )
    async def read_by_scope(call: Call) -> Response:
        return await _read(call, _by_scope(call))

    @table.route(
        "PUT",
        BY_SCOPE,
        action="update",
        summary="R4: update a minigroup by audience and scope",
        description="Answers the read representation without status, versions and position.",
        body=UpdateBody,
        responses={200: ReadObject},
        problems=UPDATE_PROBLEMS,
    )
    async def update_by_scope(call: Call) -> Response:
        body = await call.json(UpdateBody)
        updated = await minigroups.update_minigroup(
            call.ctx, call.guard, _by_scope(call), body.to_changes()
        )
        return json_response(read_object(minigroups.updated_view(call.ctx, updated)))

    @table.route(
        "POST",
        "/api/v1/minigroups",
        action="create",
        summary="R9: create a minigroup and its event and conference rooms",
        description='Authorized as `create` on `["classrooms"]` in the body\'s audience.',
        body=CreateBody,
        responses={201: MinigroupObject},
        problems=(
            e.ClassAlreadyEstablished,
            e.ScopeTooLong,
            e.TagsTooLarge,
            *PROPERTY_LIMITS,
            e.ServicesRequestFailed,
        ),
        rate_limit="create",  # [rate_limits] create_per_account too
    )
    async def create(call: Call) -> Response:
        body = await call.json(CreateBody)
        created = await minigroups.create_minigroup(call.ctx, call.account, body.to_request())
        return json_response(db_object(created), status=201)

    @table.route(
        "POST",
        BY_ID + "/recreate",
        action="update",
        summary="R8: give a minigroup new rooms (and a new time)",
        body=RecreateBody,
        responses={200: MinigroupObject},
        problems=(e.ClassNotFound, e.ServicesRequestFailed),
        rate_limit="create",  # new rooms, as costly as a create: create_per_account too
    )
    async def recreate(call: Call) -> Response:
        body = await call.json(RecreateBody)
        updated = await minigroups.recreate_minigroup(
            call.ctx, call.guard, ById(call.minigroup_id), body.time_range(), body.locks()
        )
        return json_response(db_object(updated))
