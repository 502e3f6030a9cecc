"""Liveness (R16) and readiness (database reachable) probes; no token, no CORS."""

from __future__ import annotations

from starlette.responses import PlainTextResponse, Response

from minigroups.api.call import Call
from minigroups.api.representations import json_response
from minigroups.api.routing import RouteTable


def register(table: RouteTable) -> None:
    @table.route("GET", "/healthz", action=None, cors=False, authenticated=False)
    async def healthz(call: Call) -> Response:
        return PlainTextResponse("Ok")

    @table.route("GET", "/readyz", action=None, cors=False, authenticated=False)
    async def readyz(call: Call) -> Response:
        await call.ctx.store.ping()  # DatabaseUnavailable becomes 503
        return json_response({"status": "ready"})
