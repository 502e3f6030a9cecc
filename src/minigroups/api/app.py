"""The ASGI application: match, authenticate, call the route, render errors, CORS, HEAD."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from minigroups.api.call import Call, decode_path_param, header, parse_ids
from minigroups.api.cors import CorsPolicy
from minigroups.api.guards import RequestLimits, check_headers
from minigroups.api.idempotency import respond_idempotently
from minigroups.api.problems import (
    HeadersTooLarge,
    MethodNotAllowed,
    RouteNotFound,
    problem_response,
)
from minigroups.api.query import QueryString
from minigroups.api.rate_limits import RateLimitGate
from minigroups.api.routing import Endpoint, RouteTable
from minigroups.api.trail import AccessLog, LoggedAccessLines, RequestTrail, note_caller
from minigroups.domain.ids import AccountId
from minigroups.services.context import Context

log = logging.getLogger(__name__)

Authenticate = Callable[[str | None, str | None], AccountId]
Hook = Callable[[], Awaitable[None]]
UNMATCHED = "unmatched"


class RequestObserver(Protocol):
    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        """Record one answered request; `route` is the path template (bounded cardinality)."""
        ...


class ApiApp:
    """A small ASGI app over a RouteTable; Starlette supplies requests and responses."""

    def __init__(
        self,
        table: RouteTable,
        ctx: Context,
        authenticate: Authenticate,
        cors: CorsPolicy,
        *,
        on_startup: Hook | None = None,
        on_shutdown: Hook | None = None,
        observer: RequestObserver | None = None,
        limits: RequestLimits | None = None,
        rate_limits: RateLimitGate | None = None,
        access: AccessLog | None = None,
    ) -> None:
        self.table = table
        self.ctx = ctx
        self.authenticate = authenticate
        self.cors = cors
        self.on_startup = on_startup
        self.on_shutdown = on_shutdown
        self.observer = observer
        self.limits = limits or RequestLimits()
        self.rate_limits = rate_limits  # None: `[rate_limits]` configures no quota
        self.access = access or LoggedAccessLines()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        with RequestTrail(scope) as trail:  # the request id and the access line (issue 11)
            route, response = await self._dispatch(scope, receive)
            trail.stamp(response)
            await response(scope, receive, send)
            elapsed = trail.finish(route, response.status_code, self.access)
        if self.observer is not None:
            self.observer.observe_request(route, scope["method"], response.status_code, elapsed)

    async def _dispatch(self, scope: Scope, receive: Receive) -> tuple[str, Response]:
        try:
            check_headers(scope["headers"], self.limits)  # before any other work
        except HeadersTooLarge as exc:
            return UNMATCHED, problem_response(exc)
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
        path = raw_path.split(b"?", 1)[0].decode("latin-1")
        found = self.table.find(path.split("/"))
        if found is None:
            return UNMATCHED, problem_response(RouteNotFound(f"No route for {scope['path']}"))
        resource, raw_params = found
        method: str = scope["method"]
        origin = header(scope, b"origin")
        if method == "OPTIONS" and resource.cors:
            return resource.template, self.cors.preflight(origin)
        endpoint = resource.endpoints.get("GET" if method == "HEAD" else method)
        if endpoint is None:
            response = problem_response(MethodNotAllowed(resource.allow))
        else:
            try:
                response = await self._run(endpoint, scope, receive, resource.template, raw_params)
            except Exception as exc:  # noqa: BLE001 - every error becomes a problem answer
                response = problem_response(exc)
        if resource.cors:
            self.cors.decorate(response, origin)
        if method == "HEAD":
            response.body = b""
        return resource.template, response

    async def _run(
        self,
        endpoint: Endpoint,
        scope: Scope,
        receive: Receive,
        template: str,
        raw_params: dict[str, str],
    ) -> Response:
        params = {name: decode_path_param(name, raw) for name, raw in raw_params.items()}
        ids = parse_ids(params)  # a bad id is a 400 before authentication
        query = QueryString(scope.get("query_string", b""))
        caller = None
        if endpoint.authenticated:
            caller = self.authenticate(header(scope, b"authorization"), query.first("access_token"))
            note_caller(caller)

        async def respond(receive: Receive) -> Response:
            call = Call(
                scope,
                receive,
                ctx=self.ctx,
                params=params,
                ids=ids,
                query=query,
                caller=caller,
                action=endpoint.action,
                limits=self.limits,
                body_type=endpoint.operation.body,
                query_type=endpoint.operation.query,
            )
            return await endpoint.handler(call)

        async def run() -> Response:
            return await respond_idempotently(
                self.ctx,
                scope,
                receive,
                respond,
                limits=self.limits,
                template=template,
                params=params,
                ids=ids,
                caller=caller,
            )

        if self.rate_limits is None:
            return await run()
        # The caller's quotas (issue 10): a 429 here, before any body is read or key claimed.
        return await self.rate_limits.respond(endpoint, caller, run)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    if self.on_startup is not None:
                        await self.on_startup()
                except Exception as exc:
                    log.exception("start-up failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.on_shutdown is not None:
                    await self.on_shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return
