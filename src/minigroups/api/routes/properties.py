"""R6/R7 class properties and R14/R15 the caller's account properties."""

from __future__ import annotations

from starlette.responses import Response

from minigroups.api.call import Call
from minigroups.api.representations import json_response
from minigroups.api.routing import RouteTable
from minigroups.services import properties

CLASS_PROPERTY = "/api/v1/minigroups/{id}/properties/{property_id}"
ACCOUNT_PROPERTY = "/api/v1/account/properties/{property_id}"


def register(table: RouteTable) -> None:
    @table.route("GET", CLASS_PROPERTY, action="read")
    async def read_class_property(call: Call) -> Response:
        value = await properties.read_class_property(
            call.ctx, call.guard, call.minigroup_id, call.params["property_id"]
        )
        return json_response(value)

    @table.route("PUT", CLASS_PROPERTY, action="update")
    async def write_class_property(call: Call) -> Response:
        value = await call.json_value()
        updated = await properties.write_class_property(
            call.ctx, call.guard, call.minigroup_id, call.params["property_id"], value
        )
        return json_response(updated)

    # Account routes have no authorization: a caller only touches their own account.
    @table.route("GET", ACCOUNT_PROPERTY, action=None)
    async def read_account_property(call: Call) -> Response:
        value = await properties.read_account_property(
            call.ctx, call.account, call.params["property_id"]
        )
        return json_response(value)

    @table.route("PUT", ACCOUNT_PROPERTY, action=None)
    async def write_account_property(call: Call) -> Response:
        value = await call.json_value()
        updated = await properties.write_account_property(
            call.ctx, call.account, call.params["property_id"], value
        )
        return json_response(updated)
