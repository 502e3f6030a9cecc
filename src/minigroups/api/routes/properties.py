"""R6/R7 class properties and R14/R15 the caller's account properties."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from minigroups.api.call import Call
from minigroups.api.representations import json_response
from minigroups.api.routing import RouteTable
from minigroups.domain import errors as e
from minigroups.services import properties

CLASS_PROPERTY = "/api/v1/minigroups/{id}/properties/{property_id}"
ACCOUNT_PROPERTY = "/api/v1/account/properties/{property_id}"
PropertyMap = dict[str, Any]
WRITE_LIMITS = (
    e.PropertyValueTooLarge,
    e.PropertiesTooLarge,
    e.TooManyProperties,
    e.PropertyKeyTooLong,
    e.InvalidPropertyKey,
)


def register(table: RouteTable) -> None:
    @table.route(
        "GET",
        CLASS_PROPERTY,
        action="read",
        summary="R6: read one class property (any JSON value)",
        responses={200: Any},
        problems=(e.ClassNotFound, e.ClassPropertyNotFound),
    )
    async def read_class_property(call: Call) -> Response:
        value = await properties.read_class_property(
            call.ctx, call.guard, call.minigroup_id, call.params["property_id"]
        )
        return json_response(value)

    @table.route(
        "PUT",
        CLASS_PROPERTY,
        action="update",
        summary="R7: set one class property; answers every class property",
        body=Any,
        responses={200: PropertyMap},
        problems=(e.ClassNotFound, *WRITE_LIMITS),
    )
    async def write_class_property(call: Call) -> Response:
        value = await call.json_value()
        updated = await properties.write_class_property(
            call.ctx, call.guard, call.minigroup_id, call.params["property_id"], value
        )
        return json_response(updated)

    # Account routes have no authorization: a caller only touches their own account.
    @table.route(
        "GET",
        ACCOUNT_PROPERTY,
        action=None,
        summary="R14: read one of the caller's account properties",
        responses={200: Any},
        problems=(e.AccountNotFound, e.AccountPropertyNotFound),
    )
    async def read_account_property(call: Call) -> Response:
        value = await properties.read_account_property(
            call.ctx, call.account, call.params["property_id"]
        )
        return json_response(value)

    @table.route(
        "PUT",
        ACCOUNT_PROPERTY,
        action=None,
        summary="R15: set one of the caller's account properties; answers all of them",
        body=Any,
        responses={200: PropertyMap},
        problems=WRITE_LIMITS,
    )
    async def write_account_property(call: Call) -> Response:
        value = await call.json_value()
        updated = await properties.write_account_property(
            call.ctx, call.account, call.params["property_id"], value
        )
        return json_response(updated)
