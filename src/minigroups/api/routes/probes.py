"""Liveness (R16) and readiness (the database answers; with ulms, the broker is connected);
no token, no CORS."""

from __future__ import annotations

from starlette.responses import PlainTextResponse, Response

from minigroups.api.call import Call
from minigroups.api.problems import RETRY_AFTER_SECONDS
from minigroups.api.representations import json_response
from minigroups.api.routing import RouteTable
from minigroups.services.health import check_readiness


def register(table: RouteTable) -> None:
    @table.route("GET", "/healthz", action=None, cors=False, authenticated=False)
    async def healthz(call: Call) -> Response:
        return PlainTextResponse("Ok")

    @table.route("GET", "/readyz", action=None, cors=False, authenticated=False)
    async def readyz(call: Call) -> Response:
        readiness = await check_readiness(call.ctx)
        if readiness.ready:
            return json_response(readiness.report())
        response = json_response(readiness.report(), status=503)
        response.headers["retry-after"] = RETRY_AFTER_SECONDS
        return response
