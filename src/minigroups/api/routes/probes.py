"""Liveness (R16) and readiness (the database answers; with ulms, the broker is connected);
no token, no CORS."""

from __future__ import annotations

import msgspec
from starlette.responses import PlainTextResponse, Response

from minigroups.api.call import Call
from minigroups.api.problems import RETRY_AFTER_SECONDS
from minigroups.api.representations import ReadinessReport, json_response
from minigroups.api.routing import Header, Reply, RouteTable
from minigroups.services.health import check_readiness

RETRY_AFTER = Header("retry-after", int, "Seconds to wait before asking again", required=True)


def register(table: RouteTable) -> None:
    @table.route(
        "GET",
        "/healthz",
        action=None,
        summary="R16: liveness (the process runs; nothing else is checked)",
        responses={200: Reply(str, media_types=("text/plain",))},
        cors=False,
        authenticated=False,
        rate_limit=None,  # never limited (no caller to count)
    )
    async def healthz(call: Call) -> Response:
        return PlainTextResponse("Ok")

    @table.route(
        "GET",
        "/readyz",
        action=None,
        summary="Readiness: the database answers and, with the platform's broker, it is connected",
        responses={
            200: ReadinessReport,
            503: Reply(ReadinessReport, headers={"retry-after": RETRY_AFTER}),
        },
        cors=False,
        authenticated=False,
        rate_limit=None,  # never limited (no caller to count)
    )
    async def readyz(call: Call) -> Response:
        readiness = await check_readiness(call.ctx)
        report = msgspec.convert(readiness.report(), ReadinessReport)
        if readiness.ready:
            return json_response(report)
        response = json_response(report, status=503)
        response.headers["retry-after"] = RETRY_AFTER_SECONDS
        return response
