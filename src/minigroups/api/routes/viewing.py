"""R5 viewing positions and R10 download links."""

from __future__ import annotations

from starlette.responses import Response

from minigroups.api.call import Call
from minigroups.api.representations import empty_response, json_response
from minigroups.api.routing import RouteTable
from minigroups.api.schemas import PositionBody
from minigroups.services import viewing


def register(table: RouteTable) -> None:
    @table.route("POST", "/api/v1/minigroups/{id}/timestamps", action="read")
    async def save_position(call: Call) -> Response:
        body = await call.json(PositionBody)
        await viewing.save_position(call.ctx, call.guard, call.minigroup_id, body.seconds())
        return empty_response(201)

    @table.route("GET", "/api/v1/minigroups/{id}/download", action="download")
    async def download(call: Call) -> Response:
        url = await viewing.download_url(call.ctx, call.guard, call.minigroup_id)
        return json_response({"url": url})
