"""The sandbox's control route: finish a lesson (registered only with the sandbox upstream)."""

from __future__ import annotations

import msgspec
from starlette.responses import Response

from minigroups.api.call import Call
from minigroups.api.representations import empty_response
from minigroups.api.routing import RouteTable
from minigroups.domain import errors as e
from minigroups.services import sandbox


class FinishBody(msgspec.Struct):
    """How many participants the lesson had: one recording each (1 to the sandbox's maximum)."""

    participants: int = 2


def register(table: RouteTable, simulator: sandbox.LessonSimulator) -> None:
    @table.route(
        "POST",
        "/sandbox/minigroups/{id}/finish",
        action="update",
        summary="Sandbox only: the lesson takes place and its recordings are uploaded",
        body=FinishBody,
        body_required=False,
        responses={202: None},
        problems=(e.ClassNotFound, e.UpstreamFailed),
        cors=False,
    )
    async def finish(call: Call) -> Response:
        body = await call.optional_json(FinishBody) or FinishBody()
        await sandbox.finish_lesson(
            call.ctx, simulator, call.guard, call.minigroup_id, body.participants
        )
        return empty_response(202)
