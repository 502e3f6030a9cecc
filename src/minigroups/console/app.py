"""The metrics listener's application: `/metrics` for Prometheus, the console under `/console/`.

Everything but `/metrics` and the login page needs a console session; every form that changes
something carries the session's CSRF token (`pages.py`). Errors are HTML pages here, not the
API's problem JSON: a browser reads them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from prometheus_client import CollectorRegistry, make_asgi_app
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from minigroups.console.pages import ConsolePages
from minigroups.console.sessions import Sessions
from minigroups.console.views import environment, page, see_other
from minigroups.domain.errors import (
    DatabaseFailure,
    DatabaseUnavailable,
    InvalidParameter,
    MinigroupsError,
)
from minigroups.domain.ids import AccountId
from minigroups.services.context import Context
from minigroups.services.pipeline.events import LifecycleDecoder

log = logging.getLogger(__name__)

Authenticate = Callable[[str | None, str | None], AccountId]


@dataclass(frozen=True, slots=True)
class ConsoleOptions:
    """`[console]` as the console uses it, and the audiences offered in the listing's form."""

    admins: frozenset[AccountId]
    audiences: tuple[str, ...] = ()
    session_seconds: float = 8 * 3600.0
    stuck_after: timedelta = timedelta(minutes=10)
    secure_cookie: bool = False
    instance: str = ""


class _Asgi:
    """A plain ASGI app as a Starlette route endpoint (a function would be taken for a handler)."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)


def build_console_app(
    ctx: Context,
    decoder: LifecycleDecoder,
    authenticate: Authenticate,
    registry: CollectorRegistry,
    options: ConsoleOptions,
) -> Starlette:
    env = environment()
    pages = ConsolePages(
        ctx, decoder, authenticate, Sessions(options.session_seconds), env, options
    )
    routes = [
        Route("/metrics", _Asgi(make_asgi_app(registry)), methods=["GET"]),
        Route("/console", lambda _: see_other("/console/"), methods=["GET"]),
        Route("/console/", pages.overview, methods=["GET"]),
        Route("/console/login", pages.login_form, methods=["GET"]),
        Route("/console/login", pages.login, methods=["POST"]),
        Route("/console/logout", pages.logout, methods=["POST"]),
        Route("/console/minigroups", pages.minigroups, methods=["GET"]),
        Route("/console/minigroups/{minigroup_id:uuid}", pages.minigroup, methods=["GET"]),
        Route("/console/dead-letters", pages.dead_letters, methods=["GET"]),
        Route("/console/dead-letters/{event_id:uuid}/replay", pages.replay, methods=["POST"]),
        Route("/console/static/console.css", pages.style_sheet, methods=["GET"]),
    ]

    async def http_error(request: Request, exc: Exception) -> Response:
        if not isinstance(exc, HTTPException):  # pragma: no cover - registered for HTTPException
            raise exc
        return page(env, "error.html", _error(exc.status_code, exc.detail), exc.status_code)

    async def domain_error(request: Request, exc: Exception) -> Response:
        if isinstance(exc, InvalidParameter):
            return page(env, "error.html", _error(400, exc.detail or str(exc)), 400)
        if isinstance(exc, DatabaseUnavailable | DatabaseFailure):
            log.warning("console: %s %s: %s", request.method, request.url.path, exc)
            detail = "The database is unavailable; try again in a moment."
            return page(env, "error.html", _error(503, detail), 503)
        raise exc

    return Starlette(
        routes=routes,
        exception_handlers={HTTPException: http_error, MinigroupsError: domain_error},
    )


def _error(status: int, detail: str) -> dict[str, object]:
    titles = {
        400: "Bad request",
        403: "Forbidden",
        404: "Not found",
        405: "Method not allowed",
        413: "Too large",
        503: "Unavailable",
    }
    title = titles.get(status, "Error")
    return {"title": title, "status": status, "detail": detail, "session": None, "instance": ""}
