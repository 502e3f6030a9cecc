"""R5 viewing positions and R10 download links."""

from __future__ import annotations

from starlette.responses import Response

from minigroups.api.call import Call
from minigroups.api.representations import DownloadLink, empty_response, json_response
from minigroups.api.routing import RouteTable
from minigroups.api.schemas import PositionBody
from minigroups.domain import errors as e
from minigroups.services import viewing


def register(table: RouteTable) -> None:
    @table.route(
        "POST",
        "/api/v1/minigroups/{id}/timestamps",
        action="read",
        summary="R5: save the caller's viewing position in the recording",
        body=PositionBody,
        responses={201: None},
        problems=(e.ClassNotFound,),
    )
    async def save_position(call: Call) -> Response:
        body = await call.json(PositionBody)
        await viewing.save_position(call.ctx, call.guard, call.minigroup_id, body.seconds())
        return empty_response(201)

    @table.route(
        "GET",
        "/api/v1/minigroups/{id}/download",
        action="download",
        summary="R10: the download link of the transcoded recording",
        responses={200: DownloadLink},
        problems=(e.ClassNotFound, e.RecordingNotFound),
    )
    async def download(call: Call) -> Response:
        url = await viewing.download_url(call.ctx, call.guard, call.minigroup_id)
        return json_response(DownloadLink(url=url))
