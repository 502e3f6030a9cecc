"""Each HTTP request's trail: its request id, carried by every log line it causes, and its one
access line (issue 11).

`X-Request-Id` is taken from the request when it is sane (1 to 128 visible ASCII characters),
otherwise a new version-4 UUID is made; the answer always echoes it. While the request runs, the
id (and, once authenticated, the caller's `account`) sit in `structlog.contextvars`, so that the
log lines of its task carry them and the MQTT requests it makes put it into their tracking
properties.
"""

from __future__ import annotations

import logging
import time
from types import TracebackType
from typing import Any, Protocol

import structlog
from starlette.responses import Response
from starlette.types import Scope

from minigroups.api.call import header
from minigroups.domain.ids import AccountId
from minigroups.services.trail import ACCOUNT, REQUEST_ID, new_request_id

access_log = logging.getLogger("minigroups.access")


class AccessLog(Protocol):
    """Where a request's access line goes (the logging setup may write it straight as JSON)."""

    def line(
        self,
        method: str,
        route: str,
        status: int,
        duration_ms: float,
        client: str | None,
    ) -> None:
        """Write one access line; the task's context (request id, account) is the request's."""
        ...


class LoggedAccessLines:
    """Access lines as records of the `minigroups.access` logger, through whatever handlers the
    process configured (the console format; the tests' captured logs)."""

    def line(
        self,
        method: str,
        route: str,
        status: int,
        duration_ms: float,
        client: str | None,
    ) -> None:
        if not access_log.isEnabledFor(logging.INFO):
            return
        access_log.info(
            "%s %s %d %.1f ms",
            method,
            route,
            status,
            duration_ms,
            extra={
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": duration_ms,
                ACCOUNT: structlog.contextvars.get_contextvars().get(ACCOUNT),
                "client": client,
            },
        )


MAX_REQUEST_ID_LENGTH = 128
REQUEST_ID_HEADER = b"x-request-id"
_TRAIL_KEYS = (REQUEST_ID, ACCOUNT)


def accepted_request_id(value: str | None) -> str | None:
    """The caller's id when it is 1 to 128 visible ASCII characters (no space, no control)."""
    if value is None or not 0 < len(value) <= MAX_REQUEST_ID_LENGTH:
        return None
    if all("!" <= char <= "~" for char in value):
        return value
    return None


def note_caller(caller: AccountId) -> None:
    """The authenticated account, for this request's later log lines and its access line."""
    structlog.contextvars.bind_contextvars(**{ACCOUNT: str(caller)})


class RequestTrail:
    """`with RequestTrail(scope) as trail:` around one request; `finish` logs its access line."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.request_id = accepted_request_id(header(scope, REQUEST_ID_HEADER)) or new_request_id()
        self.started = time.perf_counter()
        self._saved: dict[str, Any] = {}

    def __enter__(self) -> RequestTrail:
        context = structlog.contextvars.get_contextvars()
        self._saved = {key: context[key] for key in _TRAIL_KEYS if key in context}
        structlog.contextvars.unbind_contextvars(*_TRAIL_KEYS)
        structlog.contextvars.bind_contextvars(**{REQUEST_ID: self.request_id})
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        structlog.contextvars.unbind_contextvars(*_TRAIL_KEYS)
        structlog.contextvars.bind_contextvars(**self._saved)

    def stamp(self, response: Response) -> None:
        """Echo the request id in the answer (every answer, whatever its status). A 5xx problem
        carries it already (the same id, from this trail's context); any other answer gets it
        appended to its raw headers (Starlette's `headers[...] =` built a header view and looked
        for the name first: 1% of a read; issue 12)."""
        raw = response.raw_headers
        if not any(name == REQUEST_ID_HEADER for name, _ in raw):
            raw.append((REQUEST_ID_HEADER, self.request_id.encode("latin-1")))

    def finish(self, route: str, status: int, lines: AccessLog) -> float:
        """Write the access line; the seconds the request took."""
        seconds = time.perf_counter() - self.started
        client = self.scope.get("client")
        lines.line(
            self.scope["method"],
            route,
            status,
            round(seconds * 1000, 3),
            client[0] if client else None,
        )
        return seconds
