"""R13 restart transcoding and the edition commit route (contract.md HTTP appendix A)."""

from __future__ import annotations

from starlette.responses import Response

from minigroups.api.call import Call
from minigroups.api.representations import empty_response
from minigroups.api.routing import RouteTable
from minigroups.api.schemas import RestartBody
from minigroups.domain import errors as e
from minigroups.services import postprocessing


def register(table: RouteTable) -> None:
    @table.route(
        "POST",
        "/api/v1/transcoding/minigroup/{id}/restart",
        action="update",
        summary="R13: submit the transcoding of a minigroup's recording again",
        description="The body is optional; `priority` defaults to `normal`.",
        body=RestartBody,
        body_required=False,
        responses={200: None},
        problems=(e.ClassNotFound, e.TranscodingFlowFailed, e.UpstreamFailed),
    )
    async def restart_transcoding(call: Call) -> Response:
        body = await call.optional_json(RestartBody) or RestartBody()
        await postprocessing.restart_transcoding(
            call.ctx, call.guard, call.minigroup_id, body.parsed_priority()
        )
        return empty_response(200)

    @table.route(
        "POST",
        "/api/v1/audiences/{audience}/classes/{scope}/editions/{edition_id}",
        action="update",
        summary="Commit an edition of the class's original event room",
        description="The result arrives later as the `edition.commit` lifecycle event.",
        responses={202: None},
        problems=(e.ClassNotFound, e.EditionNotFound, e.EditionCommitFailed),
    )
    async def commit_edition(call: Call) -> Response:
        edition_id = call.id_param("edition_id")
        await postprocessing.commit_edition(
            call.ctx, call.guard, call.params["audience"], call.params["scope"], edition_id
        )
        return empty_response(202)
